"""Forms made from the wire models: one HTML form for each workflow input, and back.

``form_fields(model)`` lists the inputs a page shows for a pydantic model, and
``parse_form(model, form)`` turns what the browser sent into the dict the model validates.
Shapes and their inputs:

- ``str`` → a text box (a text area for long free text); ``date`` → a date picker;
  ``int``/``float`` → a number box; ``bool`` → a check box; an enum → a drop-down;
  ``person_id`` → a drop-down of the case's people when the page knows them;
- a nested model (``meeting``) → its fields, named ``meeting.held_on`` and so on, in a
  group; an optional one is left out when all its fields are empty;
- ``list[str]`` → a text area, one item per line;
- ``list[model]`` of a list with Chinese headers (``sheets.columns``: candidates, applicants,
  scores, vote items) → a table of inputs, one row per person (``items.0.person_id`` …),
  with a button that adds rows, an ``.xlsx`` file to import (``import_sheets``), and a text
  area where a table can be pasted (its header line in Chinese or by field name; comma- or
  tab-separated, as Excel copies it) or a JSON array; any other ``list[model]`` → the text
  area alone.

Empty inputs are left out, so the model's defaults apply and a missing required field is
reported by the model itself, in ``problems_of``'s Chinese; a row is checked as it is read,
and its problems name the row and the column's header.
"""

from __future__ import annotations

import csv
import io
import json
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

from pydantic import BaseModel, ValidationError

from sheets.cells import NO, YES, cell_text, cells_of, flag, is_empty, leaf_type, read_rows, unwrap
from sheets.columns import Sheet, sheet_of
from sheets.problems import SheetProblems, error_text
from sheets.table import MAX_ROWS, read_table, required_columns
from sheets.xlsx import read_xlsx
from workflows.glossary import field_label, zh

LONG_TEXT = frozenset({"summary", "finding", "reason", "short_cv", "one_to_one_reason"})
# rows a table shows when nothing asks for more, and how many its button adds; a technical
# bound on the rows one page shows (a longer list is imported from a file)
SHOWN_ROWS = 3
ADD_ROWS = 5
MAX_SHOWN_ROWS = 500
ADD = "_add"  # the button that adds rows to the table it names
SHOWN = "_rows."  # a table's hidden count of rows shown
SHEET_FILE = "_sheet."  # a table's file input


@dataclass
class FormField:
    name: str  # the input's name: dotted inside a group
    label: str
    kind: str  # text, textarea, date, number, integer, checkbox, select, yesno, lines, rows
    required: bool
    value: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, shown)
    hint: str = ""
    group: str = ""  # the legend of its group, for a nested model's fields
    columns: list[str] = field(default_factory=list)  # of a ``rows`` field: fields, dotted
    # of a ``rows`` field with Chinese headers: the kind of list, (header, how to fill it in,
    # required) per column, and the inputs of each row
    sheet: str = ""
    headers: list[tuple[str, str, bool]] = field(default_factory=list)
    cells: list[list[FormField]] = field(default_factory=list)


def _is_model(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, BaseModel)


def _is_enum(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, Enum)


def _list_item(t: Any) -> Any | None:
    return typing.get_args(t)[0] if typing.get_origin(t) is list else None


def row_columns(model: type[BaseModel], prefix: str = "") -> list[str]:
    """The columns of a row of ``model``: its list's columns when it has Chinese headers;
    else its scalar fields, nested ones dotted, lists inside a row left to the JSON form."""
    sheet = sheet_of(model)
    if sheet is not None and not prefix:
        return [c.field for c in sheet.columns]
    out: list[str] = []
    for name, info in model.model_fields.items():
        t, _ = unwrap(info.annotation)
        if _list_item(t) is not None:
            continue
        if _is_model(t):
            out += row_columns(t, f"{prefix}{name}.")
        else:
            out.append(prefix + name)
    return out


