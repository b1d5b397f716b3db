"""A year of the working-day calendar as an administrator copies it from the State Council's
notice (国务院办公厅关于某年部分节假日安排的通知): reading the days as typed, the checks every
real notice passes, the preview of the working days it yields, how it differs from the
package's data for the same year, and which source decides each year.

What a real notice looks like, and so what is checked: the holidays are runs of consecutive
days that include the weekend days inside a break (the 2026 Spring Festival runs Sunday 02-15
to Monday 02-23), and a festival on a weekend is listed alone (中秋 on Sunday 2015-09-27, the
New Year break from Saturday 2022-12-31): a holiday on a weekend is never refused. A make-up
working day (调休上班日) is always a Saturday or a Sunday, never a holiday as well; each day
is listed once; every notice gives some holidays. Figures that only look odd (a break longer,
or a make-up day farther from any break, than any the package has known) are shown as
warnings in the preview, never refused: the State Council may do either.

Pure functions: the package's data and today's date come in as arguments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from workflows.rules.working_days import WorkingDayCalendar

# From this day (month, day) of a year the dashboard warns while next year's calendar is
# missing. The policy file has no calendar section, and this is not a local choice: the
# State Council has published the next year's notice between late October and mid November
# (2024's on 2023-10-25, 2026's on 2025-11-04), and a 20-working-day deadline set in early
# December already reaches into January.
WARN_FROM_MONTH_DAY = (10, 1)

WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
MAX_SOURCE_CHARS = 20_000  # the longest notice is a few thousand characters
MAX_DAYS_TEXT_CHARS = 5_000

_ONE_DAY = timedelta(days=1)


class Origin(StrEnum):
    """Where a year's holidays come from, in order of precedence."""

    PACKAGE = "package"  # chinesecalendar: the State Council's data as released
    CONSOLE = "console"  # entered by an administrator in the console (newest version)
    FILE = "file"  # the supplement file (CALENDAR_SUPPLEMENT)


ORIGIN_NAMES = {
    Origin.PACKAGE: "chinesecalendar 软件包",
    Origin.CONSOLE: "控制台录入",
    Origin.FILE: "日历补充文件",
}


def decide_origins(
    package: Iterable[int], console: Iterable[int], file: Iterable[int]
) -> dict[int, Origin]:
    """Which source decides each year: the package whenever it knows the year (a newer
    release replaces an administrator's entry by itself), else the console's entry, else
    the file. The console comes before the file because its entry is the one with a
    preview, the notice's text, who entered it and when, and a history of versions; an
    administrator who saves a year there sees it used, whatever an older file says."""
    chosen: dict[int, Origin] = {}
    layers = ((Origin.FILE, file), (Origin.CONSOLE, console), (Origin.PACKAGE, package))
    for origin, years in layers:  # each layer over the one before
        for year in years:
            chosen[year] = origin
    return dict(sorted(chosen.items()))


@dataclass(frozen=True)
class YearDays:
    holidays: frozenset[date]
    workdays: frozenset[date]  # make-up working days (调休上班日)


@dataclass(frozen=True)
class KnownCalendar:
    """What the package knows, as the checks and warnings need it."""

    years: frozenset[int]
    longest_break: int  # the longest run of consecutive holidays, in days
    farthest_make_up: int  # the most days between a make-up day and the nearest holiday

    @classmethod
    def of(cls, holidays: frozenset[date], workdays: frozenset[date]) -> KnownCalendar:
        years = frozenset(d.year for d in holidays | workdays)
        runs = _runs(sorted(holidays))
        return cls(
            years=frozenset(range(min(years), max(years) + 1)) if years else frozenset(),
            longest_break=max((len(r) for r in runs), default=0),
            farthest_make_up=max((_distance(d, holidays) for d in workdays), default=0),
        )


