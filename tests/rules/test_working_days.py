import pickle
from datetime import UTC, date, datetime, timedelta

import pytest
from chinese_calendar import constants
from hypothesis import given
from hypothesis import strategies as st

from workflows.rules.working_days import (
    SHANGHAI,
    CalendarYearMissing,
    WorkingDayCalendar,
    at_hour,
    end_of_day,
)

ONE_DAY = timedelta(days=1)


def package_calendar() -> WorkingDayCalendar:
    holidays = frozenset(constants.holidays)
    workdays = frozenset(constants.workdays)
    years = {d.year for d in holidays | workdays}
    return WorkingDayCalendar(
        holidays, workdays, frozenset(range(min(years), max(years) + 1)), "chinesecalendar"
    )


REAL = package_calendar()
REAL_STARTS = st.dates(min_value=date(2004, 3, 1), max_value=date(2026, 9, 30))
COUNTS = st.integers(1, 60)


@st.composite
def synthetic_calendars(draw):
    """Random holidays on weekdays and make-up workdays on weekends, 2029 to 2031."""
    days = [date(2029, 1, 1) + timedelta(days=i) for i in range(3 * 365)]
    weekdays = [d for d in days if d.weekday() < 5]
    weekends = [d for d in days if d.weekday() >= 5]
    holidays = draw(st.sets(st.sampled_from(weekdays), max_size=60))
    workdays = draw(st.sets(st.sampled_from(weekends), max_size=20))
    return WorkingDayCalendar(
        frozenset(holidays), frozenset(workdays), frozenset({2029, 2030, 2031}), "test"
    )


SYNTHETIC_STARTS = st.dates(min_value=date(2030, 1, 1), max_value=date(2030, 12, 31))


# --------------------------------------------------------------------------- 2026 by hand


def test_2026_national_day():
    # 2026 data: Sep 25 (Fri, Mid-Autumn) and Oct 1-7 off; Sun Sep 20 and Sat Oct 10 worked.
    for d in [date(2026, 9, 25), *(date(2026, 10, day) for day in range(1, 8))]:
        assert not REAL.is_working_day(d)
    assert REAL.is_working_day(date(2026, 9, 20))
    assert REAL.is_working_day(date(2026, 10, 10))
    assert not REAL.is_working_day(date(2026, 10, 11))
    assert REAL.count_working_days(date(2026, 10, 1), date(2026, 10, 7)) == 0


def test_five_working_day_notice_over_national_day():
    # Published Tue Sep 29: Sep 29, Sep 30, Oct 8, Oct 9 and the make-up Saturday Oct 10.
    assert REAL.period_end(date(2026, 9, 29), 5) == date(2026, 10, 10)
    assert REAL.count_working_days(date(2026, 9, 29), date(2026, 10, 10)) == 5


def test_make_up_sunday_is_the_next_working_day():
    assert REAL.add_working_days(date(2026, 9, 18), 1) == date(2026, 9, 20)
    assert REAL.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert REAL.add_working_days(date(2026, 9, 24), 1) == date(2026, 9, 28)


def test_period_end_counts_the_start_only_if_it_is_a_working_day():
    # Mon 2026-11-23 of an ordinary week: Mon..Fri.
    assert REAL.period_end(date(2026, 11, 23), 5) == date(2026, 11, 27)
    assert REAL.period_end(date(2026, 11, 23), 1) == date(2026, 11, 23)
    # Published on Sat 2026-11-21: Mon 23 is the first day.
    assert REAL.period_end(date(2026, 11, 21), 5) == date(2026, 11, 27)
    assert REAL.period_end(date(2026, 11, 21), 1) == date(2026, 11, 23)


def test_working_days_before():
    assert REAL.working_days_before(date(2026, 10, 8), 1) == date(2026, 9, 30)
    assert REAL.working_days_before(date(2026, 9, 21), 1) == date(2026, 9, 20)
    assert REAL.working_days_before(date(2026, 11, 30), 3) == date(2026, 11, 25)


def test_count_with_empty_range():
    assert REAL.count_working_days(date(2026, 11, 27), date(2026, 11, 23)) == 0


@pytest.mark.parametrize("n", [0, -1])
def test_counts_start_at_one(n):
    with pytest.raises(ValueError):
        REAL.add_working_days(date(2026, 11, 23), n)
    with pytest.raises(ValueError):
        REAL.period_end(date(2026, 11, 23), n)
    with pytest.raises(ValueError):
        REAL.working_days_before(date(2026, 11, 23), n)


# --------------------------------------------------------------------------- missing years


