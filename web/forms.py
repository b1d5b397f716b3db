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
- ``list[model]`` → a text area of comma-separated rows under a header line naming the
  columns (nested fields as ``candidate.name``), or a JSON array for what rows cannot say.

Empty inputs are left out, so the model's defaults apply and a missing required field is
reported by the model itself, in ``problems_of``'s Chinese.
"""

from __future__ import annotations

import csv
import io
import json
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

from pydantic import BaseModel, ValidationError

from workflows.glossary import field_label, zh

LONG_TEXT = frozenset({"summary", "finding", "reason", "short_cv", "one_to_one_reason"})
TRUE_WORDS = frozenset({"1", "true", "yes", "y", "是", "有", "t"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "否", "无", "f", ""})


@dataclass
class FormField:
    name: str  # the input's name: dotted inside a group
    label: str
    kind: str  # text, textarea, date, number, integer, checkbox, select, lines, rows
    required: bool
    value: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, shown)
    hint: str = ""
    group: str = ""  # the legend of its group, for a nested model's fields
    columns: list[str] = field(default_factory=list)  # of a ``rows`` field


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(the type inside ``X | None``, whether None is allowed)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(inner) == 1:
            return inner[0], True
    return annotation, False


def _is_model(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, BaseModel)


def _is_enum(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, Enum)


def _list_item(t: Any) -> Any | None:
    return typing.get_args(t)[0] if typing.get_origin(t) is list else None


def row_columns(model: type[BaseModel], prefix: str = "") -> list[str]:
    """The columns of a row of ``model``: its scalar fields, nested ones dotted; lists
    inside a row are left to the JSON form."""
    out: list[str] = []
    for name, info in model.model_fields.items():
        t, _ = _unwrap(info.annotation)
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
        t, optional = _unwrap(info.annotation)
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
            f.hint = "每行一条，逗号分隔，第一行为列名；也可粘贴 JSON 数组。列："
            f.hint += "，".join(f"{c}（{field_label(c)}）" for c in f.columns)
            if not value:
                f.value = _row_template(f.columns, people)
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


def _row_template(columns: list[str], people: list[tuple[str, str]] | None) -> str:
    """The header line, and a row per person when the rows are about the case's people."""
    lines = [",".join(columns)]
    if people and columns and columns[0] == "person_id":
        lines += [pid + "," * (len(columns) - 1) for pid, _ in people]
    return "\n".join(lines)


class FormProblem(ValueError):
    """What the browser sent cannot even be read as the form's shape (bad rows, bad JSON)."""