def form_fields(
    model: type[BaseModel],
    *,
    people: list[tuple[str, str]] | None = None,
    values: Mapping[str, str] | None = None,
    skip: frozenset[str] = frozenset({"actor"}),
    prefix: str = "",
    group: str = "",
) -> list[FormField]:
    """The inputs for ``model``; ``people`` are (person id, name) choices for person ids;
    ``values`` what to show in them (the form as last sent)."""
    values = values or {}
    out: list[FormField] = []
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        t, optional = unwrap(info.annotation)
        full = prefix + name
        label = field_label(full)
        required = info.is_required() and not optional
        value = values.get(full, "")
        item = _list_item(t)
        if _is_model(t):
            out += form_fields(
                t, people=people, values=values, prefix=f"{full}.", group=label, skip=skip
            )
            continue
        f = FormField(full, label, "text", required, value, group=group)
        if item is not None and _is_model(item):
            f.kind, f.columns = "rows", row_columns(item)
            sheet = sheet_of(item)
            if sheet is not None:
                _table(f, sheet, people or [], values)
            else:
                f.hint = "每行一条，逗号分隔，第一行为列名；也可粘贴 JSON 数组。列："
                f.hint += "，".join(f"{c}（{field_label(c)}）" for c in f.columns)
        elif item is not None:
            f.kind, f.hint = "lines", "每行一项"
        elif t is bool:
            f.kind = "checkbox"
            f.required = False
            default = info.default if isinstance(info.default, bool) else False
            f.value = value or ("on" if default else "")
        elif t is date:
            f.kind = "date"
        elif t is int:
            f.kind = "integer"
        elif t is float:
            f.kind = "number"
        elif _is_enum(t):
            f.kind = "select"
            f.options = [(m.value, zh(m)) for m in t]
        elif name == "person_id" and people:
            f.kind = "select"
            f.options = [(pid, f"{who}（{pid}）") for pid, who in people]
        elif name in LONG_TEXT:
            f.kind = "textarea"
        out.append(f)
    return out


_ROW_KEY = re.compile(r"^(\d+)\.")


def _row_numbers(values: Mapping[str, str], name: str) -> set[int]:
    """The row numbers (from 0) of table ``name`` that the form sent inputs of."""
    start = f"{name}."
    return {
        int(found.group(1))
        for key in values
        if key.startswith(start) and (found := _ROW_KEY.match(key[len(start) :]))
    }


def _sent_rows(values: Mapping[str, str], name: str) -> int:
    """How many rows of table ``name`` the form sent (its highest row number, plus one),
    counting no row beyond a table's longest list (``MAX_ROWS``)."""
    numbers = [n for n in _row_numbers(values, name) if n < MAX_ROWS]
    return max(numbers, default=-1) + 1


def _count(text: str | None) -> int:
    return min(int(text), MAX_SHOWN_ROWS) if text and text.isdigit() else 0


def _table(
    f: FormField, sheet: Sheet, people: list[tuple[str, str]], values: Mapping[str, str]
) -> None:
    """``f`` as a table of inputs for ``sheet``'s rows: as many rows as were sent or asked
    for; a fresh form about the case's people has a row for each, the person chosen."""
    must = {c.field for c in required_columns(sheet)}
    f.sheet = sheet.kind
    f.headers = [(c.header, c.note, c.field in must) for c in sheet.columns]
    f.hint = (
        "也可粘贴表格：第一行为列名（" + "、".join(c.header for c in sheet.columns) + "），"
        "其下每行一人，用逗号或制表符分隔（从 Excel 复制即可）；或粘贴 JSON 数组。"
    )
    sent = _sent_rows(values, f.name)
    fresh = sent == 0 and not values.get(f.name)
    prefill = sheet.about_case_people and bool(people) and fresh
    shown = max(sent, _count(values.get(SHOWN + f.name)), SHOWN_ROWS)
    if prefill:
        shown = max(shown, len(people))
    shown = min(shown, max(MAX_SHOWN_ROWS, sent))
    for i in range(shown):
        row = []
        for column in sheet.columns:
            name = f"{f.name}.{i}.{column.field}"
            value = values.get(name, "")
            if prefill and column.field == "person_id" and i < len(people):
                value = people[i][0]
            row.append(_cell_field(sheet, column.field, column.header, name, value, people))
        f.cells.append(row)


def _cell_field(
    sheet: Sheet, field_name: str, header: str, name: str, value: str, people: list[tuple[str, str]]
) -> FormField:
    t = leaf_type(sheet.row, field_name)
    cell = FormField(name, header, "text", False, value)
    if t is bool:
        cell.kind, cell.options = "yesno", [(YES, YES), (NO, NO)]
    elif t is date:
        cell.kind = "date"
    elif t is int:
        cell.kind = "integer"
    elif t is float:
        cell.kind = "number"
    elif field_name == "person_id" and people:
        cell.kind = "select"
        cell.options = [(pid, f"{who}（{pid}）") for pid, who in people]
        if value and value not in {pid for pid, _ in people}:
            cell.options.append((value, value))
    return cell


