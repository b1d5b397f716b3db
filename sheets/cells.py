"""A row of cells, as a spreadsheet or a row form holds them, into a row of its wire model,
and back.

A cell is read by the type of its column's field: 是/否 for a yes-or-no, a date in the ways
spreadsheets write one (2026-08-26, 2026/8/26, 2026.8.26, 2026年8月26日, or a date cell), a
number, or text; the sanctions of a person as ``种类:日期`` items. An empty cell is left out,
so the model's default applies. The model itself then checks the row, and each problem is
told with its row and its column's header (``sheets.problems``).
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any

from pydantic import BaseModel, ValidationError

from sheets.columns import Column, Sheet
from sheets.problems import SheetProblems, at_row, error_text
from workflows.glossary import SANCTIONS
from workflows.types import Model, Sanction, SanctionKind

TRUE_WORDS = frozenset({"是", "有", "√", "通过", "合格", "yes", "y", "true", "t", "1"})
FALSE_WORDS = frozenset({"否", "无", "×", "不通过", "不合格", "no", "n", "false", "f", "0"})
YES, NO = "是", "否"
# spreadsheets keep 15 significant digits of a number: a longer one (an ID card's 18) is
# already wrong when it arrives
LONGEST_EXACT_NUMBER = 10**15

_DAY = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")
_SANCTION_SEPARATORS = re.compile(r"[;；\n]")
_NAME_SEPARATORS = re.compile(r"[、,，;；\n]")
_SANCTION_KIND_BY_NAME = {name: kind for kind, name in SANCTIONS.items()}


class CellProblem(ValueError):
    """A cell that cannot be read as its column's type (the message in Chinese)."""


def unwrap(annotation: Any) -> tuple[Any, bool]:
    """(the type inside ``X | None``, whether None is allowed)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(inner) == 1:
            return inner[0], True
    return annotation, False


def leaf_type(model: type[BaseModel], dotted: str) -> Any:
    """The type of the field ``dotted`` (``candidate.birth_date``) of ``model``."""
    head, _, rest = dotted.partition(".")
    t, _ = unwrap(model.model_fields[head].annotation)
    return leaf_type(t, rest) if rest else t


def required(model: type[BaseModel], dotted: str) -> bool:
    """Whether a row must fill ``dotted`` in: required itself and in every group around it."""
    head, _, rest = dotted.partition(".")
    info = model.model_fields[head]
    if not info.is_required():
        return False
    return required(unwrap(info.annotation)[0], rest) if rest else True


def _is_sanctions(t: Any) -> bool:
    return typing.get_origin(t) is list and typing.get_args(t) == (Sanction,)


def _is_names(t: Any) -> bool:
    """A list of one-line texts (names), which a cell holds separated by 、."""
    if typing.get_origin(t) is not list:
        return False
    (item,) = typing.get_args(t)
    return item is str or (typing.get_origin(item) is Annotated and typing.get_args(item)[0] is str)


def flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise CellProblem("应填 是 或 否")


def day(value: object) -> object:
    """A date cell as a date; text in a spreadsheet's ways as YYYY-MM-DD text (the model
    then checks that the day exists); anything else as it is, for the model to refuse."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        found = _DAY.match(value)
        if found:
            y, m, d = found.groups()
            return f"{y}-{int(m):02d}-{int(d):02d}"
        return value.strip()
    raise CellProblem("日期应为 YYYY-MM-DD")


