from datetime import date
from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.rules.errors import RuleViolation
from workflows.rules.inspection import (
    check_competitive,
    check_evaluation,
    check_team,
    check_within,
    missing_checks,
)
from workflows.types import FOUR_MUSTS, InspectionCheck


def test_team_of_two_is_enough():
    check_team(["Wang Fang", "Zhao Lei"], 2)


def test_team_too_small():
    with pytest.raises(RuleViolation) as e:
        check_team(["Wang Fang"], 2)
    assert str(e.value) == "考察组至少须 2 人，填写的是 1 人"


def test_team_policy_may_be_stricter():
    with pytest.raises(RuleViolation, match=r"^考察组至少须 3 人，填写的是 2 人$"):
        check_team(["Wang Fang", "Zhao Lei"], 3)


def test_team_size_never_below_the_national_two():
    with pytest.raises(RuleViolation, match=r"^考察组至少须 2 人，填写的是 1 人$"):
        check_team(["Wang Fang"], 1)


def test_team_names_are_distinct_and_present():
    with pytest.raises(RuleViolation, match=r"^Wang Fang在考察组名单中重复出现$"):
        check_team(["Wang Fang", " Wang Fang "], 2)
    with pytest.raises(RuleViolation, match=r"^考察组第 2 名成员未填写姓名$"):
        check_team(["Wang Fang", "  ", "Zhao Lei"], 2)


@given(st.integers(0, 30), st.integers(1, 10), st.booleans())
def test_competition(candidates, positions, with_reason):
    reason = "opinions are concentrated on one candidate" if with_reason else ""
    allowed = candidates > positions or (candidates == positions and with_reason)
    try:
        check_competitive(candidates, positions, reason)
    except RuleViolation:
        assert not allowed
    else:
        assert allowed


def test_one_to_one_without_reason_message():
    with pytest.raises(RuleViolation) as e:
        check_competitive(1, 1, " ")
    assert str(e.value) == (
        "差额考察的考察对象须多于拟任职数：拟任职数 1 个，考察对象 1 人；等额考察须写明理由"
    )


def test_fewer_candidates_than_posts_is_refused_even_with_a_reason():
    fewer = r"^考察对象少于拟任职数：拟任职数 2 个，考察对象 1 人；每个职位至少须有一名考察对象$"
    with pytest.raises(RuleViolation, match=fewer):
        check_competitive(1, 2, "a reason")


def test_missing_checks_in_order():
    assert missing_checks([], False) == list(FOUR_MUSTS)
    assert missing_checks([], True) == [*FOUR_MUSTS, InspectionCheck.ECONOMIC_AUDIT]
    assert missing_checks(FOUR_MUSTS, False) == []
    assert missing_checks(FOUR_MUSTS, True) == [InspectionCheck.ECONOMIC_AUDIT]
    assert missing_checks([InspectionCheck.ECONOMIC_AUDIT], False) == list(FOUR_MUSTS)


@pytest.mark.parametrize("audit", [False, True])
def test_missing_checks_every_subset(audit):
    required = [*FOUR_MUSTS, *([InspectionCheck.ECONOMIC_AUDIT] if audit else [])]
    for size in range(len(InspectionCheck) + 1):
        for done in combinations(InspectionCheck, size):
            assert missing_checks(iter(done), audit) == [c for c in required if c not in done]


@given(
    st.integers(1, 200),
    st.integers(0, 80),
    st.integers(0, 80),
    st.integers(0, 80),
    st.integers(0, 80),
)
def test_evaluation_never_exceeds_participants(participants, a, b, c, d):
    try:
        check_evaluation(participants, a, b, c, d)
    except RuleViolation as e:
        assert a + b + c + d > participants
        assert str(e) == f"民主测评共 {a + b + c + d} 票，但参加人数只有 {participants} 人"
    else:
        assert a + b + c + d <= participants


def test_evaluation_refuses_nonsense():
    with pytest.raises(RuleViolation):
        check_evaluation(0, 0, 0, 0, 0)
    with pytest.raises(RuleViolation):
        check_evaluation(10, -1, 0, 0, 0)


def test_check_within():
    early, late = date(2026, 11, 2), date(2026, 11, 5)
    for d in (early, date(2026, 11, 3), late):
        check_within(d, early, late, "the start of inspection")
    with pytest.raises(RuleViolation) as e:
        check_within(date(2026, 11, 6), early, late, "考察开始")
    assert str(e.value) == "考察开始（2026-11-06）须在 2026-11-02 至 2026-11-05 之间"
    with pytest.raises(RuleViolation):
        check_within(date(2026, 11, 1), early, late, "the start of inspection")
