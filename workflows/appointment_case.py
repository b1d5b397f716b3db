"""``AppointmentCaseWorkflow``: one appointment case (任用案件) from its start to its end.

The rules live in ``CaseBook`` (pure); this file only waits, validates, applies and records.
Every human step is a Temporal update whose validator runs the rule, so a refused input never
enters the history and the caller gets the rule's sentence. Every wait has a deadline with
reminders and an escalation ladder (``workflows.deadlines``). Every change is recorded in
PostgreSQL by an idempotent activity keyed by (case, seq).

Changing this workflow while cases run: any change in the order or number of activities,
timers or upserts breaks replay of running cases. Guard such changes with
``workflow.patched("<change-id>")`` and keep the old branch until no running case needs it;
the replay tests in ``tests/histories/`` fail the build when a change is not guarded.

No ``from __future__ import annotations`` here: the sandbox runs this module's body again for
every case it brings into memory, and the SDK reads each handler's annotations there; as
strings each would be compiled and evaluated each time (a sixth of the body's cost).
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ActivityError, ApplicationError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    import workflows.search_attributes as sa
    from workflows.activity_refs import (
        LOAD_POLICY,
        RECORD_EVENT,
        RECORD_EVENTS,
        SCHEDULE_STEP,
        WORKING_DAYS_END,
        WORKING_DAYS_ENDS,
        ActivityRef,
        call,
        call_local,
    )
    from workflows.case_book import AwaitedStep, CaseBook, Happening, check_case_input
    from workflows.case_carry import CaseCarry, CaseRun
    from workflows.deadlines import (
        NO_ALARM_WHEN_DONE_PATCH,
        already_due,
        keep_deadline,
        wait_until,
    )
    from workflows.glossary import zh
    from workflows.ids import legacy_probation_workflow_id
    from workflows.patches import Baseline
    from workflows.probation_types import ProbationInput, probation_workflow_id
    from workflows.rules.errors import RuleViolation
    from workflows.rules.register_facts import register_sources
    from workflows.rules.working_days import SHANGHAI
    from workflows.step_outcome import StepOutcome, outcome_of
    from workflows.steps import NOT_PERMITTED, role_refusal
    from workflows.types import (
        RECORDED,
        Alarm,
        AppointmentInput,
        AssignStepInput,
        CaseInput,
        CaseStage,
        CaseState,
        DemocraticEvaluationInput,
        ExamScoresInput,
        ExtendDeadlineInput,
        HigherApprovalInput,
        InspectionCheckInput,
        InspectionConclusionInput,
        InspectionReportInput,
        InspectionTeamInput,
        InvestigationNoticeInput,
        Notification,
        ObjectionInput,
        ObjectionVerdictInput,
        PolicyRequest,
        PublicNoticeInput,
        PublicNoticeView,
        RecordedEvent,
        RecordEventInput,
        RecordEventsInput,
        RegistrationInput,
        RelationshipInput,
        RetryInput,
        Role,
        ScheduleStepInput,
        SelectionMethod,
        StepSchedule,
        StepState,
        SuspensionDecisionInput,
        VoteInput,
        WithdrawInput,
        WorkingDaysEndsInput,
        WorkingDaysInput,
        WorkingDaysResult,
    )

# Technical limits of calls to activities (not regulation values, which come from the policy).
# Each activity is a few milliseconds of database or file work; the start-to-close timeout is
# how long a dead worker's activity waits before it is retried elsewhere. Only the value of an
# attribute of the schedule command, so histories recorded with 30 s replay unchanged.
ACTIVITY_TIMEOUT = timedelta(seconds=10)
ACTIVITY_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1))
START_PROBATION_PATCH = "start-probation-child"
# Probations start under an ID no two appointees share (workflows.ids); before, case A-B's
# person 1 and case A's person B-1 were both "probation-A-B-1".
UNAMBIGUOUS_PROBATION_ID_PATCH = "unambiguous-probation-id"
# A notice published with its period already over (a date in the past) ends it in the same
# update, so the next step (the appointment) is accepted at once; before this, the update
# returned while the case still waited for the main loop to notice the period was over.
NOTICE_ALREADY_OVER_PATCH = "notice-period-already-over"
# Every update answers with a small ``StepOutcome`` instead of the whole state, which grew the
# history with each objection until Temporal ended the case.
SMALL_ANSWER_PATCH = "small-update-answers"
# A case continues as new when Temporal suggests it (a flood of objections in its notice).
CONTINUE_AS_NEW_PATCH = "continue-as-new-when-suggested"
# The probation a case starts as its child, by the name it is registered under (the class is
# not imported here: the case's sandbox need not load it).
PROBATION_WORKFLOW_NAME = "ProbationWorkflow"
# The search attributes are upserted only when one of them changes, not after every record.
UPSERT_CHANGES_PATCH = "upsert-only-changes"
# A step's events are recorded by one activity in one transaction, not one activity each.
RECORD_BATCH_PATCH = "record-step-in-one-activity"
# A suspension (暂缓任用) is a step for people, reminded and escalated by the policy's
# suspension_decision, and its national limit is recorded as a lapse naming whom the case told;
# before, the limit was a silent timer.
SUSPENSION_DECISION_PATCH = "suspension-decision-reminded"
# The search attributes are upserted when the case settles into a wait (and when it closes),
# not after a step's record that ends the awaited step: the main loop goes straight on to the
# next step's deadline and records it, so the upsert in between was overwritten at once (one
# upsert in two; each costs the server a visibility write). A continued run now upserts the
# deadline it carries over, which it left unset before.
UPSERT_WHEN_WAITING_PATCH = "upsert-when-the-case-waits"
# A run begun under this code takes every patch above (and the deadlines' one) by one marker
# (``workflows.patches``): one visibility write where there were ten.
CASE_BASELINE_PATCH = "case-baseline-2026-12"
CASE_BASELINE = frozenset(
    {
        START_PROBATION_PATCH,
        UNAMBIGUOUS_PROBATION_ID_PATCH,
        NOTICE_ALREADY_OVER_PATCH,
        SMALL_ANSWER_PATCH,
        CONTINUE_AS_NEW_PATCH,
        UPSERT_CHANGES_PATCH,
        RECORD_BATCH_PATCH,
        SUSPENSION_DECISION_PATCH,
        UPSERT_WHEN_WAITING_PATCH,
        NO_ALARM_WHEN_DONE_PATCH,
    }
)
# The case opens in one round trip to the server where it took three: the policy is read by a
# local activity (a file on the worker; its result is kept in the history as a marker, no
# activity task on the server), and the opening and the eligibility check before inspection
# are recorded by one activity. A step sent at once waits for the case to open: it waited
# behind three activities in a row, now behind one.
OPEN_IN_ONE_ROUND_TRIP_PATCH = "open-in-one-round-trip"
# The calendar's reads (a step's schedule, a period's end in working days) run as local
# activities too: short reads of the worker's file and the calendar's table, no activity task on
# the server for each step's deadline.
CALENDAR_READ_LOCALLY_PATCH = "calendar-read-locally"
# A run begun under this code takes every patch above by one marker, this one's; runs begun
# under the first baseline still find theirs (``Baseline`` asks both, the newest first).
CASE_BASELINE_2_PATCH = "case-baseline-2026-12-06"
CASE_BASELINE_2 = CASE_BASELINE | {OPEN_IN_ONE_ROUND_TRIP_PATCH, CALENDAR_READ_LOCALLY_PATCH}
# The first awaited step's deadline is recorded with the opening (one activity where there were
# two), and a step sent while the case opened goes first before the case settles into that wait:
# before, the case recorded and upserted the deadline of a step that the waiting update ended
# at once, then upserted again for the next step (three visibility writes where one serves).
DEADLINE_WITH_OPENING_PATCH = "first-deadline-with-the-opening"
# A step whose deadline is already past when the case begins to wait on it (a case brought in
# late) has its deadline, its overdue mark and the highest escalation rung already reached
# recorded by one activity, and the search attributes upserted once; before, three activities
# one after the other, and two upserts.
LATE_MARKS_WITH_DEADLINE_PATCH = "late-marks-with-the-deadline"
# A run begun under this code takes every patch above by this one marker (``Baseline`` asks
# the three, the newest first).
CASE_BASELINE_3_PATCH = "case-baseline-3"
CASE_BASELINE_3 = CASE_BASELINE_2 | {DEADLINE_WITH_OPENING_PATCH, LATE_MARKS_WITH_DEADLINE_PATCH}
# A step sent with the start (in the case's first workflow task) is recorded with the opening,
# by one activity: the opening is held until the step's events join it. Before, the step waited
# for the opening's record, then for its own (two activities in a row, each a round trip to
# the server and a turn in a busy worker).
OPENING_WITH_FIRST_STEP_PATCH = "opening-with-the-first-step"
# A run begun under this code takes every patch above by this one marker.
CASE_BASELINE_4_PATCH = "case-baseline-4"
CASE_BASELINE_4 = CASE_BASELINE_3 | {OPENING_WITH_FIRST_STEP_PATCH}
# The investigation notice's window (the earliest and the latest day inspection may start) is
# read from the calendar by one local activity, where it took two in a row: in a case whose
# notice is sent with the start, the case's first workflow task ran four local activities one
# after the other (the policy, the first deadline, the window's two ends), now three.
NOTICE_WINDOW_IN_ONE_READ_PATCH = "notice-window-in-one-read"
# A run begun under this code takes every patch above by this one marker.
CASE_BASELINE_5_PATCH = "case-baseline-5"
CASE_BASELINE_5 = CASE_BASELINE_4 | {NOTICE_WINDOW_IN_ONE_READ_PATCH}
# every baseline a run may have begun under, the newest (what a run begun now writes) first
CASE_BASELINES = (
    (CASE_BASELINE_5_PATCH, CASE_BASELINE_5),
    (CASE_BASELINE_4_PATCH, CASE_BASELINE_4),
    (CASE_BASELINE_3_PATCH, CASE_BASELINE_3),
    (CASE_BASELINE_2_PATCH, CASE_BASELINE_2),
    (CASE_BASELINE_PATCH, CASE_BASELINE),
)

# what a case answers while it opens (its policy read, its opening being recorded)
STARTING = "案件正在启动，请稍后再试"

In = TypeVar("In")
Out = TypeVar("Out")
# An update's answer: the outcome of the step; the whole state in histories from before
# ``SMALL_ANSWER_PATCH``.
Answer = CaseState | StepOutcome
Check = Callable[[In, date], None]
Apply = Callable[[In, date], list[Happening]]


def _refusal(e: RuleViolation) -> ApplicationError:
    """The refusal as Temporal carries it: the sentence, then the rule's code and source."""
    return ApplicationError(e.message, e.rule, e.source, type="RuleViolation", non_retryable=True)


