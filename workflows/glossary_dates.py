"""Dates as people say them (日期的写法): the one home of how a deadline, a day or a moment is
written for a person to read, beside the glossary of names.

- a deadline that ends with a day (the instant is midnight after it, Beijing time) is that
  day's end: "12-10 日终" in the reader's own year, "2026-12-10 日终" in another;
- a day where a full date reads better (a title, a letter): "2026年12月10日";
- a day in a table: "2026-12-10" (the form a date box takes, so a filter shown is typed alike);
- a moment: "2026-12-10 09:30", always in Beijing time (Asia/Shanghai), whatever zone it came in.

The console (its Jinja filters), the command line and the letters use these functions only.
Pure functions: the workflows may call them too (they never read the clock; "the reader's
own year" is passed in).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from workflows.rules.working_days import SHANGHAI

END_OF_DAY = "日终"
NO_DATE = "—"


def beijing(at: datetime) -> datetime:
    """The instant in Beijing time (an instant without a zone is taken as Beijing's)."""
    return at.astimezone(SHANGHAI) if at.tzinfo else at.replace(tzinfo=SHANGHAI)


def ends_a_day(at: datetime) -> bool:
    """Whether the instant is a midnight in Beijing: the end of the day before it."""
    return beijing(at).time() == time(0)


def day_text(day: date | None) -> str:
    """A day in a table: 2026-12-10."""
    return NO_DATE if day is None else day.isoformat()


def full_day_text(day: date | None) -> str:
    """A day where a full date reads better: 2026年12月10日."""
    if day is None:
        return NO_DATE
    return f"{day.year}年{day.month}月{day.day}日"


def moment_text(at: datetime | None) -> str:
    """A moment in Beijing time: 2026-12-10 09:30."""
    return NO_DATE if at is None else beijing(at).strftime("%Y-%m-%d %H:%M")


def deadline_day(at: datetime) -> date:
    """The day a deadline falls on: the day a midnight ends, else the moment's own day."""
    local = beijing(at)
    return local.date() - timedelta(days=1) if ends_a_day(local) else local.date()


def deadline_text(at: datetime | date | None, this_year: int | None = None) -> str:
    """A deadline as people say it: "12-10 日终" (the year only when it is not ``this_year``);
    a deadline at another time of day as its moment; a bare day as the end of that day."""
    if at is None:
        return NO_DATE
    if isinstance(at, datetime):
        if not ends_a_day(at):
            return moment_text(at)
        day = deadline_day(at)
    else:
        day = at
    shown = day.strftime("%m-%d") if day.year == this_year else day.isoformat()
    return f"{shown} {END_OF_DAY}"


def when_text(value: object) -> str:
    """Whatever a page shows as a time: a moment, a day, or nothing."""
    if isinstance(value, datetime):
        return moment_text(value)
    if isinstance(value, date):
        return day_text(value)
    return "" if value is None else str(value)