def test_a_year_without_data_is_refused():
    with pytest.raises(CalendarYearMissing) as e:
        REAL.is_working_day(date(2027, 1, 4))
    assert e.value.year == 2027
    assert str(e.value) == (
        "缺少 2027 年的工作日历：日历数据中还没有国务院办公厅关于该年部分节假日安排的通知；"
        "须由系统管理员在控制台“系统设置 → 工作日历”录入该年的放假和调休上班日"
        "（或补入日历补充文件），方能计算落在该年的期限"
    )
    assert e.value.rule == "calendar.year"
    assert e.value.source == "工作日：国务院办公厅每年发布的部分节假日安排通知"


def test_a_deadline_running_into_a_missing_year_is_refused():
    assert REAL.add_working_days(date(2026, 12, 28), 3) == date(2026, 12, 31)
    with pytest.raises(CalendarYearMissing):
        REAL.add_working_days(date(2026, 12, 28), 4)
    with pytest.raises(CalendarYearMissing) as e:
        REAL.working_days_before(date(2004, 1, 5), 3)
    assert e.value.year == 2003


def test_calendar_year_missing_pickles():
    e = pickle.loads(pickle.dumps(CalendarYearMissing(2027)))
    assert e.year == 2027 and "2027" in e.message


# --------------------------------------------------------------------------- properties


def check_add(cal: WorkingDayCalendar, start: date, n: int) -> None:
    end = cal.add_working_days(start, n)
    assert end > start
    assert cal.is_working_day(end)
    assert cal.count_working_days(start + ONE_DAY, end) == n
    assert cal.count_working_days(start + ONE_DAY, end - ONE_DAY) == n - 1


def check_period(cal: WorkingDayCalendar, start: date, n: int) -> None:
    end = cal.period_end(start, n)
    assert end >= start
    assert cal.is_working_day(end)
    assert cal.count_working_days(start, end) == n


def check_before(cal: WorkingDayCalendar, d: date, n: int) -> None:
    earlier = cal.working_days_before(d, n)
    assert earlier < d
    assert cal.is_working_day(earlier)
    assert cal.count_working_days(earlier, d - ONE_DAY) == n


def check_round_trip(cal: WorkingDayCalendar, start: date, n: int) -> None:
    back = cal.working_days_before(cal.add_working_days(start, n), n)
    # the last working day on or before start
    assert back <= start
    assert cal.is_working_day(back)
    assert cal.count_working_days(back + ONE_DAY, start) == 0


@given(REAL_STARTS, COUNTS)
def test_real_add_never_lands_on_a_day_off_and_counts_back(start, n):
    check_add(REAL, start, n)
    check_round_trip(REAL, start, n)


@given(REAL_STARTS, COUNTS)
def test_real_period_end(start, n):
    check_period(REAL, start, n)


@given(st.dates(min_value=date(2004, 6, 1), max_value=date(2026, 12, 31)), COUNTS)
def test_real_working_days_before(d, n):
    check_before(REAL, d, n)


@given(synthetic_calendars(), SYNTHETIC_STARTS, st.integers(1, 30))
def test_synthetic_calendars(cal, start, n):
    check_add(cal, start, n)
    check_period(cal, start, n)
    check_before(cal, start, n)
    check_round_trip(cal, start, n)


@given(synthetic_calendars(), SYNTHETIC_STARTS)
def test_make_up_weekend_days_count_and_holidays_do_not(cal, d):
    if d in cal.workdays:
        assert cal.is_working_day(d)
    elif d in cal.holidays:
        assert not cal.is_working_day(d)
    else:
        assert cal.is_working_day(d) is (d.weekday() < 5)


@given(REAL_STARTS, st.integers(0, 90))  # the last start + 90 days stays inside 2026
def test_count_adds_up_over_split_ranges(start, length):
    end = start + timedelta(days=length)
    middle = start + timedelta(days=length // 2)
    total = REAL.count_working_days(start, end)
    assert total == REAL.count_working_days(start, middle) + REAL.count_working_days(
        middle + ONE_DAY, end
    )
    assert total <= length + 1


# --------------------------------------------------------------------------- instants


def test_end_of_day_is_next_midnight_in_shanghai():
    end = end_of_day(date(2026, 10, 10))
    assert end == datetime(2026, 10, 11, tzinfo=SHANGHAI)
    assert end.astimezone(UTC) == datetime(2026, 10, 10, 16, tzinfo=UTC)
    assert end_of_day(date(2026, 12, 31)) == datetime(2027, 1, 1, tzinfo=SHANGHAI)


def test_at_hour():
    at = at_hour(date(2026, 10, 9), 9)
    assert at.utcoffset() == timedelta(hours=8)
    assert at.astimezone(UTC) == datetime(2026, 10, 9, 1, tzinfo=UTC)
    assert at_hour(date(2026, 10, 9), 0) == datetime(2026, 10, 9, tzinfo=SHANGHAI)
    for hour in (-1, 24):
        with pytest.raises(ValueError):
            at_hour(date(2026, 10, 9), hour)
