from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.rules.errors import RuleViolation
from workflows.rules.notice import (
    NATIONAL_MAX_SUSPENSION_MONTHS,
    OutcomeEffect,
    check_objection_in_period,
    effect_of,
    suspension_ends,
)
from workflows.types import ObjectionOutcome

PUBLISHED = date(2026, 11, 2)
ENDS = date(2026, 11, 6)


@pytest.mark.parametrize("received", [PUBLISHED, date(2026, 11, 4), ENDS])
def test_objection_inside_the_notice_is_accepted(received):
    check_objection_in_period(received, PUBLISHED, ENDS)


@pytest.mark.parametrize("received", [date(2026, 11, 1), date(2026, 11, 7), date(2026, 11, 9)])
def test_objection_outside_the_notice_is_refused(received):
    with pytest.raises(RuleViolation) as e:
        check_objection_in_period(received, PUBLISHED, ENDS)
    assert str(e.value) == (
        f"公示期间（2026-11-02 至 2026-11-06）受理反映；此件收到于 {received.isoformat()}"
    )


@given(st.dates(min_value=date(2026, 10, 1), max_value=date(2026, 12, 31)))
def test_objection_window_is_inclusive_at_both_ends(received):
    inside = PUBLISHED <= received <= ENDS
    try:
        check_objection_in_period(received, PUBLISHED, ENDS)
    except RuleViolation:
        assert not inside
    else:
        assert inside


def test_suspension_ends():
    assert suspension_ends(date(2026, 11, 10), 3) == date(2027, 2, 10)
    assert suspension_ends(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert suspension_ends(date(2026, 11, 10), 1) == date(2026, 12, 10)


@pytest.mark.parametrize("months", [0, NATIONAL_MAX_SUSPENSION_MONTHS + 1, -1])
def test_suspension_beyond_three_months_is_refused(months):
    with pytest.raises(RuleViolation):
        suspension_ends(date(2026, 11, 10), months)


@pytest.mark.parametrize(
    ("outcome", "effect"),
    [
        (ObjectionOutcome.NO_PROBLEM, OutcomeEffect(appoint=True, reminded=False, suspend=False)),
        (
            ObjectionOutcome.MINOR_SHORTCOMINGS,
            OutcomeEffect(appoint=True, reminded=True, suspend=False),
        ),
        (
            ObjectionOutcome.SERIOUS_CONFIRMED,
            OutcomeEffect(appoint=False, reminded=False, suspend=False),
        ),
        (
            ObjectionOutcome.SERIOUS_UNVERIFIABLE,
            OutcomeEffect(appoint=None, reminded=False, suspend=True),
        ),
    ],
)
def test_effect_of(outcome, effect):
    assert effect_of(outcome) == effect


def test_every_outcome_has_an_effect():
    for outcome in ObjectionOutcome:
        effect = effect_of(outcome)
        assert (effect.appoint is None) == effect.suspend
