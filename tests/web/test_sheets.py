"""Lists with Chinese headers (``sheets``), pure: a department's spreadsheet reads as the
same applicants as the CSV file; each bad cell is told with its row and header, and then
nothing is taken; the template has every header; the row forms read what they show."""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import date

import pytest
from openpyxl import load_workbook

from api.schemas import STEP_INPUTS
from sheets.columns import APPLICANTS, SCORES, SHEETS, VOTE_ITEMS
from sheets.problems import SheetProblems
from sheets.table import read_table
from sheets.xlsx import read_xlsx, template_xlsx
from starter.inputs import read_applicants
from tests.sheet_files import FIXTURES, applicants_xlsx, scores_xlsx, workbook
from web.forms import (
    FormProblem,
    form_fields,
    form_values,
    import_sheets,
    more_rows,
    parse_form,
)
from workflows.types import Applicant, Candidate, CaseInput, Score, VoteItem


def test_a_departments_spreadsheet_reads_as_the_csv_file() -> None:
    from_xlsx = read_xlsx(APPLICANTS, applicants_xlsx())
    assert from_xlsx == read_applicants(FIXTURES / "applicants.csv")
    assert [a.qualified for a in from_xlsx if isinstance(a, Applicant)] == [
        True,
        True,
        True,
        False,
        True,
        True,
    ]


def test_each_bad_cell_is_told_by_row_and_header_and_nothing_is_taken() -> None:
    changes: dict[str, Mapping[str, object]] = {
        "2": {"出生日期": "1986-13-01"},
        "4": {"资格审查结果": "待定", "姓名": None},
    }
    bad = applicants_xlsx(**changes)
    with pytest.raises(SheetProblems) as caught:
        read_xlsx(APPLICANTS, bad)
    # the header is row 1: the second applicant is on row 3
    assert caught.value.problems == [
        "第 3 行「出生日期」：格式不对，应为 YYYY-MM-DD",
        "第 5 行「姓名」：必须填写",
        "第 5 行「资格审查通过」：应填 是 或 否",
    ]


def test_headers_that_are_unknown_repeated_or_missing_are_refused() -> None:
    data = workbook(["人员编号", "身高", "成绩", "笔试成绩"], [["P1", 180, 80, 81]])
    with pytest.raises(SheetProblems) as caught:
        read_xlsx(SCORES, data)
    assert caught.value.problems[0].startswith("第 1 行「身高」：不是可识别的列；可用的列：")
    assert caught.value.problems[1] == "第 1 行「笔试成绩」：与「成绩」是同一列，重复了"
    with pytest.raises(SheetProblems, match="缺少必填的列：成绩"):
        read_xlsx(SCORES, workbook(["人员编号", "姓名"], [["P1", "张三"]]))


def test_a_person_listed_twice_is_refused_naming_the_first_row() -> None:
    data = workbook(["人员编号", "成绩"], [["P1", 80], ["P2", 70], ["P1", 81]])
    with pytest.raises(SheetProblems) as caught:
        read_xlsx(SCORES, data)
    assert caught.value.problems == ["第 4 行「人员编号」：P1 已在第 2 行出现过"]


def test_spreadsheet_cells_are_read_as_people_write_them() -> None:
    data = workbook(
        ["人员编号", "姓名", "出生日期", "中共党员", "处分", "任现职时间"],
        [["110101198603140011", "张三", "1986年3月4日", "是", "党内警告：2022-05-16", "2020.4.15"]],
    )
    [person] = read_xlsx(SHEETS["candidates"], data)
    assert isinstance(person, Candidate)
    assert person.person_id == "110101198603140011"
    assert person.birth_date == date(1986, 3, 4)
    assert person.party_member is True
    assert [(s.kind.value, s.decided_on) for s in person.sanctions] == [
        ("party_warning", date(2022, 5, 16))
    ]
    assert person.last_promotion_on == date(2020, 4, 15)


def test_an_id_card_number_kept_as_a_number_is_refused_not_rounded() -> None:
    """Excel keeps 15 digits of a number: an 18-digit ID typed into a number cell arrives
    with its last digits turned to 0, which must not become a person's id."""
    data = workbook(["人员编号", "成绩"], [[110101198603140011, 80], [17001, 70]])
    with pytest.raises(SheetProblems) as caught:
        read_xlsx(SCORES, data)
    assert caught.value.problems == [
        "第 2 行「人员编号」：这一格存成了数字，超过 15 位的末几位已被表格软件改成 0；"
        "请把该列设为文本格式后重新填写"
    ]
    [score] = read_xlsx(SCORES, workbook(["人员编号", "成绩"], [[17001, 70]]))
    assert score == Score(person_id="17001", score=70)


def test_scores_under_a_tests_own_header_with_names_beside() -> None:
    scores = read_xlsx(SCORES, scores_xlsx("written.csv", "笔试成绩"))
    assert scores[0] == Score(person_id="P-17001", score=78.5)
    assert len(scores) == 5


def test_what_is_not_a_workbook_is_told_as_such() -> None:
    with pytest.raises(SheetProblems, match=r"不是 \.xlsx 工作簿"):
        read_xlsx(SCORES, b"person_id,score\nP1,80\n")


