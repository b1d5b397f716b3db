from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.rules.cadre_capability import (
    RULE_RETEST,
    RULE_SCORE,
    Attempt,
    Outcome,
    check_retest_date,
    check_score,
    outcome,
    reserve_eligible,
    retest_opens_on,
    self_study_ends_on,
)
from workflows.rules.errors import RuleViolation

FULL = Decimal(100)
PASS = Decimal(60)
RESERVE = Decimal(85)
# scores as typed: whole numbers, halves, quarters and hundredths
SCORE = st.decimals(min_value=0, max_value=100, places=2)


@pytest.mark.parametrize(
    ("score", "attempt", "expected"),
    [
        ("60", Attempt.FIRST, Outcome.PASSED),  # at the pass mark: passed
        ("60.00", Attempt.FIRST, Outcome.PASSED),
        ("59.99", Attempt.FIRST, Outcome.SELF_STUDY),
        ("59.5", Attempt.FIRST, Outcome.SELF_STUDY),
        ("0", Attempt.FIRST, Outcome.SELF_STUDY),
        ("100", Attempt.FIRST, Outcome.PASSED),
        ("60", Attempt.RETEST, Outcome.PASSED),
        ("59.99", Attempt.RETEST, Outcome.HANDLING),
        ("0", Attempt.RETEST, Outcome.HANDLING),
        ("100", Attempt.RETEST, Outcome.PASSED),
    ],
)
def test_outcome_table(score, attempt, expected):
    assert outcome(Decimal(score), attempt, PASS, FULL) is expected


@pytest.mark.parametrize("score", ["-0.01", "-1", "100.01", "101", "NaN", "Infinity"])
def test_scores_outside_the_marks_are_refused_in_chinese(score):
    with pytest.raises(RuleViolation) as e:
        outcome(Decimal(score), Attempt.FIRST, PASS, FULL)
    assert e.value.rule == RULE_SCORE
    assert "应在 0 到满分 100 分之间" in e.value.message


def test_refusal_names_the_cadre():
    with pytest.raises(RuleViolation, match="张三的能力测试成绩为 120"):
        check_score(Decimal(120), FULL, "张三")


@pytest.mark.parametrize(
    ("score", "attempt", "eligible"),
    [
        ("85", Attempt.FIRST, True),  # at the reserve mark
        ("84.99", Attempt.FIRST, False),
        ("100", Attempt.FIRST, True),
        ("60", Attempt.FIRST, False),
        ("85", Attempt.RETEST, False),  # passed only at the retest: not "passing well"
        ("100", Attempt.RETEST, False),
    ],
)
def test_reserve_cadre_table(score, attempt, eligible):
    assert reserve_eligible(Decimal(score), attempt, RESERVE, FULL) is eligible


@given(SCORE, st.sampled_from(list(Attempt)))
def test_passed_exactly_when_at_or_above_the_mark(score, attempt):
    result = outcome(score, attempt, PASS, FULL)
    assert (result is Outcome.PASSED) == (score >= PASS)
    if result is not Outcome.PASSED:
        assert result is (Outcome.SELF_STUDY if attempt is Attempt.FIRST else Outcome.HANDLING)


@given(SCORE, st.sampled_from(list(Attempt)))
def test_a_reserve_cadre_always_passed(score, attempt):
    if reserve_eligible(score, attempt, RESERVE, FULL):
        assert outcome(score, attempt, PASS, FULL) is Outcome.PASSED


@pytest.mark.parametrize(
    ("notified", "months", "last_day"),
    [
        (date(2026, 3, 10), 3, date(2026, 6, 9)),
        (date(2026, 1, 1), 3, date(2026, 3, 31)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),  # no 30 February: its last day
        (date(2026, 11, 28), 3, date(2027, 2, 27)),
        (date(2027, 11, 29), 3, date(2028, 2, 28)),  # leap year: 29 February exists
        (date(2027, 11, 30), 3, date(2028, 2, 29)),
        (date(2024, 2, 29), 3, date(2024, 5, 28)),
        (date(2026, 12, 31), 1, date(2027, 1, 30)),
        (date(2026, 5, 31), 1, date(2026, 6, 30)),
    ],
)
def test_self_study_end_table(notified, months, last_day):
    assert self_study_ends_on(notified, months) == last_day
    assert retest_opens_on(notified, months) == last_day + timedelta(days=1)


@given(st.dates(date(2004, 1, 1), date(2040, 12, 31)), st.integers(1, 24))
def test_self_study_lasts_about_the_months(notified, months):
    end = self_study_ends_on(notified, months)
    assert notified < end
    # at least months × 28 days less one, at most months × 31 days
    assert months * 28 - 1 <= (end - notified).days + 1 <= months * 31


@pytest.mark.parametrize("months", [0, -3])
def test_self_study_needs_a_month(months):
    with pytest.raises(RuleViolation) as e:
        self_study_ends_on(date(2026, 3, 10), months)
    assert e.value.rule == RULE_RETEST


def test_retest_before_the_self_study_ends_is_refused():
    check_retest_date(date(2026, 6, 10), date(2026, 3, 10), 3)  # the day it opens
    with pytest.raises(RuleViolation) as e:
        check_retest_date(date(2026, 6, 9), date(2026, 3, 10), 3)
    assert e.value.rule == RULE_RETEST
    assert "早于自学期满后的 2026-06-10" in e.value.message
