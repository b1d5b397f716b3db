"""Working days (工作日) of the Chinese statutory calendar, and the instants deadlines fall on.

A working day is a weekday that is not a public holiday, or a weekend day the State Council
notice declares a make-up working day (调休). The data comes from an activity (the
calendar changes every year); this module only counts on it. A year the data does not
cover is never guessed: the State Council publishes each year's holidays late in the year
before, and a deadline computed from an estimate could cut a legal period short.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from workflows.rules.errors import RuleViolation

# China has had no daylight saving since 1991, so a fixed offset equals Asia/Shanghai and
# needs no tz database inside the workflow sandbox.
SHANGHAI = timezone(timedelta(hours=8))

RULE_CALENDAR = "calendar.year"

_ONE_DAY = timedelta(days=1)


class CalendarYearMissing(RuleViolation):
    """The calendar data has no State Council notice for ``year``."""

    def __init__(self, year: int) -> None:
        super().__init__(
            f"缺少 {year} 年的工作日历：日历数据中还没有国务院办公厅关于该年部分节假日安排的"
            "通知；须由系统管理员在控制台“系统设置 → 工作日历”录入该年的放假和调休上班日"
            "（或补入日历补充文件），方能计算落在该年的期限",
            RULE_CALENDAR,
        )
        self.year = year

    def __reduce__(self) -> tuple[type[CalendarYearMissing], tuple[int]]:
        return (type(self), (self.year,))


@dataclass(frozen=True)
class WorkingDayCalendar:
    """Holidays and make-up working days of the ``years`` covered; ``source`` names the data."""

    holidays: frozenset[date]
    workdays: frozenset[date]
    years: frozenset[int]
    source: str

    def is_working_day(self, d: date) -> bool:
        if d.year not in self.years:
            raise CalendarYearMissing(d.year)
        if d in self.workdays:
            return True
        return d.weekday() < 5 and d not in self.holidays

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day strictly after ``start`` (n >= 1)."""
        _check_count(n)
        d = start
        while n:
            d += _ONE_DAY
            if self.is_working_day(d):
                n -= 1
        return d

    def period_end(self, start: date, n: int) -> date:
        """The last day of a period of n working days that begins on ``start``.

        ``start`` counts as the first day when it is a working day: a notice of at least 5
        working days published on a Monday of an ordinary week ends on that Friday.
        """
        _check_count(n)
        if self.is_working_day(start):
            return start if n == 1 else self.add_working_days(start, n - 1)
        return self.add_working_days(start, n)

    def working_days_before(self, d: date, n: int) -> date:
        """The n-th working day strictly before ``d`` (n >= 1)."""
        _check_count(n)
        while n:
            d -= _ONE_DAY
            if self.is_working_day(d):
                n -= 1
        return d

    def count_working_days(self, start: date, end: date) -> int:
        """Working days in [start, end], both ends included; 0 when end is before start."""
        count = 0
        d = start
        while d <= end:
            if self.is_working_day(d):
                count += 1
            d += _ONE_DAY
        return count


def _check_count(n: int) -> None:
    if n < 1:
        raise ValueError(f"a number of working days must be at least 1, not {n}")


def end_of_day(d: date) -> datetime:
    """The instant a day ends in China: a deadline "on" a day lasts until its midnight."""
    return datetime.combine(d + _ONE_DAY, time(0), tzinfo=SHANGHAI)


def at_hour(d: date, hour: int) -> datetime:
    if not 0 <= hour <= 23:
        raise ValueError(f"an hour of the day lies between 0 and 23, not {hour}")
    return datetime.combine(d, time(hour), tzinfo=SHANGHAI)