def _number_text(value: int | float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def sanctions(value: object) -> list[dict[str, Any]]:
    """``种类:日期[:恢复党员权利日期]`` items separated by ；, the kind by its Chinese name
    (党内警告) or its code (party_warning)."""
    out: list[dict[str, Any]] = []
    for part in _SANCTION_SEPARATORS.split(str(value)):
        part = part.strip()
        if not part:
            continue
        pieces = [p.strip() for p in part.replace("：", ":").split(":")]
        if len(pieces) not in (2, 3) or not all(pieces):
            raise CellProblem(f"「{part}」应写成 种类:日期，如 党内警告:2022-05-16")
        kind = _SANCTION_KIND_BY_NAME.get(pieces[0])
        if kind is None:
            try:
                kind = SanctionKind(pieces[0])
            except ValueError:
                known = "、".join(SANCTIONS.values())
                raise CellProblem(f"「{pieces[0]}」不是处分种类；可填：{known}") from None
        item: dict[str, Any] = {"kind": kind.value, "decided_on": day(pieces[1])}
        if len(pieces) == 3:
            item["rights_restored_on"] = day(pieces[2])
        out.append(item)
    return out


def read_cell(t: Any, value: object) -> Any:
    """One filled-in cell as its field of type ``t`` takes it."""
    if t is bool:
        return flag(value)
    if t is date:
        return day(value)
    if _is_sanctions(t):
        return sanctions(value)
    if _is_names(t):
        return [n.strip() for n in _NAME_SEPARATORS.split(str(value)) if n.strip()]
    if isinstance(value, datetime | date):
        return value.isoformat()[:10] if t is str else value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if t in (int, float):
            return value
        if abs(value) >= LONGEST_EXACT_NUMBER:
            raise CellProblem(
                "这一格存成了数字，超过 15 位的末几位已被表格软件改成 0；"
                "请把该列设为文本格式后重新填写"
            )
        return _number_text(value)
    return str(value).strip()


def is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _put(target: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for p in parts[:-1]:
        target = target.setdefault(p, {})
    target[parts[-1]] = value


def row_data(sheet: Sheet, cells: Mapping[str, object]) -> tuple[dict[str, Any], dict[str, str]]:
    """(the row as the model's nested fields, problems by field) of ``cells`` by field."""
    data: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for column in sheet.columns:
        value = cells.get(column.field)
        if is_empty(value):
            continue
        try:
            _put(data, column.field, read_cell(leaf_type(sheet.row, column.field), value))
        except CellProblem as exc:
            problems[column.field] = str(exc)
    return data, problems


def _column_at(sheet: Sheet, loc: Sequence[int | str]) -> tuple[Column | None, str]:
    """The column a problem's place names, and what of it (the n-th sanction's date)."""
    names = [str(p) for p in loc]
    for n in range(len(names), 0, -1):
        column = sheet.column(".".join(names[:n]))
        if column is not None:
            rest = loc[n:]
            detail = ""
            if rest and isinstance(rest[0], int):
                detail = f"第 {rest[0] + 1} 项：" if len(rest) == 1 else f"第 {rest[0] + 1} 项"
                if len(rest) > 1:
                    detail += {"kind": "种类", "decided_on": "日期"}.get(str(rest[1]), "日期")
                    detail += "："
            return column, detail
    return None, ""


def _row_problems(sheet: Sheet, exc: ValidationError) -> list[tuple[int, str, str]]:
    """(column's place, header, what is wrong) of each of the model's problems with a row."""
    out = []
    for error in exc.errors(include_url=False):
        column, detail = _column_at(sheet, error.get("loc", ()))
        place = sheet.columns.index(column) if column else len(sheet.columns)
        out.append((place, column.header if column else "", detail + error_text(error)))
    return out


def read_rows(sheet: Sheet, rows: Iterable[tuple[int, Mapping[str, object]]]) -> list[Model]:
    """The rows (numbered as the person sees them, cells by field) as models, or
    ``SheetProblems`` with every problem of every row, in the order of the columns."""
    out: list[Model] = []
    problems: list[str] = []
    for number, cells in rows:
        data, bad = row_data(sheet, cells)
        found = [(i, c.header, bad[c.field]) for i, c in enumerate(sheet.columns) if c.field in bad]
        try:
            model = sheet.row.model_validate(data)
        except ValidationError as exc:
            # a cell already reported would be reported again, as missing
            found += [p for p in _row_problems(sheet, exc) if not any(p[1] == f[1] for f in found)]
        else:
            if not bad:
                out.append(model)
        problems += [at_row(number, header, text) for _, header, text in sorted(found)]
    if problems:
        raise SheetProblems(problems)
    return out


# --------------------------------------------------------------------------- back to cells


def cell_text(value: Any) -> str:
    """A field's value as a cell shows it (what ``read_cell`` reads back)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, list):
        return ("；" if any(isinstance(v, Sanction) for v in value) else "、").join(
            _sanction_text(v) for v in value
        )
    return str(value)


def _sanction_text(item: Any) -> str:
    if not isinstance(item, Sanction):
        return str(item)
    text = f"{SANCTIONS[item.kind]}:{item.decided_on.isoformat()}"
    if item.rights_restored_on is not None:
        text += f":{item.rights_restored_on.isoformat()}"
    return text


def cells_of(sheet: Sheet, row: BaseModel) -> dict[str, str]:
    """The cells of a row model, by field ("" for a field not filled in)."""
    out: dict[str, str] = {}
    for column in sheet.columns:
        value: Any = row
        for part in column.field.split("."):
            value = getattr(value, part, None) if value is not None else None
        if isinstance(value, list) and not value:
            value = None
        out[column.field] = cell_text(value)
    return out
