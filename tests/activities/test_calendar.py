import hashlib
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.calendar import (
    CalendarActivities,
    CalendarSupplementError,
    build_calendar,
    load_calendar,
    parse_supplement,
)
from activities.policy import read_policy
from workflows.rules.working_days import SHANGHAI
from workflows.types import (
    EscalationRung,
    Role,
    ScheduleStepInput,
    StepTiming,
    WorkingDaysEndsInput,
    WorkingDaysInput,
)

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "calendar-test-supplement.yaml"
DEFAULT_POLICY = Path(__file__).resolve().parents[2] / "policy" / "default.yaml"

# TEST DATA, not the real 2027 notice: Jan 1-3 off, Sat Jan 9 worked.
SUPPLEMENT_2027 = """\
years:
  2027:
    source: "test data modelled on a State Council notice"
    holidays: [2027-01-01, 2027-01-02, 2027-01-03]
    workdays: [2027-01-09]
"""

HOUR = 9  # the test timing's reminder_hour

TIMING = StepTiming(
    responsible_role=Role.CLERK,
    deadline_working_days=5,
    reminders_working_days_before=[3, 1],
    escalation=[
        EscalationRung(role=Role.SECTION_CHIEF, working_days_after=1),
        EscalationRung(role=Role.DEPARTMENT_HEAD, working_days_after=3),
    ],
    reminder_hour=HOUR,
)


def at(y: int, m: int, d: int, hour: int = HOUR) -> datetime:
    return datetime(y, m, d, hour, tzinfo=SHANGHAI)


def step(start_on: date, timing: StepTiming = TIMING) -> ScheduleStepInput:
    return ScheduleStepInput(case_id="C1", step="vote", start_on=start_on, timing=timing)


