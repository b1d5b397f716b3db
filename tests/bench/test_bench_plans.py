"""The date arithmetic and workloads of the parked-cases and county-year benchmarks (no
servers: what these figures rest on is checked here, the runs themselves are by hand)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

import pytest
import yaml

from activities.calendar import load_calendar
from bench.county_year import (
    COMPETITIVE_CASES,
    REGULAR_CASES,
    next_meeting,
    year_plan,
)
from bench.driver import DEFAULT_POLICY, TEST_SUPPLEMENT
from bench.parked_bench import fire_moment, make_plan, probation_start_for
from workflows.probation_types import probation_end
from workflows.rules.working_days import SHANGHAI, at_hour
from workflows.types import SelectionMethod

CAL = load_calendar(TEST_SUPPLEMENT)
POLICY = yaml.safe_load(DEFAULT_POLICY.read_text("utf-8"))


def test_fire_moment_is_the_next_full_hour_after_the_lead() -> None:
    now = datetime(2026, 11, 29, 1, 50, tzinfo=SHANGHAI)
    assert fire_moment(now, timedelta(minutes=5)) == datetime(2026, 11, 29, 2, tzinfo=SHANGHAI)
    assert fire_moment(now, timedelta(minutes=10)) == datetime(2026, 11, 29, 2, tzinfo=SHANGHAI)
    assert fire_moment(now, timedelta(minutes=11)) == datetime(2026, 11, 29, 3, tzinfo=SHANGHAI)
    late = datetime(2026, 11, 29, 23, 30, tzinfo=SHANGHAI)
    assert fire_moment(late, timedelta(minutes=45)) == datetime(2026, 11, 30, 1, tzinfo=SHANGHAI)


def test_probation_start_inverts_probation_end() -> None:
    for ends_on in (date(2027, 1, 28), date(2027, 2, 28), date(2028, 2, 29), date(2028, 3, 1)):
        assert probation_end(probation_start_for(ends_on)) == ends_on
    # no year ends on 28 February of a leap year (2027-02-28 ends 2028-02-27, 03-01 ends 02-29)
    with pytest.raises(ValueError, match="no probation year ends on 2028-02-28"):
        probation_start_for(date(2028, 2, 28))


def test_parked_plan_makes_the_first_reminder_fall_at_f_and_the_notices_stay_running() -> None:
    now = datetime(2026, 11, 29, 2, 4, tzinfo=SHANGHAI)  # a Sunday in China
    plan = make_plan(now, timedelta(minutes=100), POLICY)
    assert plan.fire_at == datetime(2026, 11, 29, 4, tzinfo=SHANGHAI)
    # what ProbationWorkflow computes for its first (60 days) reminder
    first = max(POLICY["probation"]["reminder_days_before_end"])
    ends_on = probation_end(plan.probation_starts_on)
    assert at_hour(ends_on - timedelta(days=first), plan.reminder_hour) == plan.fire_at
    assert plan.probation_starts_on < plan.today
    # the notice: published on the last working day up to today, five working days
    assert plan.notice_published_on == date(2026, 11, 27)
    assert plan.notice_ends_on == date(2026, 12, 3)
    assert plan.notice_fires_at > plan.fire_at + timedelta(days=4)


def test_the_county_year_has_the_seed_figures() -> None:
    plans = year_plan(2003, date(2026, 11, 30), CAL, 1.0)
    methods = Counter(p.method for p in plans)
    assert methods[SelectionMethod.OPEN_SELECTION] == 9  # 9 exams
    assert sum(p.positions for p in plans if p.method is SelectionMethod.OPEN_SELECTION) == 11
    assert methods[SelectionMethod.COMPETITIVE_APPOINTMENT] == COMPETITIVE_CASES == 67
    assert methods[SelectionMethod.REGULAR_APPOINTMENT] == REGULAR_CASES == 97
    assert sum(p.positions for p in plans) == 175  # publicly noticed, appointed
    assert sum(1 for p in plans if p.exceptional) == 14  # reported to the city
    assert all(CAL.is_working_day(p.opens_on) for p in plans)
    assert date(2026, 11, 30) <= min(p.opens_on for p in plans)
    assert max(p.opens_on for p in plans) < date(2027, 11, 30)
    assert len({p.case_id for p in plans}) == len(plans)


def test_meetings_are_on_tuesdays_or_the_next_working_day() -> None:
    assert next_meeting(date(2026, 11, 30), CAL) == date(2026, 12, 1)  # Mon -> Tue
    assert next_meeting(date(2026, 12, 1), CAL) == date(2026, 12, 8)  # strictly after
    # 2026-09-29 is a Tuesday before the National Day week; 2026-10-06 is a holiday
    assert next_meeting(date(2026, 10, 1), CAL) == date(2026, 10, 8)
