"""A table with a header line (a spreadsheet's first worksheet, text pasted in a form) as
rows of a list: each header is matched to its column (``sheets.columns``), then each row is
read (``sheets.cells``). Every problem is reported at once; none means every row is good."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from sheets.cells import is_empty, read_rows, required
from sheets.columns import Column, Sheet
from sheets.problems import SheetProblems, at_row
from workflows.types import Model

# a technical bound on one list (a county's largest registration is far smaller)
MAX_ROWS = 5_000

_MARKS = re.compile(r"[\s*＊]|[（(]必填[)）]")


def _plain(header: str) -> str:
    """A header as matched: without spaces, the asterisk or （必填） a template may add."""
    return _MARKS.sub("", header)


def header_names(sheet: Sheet) -> dict[str, Column]:
    """Every header a column is known by: its own, its other names, its field's name (so the
    English headers of older lists still read) and, inside a group, its field's own name
    where no other column has it."""
    names: dict[str, Column] = {}
    short: dict[str, list[Column]] = {}
    for column in sheet.columns:
        for name in (column.header, *column.aliases, column.field):
            names.setdefault(_plain(name), column)
        short.setdefault(column.field.rpartition(".")[2], []).append(column)
    for name, columns in short.items():
        if len(columns) == 1:
            names.setdefault(name, columns[0])
    return names


def required_columns(sheet: Sheet) -> list[Column]:
    return [c for c in sheet.columns if required(sheet.row, c.field)]


def read_table(sheet: Sheet, records: Iterable[tuple[int, Sequence[object]]]) -> list[Model]:
    """The rows under the first non-empty line (the header), numbered as given; blank lines
    are skipped. ``SheetProblems`` when a header is unknown, repeated or missing, or any row
    is not good."""
    return [model for _, model in read_numbered_table(sheet, records)]


def read_numbered_table(
    sheet: Sheet, records: Iterable[tuple[int, Sequence[object]]]
) -> list[tuple[int, Model]]:
    """``read_table``'s rows, each with its row number (for problems found later)."""
    names = header_names(sheet)
    header: list[Column | None] | None = None
    header_row = 0
    rows: list[tuple[int, Mapping[str, object]]] = []
    for number, cells in records:
        if all(is_empty(c) for c in cells):
            continue
        if header is None:
            header_row = number
            header = _header(sheet, names, number, cells)
            continue
        if len(rows) >= MAX_ROWS:
            raise SheetProblems([at_row(number, "", f"超过 {MAX_ROWS} 行，请分批导入")])
        extra = [c for c in cells[len(header) :] if not is_empty(c)]
        if extra:
            raise SheetProblems([at_row(number, "", "此行的内容多于表头的列数")])
        by_field = {
            column.field: value
            for column, value in zip(header, cells, strict=False)
            if column is not None
        }
        rows.append((number, by_field))
    if header is None:
        raise SheetProblems(["表格是空的：第一行应为表头（列名），其下每行一人"])
    if not rows:
        raise SheetProblems([at_row(header_row, "", "只有表头，没有数据行")])
    repeated = _repeated_people(sheet, rows) if sheet.one_row_per_person else []
    try:
        found = read_rows(sheet, rows)
    except SheetProblems as exc:
        raise SheetProblems(exc.problems + repeated) from None
    if repeated:
        raise SheetProblems(repeated)
    # read_rows gives one model per row when no row has a problem
    return [(number, model) for (number, _), model in zip(rows, found, strict=True)]


def _repeated_people(sheet: Sheet, rows: list[tuple[int, Mapping[str, object]]]) -> list[str]:
    """A person listed twice: each later row, naming the first."""
    column = next((c for c in sheet.columns if c.field.rpartition(".")[2] == "person_id"), None)
    if column is None:
        return []
    first: dict[str, int] = {}
    out = []
    for number, cells in rows:
        value = cells.get(column.field)
        key = "" if is_empty(value) else str(value).strip()
        if key in first:
            out.append(at_row(number, column.header, f"{key} 已在第 {first[key]} 行出现过"))
        elif key:
            first[key] = number
    return out


def _header(
    sheet: Sheet, names: Mapping[str, Column], number: int, cells: Sequence[object]
) -> list[Column | None]:
    """The column under each header cell (None: a header read and left aside)."""
    ignored = {_plain(h) for h in sheet.ignored}
    out: list[Column | None] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for cell in cells:
        text = "" if is_empty(cell) else _plain(str(cell))
        column = names.get(text)
        if column is None:
            if text and text not in ignored:
                known = "、".join(c.header for c in sheet.columns)
                problems.append(
                    at_row(number, str(cell).strip(), f"不是可识别的列；可用的列：{known}")
                )
            out.append(None)
            continue
        if column.field in seen:
            problems.append(
                at_row(number, str(cell).strip(), f"与「{seen[column.field]}」是同一列，重复了")
            )
        seen[column.field] = str(cell).strip()
        out.append(column)
    missing = [c.header for c in required_columns(sheet) if c.field not in seen]
    if missing:
        problems.append(at_row(number, "", "缺少必填的列：" + "、".join(missing)))
    if problems:
        raise SheetProblems(problems)
    return out
