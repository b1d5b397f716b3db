"""A calendar year as an administrator enters it: what is refused (and why, in Chinese), what
the real State Council data shows must pass, the preview, the differences from the package,
which source decides a year, and when the dashboard warns."""

from __future__ import annotations

from datetime import date

import pytest
from chinese_calendar import constants as package

from workflows.rules.calendar_years import (
    WARN_FROM_MONTH_DAY,
    CalendarEntryRefused,
    KnownCalendar,
    Origin,
    YearDays,
    check_days,
    check_entry,
    decide_origins,
    differences,
    missing_next_year,
    preview,
    read_days,
    year_days,
)

PACKAGE_HOLIDAYS = frozenset(package.holidays)
PACKAGE_WORKDAYS = frozenset(package.workdays)
KNOWN = KnownCalendar.of(PACKAGE_HOLIDAYS, PACKAGE_WORKDAYS)
LAST = max(KNOWN.years)
YEAR = LAST + 1  # a year the package does not know
TODAY = date(LAST, 11, 20)
SOURCE = f"国务院办公厅关于{YEAR}年部分节假日安排的通知（测试数据）"


def first_weekday(month: int, weekday: int, day: int = 1) -> date:
    """The first ``weekday`` (0 Monday) of the month on or after ``day``."""
    d = date(YEAR, month, day)
    while d.weekday() != weekday:
        d = date(YEAR, month, d.day + 1)
    return d


SATURDAY = first_weekday(3, 5)
MONDAY = first_weekday(3, 0)
HOLIDAYS = f"元旦：{YEAR}-01-01\n春节：{YEAR}-02-06 至 {YEAR}-02-12\n国庆节：10月1日至7日"


def entry(holidays: str = HOLIDAYS, workdays: str = "", source: str = SOURCE, year: str = ""):
    return check_entry(year or str(YEAR), holidays, workdays, source, KNOWN, TODAY)


def refused(**fields: str) -> list[str]:
    with pytest.raises(CalendarEntryRefused) as e:
        entry(**fields)
    return e.value.problems


# --------------------------------------------------------------------------- the real data


@pytest.mark.parametrize("year", sorted(KNOWN.years))
def test_every_year_the_package_knows_passes_the_checks(year: int) -> None:
    """Weekend holidays alone (中秋 2015-09-27), a break across the new year (2022-12-31):
    the checks refuse none of what the State Council really published."""
    days = year_days(PACKAGE_HOLIDAYS, PACKAGE_WORKDAYS, year)
    assert check_days(year, sorted(days.holidays), sorted(days.workdays)) == []
    assert days.holidays


def test_the_packages_history_sets_the_warning_figures() -> None:
    assert KNOWN.longest_break >= 7  # a National Day week at least
    assert KNOWN.farthest_make_up >= 1
    assert {2004, LAST} <= KNOWN.years


# --------------------------------------------------------------------------- reading


@pytest.mark.parametrize(
    ("text", "days", "label"),
    [
        (f"{YEAR}-01-01", [date(YEAR, 1, 1)], ""),
        (f"{YEAR}/1/2", [date(YEAR, 1, 2)], ""),
        (f"{YEAR}年1月3日", [date(YEAR, 1, 3)], ""),
        ("元旦：1月1日（周五）至3日（周日）", [date(YEAR, 1, d) for d in (1, 2, 3)], "元旦"),
        (f"春节: {YEAR}-02-06 ~ {YEAR}-02-08", [date(YEAR, 2, d) for d in (6, 7, 8)], "春节"),
        ("4月30日到5月2日", [date(YEAR, 4, 30), date(YEAR, 5, 1), date(YEAR, 5, 2)], ""),
        ("1月1日，1月2日、1月3日", [date(YEAR, 1, d) for d in (1, 2, 3)], ""),
    ],
)
def test_days_are_read_as_a_notice_writes_them(text: str, days: list[date], label: str) -> None:
    read, problems = read_days(text, YEAR, "放假日")
    assert problems == []
    assert [t.day for t in read] == days
    assert {t.label for t in read} == {label}


def test_a_name_holds_for_its_line_only() -> None:
    read, _ = read_days("春节：2月6日\n2月7日", YEAR, "放假日")
    assert [(t.day.day, t.label) for t in read] == [(6, "春节"), (7, "")]


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"year": "明年"}, "年份“明年”不是年份"),
        ({"year": str(LAST)}, f"{LAST} 年的日历已由 chinesecalendar 软件包提供"),
        ({"year": "2003"}, "早于日历数据覆盖的首年 2004 年"),
        ({"year": str(YEAR + 1)}, f"今年最多录入 {YEAR} 年"),
        ({"source": "  "}, "请粘贴国务院办公厅通知的原文"),
        ({"source": "国务院办公厅关于部分节假日安排的通知"}, f"通知原文中没有“{YEAR}年”"),
        ({"holidays": ""}, "未填写放假日"),
        ({"holidays": "2月30日"}, "放假日“2月30日”不是日期"),
        ({"holidays": "春节放假七天"}, "放假日“春节放假七天”不是日期"),
        ({"holidays": "3月5日至3月1日"}, "的结束日早于开始日"),
        ({"holidays": f"{YEAR - 1}-12-31"}, f"放假日 {YEAR - 1}-12-31 不在 {YEAR} 年"),
        ({"holidays": "2月6日至8日\n2月8日"}, f"放假日 {YEAR}-02-08 列了不止一次"),
        ({"workdays": f"{MONDAY}"}, f"调休上班日 {MONDAY} 是周一，本就是工作日"),
        ({"workdays": f"{SATURDAY}, {SATURDAY}"}, f"调休上班日 {SATURDAY} 列了不止一次"),
        (
            {"holidays": f"{SATURDAY}", "workdays": f"{SATURDAY}"},
            f"{SATURDAY} 既列为放假日又列为调休上班日",
        ),
        ({"source": SOURCE + "\x00"}, "不可见的控制字符"),
        ({"holidays": "1" * 6000}, "放假日内容过长"),
    ],
)
def test_a_bad_entry_is_refused_with_the_reason(fields: dict[str, str], fragment: str) -> None:
    problems = refused(**fields)
    assert any(fragment in p for p in problems), problems