def write(tmp_path: Path, text: str, name: str = "supplement.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


# --------------------------------------------------------------------------- schedule_step


async def test_schedule_in_an_ordinary_week():
    schedule = await CalendarActivities(None).schedule_step(step(date(2026, 11, 2)))
    assert schedule.step == "vote"
    assert schedule.deadline_on == date(2026, 11, 9)
    assert schedule.deadline_at == datetime(2026, 11, 10, tzinfo=SHANGHAI)
    assert [(a.kind, a.at, a.role, a.rung) for a in schedule.alarms] == [
        ("reminder", at(2026, 11, 4), Role.CLERK, 0),
        ("reminder", at(2026, 11, 6), Role.CLERK, 0),
        ("escalation", at(2026, 11, 10), Role.SECTION_CHIEF, 1),
        ("escalation", at(2026, 11, 12), Role.DEPARTMENT_HEAD, 2),
    ]
    assert schedule.calendar_source == "chinesecalendar 1.11.0"


async def test_schedule_over_national_day_uses_make_up_saturday():
    # Mon Sep 28 + 5 working days: Sep 29, Sep 30, Oct 8, Oct 9, Sat Oct 10 (调休).
    schedule = await CalendarActivities(None).schedule_step(step(date(2026, 9, 28)))
    assert schedule.deadline_on == date(2026, 10, 10)
    assert [a.at for a in schedule.alarms] == [
        at(2026, 9, 30),  # 3 working days before Oct 10: Oct 9, Oct 8, Sep 30
        at(2026, 10, 9),
        at(2026, 10, 12),
        at(2026, 10, 14),
    ]


async def test_alarms_are_sorted_and_use_the_timings_hour():
    timing = TIMING.model_copy(
        update={"reminders_working_days_before": [1, 4, 2], "reminder_hour": 14}
    )
    schedule = await CalendarActivities(None).schedule_step(step(date(2026, 11, 2), timing))
    times = [a.at for a in schedule.alarms]
    assert times == sorted(times)
    assert {t.hour for t in times} == {14}
    assert all(t.utcoffset() is not None for t in times)


def test_reminder_hour_is_checked():
    with pytest.raises(ValidationError):
        StepTiming(responsible_role=Role.CLERK, deadline_working_days=1, reminder_hour=24)


def policy_at_hour(tmp_path: Path, hour: int, **steps: Any) -> Path:
    """The default policy with its reminder_hour (and some steps' own hours) changed."""
    data = yaml.safe_load(DEFAULT_POLICY.read_text("utf-8"))
    data["reminder_hour"] = hour
    for name, own in steps.items():
        data["steps"][name]["reminder_hour"] = own
    return write(tmp_path, yaml.safe_dump(data, allow_unicode=True), f"policy-{hour}.yaml")


@pytest.mark.parametrize("hour", [0, 7, 16, 23])
async def test_a_policy_with_another_hour_moves_every_alarm(tmp_path: Path, hour: int):
    policy = read_policy(policy_at_hour(tmp_path, hour)).policy
    default = read_policy(DEFAULT_POLICY).policy
    activities = CalendarActivities(None)
    start = date(2026, 3, 2)  # every deadline of the default policy still in 2026
    for name, timing in policy.steps.items():
        moved = await activities.schedule_step(step(start, timing))
        before = await activities.schedule_step(step(start, default.steps[name]))
        assert moved.alarms, name  # every step of the default policy reminds or escalates
        assert {a.at.hour for a in moved.alarms} == {hour}
        assert {a.at.hour for a in before.alarms} == {default.reminder_hour}
        # the same days and roles, only the hour moved
        assert [(a.at.date(), a.kind, a.role) for a in moved.alarms] == [
            (a.at.date(), a.kind, a.role) for a in before.alarms
        ]
        assert moved.deadline_at == before.deadline_at
    review = await activities.schedule_step(step(start, policy.probation.review))
    assert {a.at.hour for a in review.alarms} == {hour}


async def test_a_step_may_set_its_own_hour(tmp_path: Path):
    policy = read_policy(policy_at_hour(tmp_path, 10, vote=15)).policy
    assert policy.steps["vote"].reminder_hour == 15
    assert policy.steps["revote"].reminder_hour == 10
    schedule = await CalendarActivities(None).schedule_step(
        step(date(2026, 11, 2), policy.steps["vote"])
    )
    assert {a.at.hour for a in schedule.alarms} == {15}


async def test_a_timing_without_its_hour_takes_the_policy_files(tmp_path: Path):
    # a request scheduled before timings carried their hour, run by a newer worker
    timing = TIMING.model_copy(update={"reminder_hour": None})
    activities = CalendarActivities(None, policy_at_hour(tmp_path, 17))
    schedule = await activities.schedule_step(step(date(2026, 11, 2), timing))
    assert {a.at.hour for a in schedule.alarms} == {17}
    with pytest.raises(ApplicationError) as e:
        await CalendarActivities(None).schedule_step(step(date(2026, 11, 2), timing))
    assert e.value.type == "ReminderHourMissing" and e.value.non_retryable


async def test_step_without_reminders_or_escalation():
    timing = StepTiming(responsible_role=Role.CLERK, deadline_working_days=1, reminder_hour=HOUR)
    schedule = await CalendarActivities(None).schedule_step(step(date(2026, 11, 6), timing))
    assert schedule.deadline_on == date(2026, 11, 9)
    assert schedule.alarms == []


# --------------------------------------------------------------------------- working_days_end


async def test_working_days_end_counts_the_first_day():
    result = await CalendarActivities(None).working_days_end(
        WorkingDaysInput(start_on=date(2026, 9, 29), working_days=5)
    )
    assert result.end_on == date(2026, 10, 10)
    assert result.end_at == datetime(2026, 10, 11, tzinfo=SHANGHAI)
    assert result.calendar_source.startswith("chinesecalendar ")


async def test_runs_in_an_activity_environment():
    env = ActivityEnvironment()
    activities = CalendarActivities(None)
    result = await env.run(
        activities.working_days_end, WorkingDaysInput(start_on=date(2026, 11, 23), working_days=5)
    )
    assert result.end_on == date(2026, 11, 27)


# --------------------------------------------------------------------------- working_days_ends


@pytest.mark.parametrize(
    ("start_on", "periods"),
    [
        (date(2026, 9, 29), [1, 5, 10]),  # across the National Day week
        (date(2026, 10, 10), [5, 1]),  # a worked Saturday first; the order asked is kept
        (date(2026, 11, 23), [3, 3]),
    ],
)
async def test_working_days_ends_are_each_periods_end(start_on, periods):
    activities = CalendarActivities(None)
    result = await activities.working_days_ends(
        WorkingDaysEndsInput(start_on=start_on, working_days=periods)
    )
    each = [
        await activities.working_days_end(WorkingDaysInput(start_on=start_on, working_days=n))
        for n in periods
    ]
    assert result.ends_on == [one.end_on for one in each]
    assert result.calendar_source == each[0].calendar_source


async def test_working_days_ends_refuse_a_missing_year_like_the_single_read(tmp_path):
    activities = CalendarActivities(None)
    # the first end within 2026, the second in 2027, which the calendar lacks
    request = WorkingDaysEndsInput(start_on=date(2026, 12, 28), working_days=[2, 10])
    with pytest.raises(ApplicationError) as e:
        await activities.working_days_ends(request)
    assert e.value.type == "CalendarYearMissing" and e.value.non_retryable
    assert e.value.details == ({"year": 2027},)
    path = write(tmp_path, SUPPLEMENT_2027, "calendar-2027.yaml")
    result = await CalendarActivities(path).working_days_ends(request)
    # Dec 28, 29; then Dec 30, 31, (Jan 1-3 off), Jan 4-8, the make-up Saturday Jan 9
    assert result.ends_on == [date(2026, 12, 29), date(2027, 1, 9)]


@pytest.mark.parametrize("periods", [[], [0], [5, 0], [-1], list(range(1, 10))])
def test_working_days_ends_take_one_to_eight_periods_of_a_day_or_more(periods):
    with pytest.raises(ValidationError):
        WorkingDaysEndsInput(start_on=date(2026, 9, 29), working_days=periods)


# --------------------------------------------------------------------------- missing years


async def test_a_year_without_data_is_a_non_retryable_error():
    activities = CalendarActivities(None)
    with pytest.raises(ApplicationError) as e:
        await activities.working_days_end(
            WorkingDaysInput(start_on=date(2027, 3, 1), working_days=5)
        )
    assert e.value.type == "CalendarYearMissing"
    assert e.value.non_retryable
    assert e.value.message.startswith("缺少 2027 年的工作日历：")
    assert e.value.details == ({"year": 2027},)
    with pytest.raises(ApplicationError, match="缺少 2027 年") as e:
        await activities.schedule_step(step(date(2026, 12, 24)))
    assert e.value.type == "CalendarYearMissing"


async def test_a_supplement_covers_the_year_and_is_named(tmp_path):
    path = write(tmp_path, SUPPLEMENT_2027, "calendar-2027.yaml")
    activities = CalendarActivities(path)
    result = await activities.working_days_end(
        WorkingDaysInput(start_on=date(2026, 12, 30), working_days=5)
    )
    # Dec 30, Dec 31, (Jan 1-3 off), Jan 4, 5, 6.
    assert result.end_on == date(2027, 1, 6)
    digest = hashlib.sha256(SUPPLEMENT_2027.encode()).hexdigest()[:12]
    assert result.calendar_source == (
        f"chinesecalendar 1.11.0; supplement calendar-2027.yaml sha256:{digest} (years 2027)"
    )
    schedule = await activities.schedule_step(step(date(2027, 1, 4)))
    # Jan 5, 6, 7, 8 and the make-up Saturday Jan 9.
    assert schedule.deadline_on == date(2027, 1, 9)
    assert "calendar-2027.yaml" in schedule.calendar_source


async def test_a_supplement_added_later_is_seen_without_restart(tmp_path):
    path = tmp_path / "supplement.yaml"
    path.write_text("years: {}\n", "utf-8")
    activities = CalendarActivities(path)
    request = WorkingDaysInput(start_on=date(2027, 1, 4), working_days=1)
    with pytest.raises(ApplicationError, match="2027"):
        await activities.working_days_end(request)
    path.write_text(SUPPLEMENT_2027, "utf-8")
    assert (await activities.working_days_end(request)).end_on == date(2027, 1, 4)


def test_the_package_wins_over_the_supplement_for_a_year_it_knows(tmp_path):
    # a newer package release replaces what an administrator supplied for the year
    text = 'years:\n  2026: {source: "correction", holidays: [2026-01-01], workdays: []}\n'
    cal = load_calendar(write(tmp_path, text))
    assert not cal.is_working_day(date(2026, 10, 1))
    assert cal.is_working_day(date(2026, 10, 10))  # the package's make-up Saturday
    assert cal.source == "chinesecalendar 1.11.0"  # nothing of the file was used


def test_package_years():
    cal = build_calendar(None)
    assert min(cal.years) == 2004 and max(cal.years) == 2026
    assert set(range(2004, 2027)) == set(cal.years)
    assert date(2026, 9, 20) in cal.workdays


def test_the_suite_fixture_loads():
    cal = load_calendar(FIXTURE)
    assert {2027, 2028, 2029, 2030} <= cal.years
    assert "calendar-test-supplement.yaml" in cal.source


def test_empty_supplement_is_no_supplement(tmp_path):
    cal = load_calendar(write(tmp_path, "# nothing yet\n"))
    assert cal.source == "chinesecalendar 1.11.0"
    assert 2027 not in cal.years


def test_string_dates_are_accepted():
    years = parse_supplement(
        'years:\n  "2027": {source: s, holidays: ["2027-01-01"], workdays: ["2027-01-09"]}\n',
        "f.yaml",
    )
    assert years[2027].holidays == frozenset({date(2027, 1, 1)})
    assert years[2027].workdays == frozenset({date(2027, 1, 9)})


# --------------------------------------------------------------------------- malformed


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("years: [2027\n", "不是有效的 YAML：第 2 行第 1 列有误"),
        ("- 2027\n", "顶层应只有一项 years"),
        ("years: {}\nyear: {}\n", "顶层应只有一项 years"),
        ("years: [2027]\n", "years：应按年份列出"),
        ("years:\n  next: {source: s, holidays: []}\n", "years.next：年份应为数字"),
        ("years:\n  2027: [2027-01-01]\n", "years.2027：应包含 source、holidays、workdays"),
        (
            "years:\n  2027: {holidays: [2027-01-01]}\n",
            "years.2027.source：须写明",
        ),
        (
            "years:\n  2027: {source: s, holidays: [2027-01-01], note: x}\n",
            "years.2027：未知的项 note",
        ),
        (
            "years:\n  2027: {source: s, holidays: 2027-01-01}\n",
            "years.2027.holidays：应为日期的列表",
        ),
        (
            "years:\n  2027: {source: s, holidays: [2027-01-01, 2027-13-01]}\n",
            "years.2027.holidays[1]：“2027-13-01”不是日期",
        ),
        (
            "years:\n  2027: {source: s, holidays: [2026-10-01]}\n",
            "years.2027：放假日 2026-10-01 不在 2027 年",
        ),
        (
            "years:\n  2027: {source: s, holidays: [], workdays: [2027-01-06]}\n",
            "years.2027：调休上班日 2027-01-06 是周三，本就是工作日",
        ),
        (
            "years:\n  2027: {source: s, holidays: [2027-01-09], workdays: [2027-01-09]}\n",
            "years.2027：2027-01-09 既列为放假日又列为调休上班日",
        ),
        (
            "years:\n  2027: {source: s, holidays: [2027-01-01, 2027-01-01]}\n",
            "years.2027：放假日 2027-01-01 列了不止一次",
        ),
    ],
)
def test_malformed_supplement_names_file_and_entry(tmp_path, text, fragment):
    path = write(tmp_path, text, "calendar-2027.yaml")
    with pytest.raises(CalendarSupplementError) as e:
        load_calendar(path)
    assert str(e.value).startswith("日历补充文件 calendar-2027.yaml")
    assert fragment in str(e.value)


