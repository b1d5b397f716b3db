"""A pydantic validation error as a clerk reads it, in Chinese: for every front end and for
the policy file's own checks.

Pydantic says what is wrong in English ("Input should be a valid date ..."); a clerk reads
which field (by its label in the glossary, ``workflows.glossary.field_label``) and what it
should hold instead: "「出生日期」格式不对，应为 YYYY-MM-DD". A message the service wrote itself
(a custom error, a validator's ``ValueError``) is already a sentence in Chinese and is kept.
The error's ``type`` stays pydantic's identifier.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from workflows.glossary import field_label

# Where a request's error is located (FastAPI): not a field a person filled in.
_SOURCES = frozenset({"body", "query", "path", "header", "cookie"})
# The wrapper pydantic puts before a validator's own message.
_VALUE_ERROR_PREFIXES = ("Value error, ", "Assertion failed, ")


def field_name(loc: Iterable[int | str]) -> str:
    """The label of the field at ``loc`` (``["body", "candidates", 0, "birth_date"]`` →
    出生日期); a field the glossary does not name keeps its own name."""
    parts = [str(p) for p in loc if isinstance(p, str)]
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    parts = [p for p in parts if not p.startswith(("function-", "tagged-union"))]
    return field_label(".".join(parts)) if parts else ""


def _ctx(error: Mapping[str, Any], key: str) -> str:
    value = error.get("ctx", {}).get(key, "")
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}"  # a bound of 100.0 reads as 100
    return str(value)


def _expected(error: Mapping[str, Any]) -> str:
    """pydantic's list of the allowed values ("'a', 'b' or 'c'"), with Chinese separators."""
    return _ctx(error, "expected").replace(" or ", "、").replace(", ", "、")


# By pydantic's error type: what the field should hold, after "「label」".
_SAYS: Mapping[str, Callable[[Mapping[str, Any]], str]] = {
    "missing": lambda e: "必须填写",
    "missing_argument": lambda e: "必须填写",
    "extra_forbidden": lambda e: "不是可以填写的项目",
    "unexpected_keyword_argument": lambda e: "不是可以填写的项目",
    "string_type": lambda e: "应为文字（数字或日期等请加引号）",
    "string_unicode": lambda e: "应为文字",
    "string_too_short": lambda e: f"至少应有 {_ctx(e, 'min_length')} 个字符",
    "string_too_long": lambda e: f"最多只能有 {_ctx(e, 'max_length')} 个字符",
    "string_pattern_mismatch": lambda e: "格式不对",
    "too_short": lambda e: f"至少应有 {_ctx(e, 'min_length')} 项",
    "too_long": lambda e: f"最多只能有 {_ctx(e, 'max_length')} 项",
    "int_type": lambda e: "应为整数",
    "int_parsing": lambda e: "应为整数",
    "int_from_float": lambda e: "应为整数，不能有小数",
    "float_type": lambda e: "应为数字",
    "float_parsing": lambda e: "应为数字",
    "decimal_parsing": lambda e: "应为数字",
    "decimal_type": lambda e: "应为数字",
    "finite_number": lambda e: "应为有限的数字",
    "bool_type": lambda e: "应填“是”或“否”（true 或 false）",
    "bool_parsing": lambda e: "应填“是”或“否”（true 或 false）",
    "greater_than": lambda e: f"应大于 {_ctx(e, 'gt')}",
    "greater_than_equal": lambda e: f"不能小于 {_ctx(e, 'ge')}",
    "less_than": lambda e: f"应小于 {_ctx(e, 'lt')}",
    "less_than_equal": lambda e: f"不能大于 {_ctx(e, 'le')}",
    "multiple_of": lambda e: f"应为 {_ctx(e, 'multiple_of')} 的整数倍",
    "date_type": lambda e: "格式不对，应为 YYYY-MM-DD",
    "date_parsing": lambda e: "格式不对，应为 YYYY-MM-DD",
    "date_from_datetime_parsing": lambda e: "格式不对，应为 YYYY-MM-DD",
    "date_from_datetime_inexact": lambda e: "应为日期（YYYY-MM-DD），不能带时刻",
    "date_past": lambda e: "应为过去的日期",
    "date_future": lambda e: "应为将来的日期",
    "datetime_type": lambda e: "格式不对，应为 YYYY-MM-DDTHH:MM:SS",
    "datetime_parsing": lambda e: "格式不对，应为 YYYY-MM-DDTHH:MM:SS",
    "datetime_from_date_parsing": lambda e: "格式不对，应为 YYYY-MM-DDTHH:MM:SS",
    "timezone_aware": lambda e: "应带时区",
    "enum": lambda e: f"只能是以下之一：{_expected(e)}",
    "literal_error": lambda e: f"只能是以下之一：{_expected(e)}",
    "union_tag_invalid": lambda e: f"只能是以下之一：{_ctx(e, 'expected_tags')}",
    "union_tag_not_found": lambda e: f"缺少区分类别的项目 {_ctx(e, 'discriminator')}",
    "list_type": lambda e: "应为列表（多项）",
    "tuple_type": lambda e: "应为列表（多项）",
    "set_type": lambda e: "应为列表（多项）",
    "dict_type": lambda e: "应为若干项目组成的一组（键与值）",
    "model_type": lambda e: "应为若干项目组成的一组（键与值）",
    "model_attributes_type": lambda e: "应为若干项目组成的一组（键与值）",
    "dataclass_type": lambda e: "应为若干项目组成的一组（键与值）",
    "json_invalid": lambda e: f"不是有效的 JSON（{_ctx(e, 'error')}）",
    "json_type": lambda e: "不是有效的 JSON",
    "uuid_type": lambda e: "应为 UUID",
    "uuid_parsing": lambda e: "应为 UUID",
    "url_parsing": lambda e: "应为网址",
    "url_type": lambda e: "应为网址",
    "none_required": lambda e: "应为空",
    "frozen_field": lambda e: "不能修改",
    "frozen_instance": lambda e: "不能修改",
    "bytes_type": lambda e: "应为文字",
    "bytes_too_long": lambda e: f"最多只能有 {_ctx(e, 'max_length')} 个字节",
}


def message(error: Mapping[str, Any]) -> str:
    """The sentence for one error of ``ValidationError.errors()`` (or FastAPI's)."""
    name = field_name(error.get("loc", ()))
    said, own = _said(error)
    if own:
        return said
    return f"「{name}」{said}" if name else f"内容{said}"


def predicate(error: Mapping[str, Any]) -> str:
    """What is wrong, without the field's label: for a text that names the field by its key
    already (``steps.vote: 应为整数``)."""
    return _said(error)[0]


def _said(error: Mapping[str, Any]) -> tuple[str, bool]:
    """What is wrong, and whether it is a sentence of its own (a message the service wrote)
    rather than a predicate of the field."""
    kind = str(error.get("type", ""))
    msg = str(error.get("msg", ""))
    says = _SAYS.get(kind)
    if says is not None:
        return says(error), False
    for prefix in _VALUE_ERROR_PREFIXES:
        if msg.startswith(prefix):
            return msg.removeprefix(prefix), True
    if msg.isascii() and msg:  # an error type not yet worded here: say at least its type
        return f"填写有误（{kind}）", False
    return msg, True