class CalendarEntryRefused(ValueError):
    """The entry cannot be saved; ``problems`` says each reason, in Chinese."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("；".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class TypedDay:
    day: date
    label: str  # the holiday's name as typed before a colon (春节), or ""


@dataclass(frozen=True)
class CalendarEntry:
    """A year as an administrator entered it, checked."""

    year: int
    holidays: tuple[TypedDay, ...]
    workdays: tuple[TypedDay, ...]
    source: str  # the notice's text as pasted

    @property
    def days(self) -> YearDays:
        return YearDays(
            frozenset(t.day for t in self.holidays), frozenset(t.day for t in self.workdays)
        )


# ------------------------------------------------------------------------------ reading

_SEPARATORS = re.compile(r"[;；,，、。]+")
_BRACKETS = re.compile(r"[（(][^）)]*[）)]")
_LABEL = re.compile(r"^\s*([^\d:：]{1,20})[:：]")
_RANGE = re.compile(r"\s*(?:至|到|~|～|—|－－|--)\s*")
_ISO = re.compile(r"(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})")
_ZH_FULL = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?")
_ZH_MONTH_DAY = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*日?")
_ZH_DAY = re.compile(r"(\d{1,2})\s*日?")


def _one_date(text: str, year: int, month: int | None) -> date | None:
    """A date as written in a notice or a form: 2027-02-06, 2027/2/6, 2027年2月6日, 2月6日,
    and (the end of a range, ``month`` given) 12日."""
    text = text.strip()
    parts: tuple[int, int, int] | None = None
    if found := _ISO.fullmatch(text) or _ZH_FULL.fullmatch(text):
        parts = (int(found[1]), int(found[2]), int(found[3]))
    elif found := _ZH_MONTH_DAY.fullmatch(text):
        parts = (year, int(found[1]), int(found[2]))
    elif month is not None and (found := _ZH_DAY.fullmatch(text)):
        parts = (year, month, int(found[1]))
    if parts is None:
        return None
    try:
        return date(*parts)
    except ValueError:
        return None


def read_days(text: str, year: int, what: str) -> tuple[list[TypedDay], list[str]]:
    """The days a box lists, with the problems found. Items are separated by line breaks or
    commas; each is a day or a range (2027-02-06 至 2027-02-12, 2月6日至12日), optionally
    named (春节：...); a weekday in brackets, as the notice writes it, is ignored."""
    days: list[TypedDay] = []
    problems: list[str] = []
    if len(text) > MAX_DAYS_TEXT_CHARS:
        return [], [f"{what}内容过长（上限 {MAX_DAYS_TEXT_CHARS} 字）"]
    items = [
        (n, raw) for n, line in enumerate(text.splitlines()) for raw in _SEPARATORS.split(line)
    ]
    label, line_of_label = "", -1
    for line, raw in items:
        if line != line_of_label:  # a name holds for the rest of its line
            label = ""
        item = _BRACKETS.sub("", raw).strip()
        if not item:
            continue
        named = _LABEL.match(item)
        if named:
            label, line_of_label = named[1].strip(), line
            item = item[named.end() :].strip()
            if not item:
                continue
        ends = _RANGE.split(item)
        if len(ends) > 2:
            problems.append(f"{what}“{raw.strip()}”不是一个日期或一段日期")
            continue
        first = _one_date(ends[0], year, None)
        last = _one_date(ends[1], year, first.month if first else None) if len(ends) == 2 else first
        if first is None or last is None:
            problems.append(
                f"{what}“{raw.strip()}”不是日期（应写作 {year}-01-01、1月1日，"
                f"或一段日期如 {year}-02-06 至 {year}-02-12）"
            )
            continue
        if last < first:
            problems.append(f"{what}“{raw.strip()}”的结束日早于开始日")
            continue
        d = first
        while d <= last:
            days.append(TypedDay(d, label))
            d += _ONE_DAY
    return days, problems


# ------------------------------------------------------------------------------ checking


def check_days(year: int, holidays: list[date], workdays: list[date]) -> list[str]:
    """What a year's days break of the rules every notice follows (empty: nothing). Shared
    by the console's entry and the supplement file."""
    problems: list[str] = []
    for name, days in (("放假日", holidays), ("调休上班日", workdays)):
        seen: set[date] = set()
        for d in days:
            if d.year != year:
                problems.append(f"{name} {d.isoformat()} 不在 {year} 年")
            if d in seen:
                problems.append(f"{name} {d.isoformat()} 列了不止一次（每天只列一次）")
            seen.add(d)
    for d in sorted(set(workdays)):
        if d.weekday() < 5:
            problems.append(
                f"调休上班日 {d.isoformat()} 是{WEEKDAYS[d.weekday()]}，本就是工作日；"
                "调休上班日只能是周六或周日"
            )
    for d in sorted(set(holidays) & set(workdays)):
        problems.append(f"{d.isoformat()} 既列为放假日又列为调休上班日")
    return problems