@pytest.mark.parametrize("kind", sorted(SHEETS))
def test_the_template_has_every_header_and_reads_back_empty(kind: str) -> None:
    sheet = SHEETS[kind]
    book = load_workbook(io.BytesIO(template_xlsx(sheet)))
    first, guide = book.worksheets
    assert [c.value for c in first[1]] == [c.header for c in sheet.columns]
    assert first.title == sheet.title and guide.title == "填写说明"
    with pytest.raises(SheetProblems, match="只有表头，没有数据行"):
        read_xlsx(sheet, template_xlsx(sheet))


def test_the_headers_are_unique_within_a_list() -> None:
    for sheet in SHEETS.values():
        names = [n for c in sheet.columns for n in (c.header, *c.aliases)]
        assert len(names) == len(set(names)), sheet.kind


# --------------------------------------------------------------------------- row forms


def test_a_row_form_reads_its_cells_and_skips_empty_rows() -> None:
    model = STEP_INPUTS["record_vote"]
    form = {
        "items.0.person_id": "p1",
        "items.0.agree": "8",
        "items.0.disagree": "1",
        "items.1.person_id": "p2",  # prefilled person, nothing typed: an empty row
        "items.2.person_id": "p3",
        "items.2.defer": "9",
        "items.2.deferred_reason": "事实待查清",
        "items.2.withdrawn": "张委员、李委员",
    }
    items = parse_form(model, form)["items"]
    assert [VoteItem.model_validate(i) for i in items] == [
        VoteItem(person_id="p1", agree=8, disagree=1),
        VoteItem(
            person_id="p3", defer=9, deferred_reason="事实待查清", withdrawn=["张委员", "李委员"]
        ),
    ]
    assert VOTE_ITEMS.about_case_people


def test_a_bad_cell_of_a_row_form_is_told_by_row_and_header() -> None:
    with pytest.raises(FormProblem) as caught:
        parse_form(
            CaseInput,
            {"candidates.1.person_id": "p2", "candidates.1.birth_date": "1985-02-30"},
            skip=frozenset({"opened_by"}),
        )
    assert caught.value.problems == [
        "人选（表格）第 2 行「姓名」：必须填写",
        "人选（表格）第 2 行「出生日期」：格式不对，应为 YYYY-MM-DD",
    ]


def test_a_table_pasted_from_excel_with_chinese_headers_is_read() -> None:
    pasted = "人员编号\t姓名\t成绩\nP-1\t张三\t81.5\nP-2\t李四\t60\n"
    data = parse_form(STEP_INPUTS["record_written_test"], {"scores": pasted})
    assert data["scores"] == [
        {"person_id": "P-1", "score": 81.5},
        {"person_id": "P-2", "score": 60.0},
    ]


def test_the_add_rows_button_grows_the_table_and_keeps_what_was_typed() -> None:
    form = {"items.0.person_id": "p1", "items.0.agree": "8", "_rows.items": "3", "_add": "items"}
    grown = more_rows(form)
    assert grown is not None and grown["_rows.items"] == "8"
    [items] = [
        f for f in form_fields(STEP_INPUTS["record_vote"], values=grown) if f.name == "items"
    ]
    assert len(items.cells) == 8 and items.cells[0][1].value == "8"
    assert more_rows({"items.0.agree": "8"}) is None  # sent by its submit button


def test_an_imported_file_adds_its_rows_after_those_typed() -> None:
    model = STEP_INPUTS["record_written_test"]
    form = {"scores.0.person_id": "P-0", "scores.0.score": "90"}
    files = {"_sheet.scores": scores_xlsx("interview.csv", "面试成绩")}
    merged = import_sheets(model, form, files)
    data = parse_form(model, merged)
    assert data["scores"][0] == {"person_id": "P-0", "score": 90.0}
    assert len(data["scores"]) == 1 + len(read_table_of("interview.csv"))
    bad = workbook(["人员编号", "成绩"], [["P-1", 80], ["P-2", 101]])
    with pytest.raises(FormProblem) as caught:
        import_sheets(model, form, {"_sheet.scores": bad})
    assert caught.value.problems == ["成绩（Excel 文件）第 3 行「成绩」：不能大于 100"]


def read_table_of(name: str) -> list[object]:
    lines = (FIXTURES / name).read_text("utf-8").splitlines()
    return list(read_table(SCORES, [(i, line.split(",")) for i, line in enumerate(lines, 1)]))


def test_a_case_with_a_sanction_and_an_exceptional_promotion_fills_the_row_form() -> None:
    from tests.web.test_forms import CASES

    case = CASES["exceptional with a sanction"]
    skip = frozenset({"opened_by"})
    values = form_values(case, skip=skip)
    [table] = [
        f for f in form_fields(CaseInput, values=values, skip=skip) if f.name == "candidates"
    ]
    shown = {c.label: c.value for c in table.cells[0]}
    assert shown["处分"] == "党内警告:2020-01-02" and shown["破格越级数"] == "1"


def test_a_forged_row_number_is_refused_not_rendered() -> None:
    model = STEP_INPUTS["record_written_test"]
    forged = {"scores.99999999.person_id": "P-1", "scores.99999999.score": "80"}
    with pytest.raises(FormProblem, match="表格最多 5000 行"):
        parse_form(model, forged)
    [table] = [f for f in form_fields(model, values=forged) if f.name == "scores"]
    assert len(table.cells) == 3  # the row is beyond any list, so not shown either
