"""An exam case on a department's spreadsheets through the command line, on the real stack
(the `appointments` console script, the Temporal dev server, a real worker, PostgreSQL): the
applicants and the written test's scores from ``.xlsx`` files with Chinese headers; a bad
spreadsheet is told row by row, exits 2 and sends nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sheet_files import FIXTURES, applicants_xlsx, scores_xlsx
from tests.test_cli_end_to_end import Stack, stack  # noqa: F401  (fixture)
from workflows.types import CandidateStatus, CaseStage

pytestmark = pytest.mark.devserver

DATES = ("--announced-on", "2026-08-25", "--closed-on", "2026-09-04")


async def inputs(stack: Stack, case_id: str) -> int:  # noqa: F811
    return sum(e.kind == "input" for e in await stack.events(case_id))


async def test_an_exam_case_runs_on_spreadsheets_from_the_command_line(
    stack: Stack,  # noqa: F811
    tmp_path: Path,
    new_case_id: str,
) -> None:
    case_file = tmp_path / "case.yaml"
    story = (FIXTURES / "exam_case.yaml").read_text("utf-8")
    case_file.write_text(story.replace("GY-2026-017", new_case_id), "utf-8")
    await stack.cli("case", "start", str(case_file))
    await stack.settle(new_case_id, CaseStage.EXAM)

    bad = tmp_path / "报名人员.xlsx"
    bad.write_bytes(applicants_xlsx(**{"3": {"出生日期": "1985-02-30"}, "5": {"姓名": ""}}))
    before = await inputs(stack, new_case_id)
    refused = await stack.cli("exam", "register", new_case_id, str(bad), *DATES, expect=2)
    assert "2 处问题，未提交任何内容" in refused.stderr, refused.report()
    assert "第 4 行「出生日期」：格式不对，应为 YYYY-MM-DD" in refused.stderr
    assert "第 6 行「姓名」：必须填写" in refused.stderr
    assert await inputs(stack, new_case_id) == before
    assert (await stack.state(new_case_id)).candidates == []

    good = tmp_path / "applicants.xlsx"
    good.write_bytes(applicants_xlsx())
    await stack.cli("exam", "register", new_case_id, str(good), *DATES)
    state = await stack.state(new_case_id)
    by_id = {c.person_id: c for c in state.candidates}
    assert len(by_id) == 6 and by_id["P-17005"].name == "欧阳建华"
    assert by_id["P-17004"].status is CandidateStatus.NOT_QUALIFIED

    written = tmp_path / "笔试成绩.xlsx"
    written.write_bytes(scores_xlsx("written.csv", "笔试成绩"))
    await stack.cli("exam", "written", new_case_id, str(written), "--held-on", "2026-09-12")
    scores = {c.person_id: c.written_score for c in (await stack.state(new_case_id)).candidates}
    assert scores["P-17003"] == 86.5 and scores["P-17006"] == 64.5