def check_entry(
    year_text: str,
    holidays_text: str,
    workdays_text: str,
    source: str,
    known: KnownCalendar,
    today: date,
) -> CalendarEntry:
    """The entry, checked; or ``CalendarEntryRefused`` with every problem found."""
    try:
        year = int(year_text.strip())
    except ValueError:
        problem = f"年份“{year_text.strip()[:20]}”不是年份（应写作如 {today.year + 1}）"
        raise CalendarEntryRefused([problem]) from None
    problems: list[str] = []
    if year in known.years:
        problems.append(f"{year} 年的日历已由 chinesecalendar 软件包提供，以软件包为准，无需录入")
    elif known.years and year < min(known.years):
        problems.append(f"{year} 年早于日历数据覆盖的首年 {min(known.years)} 年，无需录入")
    if year > today.year + 1:
        problems.append(
            f"{year} 年的通知尚不可能发布：国务院办公厅每年只发布下一年的节假日安排，"
            f"今年最多录入 {today.year + 1} 年"
        )
    source = source.strip()
    if not source:
        problems.append("请粘贴国务院办公厅通知的原文（或至少其标题和文号）")
    elif len(source) > MAX_SOURCE_CHARS:
        problems.append(f"通知原文过长（上限 {MAX_SOURCE_CHARS} 字）")
    elif f"{year}年" not in source.replace(" ", ""):
        problems.append(f"通知原文中没有“{year}年”：请核对粘贴的是否为该年的通知")
    if "\x00" in source + holidays_text + workdays_text:
        problems.append("内容中含有不可见的控制字符，请重新输入")
    holidays, unread = read_days(holidays_text, year, "放假日")
    problems += unread
    workdays, bad = read_days(workdays_text, year, "调休上班日")
    problems += bad
    if not holidays and not unread:
        problems.append("未填写放假日：每年的通知都安排了元旦、春节等节日放假")
    problems += check_days(year, [t.day for t in holidays], [t.day for t in workdays])
    if problems:
        raise CalendarEntryRefused(problems)
    return CalendarEntry(
        year,
        tuple(sorted(holidays, key=lambda t: t.day)),
        tuple(sorted(workdays, key=lambda t: t.day)),
        source,
    )


# ------------------------------------------------------------------------------ preview


@dataclass(frozen=True)
class MonthCount:
    month: int
    working_days: int
    days_off: int


@dataclass(frozen=True)
class NotableDay:
    day: date
    weekday: str
    kind: str  # "放假" (a weekday off) or "调休上班" (a weekend day worked)
    label: str


@dataclass(frozen=True)
class YearPreview:
    year: int
    months: tuple[MonthCount, ...]
    working_days: int
    notable: tuple[NotableDay, ...]  # only the days that differ from an ordinary week
    warnings: tuple[str, ...] = field(default=())


