"""A list's file as a department sends it, ``.xlsx`` or ``.csv`` (UTF-8, as Excel saves
"CSV UTF-8"), chosen by the file's name: the same headers, the same row-by-row problems, row
numbers as the person sees them in either."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence

from sheets.columns import Sheet
from sheets.problems import SheetProblems
from sheets.table import read_numbered_table
from sheets.xlsx import SUFFIX as XLSX
from sheets.xlsx import read_numbered_xlsx
from workflows.types import Model

CSV = ".csv"
SUFFIXES = (XLSX, CSV)


def _csv_records(data: bytes) -> Iterator[tuple[int, Sequence[object]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SheetProblems(
            [f"不是 UTF-8 编码的 CSV（第 {exc.start} 字节）：请在 Excel 中另存为“CSV UTF-8”"]
        ) from exc
    reader = csv.reader(io.StringIO(text))
    try:
        for record in reader:
            yield reader.line_num, record
    except csv.Error as exc:
        raise SheetProblems([f"第 {reader.line_num} 行：不是有效的 CSV：{exc}"]) from exc


def read_numbered_file(sheet: Sheet, name: str, data: bytes) -> list[tuple[int, Model]]:
    """The rows of ``data`` (an ``.xlsx`` workbook or a ``.csv`` file, by ``name``), each with
    its row number; ``SheetProblems`` naming every bad row and column, nothing when any is."""
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    if suffix == CSV:
        return read_numbered_table(sheet, _csv_records(data))
    if suffix == XLSX:
        return read_numbered_xlsx(sheet, data)
    raise SheetProblems([f"{name}：请上传 .xlsx 或 .csv 文件"])
