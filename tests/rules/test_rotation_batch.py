"""Who may be put in a rotation batch, and the order of a move's dates: table tests at the
rule's edges."""

from __future__ import annotations

from datetime import date

import pytest

from workflows.register_types import RotationDecision
from workflows.rules.errors import RuleViolation
from workflows.rules.rotation_batch import (
    RULE_DATES,
    RULE_MEMBERS,
    Listed,
    Wanted,
    check_arrival_on,
    check_document_on,
    check_made_on,
    check_members,
    member_problems,
)
from workflows.rules.sources import SOURCES

SCAN = "scan-2026-12"
LISTED = {
    "A": Listed("A", "张三", "城关镇", RotationDecision.ROTATE),
    "B": Listed("B", "李四", "樟市镇", RotationDecision.ROTATE),
    "D": Listed("D", "王五", "城关镇", RotationDecision.DEFER),
    "E": Listed("E", "赵六", "城关镇", RotationDecision.EXEMPT),
    "U": Listed("U", "钱七", "城关镇", None),
}


@pytest.mark.parametrize(
    ("wanted", "elsewhere", "problems"),
    [
        # listed, decided 交流, to another place: taken
        ([Wanted("A", "樟市镇人民政府", "樟市镇")], {}, []),
        ([Wanted("A", "县农业农村局")], {}, []),  # to a county-level unit
        (
            [Wanted("A", "樟市镇人民政府", "樟市镇"), Wanted("B", "城关镇人民政府", "城关镇")],
            {},
            [],
        ),
        # nobody
        ([], {}, ["交流批次至少应列入一人"]),
        # not listed by this scan
        ([Wanted("Z", "樟市镇人民政府")], {}, ["Z 不在交流排查 scan-2026-12 列出的应交流人员中"]),
        # listed, but not decided 交流
        (
            [Wanted("U", "樟市镇人民政府")],
            {},
            ["钱七（U）：组织部尚未作出交流决定，不能列入交流批次"],
        ),
        (
            [Wanted("D", "樟市镇人民政府")],
            {},
            ["王五（D）：组织部的决定是暂缓交流，不能列入交流批次"],
        ),
        (
            [Wanted("E", "樟市镇人民政府")],
            {},
            ["赵六（E）：组织部的决定是不予交流，不能列入交流批次"],
        ),
        # the same person twice in the batch
        (
            [Wanted("A", "樟市镇人民政府"), Wanted("A", "县农业农村局")],
            {},
            ["A 在本批次中出现了 2 次，每人只能列入一次"],
        ),
        # in another batch still (a move neither arrived nor cancelled)
        (
            [Wanted("A", "樟市镇人民政府")],
            {"A": "B-2026-1"},
            ["张三（A）已在交流批次 B-2026-1 中，尚未到岗或撤销"],
        ),
        # a move elsewhere of somebody else does not matter
        ([Wanted("A", "樟市镇人民政府")], {"B": "B-2026-1"}, []),
        # the township left is not a destination (spaces do not make it another)
        (
            [Wanted("A", "城关镇人民政府", " 城关镇 ")],
            {},
            ["张三（A）：交流去向仍是原乡镇（城关镇），不是交流"],
        ),
        ([Wanted("A", "  ")], {}, ["张三（A）：请填写交流去向单位"]),
    ],
)
def test_who_may_be_in_a_batch(
    wanted: list[Wanted], elsewhere: dict[str, str], problems: list[str]
) -> None:
    assert member_problems(wanted, SCAN, LISTED, elsewhere) == problems
    if problems:
        with pytest.raises(RuleViolation) as refused:
            check_members(wanted, SCAN, LISTED, elsewhere)
        assert refused.value.rule == RULE_MEMBERS
        assert refused.value.message == "；".join(problems)
    else:
        check_members(wanted, SCAN, LISTED, elsewhere)


def test_every_problem_is_named_at_once() -> None:
    wanted = [Wanted("U", "樟市镇人民政府"), Wanted("Z", "x"), Wanted("U", "y")]
    assert member_problems(wanted, SCAN, LISTED, {"U": "B1"}) == [
        "U 在本批次中出现了 2 次，每人只能列入一次",
        "钱七（U）：组织部尚未作出交流决定，不能列入交流批次",
        "钱七（U）已在交流批次 B1 中，尚未到岗或撤销",
        "Z 不在交流排查 scan-2026-12 列出的应交流人员中",
        "钱七（U）：组织部尚未作出交流决定，不能列入交流批次",
        "钱七（U）已在交流批次 B1 中，尚未到岗或撤销",
    ]


AS_OF = date(2026, 12, 1)


@pytest.mark.parametrize(
    ("made_on", "ok"),
    [(date(2026, 11, 30), False), (AS_OF, True), (date(2026, 12, 2), True)],
)
def test_a_batch_is_made_on_or_after_the_scan(made_on: date, ok: bool) -> None:
    if ok:
        check_made_on(made_on, AS_OF)
        return
    with pytest.raises(RuleViolation, match="早于交流排查的截至日期") as refused:
        check_made_on(made_on, AS_OF)
    assert refused.value.rule == RULE_DATES


MADE = date(2026, 12, 3)
TODAY = date(2026, 12, 10)


@pytest.mark.parametrize(
    ("issued_on", "refusal"),
    [
        (date(2026, 12, 2), "早于交流批次的编组日期"),  # the day before the batch
        (MADE, ""),  # the batch's own day
        (TODAY, ""),  # today
        (date(2026, 12, 11), "尚未发生的事项不能登记"),  # tomorrow
    ],
)
def test_the_document_date(issued_on: date, refusal: str) -> None:
    if not refusal:
        check_document_on(issued_on, MADE, TODAY)
        return
    with pytest.raises(RuleViolation, match=refusal):
        check_document_on(issued_on, MADE, TODAY)


ISSUED = date(2026, 12, 5)


@pytest.mark.parametrize(
    ("arrived_on", "refusal"),
    [
        (date(2026, 12, 4), "早于交流文件的印发日期"),
        (ISSUED, ""),  # the document's own day
        (TODAY, ""),
        (date(2026, 12, 11), "尚未发生的事项不能登记"),
    ],
)
def test_the_arrival_date(arrived_on: date, refusal: str) -> None:
    if not refusal:
        check_arrival_on(arrived_on, ISSUED, TODAY)
        return
    with pytest.raises(RuleViolation, match=refusal):
        check_arrival_on(arrived_on, ISSUED, TODAY)


def test_the_rules_have_their_sources() -> None:
    assert "交流" in SOURCES[RULE_MEMBERS] and "交流" in SOURCES[RULE_DATES]