def preview(entry: CalendarEntry, known: KnownCalendar) -> YearPreview:
    """The working days the entry yields, month by month; the days that differ from an
    ordinary week; and what looks odd against the package's own history."""
    days = entry.days
    cal = WorkingDayCalendar(days.holidays, days.workdays, frozenset({entry.year}), "preview")
    months = []
    for month in range(1, 13):
        first = date(entry.year, month, 1)
        last = (date(entry.year + month // 12, month % 12 + 1, 1)) - _ONE_DAY
        working = cal.count_working_days(first, last)
        months.append(MonthCount(month, working, last.day - working))
    notable = [
        NotableDay(t.day, WEEKDAYS[t.day.weekday()], "放假", t.label)
        for t in entry.holidays
        if t.day.weekday() < 5
    ] + [NotableDay(t.day, WEEKDAYS[t.day.weekday()], "调休上班", t.label) for t in entry.workdays]
    warnings = []
    for run in _runs(sorted(days.holidays)):
        if known.longest_break and len(run) > known.longest_break:
            warnings.append(
                f"放假 {run[0]} 至 {run[-1]} 连续 {len(run)} 天，长于软件包所载历年最长的一次"
                f"（{known.longest_break} 天），请核对"
            )
    for d in sorted(days.workdays):
        gap = _distance(d, days.holidays)
        if known.farthest_make_up and gap > known.farthest_make_up:
            warnings.append(
                f"调休上班日 {d} 距最近的放假日 {gap} 天，远于软件包所载历年最远的一次"
                f"（{known.farthest_make_up} 天），请核对"
            )
    return YearPreview(
        entry.year,
        tuple(months),
        sum(m.working_days for m in months),
        tuple(sorted(notable, key=lambda n: n.day)),
        tuple(warnings),
    )


# ------------------------------------------------------------------------------ differences


@dataclass(frozen=True)
class YearDiff:
    """How an entry differs from the package's data for the same year."""

    holidays_only_entry: tuple[date, ...] = ()
    holidays_only_package: tuple[date, ...] = ()
    workdays_only_entry: tuple[date, ...] = ()
    workdays_only_package: tuple[date, ...] = ()

    @property
    def empty(self) -> bool:
        return not (
            self.holidays_only_entry
            or self.holidays_only_package
            or self.workdays_only_entry
            or self.workdays_only_package
        )

    def sentences(self) -> list[str]:
        parts = [
            ("录入为放假、软件包不是", self.holidays_only_entry),
            ("软件包为放假、录入未列", self.holidays_only_package),
            ("录入为调休上班、软件包不是", self.workdays_only_entry),
            ("软件包为调休上班、录入未列", self.workdays_only_package),
        ]
        return [f"{what}：{'、'.join(d.isoformat() for d in days)}" for what, days in parts if days]


def differences(entry: YearDays, package: YearDays) -> YearDiff:
    return YearDiff(
        tuple(sorted(entry.holidays - package.holidays)),
        tuple(sorted(package.holidays - entry.holidays)),
        tuple(sorted(entry.workdays - package.workdays)),
        tuple(sorted(package.workdays - entry.workdays)),
    )


def year_days(holidays: Iterable[date], workdays: Iterable[date], year: int) -> YearDays:
    """The days of one year out of data covering many."""
    return YearDays(
        frozenset(d for d in holidays if d.year == year),
        frozenset(d for d in workdays if d.year == year),
    )


# ------------------------------------------------------------------------------ the warning


def missing_next_year(today: date, covered: Mapping[int, object] | Iterable[int]) -> int | None:
    """The next year, when its calendar is missing and the warning season has begun."""
    if (today.month, today.day) < WARN_FROM_MONTH_DAY:
        return None
    nxt = today.year + 1
    return None if nxt in set(covered) else nxt


def _runs(days: list[date]) -> list[list[date]]:
    """Sorted days grouped into runs of consecutive days."""
    runs: list[list[date]] = []
    for d in days:
        if runs and runs[-1][-1] + _ONE_DAY == d:
            runs[-1].append(d)
        else:
            runs.append([d])
    return runs


def _distance(d: date, holidays: Iterable[date]) -> int:
    return min((abs((d - h).days) for h in holidays), default=0)