def test_every_problem_is_listed_at_once() -> None:
    problems = refused(source="", holidays="2月30日", workdays=f"{MONDAY}")
    assert len(problems) == 3, problems


def test_a_weekend_holiday_alone_is_accepted() -> None:
    # a festival falling on a Saturday is listed alone, as 中秋 2015-09-27 was
    accepted = entry(holidays=f"{HOLIDAYS}\n中秋节：{SATURDAY}")
    assert SATURDAY in accepted.days.holidays


# --------------------------------------------------------------------------- preview


def test_the_preview_counts_each_month_and_lists_the_unusual_days() -> None:
    sunday = first_weekday(2, 6, day=13)  # after the Spring Festival break
    accepted = entry(workdays=f"{sunday}（周日）")
    shown = preview(accepted, KNOWN)
    assert [m.month for m in shown.months] == list(range(1, 13))
    assert sum(m.working_days + m.days_off for m in shown.months) == (366 if YEAR % 4 == 0 else 365)
    assert shown.working_days == sum(m.working_days for m in shown.months)
    # only weekday holidays and the worked weekend: a holiday on a weekend is not unusual
    holidays_on_weekdays = {d for d in accepted.days.holidays if d.weekday() < 5}
    assert {n.day for n in shown.notable if n.kind == "放假"} == holidays_on_weekdays
    assert [(n.day, n.kind, n.weekday) for n in shown.notable if n.kind == "调休上班"] == [
        (sunday, "调休上班", "周日")
    ]
    assert [n.day for n in shown.notable] == sorted(n.day for n in shown.notable)
    assert {n.label for n in shown.notable if n.day.month == 10} == {"国庆节"}
    feb = shown.months[1]
    # February: its weekdays, less the weekday holidays, plus the worked Sunday
    weekdays = sum(
        1 for d in range(1, feb.working_days + feb.days_off + 1) if date(YEAR, 2, d).weekday() < 5
    )
    off = sum(1 for d in holidays_on_weekdays if d.month == 2)
    assert feb.working_days == weekdays - off + 1
    assert shown.warnings == ()


def test_the_preview_warns_of_what_the_package_never_saw() -> None:
    long_break = entry(holidays=f"{YEAR}-07-01 至 {YEAR}-07-31")
    warnings = preview(long_break, KNOWN).warnings
    assert len(warnings) == 1 and "连续 31 天" in warnings[0]
    far = entry(workdays=f"{first_weekday(6, 5)}")
    assert "距最近的放假日" in preview(far, KNOWN).warnings[0]


# --------------------------------------------------------------------------- differences


def test_differences_name_the_days_on_each_side() -> None:
    a, b, c = date(YEAR, 1, 1), date(YEAR, 1, 2), date(YEAR, 2, 6)
    diff = differences(
        YearDays(frozenset({a, b}), frozenset()), YearDays(frozenset({a}), frozenset({c}))
    )
    assert not diff.empty
    assert diff.holidays_only_entry == (b,)
    assert diff.workdays_only_package == (c,)
    assert diff.sentences() == [
        f"录入为放假、软件包不是：{b}",
        f"软件包为调休上班、录入未列：{c}",
    ]
    assert differences(
        YearDays(frozenset({a}), frozenset()), YearDays(frozenset({a}), frozenset())
    ).empty


# --------------------------------------------------------------------------- precedence


@pytest.mark.parametrize(
    ("package", "console", "file", "expected"),
    [
        ({2026}, set(), set(), {2026: Origin.PACKAGE}),
        ({2026}, {2026}, {2026}, {2026: Origin.PACKAGE}),  # a newer release replaces entries
        ({2026}, {2027}, set(), {2026: Origin.PACKAGE, 2027: Origin.CONSOLE}),
        ({2026}, {2027}, {2027}, {2026: Origin.PACKAGE, 2027: Origin.CONSOLE}),
        ({2026}, set(), {2027, 2028}, {2026: Origin.PACKAGE, 2027: Origin.FILE, 2028: Origin.FILE}),
        (
            {2026},
            {2028},
            {2027, 2028},
            {2026: Origin.PACKAGE, 2027: Origin.FILE, 2028: Origin.CONSOLE},
        ),
        (set(), set(), set(), {}),
    ],
)
def test_which_source_decides_a_year(
    package: set[int], console: set[int], file: set[int], expected: dict[int, Origin]
) -> None:
    assert decide_origins(package, console, file) == expected


# --------------------------------------------------------------------------- the warning


@pytest.mark.parametrize(
    ("today", "covered", "expected"),
    [
        (date(2026, *WARN_FROM_MONTH_DAY), {2026}, 2027),
        (date(2026, 9, 30), {2026}, None),  # before the season
        (date(2026, 12, 31), {2026}, 2027),
        (date(2026, 10, 1), {2026, 2027}, None),  # entered
        (date(2027, 1, 2), {2027}, None),  # a new year: next October again
    ],
)
def test_the_dashboard_warns_from_october(
    today: date, covered: set[int], expected: int | None
) -> None:
    assert missing_next_year(today, covered) == expected
