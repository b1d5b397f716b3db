"""``.xlsx`` files of a list: reading the first worksheet of one a department filled in, and
writing the empty template of a list for them to fill in.

The template's first worksheet has the headers (a comment on each says how to fill it in,
its required columns are marked); a second one, 填写说明, lists the columns with their
other accepted headers. A file that is not an ``.xlsx`` workbook is told as such.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Sequence
from datetime import date

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from sheets.cells import leaf_type
from sheets.columns import Sheet
from sheets.problems import SheetProblems
from sheets.table import read_numbered_table, read_table, required_columns
from workflows.types import Model

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SUFFIX = ".xlsx"
GUIDE_TITLE = "填写说明"
# a technical bound on what is unpacked: a workbook of a few thousand rows is far smaller
MAX_UNPACKED_BYTES = 64 * 1024 * 1024

# the rows of the template formatted for their column (dates as dates, text as text)
FORMATTED_ROWS = 500
_REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")


def _records(data: bytes) -> Iterator[tuple[int, Sequence[object]]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as packed:
            if sum(i.file_size for i in packed.infolist()) > MAX_UNPACKED_BYTES:
                raise SheetProblems(
                    [f"文件解压后超过 {MAX_UNPACKED_BYTES // 2**20} MB，请分批导入"]
                )
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise SheetProblems(["不是 .xlsx 工作簿（请在 Excel 或 WPS 中另存为 .xlsx）"]) from exc
    try:
        worksheet = book.worksheets[0]
        for number, row in enumerate(worksheet.iter_rows(values_only=True), start=1):
            yield number, list(row)
    finally:
        book.close()


def read_xlsx(sheet: Sheet, data: bytes) -> list[Model]:
    """The rows of the first worksheet of ``data`` (its first non-empty line the header),
    or ``SheetProblems`` naming every bad row and column; nothing when any row is bad."""
    return read_table(sheet, _records(data))


def read_numbered_xlsx(sheet: Sheet, data: bytes) -> list[tuple[int, Model]]:
    """``read_xlsx``'s rows, each with its row number in the worksheet."""
    return read_numbered_table(sheet, _records(data))


def _note(sheet: Sheet, field: str, note: str) -> str:
    t = leaf_type(sheet.row, field)
    shown = note or {bool: "填 是 或 否", date: "YYYY-MM-DD", int: "整数", float: "数字"}.get(t, "")
    return shown


def template_xlsx(sheet: Sheet) -> bytes:
    """An empty workbook of ``sheet``: its headers, a note on each, the required ones marked."""
    book = Workbook()
    rows = book.active
    assert rows is not None
    rows.title = sheet.title
    must = {c.field for c in required_columns(sheet)}
    for i, column in enumerate(sheet.columns, start=1):
        cell = rows.cell(row=1, column=i, value=column.header)
        cell.font = Font(bold=True)
        note = _note(sheet, column.field, column.note)
        if column.field in must:
            cell.fill = _REQUIRED_FILL
            note = "必填。" + note
        if note:
            cell.comment = Comment(note, "")
        width = max(10, 2 * len(column.header) + 2)
        rows.column_dimensions[get_column_letter(i)].width = width
        kind = leaf_type(sheet.row, column.field)
        if kind is date or kind is str:  # a date typed in stays a date; an ID stays text
            shown = "yyyy-mm-dd" if kind is date else "@"
            for r in range(2, 2 + FORMATTED_ROWS):
                rows.cell(row=r, column=i).number_format = shown
    rows.freeze_panes = "A2"
    guide = book.create_sheet(GUIDE_TITLE)
    guide.append(["列名", "是否必填", "填写要求", "也可用的列名"])
    for c in guide[1]:
        c.font = Font(bold=True)
    for column in sheet.columns:
        guide.append(
            [
                column.header,
                "必填" if column.field in must else "",
                _note(sheet, column.field, column.note),
                "、".join(column.aliases),
            ]
        )
    for letter, width in zip("ABCD", (24, 10, 60, 36), strict=True):
        guide.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def file_name(sheet: Sheet) -> str:
    return f"{sheet.kind}-template{SUFFIX}"
