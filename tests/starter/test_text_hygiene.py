"""The command line refuses control characters in what it reads (exit status 2, malformed
input, nothing sent): in a probation import's CSV, in a case file, in an account's name.
Each is refused before Temporal or the database would be asked."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from starter.cli import cli, load_model
from starter.cli_base import EXIT_INPUT, InputError
from workflows.types import Actor, CaseInput, Role

HEADER = "case_id,person_id,name,unit,post,starts_on\n"
UNREACHABLE = {"TEMPORAL_ADDRESS": "127.0.0.1:1", "DATABASE_URL": "postgresql://nobody@/none"}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=UNREACHABLE)


@pytest.mark.parametrize(
    ("row", "said"),
    [
        ('C-1,P1,"赵\x00六",县财政局,副局长,2026-02-01\n', "空字符 NUL（U+0000）"),
        # the file is read with universal newlines: a CR LF in a cell arrives as a LF
        ('C-1,P1,"赵\r\n六",县财政局,副局长,2026-02-01\n', "换行符（U+000A）"),
        ('C-1,P1,"赵\r六",县财政局,副局长,2026-02-01\n', "换行符（U+000A）"),
        ('C-1,P1,"赵\n六",县财政局,副局长,2026-02-01\n', "换行符（U+000A）"),
        ('C-1,P1,赵六,"县财政\n局",副局长,2026-02-01\n', "换行符（U+000A）"),
    ],
    ids=["nul", "crlf", "cr", "lf", "lf-in-unit"],
)
def test_a_control_character_in_a_probation_import_exits_2(
    tmp_path: Path, row: str, said: str
) -> None:
    path = tmp_path / "on-probation.csv"
    path.write_bytes((HEADER + row).encode("utf-8"))
    result = invoke("probation", "import", str(path))
    assert result.exit_code == EXIT_INPUT == 2, result.output
    assert said in result.output and "此处只能填一行文字" in result.output


@pytest.mark.parametrize(
    ("name", "said"),
    [("赵\\0六", "空字符 NUL（U+0000）"), ("赵\\r\\n六", "回车符（U+000D）")],
)
def test_a_control_character_in_a_case_file_exits_2(tmp_path: Path, name: str, said: str) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(
        "case_id: TXT-1\nunit: 县财政局\npost: 副局长\npositions: 1\n"
        "method: regular_appointment\n"
        f'candidates:\n  - person_id: p1\n    name: "{name}"\n',
        "utf-8",
    )
    opened_by = Actor(name="张敏", role=Role.CLERK).model_dump(mode="json")
    with pytest.raises(InputError) as refused:
        load_model(CaseInput, path, {"opened_by": opened_by})
    assert refused.value.exit_code == 2
    assert "candidates[0].name" in refused.value.message and said in refused.value.message


def test_a_summary_keeps_its_line_breaks(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(
        "case_id: TXT-1\nunit: 县财政局\npost: 副局长\npositions: 1\n"
        "method: regular_appointment\n"
        "candidates:\n  - person_id: p1\n    name: 赵六\n    short_cv: |\n"
        "      2001 年参加工作\n      \t2010 年任科长\n",
        "utf-8",
    )
    opened_by = Actor(name="张敏", role=Role.CLERK).model_dump(mode="json")
    case = load_model(CaseInput, path, {"opened_by": opened_by})
    assert case.candidates[0].short_cv == "2001 年参加工作\n\t2010 年任科长\n"


@pytest.mark.parametrize("name", ["张\x00敏", "张\r\n敏", "张\n敏"], ids=repr)
def test_an_account_whose_name_is_not_one_line_exits_2(name: str) -> None:
    result = invoke("accounts", "create", name, "--role", "clerk")
    assert result.exit_code == 2, result.output
    assert "NAME 无法使用" in result.output and "此处只能填一行文字" in result.output
