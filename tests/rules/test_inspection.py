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
    assert str(e.value) == "an inspection team needs at least 2 people, 1 given"


def test_team_policy_may_be_stricter():
    with pytest.raises(RuleViolation, match="at least 3 people, 2 given"):
        check_team(["Wang Fang", "Zhao Lei"], 3)


def test_team_size_never_below_the_national_two():
    with pytest.raises(RuleViolation, match="at least 2 people, 1 given"):
        check_team(["Wang Fang"], 1)


def test_team_names_are_distinct_and_present():
    with pytest.raises(RuleViolation, match="listed twice"):
        check_team(["Wang Fang", " Wang Fang "], 2)
    with pytest.raises(RuleViolation, match="member 2 of the inspection team has no name"):
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
        "a competitive inspection (差额考察) needs more candidates than posts: 1 candidate for "
        "1 post; a one-to-one inspection needs a recorded reason"
    )


def test_fewer_candidates_than_posts_is_refused_even_with_a_reason():
    with pytest.raises(RuleViolation, match="1 candidate for 2 posts"):
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
        assert f"has {a + b + c + d} ratings but only {participants} participants" in str(e)
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
        check_within(date(2026, 11, 6), early, late, "the start of inspection")
    assert str(e.value) == (
        "the start of inspection (2026-11-06) must fall between 2026-11-02 and 2026-11-05"
    )
    with pytest.raises(RuleViolation):
        check_within(date(2026, 11, 1), early, late, "the start of inspection")