class FormProblem(ValueError):
    """What the browser sent cannot even be read as the form's shape (bad rows, bad JSON):
    every problem found, each a sentence."""

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def _set(target: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for p in parts[:-1]:
        target = target.setdefault(p, {})
    target[parts[-1]] = value


def _json_rows(label: str, text: str) -> list[Any]:
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormProblem(f"{label}：JSON 无法解析（第 {exc.lineno} 行）") from exc
    if not isinstance(loaded, list):
        raise FormProblem(f"{label}：JSON 应为数组")
    return loaded


def _text_records(text: str) -> list[tuple[int, list[str]]]:
    """The lines of a pasted table: tab-separated when its first line has a tab (as Excel
    copies cells), else comma-separated; numbered from 1."""
    first = text.lstrip("\n").split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text), delimiter="\t" if "\t" in first else ",")
    out = []
    try:
        for record in reader:
            out.append((reader.line_num, record))
    except csv.Error as exc:
        raise FormProblem(f"第 {reader.line_num} 行无法读取：{exc}") from exc
    return out


def _dumped(rows: list[Any]) -> list[Any]:
    return [r.model_dump(mode="json", exclude_unset=True) for r in rows]


def _sheet_rows(label: str, sheet: Sheet, form: Mapping[str, str], name: str) -> list[Any]:
    """The rows of a table with Chinese headers: those of its inputs, then those pasted."""
    people_only = {"person_id"} if sheet.about_case_people else set()
    rows: list[tuple[int, dict[str, object]]] = []
    numbers = sorted(_row_numbers(form, name))
    if numbers and numbers[-1] >= MAX_ROWS:
        raise FormProblem(f"{label}：表格最多 {MAX_ROWS} 行，请分批录入")
    for i in numbers:
        cells = {c.field: form.get(f"{name}.{i}.{c.field}", "") for c in sheet.columns}
        if all(is_empty(v) for k, v in cells.items() if k not in people_only):
            continue
        rows.append((i + 1, dict(cells)))
    problems: list[str] = []
    out: list[Any] = []
    try:
        out += _dumped(read_rows(sheet, rows))
    except SheetProblems as exc:
        problems += [f"{label}（表格）{p}" for p in exc.problems]
    text = form.get(name, "").strip()
    if text.startswith("["):
        out += _json_rows(label, text)
    elif text:
        try:
            out += _dumped(read_table(sheet, _text_records(text)))
        except SheetProblems as exc:
            problems += [f"{label}（粘贴的表格）{p}" for p in exc.problems]
    if problems:
        raise FormProblem(*problems)
    return out


def _rows(label: str, text: str, columns: list[str], item: type[BaseModel]) -> list[Any]:
    """Rows of a model without Chinese headers: comma-separated under a header line, or JSON."""
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):
        return _json_rows(label, text)
    lines = [r for _, r in _text_records(text) if any(c.strip() for c in r)]
    header = [h.strip() for h in lines[0]]
    unknown = [h for h in header if h not in columns]
    if unknown:
        raise FormProblem(f"{label}：未知的列 {', '.join(unknown)}；可用的列：{', '.join(columns)}")
    out: list[Any] = []
    for number, cells in enumerate(lines[1:], start=2):
        if len(cells) > len(header):
            raise FormProblem(
                f"{label}：第 {number} 行有 {len(cells)} 列，列名只有 {len(header)} 个"
            )
        row: dict[str, Any] = {}
        for column, cell in zip(header, cells, strict=False):
            if not cell.strip():
                continue
            if leaf_type(item, column) is bool:
                try:
                    _set(row, column, flag(cell))
                except ValueError as exc:
                    raise FormProblem(f"{label} 第 {number} 行 {column}：{exc}") from exc
            else:
                _set(row, column, cell.strip())
        out.append(row)
    return out


