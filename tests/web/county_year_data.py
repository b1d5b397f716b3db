"""A county-year of cases played into a database of its own, for the reports walk: the
generator of ``bench/county_year.py`` (its plan of the year, its script of each case, its
clock), run at a fraction of its volume on the time-skipping test server with the service's
worker, writing real events through the real activities.

The year keeps the benchmark's mix (open selection, competitive appointment, regular
appointments, some with the city's approval), its dates (cases opening on working days over
the twelve months after the server's today, the notice periods, reminders, escalations and
probation years on the server's clock) and its seed. At a small scale its seeded share of late
and overdue appointments (10 % and 3 %) may draw none, so the first case of the plan is made
overdue (its appointment recorded the day after the first escalation) and the second late
(at the second reminder): escalations and overdue steps are then in the data for certain.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

import yaml
from temporalio.testing import WorkflowEnvironment

from activities.calendar import load_calendar
from bench.county_year import CasePlan, Sim, SimClock, play_case, year_plan
from bench.driver import DEFAULT_POLICY, TEST_SUPPLEMENT, Driver
from workflows.rules.working_days import SHANGHAI

SEED = 2003  # the benchmark's


@dataclass
class CountyYear:
    """What was played: the plans, and what each kind of case and step came to."""

    plans: list[CasePlan]
    appointees: int
    probations: list[str] = field(default_factory=list)

    @property
    def by_method(self) -> Counter[str]:
        return Counter(p.method.value for p in self.plans)

    @property
    def units(self) -> set[str]:
        return {p.unit for p in self.plans}


async def play_county_year(env: WorkflowEnvironment, task_queue: str, scale: float) -> CountyYear:
    """Play the year's cases on ``task_queue`` (served by a worker of the service on
    ``env``) to their appointees' formal appointments."""
    policy = yaml.safe_load(DEFAULT_POLICY.read_text("utf-8"))
    policy_days = int(policy["steps"]["appointment"]["deadline_working_days"])
    cal = load_calendar(TEST_SUPPLEMENT)
    start = (await env.get_current_time()).astimezone(SHANGHAI)
    first_day = start.date() + timedelta(days=1)
    while not cal.is_working_day(first_day):
        first_day += timedelta(days=1)
    plans = year_plan(SEED, first_day, cal, scale)
    plans[0].appointment = "overdue"
    plans[1].appointment = "late"
    clock = SimClock(env)
    driver = Driver(env.client, task_queue)
    sim = Sim(env, clock, driver, cal, random.Random(SEED + 1), policy_days)
    await clock.run([play_case(sim, p) for p in plans])
    return CountyYear(plans, sum(p.positions for p in plans), list(sim.probation_ids))