def _set(target: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for p in parts[:-1]:
        target = target.setdefault(p, {})
    target[parts[-1]] = value


def _rows(label: str, text: str, columns: list[str], item: type[BaseModel]) -> list[Any]:
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FormProblem(f"{label}：JSON 无法解析（第 {exc.lineno} 行）") from exc
        if not isinstance(loaded, list):
            raise FormProblem(f"{label}：JSON 应为数组")
        return loaded
    reader = csv.reader(io.StringIO(text))
    lines = [r for r in reader if any(c.strip() for c in r)]
    header = [h.strip() for h in lines[0]]
    unknown = [h for h in header if h not in columns]
    if unknown:
        raise FormProblem(f"{label}：未知的列 {', '.join(unknown)}；可用的列：{', '.join(columns)}")
    booleans = {c for c in columns if _leaf_type(item, c) is bool}
    out: list[Any] = []
    for number, cells in enumerate(lines[1:], start=2):
        if len(cells) > len(header):
            raise FormProblem(
                f"{label}：第 {number} 行有 {len(cells)} 列，列名只有 {len(header)} 个"
            )
        row: dict[str, Any] = {}
        for column, cell in zip(header, cells, strict=False):
            cell = cell.strip()
            if not cell:
                continue
            if column in booleans:
                row_value: Any = _boolean(cell, f"{label} 第 {number} 行 {column}")
            else:
                row_value = cell
            _set(row, column, row_value)
        out.append(row)
    return out


def _leaf_type(model: type[BaseModel], dotted: str) -> Any:
    head, _, rest = dotted.partition(".")
    t, _ = _unwrap(model.model_fields[head].annotation)
    return _leaf_type(t, rest) if rest else t


def _boolean(text: str, where: str) -> bool:
    lowered = text.strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise FormProblem(f"{where}：应填 是 或 否")


def parse_form(
    model: type[BaseModel],
    form: Mapping[str, str],
    *,
    skip: frozenset[str] = frozenset({"actor"}),
    prefix: str = "",
) -> dict[str, Any]:
    """What the browser sent as the dict ``model`` validates (nothing validated here but
    the shape: ``FormProblem`` for rows or JSON that cannot be read)."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        t, optional = _unwrap(info.annotation)
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
            rows = _rows(field_label(name), raw, row_columns(item), item)
            if rows or info.is_required():
                out[name] = rows
        elif item is not None:
            out[name] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif raw.strip():
            out[name] = raw.strip() if name not in LONG_TEXT else raw
    return out


_MESSAGES = {
    "missing": "必填",
    "string_too_short": "不能为空",
    "date_from_datetime_parsing": "日期应为 YYYY-MM-DD",
    "date_parsing": "日期应为 YYYY-MM-DD",
    "int_parsing": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为 是 或 否",
    "enum": "不是可选的值",
    "extra_forbidden": "不是此表单的字段",
    "string_pattern_mismatch": "格式不符（只能用字母、数字和 . _ -）",
    "list_type": "应为多行",
    "dict_type": "格式不对",
}


def problems_of(exc: ValidationError) -> list[str]:
    """Each problem as "标签：说明" in Chinese, naming the row for rows."""
    out: list[str] = []
    for error in exc.errors():
        where = " ".join(
            f"第 {int(p) + 1} 行" if str(p).isdigit() else field_label(str(p))
            for p in error.get("loc", ())
        )
        kind = error.get("type", "")
        context = error.get("ctx") or {}
        if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
            sign = {"greater_than_equal": "≥", "greater_than": ">", "less_than": "<"}.get(kind, "≤")
            bound = next(iter(context.values()), "")
            shown = f"{bound:g}" if isinstance(bound, int | float) else str(bound)
            message = f"应{sign} {shown}"
        elif kind == "string_too_long":
            message = f"过长（最多 {context.get('max_length', '')} 字）"
        else:
            message = _MESSAGES.get(kind, str(error.get("msg", "")))
        out.append(f"{where or '表单'}：{message}")
    return out


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


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
    Rows become comma-separated lines, or JSON when a row holds a list."""
    out: dict[str, str] = {}
    for name, info in type(instance).model_fields.items():
        value = getattr(instance, name)
        if name in skip or value is None:
            continue
        full = prefix + name
        t, _ = _unwrap(info.annotation)
        item = _list_item(t)
        if isinstance(value, BaseModel):
            out.update(form_values(value, skip=skip, prefix=f"{full}."))
        elif item is not None and _is_model(item):
            dumped = [v.model_dump(mode="json", exclude_none=True) for v in value]
            if any(isinstance(x, list) and x for row in dumped for x in row.values()) or any(
                isinstance(x, list) and x
                for row in dumped
                for nested in row.values()
                if isinstance(nested, Mapping)
                for x in nested.values()
            ):
                out[full] = json.dumps(dumped, ensure_ascii=False)
                continue
            columns = row_columns(item)
            lines = io.StringIO()
            writer = csv.writer(lines, lineterminator="\n")
            writer.writerow(columns)
            for v in value:
                flat = _flat(v.model_dump(exclude_none=True))
                writer.writerow([_cell_text(flat.get(c)) for c in columns])
            out[full] = lines.getvalue()
        elif item is not None:
            out[full] = "\n".join(str(v) for v in value)
        elif isinstance(value, bool):
            out[full] = "on" if value else ""
        else:
            out[full] = _cell_text(value)
    return out
