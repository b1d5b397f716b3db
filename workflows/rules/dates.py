"""Calendar arithmetic in months, and the date checks every stage shares."""

from __future__ import annotations

import calendar
from datetime import date

from workflows.rules.errors import RuleViolation

RULE_NOT_FUTURE = "dates: an event cannot be recorded before it happens"
RULE_ORDER = "dates: the procedure's steps happen in order"


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
    if d > today:
        raise RuleViolation(
            f"the date of {what} ({d.isoformat()}) lies in the future", RULE_NOT_FUTURE
        )


def check_not_before(later: date, earlier: date, what_later: str, what_earlier: str) -> None:
    if later < earlier:
        raise RuleViolation(
            f"{what_later} ({later.isoformat()}) cannot be before {what_earlier} "
            f"({earlier.isoformat()})",
            RULE_ORDER,
        )