def _calendar_problem(e: ActivityError | ApplicationError) -> str | None:
    """Why the calendar cannot say, if a missing year is why the read failed (the SDK hands a
    local activity's failure over as it is, an activity's inside an ``ActivityError``)."""
    cause = e.cause if isinstance(e, ActivityError) else e
    if isinstance(cause, ApplicationError) and cause.type == "CalendarYearMissing":
        return cause.message
    return None


def _schedule_request(book: CaseBook, step: AwaitedStep, started_on: date) -> ScheduleStepInput:
    """The calendar's question for ``step``'s deadline, running from ``started_on``."""
    assert step.policy_step is not None
    return ScheduleStepInput(
        case_id=book.state.case_id,
        step=step.policy_step,
        start_on=started_on,
        timing=book.policy.steps[step.policy_step],
    )


@workflow.defn
class AppointmentCaseWorkflow:
    @workflow.init
    def __init__(self, case: CaseRun) -> None:
        self._book: CaseBook | None = None
        self._seq = 0
        self._lock = asyncio.Lock()
        self._deadline: datetime | None = None
        self._overdue = False
        self._retries = 0
        self._ready = False  # the case is set up: steps may be applied
        # the opening's events, held for a step sent with the start to be recorded with them
        self._held: list[RecordedEvent] = []
        self._opening_unrecorded = False  # until the held opening is on record
        # the search attributes last upserted (stage, unit, post, deadline, overdue)
        self._upserted: tuple[Any, ...] | None = None
        self._may_continue = False  # this run continues as new when Temporal suggests it
        self._carry: CaseCarry | None = case.carry  # what the run before handed over
        # the deadline of the step the case waits on, handed to the next run if it continues
        self._awaited_deadline: tuple[str, StepSchedule] | None = None
        # a deadline just extended (延期), for the step waiting on it to take up
        self._extended: tuple[str, StepSchedule] | None = None
        self._baseline: Baseline | None = None  # the run's patches, asked first thing in run
        # the first awaited step's deadline, recorded with the opening: its key, its schedule,
        # the moment its late marks were recorded with it (if it was past already)
        self._opening_schedule: tuple[str, StepSchedule, datetime | None] | None = None

    # ------------------------------------------------------------------ run

    @workflow.run
    async def run(self, case: CaseRun) -> CaseState:
        self._may_continue = self._patched(CONTINUE_AS_NEW_PATCH)
        case_file = CaseInput.model_validate(case.model_dump(exclude={"carry"}))
        # Updates sent right after the start wait (in ``_apply``) until the case is set up.
        async with self._lock:
            book = await self._resume(case_file) if case.carry else await self._open(case_file)
        while book.active:
            if self._continue_now():
                await self._continue_as_new(case_file, book)
            step = book.awaited_step()
            assert step is not None
            if step.until is not None and not self._people_before_limit(step):
                await self._wait_for_timer(book, step)
            else:
                await self._wait_for_people(book, step)
        if self._patched(UPSERT_WHEN_WAITING_PATCH):
            self._upsert()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return book.state

    def _patched(self, patch: str) -> bool:
        """Whether this run takes ``patch`` (``workflows.patches``: the case's baseline)."""
        if self._baseline is None:  # the first thing ``run`` asks
            self._baseline = Baseline(*CASE_BASELINES)
        return self._baseline.patched(patch)

    def _people_before_limit(self, step: AwaitedStep) -> bool:
        """A step with both a limit and people who must act before it (a suspension)."""
        return step.policy_step is not None and self._patched(SUSPENSION_DECISION_PATCH)

    def _continue_now(self) -> bool:
        """Temporal suggests a new run, and the opening is on record (a carry says so)."""
        return (
            self._may_continue
            and not self._opening_unrecorded
            and workflow.info().is_continue_as_new_suggested()
        )

    async def _continue_as_new(self, case_file: CaseInput, book: CaseBook) -> None:
        """Hand the case to a new run once no step is being recorded (their updates finish
        in this run); the next run waits on the same step with the same deadline."""
        await workflow.wait_condition(
            lambda: workflow.all_handlers_finished() and not self._lock.locked()
        )
        schedule = self._awaited_deadline
        if schedule is not None and schedule[0] != book.step_key():
            schedule = None
        carry = CaseCarry(
            snapshot=book.snapshot,
            people=list(book.people.values()),
            state=book.state,
            seq=self._seq,
            retries=self._retries,
            carried_at=workflow.now(),
            overdue=self._overdue,
            schedule=schedule[1] if schedule else None,
            schedule_key=schedule[0] if schedule else "",
        )
        workflow.continue_as_new(CaseRun(**case_file.model_dump(), carry=carry))

    async def _resume(self, case_file: CaseInput) -> CaseBook:
        """The case as the run before left it (its carry); only a continued run has one."""
        carry = self._carry
        assert carry is not None
        if workflow.info().continued_run_id is None:
            raise ApplicationError(
                "案件只能由案件材料启动；交接状态只由延续的运行接收",
                type="CarryRefused",
                non_retryable=True,
            )
        book = self._book = CaseBook.resumed(case_file, carry.snapshot, carry.people, carry.state)
        self._seq, self._retries = carry.seq, carry.retries
        self._upsert()
        self._ready = True
        return book

    async def _open(self, case: CaseInput) -> CaseBook:
        one_trip = self._patched(OPEN_IN_ONE_ROUND_TRIP_PATCH)
        request = PolicyRequest(case_id=case.case_id)
        if one_trip:
            snapshot = await self._local_activity(LOAD_POLICY, request)
        else:
            snapshot = await self._activity(LOAD_POLICY, request)
        today = self._today()
        try:
            check_case_input(case, today, snapshot.policy.recommendation.valid_months)
        except RuleViolation as e:
            raise _refusal(e) from e
        book = self._book = CaseBook(case, snapshot, today)
        # which register person and version each candidate's facts came from (the payload's
        # candidates say it too); nothing added for a case whose candidates were typed in
        sources = register_sources(case.candidates)
        opened = Happening(
            "opened",
            f"立案：{case.unit} {case.post}，拟任职数 {case.positions} 个，"
            f"{zh(case.method)}，政策版本 {snapshot.policy.version}"
            + (f"；人选信息取自干部名册：{sources}" if sources else ""),
            case.opened_by,
            {
                "case": case.model_dump(mode="json"),
                "policy_version": snapshot.policy.version,
                "policy_digest": snapshot.digest,
                "policy_source": snapshot.source,
            },
        )
        regular = case.method is SelectionMethod.REGULAR_APPOINTMENT
        if one_trip:  # each event stamped with the stage it happened in, all sent at once
            events = self._numbered([opened])
            if regular:
                events += self._numbered(book.enter_inspection_phase(book.state.opened_on))
            if self._patched(DEADLINE_WITH_OPENING_PATCH):
                # the search attributes are upserted when the case settles into its first wait
                events += await self._first_deadline(book)
                if self._hold_for_first_step():
                    self._held, self._opening_unrecorded = events, True
                else:
                    await self._send(events, upsert=False)
            else:
                await self._send(events)
        else:
            await self._record([opened])
            if regular:
                await self._record(book.enter_inspection_phase(book.state.opened_on))
        self._ready = True
        return book

    def _hold_for_first_step(self) -> bool:
        """Whether the opening waits for a step sent with the start, to be recorded with it:
        only where the main loop lets such a step go first (the first deadline went with the
        opening), so that nothing else is recorded meanwhile."""
        return (
            self._opening_schedule is not None
            and not workflow.all_handlers_finished()
            and self._patched(OPENING_WITH_FIRST_STEP_PATCH)
        )

    async def _first_deadline(self, book: CaseBook) -> list[RecordedEvent]:
        """The deadline of the step the case awaits first, as an event to record with the
        opening; none for a wait without one (a timer), or while the calendar lacks the year
        (the main loop then records the block and waits, as it does for any step)."""
        step = book.awaited_step()
        if step is None or step.policy_step is None or step.until is not None:
            return []
        started_on = self._begin_wait(book, step)
        try:
            schedule = await self._calendar_read(
                SCHEDULE_STEP, _schedule_request(book, step, started_on)
            )
        except (ActivityError, ApplicationError) as e:
            if _calendar_problem(e) is None:
                raise
            return []
        events, marked = self._deadline_events(book, step, schedule)
        self._opening_schedule = (step.key, schedule, marked)
        return events

    def _opened_with(self, key: str) -> tuple[StepSchedule, datetime | None] | None:
        """The schedule recorded with the opening, and when its late marks were, if ``key`` is
        the step it was for (once)."""
        opened, self._opening_schedule = self._opening_schedule, None
        return (opened[1], opened[2]) if opened is not None and opened[0] == key else None

    async def _wait_for_timer(self, book: CaseBook, step: AwaitedStep) -> None:
        assert step.until is not None
        self._deadline, self._overdue = step.until, False
        self._upsert()
        stop = lambda: book.step_key() != step.key or self._continue_now()  # noqa: E731
        if not await wait_until(stop, step.until):
            async with self._lock:
                if book.step_key() == step.key:
                    await self._record(book.on_timer(step.key, self._today()))

    async def _wait_for_people(self, book: CaseBook, step: AwaitedStep) -> None:
        assert step.policy_step is not None

        def done() -> bool:
            return book.step_key() != step.key

        told: list[Alarm] = []  # the reminders and escalations this wait sent
        if step.until is not None and workflow.now() >= step.until:
            await self._lapse(book, step, told)  # brought in after its limit
            return
        carried = self._carried_schedule(step.key)
        opened = self._opened_with(step.key)
        sent_until = self._carry.carried_at if carried is not None and self._carry else None
        schedule: StepSchedule | None
        if opened is not None:  # its wait begun and its deadline recorded with the opening
            schedule, sent_until = opened
            await workflow.wait_condition(workflow.all_handlers_finished)  # steps sent go first
            if self._held:  # the step sent with the start was refused: the opening alone
                await self._send([], upsert=False)
        elif carried is None:
            started_on = self._begin_wait(book, step)
            schedule = await self._schedule(book, step, done, started_on)
        else:
            schedule, self._overdue = carried, self._carry.overdue if self._carry else False
            told += [a for a in carried.alarms if sent_until is not None and a.at <= sent_until]
        if schedule is not None and not done():
            if carried is None and opened is None:
                sent_until = await self._record_deadline(book, step, schedule)
            elif carried is not None:
                self._deadline = schedule.deadline_at
            if self._patched(UPSERT_WHEN_WAITING_PATCH):
                self._upsert()  # (after a recorded deadline, the same values: no command)
            await self._keep(book, step, schedule, sent_until, told)
        if not done() and step.until is not None and workflow.now() >= step.until:
            await self._lapse(book, step, told)
        elif not done():
            return  # to continue as new, waiting on the same step with the same deadline
        self._awaited_deadline = self._extended = None
        self._deadline, self._overdue = None, False
        if book.state.step is not None and book.state.step.step == step.key:
            book.state.step = None

    def _begin_wait(self, book: CaseBook, step: AwaitedStep) -> date:
        """The case now waits on ``step`` (its state says so); the day its deadline runs from."""
        started_on = book.step_started_on(step, self._today())
        book.state.step = StepState(
            step=step.key, responsible_role=step.responsible_role, started_on=started_on
        )
        return started_on

    async def _record_deadline(
        self, book: CaseBook, step: AwaitedStep, schedule: StepSchedule
    ) -> datetime | None:
        """Record the step's deadline (with its late marks, if it is past); when those were
        marked, for the wait not to send them again."""
        events, marked = self._deadline_events(book, step, schedule)
        await self._send(events)
        return marked

    def _deadline_events(
        self, book: CaseBook, step: AwaitedStep, schedule: StepSchedule
    ) -> tuple[list[RecordedEvent], datetime | None]:
        """The deadline's event; for a deadline already past, then the overdue mark and the
        highest escalation rung reached (``already_due``), and the moment they were marked at
        (None: no mark). A step with a limit (a suspension) keeps its marks to its wait, which
        tells its lapse whom they reached."""
        events = self._numbered(self._set_deadline(book, step, schedule))
        now = workflow.now()
        overdue, rung = already_due(schedule, now)
        if not overdue or step.until is not None:
            return events, None
        if not self._patched(LATE_MARKS_WITH_DEADLINE_PATCH):
            return events, None
        events += self._numbered([self._mark_overdue(book, step, schedule)])
        if rung is not None:
            events += self._numbered(*self._alarm_message(book, step, schedule, rung))
        return events, now

    def _set_deadline(
        self, book: CaseBook, step: AwaitedStep, schedule: StepSchedule
    ) -> list[Happening]:
        """``schedule`` as the awaited step's deadline; the event that records it."""
        assert step.policy_step is not None
        self._deadline, self._overdue = schedule.deadline_at, False
        # an extension may be asked for while the deadline is being recorded
        self._awaited_deadline = (step.key, schedule)
        if book.state.step is not None:
            book.state.step.deadline_at = schedule.deadline_at
        days = book.policy.steps[step.policy_step].deadline_working_days
        return [
            Happening(
                "deadline",
                f"{step.description}：须于 {schedule.deadline_on} 日终前完成"
                f"（{days} 个工作日；工作日历：{schedule.calendar_source}）",
                payload=schedule.model_dump(mode="json"),
            )
        ]

    async def _keep(
        self,
        book: CaseBook,
        step: AwaitedStep,
        schedule: StepSchedule,
        sent_until: datetime | None,
        told: list[Alarm],
    ) -> None:
        """Keep the step's deadline until the step is done, the run continues as new or its
        limit passes. An extension (延期) takes the same wait up on the later deadline (the
        updatable timer): its alarms move with it, and those already past are not sent again."""
        current = schedule

        def done() -> bool:
            return book.step_key() != step.key

        def extended() -> bool:
            return self._extended is not None and self._extended[0] == step.key

        async def on_alarm(alarm: Alarm) -> None:
            told.append(alarm)
            await self._alarm(book, step, current, alarm)

        async def on_overdue() -> None:
            await self._record([self._mark_overdue(book, step, current)])

        def stop() -> bool:
            return done() or self._continue_now() or extended()

        while True:
            self._awaited_deadline = (step.key, current)
            await keep_deadline(
                current,
                stop,
                on_alarm,
                on_overdue,
                sent_until,
                give_up_at=step.until,
                patched=self._patched,
            )
            if not extended() or done():
                return
            assert self._extended is not None
            current, sent_until, self._extended = self._extended[1], workflow.now(), None

    async def _lapse(self, book: CaseBook, step: AwaitedStep, told: list[Alarm]) -> None:
        """The step's limit passed undecided: recorded as a lapse, and the top of the step's
        escalation ladder (or whoever is responsible, with no ladder) is told."""
        assert step.policy_step is not None
        timing = book.policy.steps[step.policy_step]
        top = timing.escalation[-1].role if timing.escalation else timing.responsible_role
        async with self._lock:
            if book.step_key() != step.key:
                return
            happenings = book.on_suspension_lapse(step.key, told)
            s = book.state
            await self._record(
                happenings[:1],
                Notification(
                    recipient_role=top,
                    subject=f"期满未决：案件 {s.case_id}（{s.unit} {s.post}）{step.description}",
                    body=happenings[0].summary,
                ),
            )
            await self._record(happenings[1:])

    def _carried_schedule(self, key: str) -> StepSchedule | None:
        """The deadline the run before set for the step ``key`` (once: a later wait on the
        same key is a new wait)."""
        carry = self._carry
        if carry is None or carry.schedule is None or carry.schedule_key != key:
            return None
        schedule = carry.schedule
        self._carry = carry.model_copy(update={"schedule": None})
        return schedule

    async def _schedule(
        self, book: CaseBook, step: AwaitedStep, done: Callable[[], bool], started_on: date
    ) -> StepSchedule | None:
        """The step's schedule, its deadline running from ``started_on`` (the recorded date
        that started it: only an activity's input, so histories replay unchanged); while the
        calendar lacks a year, wait for an administrator."""
        request = _schedule_request(book, step, started_on)
        while True:
            try:
                return await self._calendar_read(SCHEDULE_STEP, request)
            except (ActivityError, ApplicationError) as e:
                problem = _calendar_problem(e)
                if problem is None:
                    raise
            if book.state.step is not None:
                book.state.step.blocked_reason = problem
            await self._record(
                [Happening("blocked", f"{step.description}：无法计算期限：{problem}")],
                Notification(
                    recipient_role=Role.ADMINISTRATOR,
                    subject=f"工作日历缺失：案件 {book.state.case_id} 无法计算期限",
                    body=f"{book.state.unit} {book.state.post}（{step.description}）：{problem}",
                ),
            )
            if step.until is None:
                await workflow.wait_condition(self._retry_requested_or(done))
            else:  # a limit (a suspension's) runs out even while the calendar is missing
                await wait_until(self._retry_requested_or(done), step.until)
            if book.state.step is not None:
                book.state.step.blocked_reason = ""
            if done() or (step.until is not None and workflow.now() >= step.until):
                return None

    def _retry_requested_or(self, done: Callable[[], bool]) -> Callable[[], bool]:
        attempt = self._retries
        return lambda: done() or self._retries > attempt

    def _mark_overdue(self, book: CaseBook, step: AwaitedStep, schedule: StepSchedule) -> Happening:
        """The step is overdue (its state says so); the event that marks it."""
        self._overdue = True
        if book.state.step is not None:
            book.state.step.overdue = True
        return Happening("overdue", f"{step.description}：已于 {schedule.deadline_on} 逾期")

    async def _alarm(
        self, book: CaseBook, step: AwaitedStep, schedule: StepSchedule, alarm: Alarm
    ) -> None:
        await self._record(*self._alarm_message(book, step, schedule, alarm))

    def _alarm_message(
        self, book: CaseBook, step: AwaitedStep, schedule: StepSchedule, alarm: Alarm
    ) -> tuple[list[Happening], Notification]:
        """A reminder or an escalation rung: its event, and the message to whom it goes."""
        s = book.state
        if alarm.kind == "reminder":
            summary = f"提醒{zh(alarm.role)}：{step.description}将于 {schedule.deadline_on} 到期"
            subject = (
                f"提醒：案件 {s.case_id}（{s.unit} {s.post}）{step.description} "
                f"将于 {schedule.deadline_on} 到期"
            )
        else:
            summary = (
                f"第{alarm.rung}级督办，报{zh(alarm.role)}：{step.description}"
                f"应于 {schedule.deadline_on} 完成，至今未完成"
            )
            subject = (
                f"督办（第{alarm.rung}级）：案件 {s.case_id}（{s.unit} {s.post}）"
                f"{step.description} 已于 {schedule.deadline_on} 逾期"
            )
        return (
            [Happening(alarm.kind, summary, payload=alarm.model_dump(mode="json"))],
            Notification(recipient_role=alarm.role, subject=subject, body=summary),
        )

    # ------------------------------------------------------------------ plumbing

    def _today(self) -> date:
        return workflow.now().astimezone(SHANGHAI).date()

    @property
    def book(self) -> CaseBook:
        if self._book is None:
            raise ApplicationError(STARTING)
        return self._book

    async def _activity(self, ref: ActivityRef[In, Out], arg: In) -> Out:
        return await call(
            ref, arg, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=ACTIVITY_RETRY
        )

    async def _local_activity(self, ref: ActivityRef[In, Out], arg: In) -> Out:
        return await call_local(
            ref, arg, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=ACTIVITY_RETRY
        )

    async def _calendar_read(self, ref: ActivityRef[In, Out], arg: In) -> Out:
        if self._patched(CALENDAR_READ_LOCALLY_PATCH):
            return await self._local_activity(ref, arg)
        return await self._activity(ref, arg)

    async def _record(
        self,
        happenings: list[Happening],
        notification: Notification | None = None,
        *,
        upsert: bool = True,
    ) -> None:
        """Record ``happenings`` (with ``notification``) and, if ``upsert``, bring the search
        attributes up to date."""
        await self._send(self._numbered(happenings, notification), upsert=upsert)

    def _numbered(
        self, happenings: list[Happening], notification: Notification | None = None
    ) -> list[RecordedEvent]:
        """``happenings`` as the case's next events, each stamped with the stage now."""
        book = self.book
        events = []
        for h in happenings:
            self._seq += 1
            events.append(
                RecordedEvent(
                    seq=self._seq,
                    kind=h.kind,
                    stage=book.state.stage,
                    occurred_at=workflow.now(),
                    actor_name=h.actor.name,
                    actor_role=h.actor.role,
                    summary=h.summary,
                    payload=h.payload,
                    notification=notification,
                )
            )
        book.state.events_recorded = self._seq
        return events

    async def _send(self, events: list[RecordedEvent], *, upsert: bool = True) -> None:
        """Record ``events`` (numbered before the first await, so that events recorded
        meanwhile by the main loop, a new deadline, come after them in the history) with the
        case's listing row as it is now; the opening first, if it was held for them."""
        book = self.book
        held, self._held = self._held, []
        events = held + events  # the opening, if it was held for this step
        row = book.case_row(self._deadline, self._overdue)
        case_id = book.state.case_id
        if events and self._patched(RECORD_BATCH_PATCH):
            batch = RecordEventsInput(case_id=case_id, case=row, events=events)
            await self._activity(RECORD_EVENTS, batch)
        else:  # one activity per event, as histories before the patch recorded them
            for event in events:
                one = RecordEventInput(case_id=case_id, case=row, **event.model_dump())
                await self._activity(RECORD_EVENT, one)
        if held:
            self._opening_unrecorded = False
        if upsert:
            self._upsert()

    def _upsert(self) -> None:
        s = self.book.state
        deadline = self._deadline if s.stage is not CaseStage.CLOSED else None
        overdue = self._overdue and deadline is not None
        values = (s.stage, s.unit, s.post, deadline, overdue)
        if values == self._upserted and self._patched(UPSERT_CHANGES_PATCH):
            return
        self._upserted = values
        workflow.upsert_search_attributes(
            [
                sa.CASE_STAGE.value_set(s.stage.value),
                sa.CASE_UNIT.value_set(s.unit),
                sa.CASE_POST.value_set(s.post),
                sa.NEXT_DEADLINE.value_set(deadline)
                if deadline
                else sa.NEXT_DEADLINE.value_unset(),
                sa.CASE_OVERDUE.value_set(overdue),
            ]
        )

    def _validate(self, check: Check[In], data: In) -> None:
        try:
            check(data, self._today())
        except RuleViolation as e:
            raise _refusal(e) from e

    def _check_when_ready(self, check: Callable[[CaseBook], Check[In]], data: In) -> None:
        """Validator body. Who may take the step (``workflows.steps``) is checked at once.
        While the case is still being set up (its policy loading), the input itself is let
        through and checked by the handler under the lock once the case is ready; only such
        a refusal can appear in the history, as a failed update."""
        self._authorize(data)
        if self._book is None or not self._ready:
            return
        self._validate(check(self._book), data)

    def _authorize(self, data: Any) -> None:
        """Refuse an actor whose role the step table does not name for this update. Only in
        validators, which replay never runs: a step a history once accepted stays accepted."""
        update = workflow.current_update_info()
        if update is None:
            return
        team = self._team()
        why = role_refusal(update.name, data.actor, team)
        if why is not None:
            raise ApplicationError(why, type=NOT_PERMITTED, non_retryable=True)

    def _team(self) -> list[str]:
        """The case's inspection team: from the case, or, in a continued run's first moments
        (a step may arrive before the run has taken its carry up), from the carry."""
        if self._book is not None:
            return self._book.state.inspection_team
        if self._carry is not None:
            return self._carry.state.inspection_team
        return []

    async def _apply(
        self,
        data: In,
        check: Callable[[CaseBook], Check[In]],
        apply: Callable[[CaseBook], Callable[[In], Awaitable[list[Happening]]]],
    ) -> Answer:
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            book = self.book
            # another update may have changed the case since this one was validated
            self._validate(check(book), data)
            awaited = book.step_key()
            happenings = await apply(book)(data)
            # a step that ends the wait: the main loop upserts when the case waits again
            ended = book.step_key() != awaited
            await self._record(
                happenings, upsert=not (ended and self._patched(UPSERT_WHEN_WAITING_PATCH))
            )
            return self._answer()

    def _answer(self) -> Answer:
        state = self.book.state
        if self._patched(SMALL_ANSWER_PATCH):
            update = workflow.current_update_info()
            return outcome_of(state, update.name if update is not None else "")
        return state

    async def _simple(
        self,
        data: In,
        check: Callable[[CaseBook], Check[In]],
        apply: Callable[[CaseBook], Apply[In]],
    ) -> Answer:
        async def run(d: In) -> list[Happening]:
            return apply(self.book)(d, self._today())

        return await self._apply(data, check, lambda _book: run)

    # ------------------------------------------------------------------ queries

    @workflow.query
    def state(self) -> CaseState:
        return self._shown.state

    @workflow.query
    def public_notice(self) -> PublicNoticeView | None:
        """The notice before the public now (for the public board), or None."""
        return self._shown.public_notice()

    @property
    def _shown(self) -> CaseBook:
        """The case as queries show it: once its opening is on record (until then a query
        would show a case that PostgreSQL does not hold yet)."""
        if not self._ready or self._opening_unrecorded:
            raise ApplicationError(STARTING)
        return self.book

    # ------------------------------------------------------------------ updates
    # Each update: validator = the rule (refusals never enter history); handler = apply + record.

    @workflow.update
    async def record_registration(self, data: RegistrationInput) -> Answer:
        return await self._simple(
            data, lambda b: b.check_registration, lambda b: b.apply_registration
        )

    @record_registration.validator
    def _v_registration(self, data: RegistrationInput) -> None:
        self._check_when_ready(lambda b: b.check_registration, data)

    @workflow.update
    async def record_written_test(self, data: ExamScoresInput) -> Answer:
        return await self._simple(
            data, lambda b: b.check_written_test, lambda b: b.apply_written_test
        )

    @record_written_test.validator
    def _v_written(self, data: ExamScoresInput) -> None:
        self._check_when_ready(lambda b: b.check_written_test, data)

    @workflow.update
    async def record_interview(self, data: ExamScoresInput) -> Answer:
        return await self._simple(data, lambda b: b.check_interview, lambda b: b.apply_interview)

    @record_interview.validator
    def _v_interview(self, data: ExamScoresInput) -> None:
        self._check_when_ready(lambda b: b.check_interview, data)

    @workflow.update
    async def record_higher_approval(self, data: HigherApprovalInput) -> Answer:
        return await self._simple(
            data, lambda b: b.check_higher_approval, lambda b: b.apply_higher_approval
        )

    @record_higher_approval.validator
    def _v_approval(self, data: HigherApprovalInput) -> None:
        self._check_when_ready(lambda b: b.check_higher_approval, data)

    @workflow.update
    async def record_investigation_notice(self, data: InvestigationNoticeInput) -> Answer:
        async def apply(d: InvestigationNoticeInput) -> list[Happening]:
            policy = self.book.policy.investigation_notice
            # inspection may start from the min-th to the max-th working day after publication
            day_after = d.published_on + timedelta(days=1)
            earliest = policy.min_working_days_before_inspection
            latest = policy.max_working_days_before_inspection
            if self._patched(NOTICE_WINDOW_IN_ONE_READ_PATCH):
                request = WorkingDaysEndsInput(start_on=day_after, working_days=[earliest, latest])
                ends = (await self._calendar_activity(WORKING_DAYS_ENDS, request)).ends_on
                return self.book.apply_investigation_notice(d, (ends[0], ends[1]))
            first = await self._working_days_end(day_after, earliest)
            last = await self._working_days_end(day_after, latest)
            return self.book.apply_investigation_notice(d, (first.end_on, last.end_on))

        return await self._apply(data, lambda b: b.check_investigation_notice, lambda _b: apply)

    @record_investigation_notice.validator
    def _v_investigation_notice(self, data: InvestigationNoticeInput) -> None:
        self._check_when_ready(lambda b: b.check_investigation_notice, data)

    @workflow.update
    async def record_inspection_team(self, data: InspectionTeamInput) -> Answer:
        return await self._simple(
            data, lambda b: b.check_inspection_team, lambda b: b.apply_inspection_team
        )

    @record_inspection_team.validator
    def _v_team(self, data: InspectionTeamInput) -> None:
        self._check_when_ready(lambda b: b.check_inspection_team, data)

    @workflow.update
    async def record_inspection_check(self, data: InspectionCheckInput) -> Answer:
        return await self._simple(
            data, lambda b: b.check_inspection_check, lambda b: b.apply_inspection_check
        )

    @record_inspection_check.validator
    def _v_check(self, data: InspectionCheckInput) -> None:
        self._check_when_ready(lambda b: b.check_inspection_check, data)

    @workflow.update
    async def record_democratic_evaluation(self, data: DemocraticEvaluationInput) -> Answer:
        return await self._simple(
            data, lambda b: b.check_democratic_evaluation, lambda b: b.apply_democratic_evaluation
        )

    @record_democratic_evaluation.validator
    def _v_evaluation(self, data: DemocraticEvaluationInput) -> None:
        self._check_when_ready(lambda b: b.check_democratic_evaluation, data)

    @workflow.update
    async def record_inspection_report(self, data: InspectionReportInput) -> Answer:
        return await self._simple(
            data, lambda b: b.check_inspection_report, lambda b: b.apply_inspection_report
        )

    @record_inspection_report.validator
    def _v_report(self, data: InspectionReportInput) -> None:
        self._check_when_ready(lambda b: b.check_inspection_report, data)

    @workflow.update
    async def conclude_inspection(self, data: InspectionConclusionInput) -> Answer:
        return await self._simple(
            data, lambda b: b.check_inspection_conclusion, lambda b: b.apply_inspection_conclusion
        )

    @conclude_inspection.validator
    def _v_conclusion(self, data: InspectionConclusionInput) -> None:
        self._check_when_ready(lambda b: b.check_inspection_conclusion, data)

    @workflow.update
    async def record_vote(self, data: VoteInput) -> Answer:
        return await self._simple(data, lambda b: b.check_vote, lambda b: b.apply_vote)

    @record_vote.validator
    def _v_vote(self, data: VoteInput) -> None:
        self._check_when_ready(lambda b: b.check_vote, data)

    @workflow.update
    async def record_public_notice(self, data: PublicNoticeInput) -> Answer:
        async def apply(d: PublicNoticeInput) -> list[Happening]:
            book = self.book
            days = book.policy.public_notice.working_days
            end = await self._working_days_end(d.published_on, days)
            out = book.apply_public_notice(d, end.end_on)
            period = book.awaited_step()
            if (
                period is not None
                and period.key == "notice_period"
                and period.until is not None
                and workflow.now() >= period.until
                and self._patched(NOTICE_ALREADY_OVER_PATCH)
            ):
                out += book.on_timer(period.key, self._today())
            return out

        return await self._apply(data, lambda b: b.check_public_notice, lambda _b: apply)

    @record_public_notice.validator
    def _v_public_notice(self, data: PublicNoticeInput) -> None:
        self._check_when_ready(lambda b: b.check_public_notice, data)

    @workflow.update
    async def record_objection(self, data: ObjectionInput) -> Answer:
        return await self._simple(data, lambda b: b.check_objection, lambda b: b.apply_objection)

    @record_objection.validator
    def _v_objection(self, data: ObjectionInput) -> None:
        self._check_when_ready(lambda b: b.check_objection, data)

    @workflow.update
    async def record_objection_verdict(self, data: ObjectionVerdictInput) -> Answer:
        return await self._simple(
            data, lambda b: b.check_objection_verdict, lambda b: b.apply_objection_verdict
        )

    @record_objection_verdict.validator
    def _v_verdict(self, data: ObjectionVerdictInput) -> None:
        self._check_when_ready(lambda b: b.check_objection_verdict, data)

    @workflow.update
    async def decide_suspension(self, data: SuspensionDecisionInput) -> Answer:
        return await self._simple(
            data, lambda b: b.check_suspension_decision, lambda b: b.apply_suspension_decision
        )

    @decide_suspension.validator
    def _v_suspension(self, data: SuspensionDecisionInput) -> None:
        self._check_when_ready(lambda b: b.check_suspension_decision, data)

    @workflow.update
    async def record_appointment(self, data: AppointmentInput) -> Answer:
        async def apply(d: AppointmentInput) -> list[Happening]:
            book = self.book
            out = book.apply_appointment(d, self._today())
            # Patched in after cases had run without it: their histories replay unchanged.
            if book.case.probation_required and self._patched(START_PROBATION_PATCH):
                out.append(await self._start_probation(book, d))
            return out

        return await self._apply(data, lambda b: b.check_appointment, lambda _b: apply)

    async def _start_probation(self, book: CaseBook, d: AppointmentInput) -> Happening:
        """One probation per appointee; its id makes a second start impossible."""
        person = book.people[d.person_id]
        # built of what the case recorded: read as it was accepted (see RECORDED)
        probation = ProbationInput.model_validate(
            dict(
                case_id=book.case.case_id,
                person_id=person.person_id,
                name=person.name,
                unit=book.case.unit,
                post=book.case.post,
                starts_on=d.notice_issued_on,
                former_rank=person.current_rank,
                former_post=person.current_post,
            ),
            context=RECORDED,
        )
        if self._patched(UNAMBIGUOUS_PROBATION_ID_PATCH):
            probation_id = probation_workflow_id(book.case.case_id, person.person_id)
        else:
            probation_id = legacy_probation_workflow_id(book.case.case_id, person.person_id)
        try:
            await workflow.start_child_workflow(
                PROBATION_WORKFLOW_NAME,
                probation,
                id=probation_id,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                parent_close_policy=ParentClosePolicy.ABANDON,
            )
        except WorkflowAlreadyStartedError:
            return Happening("probation", f"{person.name}已在试用期中（{probation_id}）")
        return Happening(
            "probation",
            f"{person.name}开始试用期：自 {d.notice_issued_on} 起一年",
            payload={"probation_id": probation_id, "starts_on": d.notice_issued_on.isoformat()},
        )

    @record_appointment.validator
    def _v_appointment(self, data: AppointmentInput) -> None:
        self._check_when_ready(lambda b: b.check_appointment, data)

    @workflow.update
    async def withdraw(self, data: WithdrawInput) -> Answer:
        return await self._simple(data, lambda b: b.check_withdraw, lambda b: b.apply_withdraw)

    @withdraw.validator
    def _v_withdraw(self, data: WithdrawInput) -> None:
        self._check_when_ready(lambda b: b.check_withdraw, data)

    # A new update: histories from before it never sent it, so they replay unchanged.
    @workflow.update
    async def declare_relationship(self, data: RelationshipInput) -> Answer:
        return await self._simple(
            data, lambda b: b.check_relationship, lambda b: b.apply_relationship
        )

    @declare_relationship.validator
    def _v_relationship(self, data: RelationshipInput) -> None:
        self._check_when_ready(lambda b: b.check_relationship, data)

    @workflow.update
    async def extend_deadline(self, data: ExtendDeadlineInput) -> Answer:
        async def apply(d: ExtendDeadlineInput) -> list[Happening]:
            book = self.book
            step, current, state = book.awaited_step(), self._awaited_deadline, book.state.step
            if (
                step is None
                or step.policy_step is None
                or current is None
                or current[0] != step.key
                or state is None
            ):  # the validator's check passed, but the case moved on since
                raise ApplicationError(
                    "这一事项的期限尚未算出或已经变化，请稍后再办",
                    type="RuleViolation",
                    non_retryable=True,
                )
            timing = book.policy.steps[step.policy_step]
            longer = timing.deadline_working_days + state.extended_working_days + d.working_days
            request = ScheduleStepInput(
                case_id=book.state.case_id,
                step=step.policy_step,
                start_on=state.started_on,
                timing=timing.model_copy(update={"deadline_working_days": longer}),
            )
            schedule = await self._calendar_activity(SCHEDULE_STEP, request)
            out = book.apply_deadline_extension(d, current[1], schedule, step.description)
            self._extended = (step.key, schedule)
            self._deadline = schedule.deadline_at
            self._overdue = schedule.deadline_at <= workflow.now()
            state.overdue = self._overdue
            return out

        return await self._apply(data, lambda b: b.check_deadline_extension, lambda _b: apply)

    @extend_deadline.validator
    def _v_extend(self, data: ExtendDeadlineInput) -> None:
        self._check_when_ready(lambda b: b.check_deadline_extension, data)

    # A new update (认领/放弃/指派): histories from before it never sent it.
    @workflow.update
    async def assign_step(self, data: AssignStepInput) -> Answer:
        return await self._simple(data, lambda b: b.check_assignment, lambda b: b.apply_assignment)

    @assign_step.validator
    def _v_assign(self, data: AssignStepInput) -> None:
        self._check_when_ready(lambda b: b.check_assignment, data)

    @workflow.update
    async def retry_blocked(self, data: RetryInput) -> Answer:
        async with self._lock:
            self._retries += 1
            await self._record([Happening("input", "系统管理员要求重新计算受阻的期限", data.actor)])
            return self._answer()

    @retry_blocked.validator
    def _v_retry(self, data: RetryInput) -> None:
        self._authorize(data)
        step = self.book.state.step
        if step is None or not step.blocked_reason:
            raise ApplicationError("案件未受阻，无需重试", type="RuleViolation")

    async def _working_days_end(self, start_on: date, days: int) -> WorkingDaysResult:
        request = WorkingDaysInput(start_on=start_on, working_days=days)
        return await self._calendar_activity(WORKING_DAYS_END, request)

    async def _calendar_activity(self, ref: ActivityRef[In, Out], arg: In) -> Out:
        """An activity of an update that needs the calendar: a missing year refuses the
        update (the person is told, the case is unchanged)."""
        try:
            return await self._calendar_read(ref, arg)
        except (ActivityError, ApplicationError) as e:
            problem = _calendar_problem(e)
            if problem is None:
                raise
            raise ApplicationError(problem, type="CalendarYearMissing", non_retryable=True) from e
