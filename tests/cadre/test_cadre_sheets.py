"""The sheets that start a campaign and an evaluation: .xlsx and .csv read alike, every bad
row told by file, row and column, the two tallies joined by person with what does not join
told, and a file of another kind refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sheets.cadre_imports import Upload, read_leaders, read_results
from sheets.problems import SheetProblems
from tests.cadre.conftest import csv_file, workbook
from tests.sheet_files import FIXTURES

HEADER = ["序号", "人员编号", "姓名", "单位", "职务", "测试成绩"]
ROWS = [[1, "C1", "张三", "县财政局", "股长", 59.5], [2, "C2", "李四", "县水利局", "", "85.25"]]


def _fixture(name: str) -> Upload:
    return Upload(name, (FIXTURES / name).read_bytes())


def test_results_read_alike_from_xlsx_and_csv() -> None:
    from_xlsx = read_results(Upload("成绩.xlsx", workbook(HEADER, ROWS)))
    from_csv = read_results(Upload("成绩.CSV", csv_file(HEADER, ROWS)))
    assert from_xlsx == from_csv
    assert [(n, r.person_id, r.score) for n, r in from_xlsx] == [
        (2, "C1", Decimal("59.5")),
        (3, "C2", Decimal("85.25")),
    ]


def test_every_bad_row_of_the_results_is_told() -> None:
    rows = [["C1", "张三", "县财政局", "", "59.555"], ["C1", "", "县局", "", "x"]]
    with pytest.raises(SheetProblems) as found:
        read_results(Upload("成绩.csv", csv_file(HEADER[1:], rows)))
    text = "\n".join(found.value.problems)
    assert "能力测试成绩表：第 2 行「成绩」" in text
    assert "第 3 行「姓名」" in text and "第 3 行「成绩」" in text
    assert "C1 已在第 2 行出现过" in text


def test_the_two_tallies_join_by_person() -> None:
    leaders = read_leaders(_fixture("evaluation_unified.csv"), _fixture("evaluation_own.csv"))
    by_id = {x.person_id: x for x in leaders}
    assert list(by_id) == ["L1", "L2", "L3"]
    assert by_id["L2"].unified.excellent == 39 and by_id["L2"].own.incompetent == 5
    assert by_id["L2"].name == "乙局长" and by_id["L2"].post == "局长"


def test_what_does_not_join_or_cannot_be_a_tally_is_told_by_file_and_row() -> None:
    own_header = ["人员编号", "参加测评人数", "优秀票", "称职票", "不称职票"]
    own = [["L1", 50, 30, 20, 0], ["L2", 0, 0, 0, 0], ["L9", 50, 1, 1, 1]]
    with pytest.raises(SheetProblems) as found:
        read_leaders(
            _fixture("evaluation_unified.csv"), Upload("own.csv", csv_file(own_header, own))
        )
    problems = found.value.problems
    zero = "乙局长（县乙局）的本单位民主测评的参加测评人数为 0，无法计算票率"
    assert f"双重考核·本单位民主测评：第 3 行：{zero}" in problems
    assert "双重考核·统一民主测评：第 4 行「人员编号」：L3 在本单位民主测评表中没有结果" in problems
    assert "双重考核·本单位民主测评：第 4 行「人员编号」：L9 不在统一民主测评表中" in problems


def test_a_file_of_another_kind_is_refused() -> None:
    with pytest.raises(SheetProblems) as found:
        read_results(Upload("成绩.pdf", b"%PDF"))
    assert "请上传 .xlsx 或 .csv 文件" in found.value.problems[0]
    with pytest.raises(SheetProblems) as found:
        read_results(Upload("成绩.csv", "人员编号,姓名\n".encode("gbk") + "张".encode("gbk")))
    assert "UTF-8" in found.value.problems[0]
