import calendar
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.rules.dates import add_months, check_not_before, check_not_future, past_due
from workflows.rules.errors import RuleViolation

DATES = st.dates(min_value=date(1950, 1, 1), max_value=date(2200, 12, 31))


@pytest.mark.parametrize(
    ("d", "months", "expected"),
    [
        (date(2026, 3, 1), 18, date(2027, 9, 1)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 8, 31), 3, date(2026, 11, 30)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 1, 15), -1, date(2025, 12, 15)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 5, 20), 0, date(2026, 5, 20)),
    ],
)
def test_add_months(d, months, expected):
    assert add_months(d, months) == expected


@given(DATES, st.integers(-240, 240))
def test_add_months_lands_in_the_right_month_and_clamps(d, months):
    result = add_months(d, months)
    assert (result.year * 12 + result.month) - (d.year * 12 + d.month) == months
    last = calendar.monthrange(result.year, result.month)[1]
    assert result.day == min(d.day, last)


@given(DATES, st.integers(0, 240), st.integers(0, 240))
def test_add_months_never_goes_backwards(d, a, b):
    if a <= b:
        assert add_months(d, a) <= add_months(d, b)


def test_check_not_future():
    today = date(2026, 11, 25)
    check_not_future(today, today, "the vote")
    check_not_future(date(2026, 11, 24), today, "the vote")
    with pytest.raises(RuleViolation) as e:
        check_not_future(date(2026, 12, 1), today, "常委会会议")
    assert str(e.value) == (
        "常委会会议的日期（2026-12-01）晚于今天（2026-11-25），尚未发生的事项不能登记"
    )
    assert e.value.rule == "dates.not_future"
    assert e.value.rule


def test_check_not_before():
    check_not_before(date(2026, 11, 2), date(2026, 11, 2), "the talk", "the notice")
    check_not_before(date(2026, 11, 3), date(2026, 11, 2), "the talk", "the notice")
    with pytest.raises(RuleViolation) as e:
        check_not_before(date(2026, 11, 1), date(2026, 11, 2), "任职谈话", "任职通知")
    assert str(e.value) == "任职谈话（2026-11-01）不能早于任职通知（2026-11-02）"


@pytest.mark.parametrize(
    ("due_on", "marked", "overdue"),
    [
        (date(2026, 3, 1), False, True),  # its day passed, no mark recorded yet
        (date(2026, 3, 2), False, False),  # due today: not yet
        (date(2026, 3, 3), False, False),
        (date(2026, 3, 3), True, True),  # marked by its workflow (the deadline's moment passed)
    ],
)
def test_past_due(due_on: date, marked: bool, overdue: bool) -> None:
    assert past_due(due_on, marked, date(2026, 3, 2)) is overdue