async def test_malformed_supplement_is_a_non_retryable_activity_error(tmp_path):
    path = write(tmp_path, "years:\n  2027: {source: s, holidays: [someday]}\n")
    with pytest.raises(ApplicationError) as e:
        await CalendarActivities(path).schedule_step(step(date(2026, 11, 2)))
    assert e.value.type == "CalendarSupplementInvalid"
    assert e.value.non_retryable
    assert "years.2027.holidays[0]" in e.value.message


async def test_missing_configured_supplement_is_an_error(tmp_path):
    with pytest.raises(ApplicationError) as e:
        await CalendarActivities(tmp_path / "nope.yaml").schedule_step(step(date(2026, 11, 2)))
    assert e.value.type == "CalendarSupplementInvalid"
    assert "nope.yaml 无法读取" in e.value.message


# --------------------------------------------------------------------------- the template

EXAMPLE = DEFAULT_POLICY.with_name("calendar-supplement.example.yaml")


def test_the_documented_template_is_a_real_year_and_changes_nothing():
    """The template loads, its year is the package's own data for that year (so it shows the
    real shape of a notice), and copied unchanged it is never used: the package wins."""
    years = parse_supplement(EXAMPLE.read_text("utf-8"), EXAMPLE.name)
    package = build_calendar(None)
    (year, entry), *more = years.items()
    assert not more and year in package.years
    assert entry.holidays == {d for d in package.holidays if d.year == year}
    assert entry.workdays == {d for d in package.workdays if d.year == year}
    assert load_calendar(EXAMPLE) == package
