"""``text_problem``: text anywhere in a value that PostgreSQL or UTF-8 cannot hold, found in
strings and their subclasses, in the items of lists, tuples and sets, in a mapping's keys and
values, however deep and whatever subclass; nothing else holds text. Asked twice of each
value: the second answer comes from the type's remembered kind and must be the same."""

from __future__ import annotations

from collections import OrderedDict
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pytest

from workflows.types import NUL_REFUSAL, CaseStage, text_problem

SURROGATE = "\ud800"


class Tag(StrEnum):
    A = "a"


class Words(list[Any]):
    pass


class Note(str):
    __slots__ = ()


@pytest.mark.parametrize(
    "value",
    [
        "",
        "县环保局 局长",
        "line\nbreak\ttab",
        Tag.A,
        CaseStage.VOTE,
        Note("说明"),
        ["a", ("b", {"c"}), frozenset({"d"})],
        {"键": ["值", {"深": "处"}]},
        OrderedDict(a="b"),
        Words(["一", "二"]),
        0,
        1.5,
        True,
        None,
        date(2026, 12, 6),
        datetime(2026, 12, 6, 8),
        Decimal("1.0"),
        b"\x00 bytes are not text",
        object(),
    ],
)
def test_a_value_that_can_be_stored_has_no_problem(value: Any) -> None:
    assert text_problem(value) == ""
    assert text_problem(value) == ""


@pytest.mark.parametrize(
    "value",
    [
        "a\x00b",
        Note("\x00"),
        ["ok", ("ok", {"\x00"})],
        frozenset({"\x00"}),
        {"ok": {"deeper": ["\x00"]}},
        {"\x00": "a key"},
        OrderedDict(a="\x00"),
        Words(["\x00"]),
    ],
)
def test_a_nul_anywhere_is_named(value: Any) -> None:
    assert text_problem(value) == NUL_REFUSAL
    assert text_problem(value) == NUL_REFUSAL


@pytest.mark.parametrize(
    "value",
    [f"a{SURROGATE}b", [SURROGATE], {"k": (SURROGATE,)}, {SURROGATE: 1}, Note(SURROGATE)],
)
def test_a_lone_surrogate_anywhere_is_named(value: Any) -> None:
    for _ in range(2):
        problem = text_problem(value)
        assert "lone surrogate" in problem and repr(SURROGATE) in problem
