"""Spreadsheets as a department keeps them, for the tests: the story's applicants and
scores (``tests/fixtures/*.csv``) in ``.xlsx`` workbooks with Chinese headers, in the
department's own order, with a 序号 column and its ID-card header for the person."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from openpyxl import Workbook

from sheets.columns import APPLICANTS

FIXTURES = Path(__file__).resolve().parent / "fixtures"

# the CSV's columns (tests/fixtures/applicants.csv) under the headers departments write
APPLICANT_HEADERS = {
    "person_id": "身份证号",
    "name": "姓名",
    "sex": "性别",
    "birth_date": "出生日期",
    "current_post": "现任职务",
    "current_rank": "现职级",
    "registered_on": "报名日期",
    "qualified": "资格审查结果",
    "reason": "未通过理由",
    "sanctions": "处分",
}


def workbook(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv(name: str) -> list[dict[str, str]]:
    with (FIXTURES / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def applicants_xlsx(**changed: Mapping[str, object]) -> bytes:
    """The story's applicants: 序号 first, dates of birth as date cells, 是/否 as 通过/不通过;
    ``changed`` replaces cells of a row by its 序号 (``{"2": {"出生日期": "1986-13-01"}}``)."""
    for header in APPLICANT_HEADERS.values():  # every header is one the list knows
        assert any(header in (c.header, *c.aliases) for c in APPLICANTS.columns), header
    headers = ["序号", *APPLICANT_HEADERS.values()]
    rows = []
    for number, record in enumerate(_csv("applicants.csv"), start=1):
        cells: dict[str, object] = {"序号": number}
        for column, header in APPLICANT_HEADERS.items():
            value: object = record[column]
            if column == "birth_date":
                value = date.fromisoformat(record[column])
            elif column == "qualified":
                value = "通过" if record[column] == "是" else "不通过"
            cells[header] = value
        cells.update(changed.get(str(number), {}))
        rows.append([cells.get(h) for h in headers])
    return workbook(headers, rows)


def scores_xlsx(name: str, header: str) -> bytes:
    """``tests/fixtures/NAME`` (person_id,score) with 序号 and 姓名 beside, the score under
    ``header`` (笔试成绩, 面试成绩)."""
    names = {r["person_id"]: r["name"] for r in _csv("applicants.csv")}
    rows = [
        [i, names[r["person_id"]], r["person_id"], float(r["score"])]
        for i, r in enumerate(_csv(name), start=1)
    ]
    return workbook(["序号", "姓名", "人员编号", header], rows)
