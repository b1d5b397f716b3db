"""Calendar arithmetic in months, and the date checks every stage shares."""

from __future__ import annotations

import calendar
from datetime import date

from workflows.rules.errors import RuleViolation

RULE_NOT_FUTURE = "dates.not_future"
RULE_ORDER = "dates.order"


def add_months(d: date, months: int) -> date:
    """``d`` moved by whole months; a day missing in the target month becomes its last day.

    2026-01-31 plus one month is 2026-02-28: the impact period of a sanction decided on the
    31st must not spill into the following month.
    """
    index = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last))


def check_not_future(d: date, today: date, what: str) -> None:
    """``what`` names the event in Chinese (考察预告, 任职通知)."""
    if d > today:
        raise RuleViolation(
            f"{what}的日期（{d.isoformat()}）晚于今天（{today.isoformat()}），尚未发生的事项不能登记",
            RULE_NOT_FUTURE,
        )


def check_not_before(later: date, earlier: date, what_later: str, what_earlier: str) -> None:
    if later < earlier:
        raise RuleViolation(
            f"{what_later}（{later.isoformat()}）不能早于{what_earlier}（{earlier.isoformat()}）",
            RULE_ORDER,
        )


def past_due(due_on: date, marked_overdue: bool, today: date) -> bool:
    """Whether a step due on ``due_on`` is overdue (逾期) on ``today``: its workflow marked it
    so, or its day has passed (a mark not yet recorded)."""
    return marked_overdue or due_on < today