def parse_form(
    model: type[BaseModel],
    form: Mapping[str, str],
    *,
    skip: frozenset[str] = frozenset({"actor"}),
    prefix: str = "",
) -> dict[str, Any]:
    """What the browser sent as the dict ``model`` validates (nothing validated here but
    the shape and the rows of tables: ``FormProblem`` for what cannot be read)."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        t, optional = unwrap(info.annotation)
        full = prefix + name
        item = _list_item(t)
        if _is_model(t):
            nested = parse_form(t, form, skip=skip, prefix=f"{full}.")
            if nested or not optional:
                out[name] = nested
            continue
        raw = form.get(full, "")
        if t is bool:
            out[name] = raw != ""
        elif item is not None and _is_model(item):
            sheet = sheet_of(item)
            if sheet is not None:
                rows = _sheet_rows(field_label(name), sheet, form, full)
            else:
                rows = _rows(field_label(name), raw, row_columns(item), item)
            if rows or info.is_required():
                out[name] = rows
        elif item is not None:
            out[name] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif raw.strip():
            out[name] = raw.strip() if name not in LONG_TEXT else raw
    return out


def more_rows(form: Mapping[str, str]) -> dict[str, str] | None:
    """The form again with more rows in the table whose button was pressed; None when the
    form was sent by its submit button."""
    table = form.get(ADD, "")
    if not table:
        return None
    shown = max(_count(form.get(SHOWN + table)), _sent_rows(form, table))
    grown = {k: v for k, v in form.items() if k != ADD}
    grown[SHOWN + table] = str(min(shown + ADD_ROWS, MAX_SHOWN_ROWS))
    return grown


def import_sheets(
    model: type[BaseModel],
    form: Mapping[str, str],
    files: Mapping[str, bytes],
    *,
    skip: frozenset[str] = frozenset({"actor"}),
) -> dict[str, str]:
    """The form with the rows of each ``.xlsx`` sent for a table (``files`` by input name)
    added to that table's rows, after those typed in. ``FormProblem`` naming each bad row
    and column of a file (by its rows in the spreadsheet): then nothing is added."""
    out = dict(form)
    problems: list[str] = []
    for name, info in model.model_fields.items():
        data = files.get(SHEET_FILE + name)
        if name in skip or not data:
            continue
        item = _list_item(unwrap(info.annotation)[0])
        sheet = sheet_of(item) if item is not None else None
        if sheet is None:
            continue
        try:
            rows = read_xlsx(sheet, data)
        except SheetProblems as exc:
            problems += [f"{field_label(name)}（Excel 文件）{p}" for p in exc.problems]
            continue
        start = _sent_rows(out, name)
        for i, row in enumerate(rows, start=start):
            for column, text in cells_of(sheet, row).items():
                if text:
                    out[f"{name}.{i}.{column}"] = text
    if problems:
        raise FormProblem(*problems)
    return out


def problems_of(exc: ValidationError) -> list[str]:
    """Each problem as "标签：说明" in Chinese, naming the row for rows."""
    out: list[str] = []
    for error in exc.errors():
        where = " ".join(
            f"第 {int(p) + 1} 行" if str(p).isdigit() else field_label(str(p))
            for p in error.get("loc", ())
        )
        out.append(f"{where or '表单'}：{error_text(error)}")
    return out


def _flat(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in row.items():
        if isinstance(v, Mapping):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out


def form_values(
    instance: BaseModel, *, skip: frozenset[str] = frozenset({"actor"}), prefix: str = ""
) -> dict[str, str]:
    """The form a browser sends for ``instance``: what ``parse_form`` reads back into it.
    Rows of a table fill its inputs; other rows become comma-separated lines, or JSON when a
    row holds a list."""
    out: dict[str, str] = {}
    for name, info in type(instance).model_fields.items():
        value = getattr(instance, name)
        if name in skip or value is None:
            continue
        full = prefix + name
        t, _ = unwrap(info.annotation)
        item = _list_item(t)
        if isinstance(value, BaseModel):
            out.update(form_values(value, skip=skip, prefix=f"{full}."))
        elif item is not None and _is_model(item):
            sheet = sheet_of(item)
            if sheet is not None:
                for i, row in enumerate(value):
                    for column, text in cells_of(sheet, row).items():
                        if text:
                            out[f"{full}.{i}.{column}"] = text
                continue
            dumped = [v.model_dump(mode="json", exclude_none=True) for v in value]
            if any(isinstance(x, list) and x for row in _flat_rows(dumped) for x in row.values()):
                out[full] = json.dumps(dumped, ensure_ascii=False)
                continue
            columns = row_columns(item)
            lines = io.StringIO()
            writer = csv.writer(lines, lineterminator="\n")
            writer.writerow(columns)
            for v in value:
                flat = _flat(v.model_dump(exclude_none=True))
                writer.writerow([cell_text(flat.get(c)) for c in columns])
            out[full] = lines.getvalue()
        elif item is not None:
            out[full] = "\n".join(str(v) for v in value)
        elif isinstance(value, bool):
            out[full] = "on" if value else ""
        else:
            out[full] = cell_text(value)
    return out


def _flat_rows(dumped: list[Any]) -> list[dict[str, Any]]:
    return [_flat(row) for row in dumped if isinstance(row, Mapping)]
