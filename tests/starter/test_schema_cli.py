"""``appointments schema`` and ``appointments template``: the published format of every file
the command line reads validates the real files of ``tests/fixtures`` (and refuses a wrong
one); every command that reads a file names its format in its help; the templates are the
lists' Chinese headers."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError as SchemaError
from openpyxl import load_workbook

from sheets.columns import SCORES, SHEETS
from sheets.files import read_numbered_file
from starter.cli import cli, load_data_file, read_applicants, read_scores
from starter.schema_cli import FILE_KINDS, schema_of
from tests.sheet_files import FIXTURES

STEPS = FIXTURES / "steps"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _dumped(models: list[Any]) -> list[Any]:
    return [m.model_dump(mode="json", exclude_unset=True) for m in models]


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return [{k: v for k, v in row.items() if v} for row in csv.DictReader(f)]


def documents(kind: str) -> list[tuple[str, Any]]:
    """(where, content) of the real files of ``kind``: the fixtures as the command reads them
    (a CSV as its rows); for a step without a file of its own, its example in the form tests."""
    if kind == "new-case":
        return [(n, load_data_file(FIXTURES / n)) for n in ("exam_case.yaml", "regular_case.yaml")]
    if kind in ("meeting", "notice"):
        return [(f"{kind}.yaml", load_data_file(FIXTURES / f"{kind}.yaml"))]
    if kind == "applicants":
        return [("applicants.csv", _dumped(read_applicants(FIXTURES / "applicants.csv")))]
    if kind == "scores":
        return [(n, _dumped(read_scores(FIXTURES / n))) for n in ("written.csv", "interview.csv")]
    if kind == "probation-import":
        return [("probations.csv", _csv_rows(FIXTURES / "probations.csv"))]
    if kind in SHEETS and SHEETS[kind].group == "cadre":  # read as the command reads them
        name = kind.replace("-", "_") + ".csv"
        rows = read_numbered_file(SHEETS[kind], name, (FIXTURES / name).read_bytes())
        return [(name, [m.model_dump(mode="json") for _, m in rows])]
    update = kind.removeprefix("step.")
    own = [p for p in STEPS.glob(f"{update}.*")]
    if own:
        return [(p.name, load_data_file(p)) for p in own]
    from tests.web.test_forms import EXAMPLES

    assert update in EXAMPLES, f"step {update}: neither a file in {STEPS} nor an example"
    example = EXAMPLES[update].model_dump(mode="json", exclude={"actor"}, exclude_unset=True)
    return [(f"the example of {update}", example)]


def validator(kind: str) -> Draft202012Validator:
    schema = schema_of(kind)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


@pytest.mark.parametrize("kind", sorted(FILE_KINDS))
def test_every_kind_validates_its_real_files(kind: str) -> None:
    check = validator(kind)
    for where, content in documents(kind):
        problems = [e.message for e in check.iter_errors(content)]
        assert not problems, (kind, where, problems)


def test_a_step_file_of_its_own_exists_for_the_common_steps() -> None:
    assert {p.stem for p in STEPS.iterdir()} >= {
        "record_registration",
        "record_vote",
        "record_appointment",
    }


def test_a_schema_refuses_what_the_command_would_refuse() -> None:
    case = load_data_file(FIXTURES / "exam_case.yaml")
    check = validator("new-case")
    for wrong in (
        {**case, "positions": 0},
        {
            **case,
            "opened_by": {"name": "王", "role": "clerk"},
        },  # the token's account, not the file's
        {**case, "colour": "red"},
        {k: v for k, v in case.items() if k != "unit"},
        {**case, "opened_on": "2026-02-30"},
    ):
        with pytest.raises(SchemaError):
            check.validate(wrong)
    with pytest.raises(SchemaError):
        validator("scores").validate([{"person_id": "P-1", "score": 101}])


def test_the_schemas_speak_chinese() -> None:
    schema = schema_of("applicants")
    candidate = schema["$defs"]["Candidate"]["properties"]
    assert candidate["birth_date"]["title"] == "出生日期"
    assert "任现职时间" in candidate["last_promotion_on"]["description"]
    assert schema_of("new-case")["properties"]["unit"]["title"] == "单位"
    method = schema_of("new-case")["$defs"]["SelectionMethod"]["description"]
    assert "open_selection：" in method
    assert "由 appointments exam register 读取" in schema["description"]


def test_schema_lists_the_kinds_and_prints_one() -> None:
    listing = invoke("schema")
    assert listing.exit_code == 0
    kinds = [line.split()[0] for line in listing.stdout.splitlines()]
    assert kinds == list(FILE_KINDS)
    printed = invoke("schema", "scores")
    assert printed.exit_code == 0 and json.loads(printed.stdout) == schema_of("scores")
    unknown = invoke("schema", "colour")
    assert unknown.exit_code == 2 and "没有文件种类 colour" in unknown.stderr


COMMANDS = [
    (("case", "start"), "new-case"),
    (("exam", "register"), "applicants"),
    (("exam", "written"), "scores"),
    (("exam", "interview"), "scores"),
    (("vote", "record"), "meeting"),
    (("notice", "publish"), "notice"),
    (("step",), "step.STEP"),
    (("probation", "import"), "probation-import"),
    (("capability", "start"), "capability-results"),
    (("evaluation", "start"), "evaluation-unified"),
    (("evaluation", "start"), "evaluation-own"),
]


@pytest.mark.parametrize(("command", "kind"), COMMANDS, ids=lambda c: " ".join(c))
def test_every_command_that_reads_a_file_names_its_schema(
    command: tuple[str, ...], kind: str
) -> None:
    shown = invoke(*command, "--help")
    assert shown.exit_code == 0
    assert f"appointmentsschema{kind}" in "".join(shown.stdout.split()), shown.stdout
    assert kind.startswith("step.") or kind in FILE_KINDS


def test_the_list_commands_take_xlsx() -> None:
    for command in (("exam", "register"), ("exam", "written")):
        assert "FILE.xlsx" in invoke(*command, "--help").stdout


def test_template_writes_the_lists_workbook() -> None:
    listing = invoke("template")
    assert [line.split()[0] for line in listing.stdout.splitlines()] == list(SHEETS)
    written = invoke("template", "scores")
    assert written.exit_code == 0
    book = load_workbook(io.BytesIO(written.stdout_bytes))
    assert [c.value for c in book.worksheets[0][1]] == [c.header for c in SCORES.columns]
    assert invoke("template", "colour").exit_code == 2


def test_template_writes_a_file_when_told(tmp_path: Path) -> None:
    out = tmp_path / "报名人员.xlsx"
    assert invoke("template", "applicants", "-o", str(out)).exit_code == 0
    assert load_workbook(out).worksheets[0]["B1"].value == "姓名"
