"""A case opens in one round trip to the server (patch "open-in-one-round-trip"): the policy is
read by a local activity, kept in the history as a marker, and the opening with the
eligibility check before inspection is recorded by one activity; the calendar is read locally
too ("calendar-read-locally"), and the first step's deadline goes with the opening
("first-deadline-with-the-opening"), so a step sent while the case opens finds it set and goes
first, and a step sent with the start is recorded with the opening by one activity
("opening-with-the-first-step"), the investigation notice's window read from the calendar at
once ("notice-window-in-one-read"); a refused policy still fails the case at once, with its
reasons, recording nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import (
    WithStartWorkflowOperation,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError

from activities.calendar import CalendarActivities
from activities.policy import read_policy
from settings import PROJECT_DIR
from tests.histories.local_reads import local_activity_types
from tests.workflows.conftest import SETTLE_SECONDS, CaseRunner, case_runner, write_policy
from tests.workflows.scenarios import (
    CLERK,
    OPENED,
    inspect,
    investigation_notice,
    regular_case,
)
from tests.workflows.test_paths import finish_notice_and_appoint
from tests.workflows.test_search_attributes import waiting_on
from workflows import search_attributes as sa
from workflows.activity_refs import LOCAL_ACTIVITY_MARKER
from workflows.appointment_case import AppointmentCaseWorkflow
from workflows.case_carry import CaseRun
from workflows.ids import case_workflow_id
from workflows.patches import PATCH_MARKER
from workflows.step_outcome import StepOutcome
from workflows.types import (
    CaseInput,
    CaseStage,
    CaseStatus,
    InvestigationNoticeInput,
    WorkingDaysInput,
)

DEFAULT_POLICY = PROJECT_DIR / "policy" / "default.yaml"  # the runner's, unless given another


async def test_a_case_opens_with_one_activity_before_its_first_step(runner: CaseRunner) -> None:
    h = await runner.start(regular_case("open-1", opened_on=None))
    state = await waiting_on(runner, h, CaseStage.INVESTIGATION_NOTICE)
    events = (await h.fetch_history()).events
    first_activity = next(
        n
        for n, e in enumerate(events)
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    )
    markers = [
        e.marker_recorded_event_attributes.marker_name
        for e in events[:first_activity]
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
    ]
    # the baseline, the policy, the first step's schedule
    assert markers == [PATCH_MARKER, LOCAL_ACTIVITY_MARKER, LOCAL_ACTIVITY_MARKER]
    scheduled = events[first_activity].activity_task_scheduled_event_attributes
    assert scheduled.activity_type.name == "record_events"
    sent = json.loads(scheduled.input.payloads[0].data)["events"]
    assert [e["kind"] for e in sent] == ["opened", "eligibility", "transition", "deadline"]
    assert state.step is not None and sent[-1]["payload"]["step"] == state.step.step
    # the first step's schedule was read locally too: the server ran only the records
    kinds = {
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    }
    assert kinds == {"record_events"}, kinds
    local = [
        e for e in events if e.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
    ]
    assert len(local) >= 2  # the policy, the first step's schedule
    # the opening and the eligibility check, each stamped with the stage it happened in
    recorded = await runner.events("open-1")
    opening = [(e.seq, e.kind, e.stage) for e in recorded if e.kind != "deadline"]
    assert opening[:3] == [
        (1, "opened", CaseStage.INVESTIGATION_NOTICE.value),
        (2, "eligibility", CaseStage.INVESTIGATION_NOTICE.value),
        (3, "transition", CaseStage.INVESTIGATION_NOTICE.value),
    ], opening
    assert state.events_recorded == max(e.seq for e in recorded)
    await h.terminate("test finished")


def _case_upserts(events: Sequence[HistoryEvent]) -> int:
    """The upserts of the case's own attributes (not the SDK's of its patch marker)."""
    return sum(
        1
        for e in events
        if e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
        and sa.CASE_STAGE.name
        in e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
    )


def _scheduled(events: Sequence[HistoryEvent]) -> list[list[dict[str, Any]]]:
    """The events each recording activity was given, in the order scheduled."""
    return [
        json.loads(e.activity_task_scheduled_event_attributes.input.payloads[0].data)["events"]
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]


def _batches(events: Sequence[HistoryEvent]) -> list[list[str]]:
    """The kinds of the events each recording activity was given, in the order scheduled."""
    return [[e["kind"] for e in batch] for batch in _scheduled(events)]


async def test_a_step_sent_while_the_case_opens_finds_its_deadline_set_and_goes_first(
    runner: CaseRunner,
) -> None:
    """The notice arrives before the opening is on record (the opening's record is held back
    by a lock on the listing until the update is in): the case records the notice's deadline
    once, with the opening, and upserts its attributes once, when it waits on the next step.
    Before, it recorded and upserted that deadline after the opening, with the notice already
    waiting to end the step: three recordings and three upserts where two and one serve. (The
    scenario's dates are long past: each deadline goes with its overdue mark and the highest
    rung reached, "late-marks-with-the-deadline".)"""
    async with runner.sessions() as hold:
        await hold.execute(text("LOCK TABLE cases IN SHARE MODE"))  # no recording gets through
        h = await runner.start(regular_case("open-sent"))
        notice = InvestigationNoticeInput(actor=CLERK, published_on=OPENED)
        sent = asyncio.create_task(runner.update(h, "record_investigation_notice", notice))
        for _ in range(SETTLE_SECONDS * 20):
            kinds = [e.event_type for e in (await h.fetch_history()).events]
            if EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED in kinds:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the notice was never accepted")
        assert not sent.done()  # it waits for the opening, which waits for the lock
        await hold.rollback()
    await sent
    await waiting_on(runner, h, CaseStage.INSPECTION)
    events = (await h.fetch_history()).events
    scheduled = _scheduled(events)
    late = ["deadline", "overdue", "escalation"]
    assert _batches(events) == [
        ["opened", "eligibility", "transition", *late],
        ["input", "transition"],
        late,
    ]
    assert _case_upserts(events) == 1  # the wait on the inspection, with its deadline
    recorded = await runner.events("open-sent")
    deadlines = [e.payload["step"] for e in recorded if e.kind == "deadline"]
    assert deadlines == [scheduled[0][3]["payload"]["step"], scheduled[2][0]["payload"]["step"]]
    assert deadlines[0] != deadlines[1]
    await h.terminate("test finished")


async def _start_with_notice(
    runner: CaseRunner, case: CaseInput, notice: InvestigationNoticeInput
) -> tuple[WorkflowHandle[Any, Any], StepOutcome | WorkflowUpdateFailedError]:
    """Start the case with the investigation notice in its first workflow task (update with
    start); the notice's outcome, or its refusal."""
    start = WithStartWorkflowOperation(
        AppointmentCaseWorkflow.run,
        CaseRun.model_validate(case.model_dump()),
        id=case_workflow_id(case.case_id),
        task_queue=runner.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
    )
    answer: StepOutcome | WorkflowUpdateFailedError
    try:
        answer = await runner.env.client.execute_update_with_start_workflow(
            "record_investigation_notice",
            notice,
            start_workflow_operation=start,
            result_type=StepOutcome,
        )
    except WorkflowUpdateFailedError as e:
        answer = e
    handle = await start.workflow_handle()
    runner.started.append(handle)
    return handle, answer


async def test_a_step_sent_with_the_start_is_recorded_with_the_opening(
    runner: CaseRunner,
) -> None:
    """The notice arrives in the case's first workflow task: the opening waits for it and both
    go on record by one activity, which the notice's answer waited for alone. Before, the
    notice waited for the opening's record, then for its own (two activities in a row)."""
    notice = InvestigationNoticeInput(actor=CLERK, published_on=OPENED)
    h, outcome = await _start_with_notice(runner, regular_case("open-with"), notice)
    assert isinstance(outcome, StepOutcome), outcome
    assert outcome.update == "record_investigation_notice"
    state = await waiting_on(runner, h, CaseStage.INSPECTION)
    events = (await h.fetch_history()).events
    late = ["deadline", "overdue", "escalation"]
    assert _batches(events) == [
        ["opened", "eligibility", "transition", *late, "input", "transition"],
        late,
    ]
    # the notice's answer came after the one record: its update completed before the next
    kinds = [e.event_type for e in events]
    completed = kinds.index(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED)
    first_done = kinds.index(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
    assert first_done < completed
    assert kinds[:completed].count(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) == 1
    assert _case_upserts(events) == 1  # the wait on the inspection, with its deadline
    recorded = await runner.events("open-with")
    assert [e.seq for e in recorded] == list(range(1, len(recorded) + 1))
    assert [e.kind for e in recorded[:3]] == ["opened", "eligibility", "transition"]
    assert state.events_recorded == len(recorded)
    row = await runner.row("open-with")
    assert row is not None and row.stage == CaseStage.INSPECTION.value
    await h.terminate("test finished")


def _local_reads_before_the_first_record(events: Sequence[HistoryEvent]) -> list[str]:
    """The activity types of the local activities the case ran before its first recording."""
    kinds = [e.event_type for e in events]
    first = kinds.index(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
    return local_activity_types(events[:first])


async def test_the_notices_window_is_read_from_the_calendar_at_once(runner: CaseRunner) -> None:
    """The investigation notice's earliest and latest day for inspection come from one read
    of the calendar (patch "notice-window-in-one-read"), the same days two reads gave: the
    case's first workflow task runs three local activities where it ran four."""
    notice = investigation_notice()
    h, outcome = await _start_with_notice(runner, regular_case("open-window"), notice)
    assert isinstance(outcome, StepOutcome), outcome
    state = await waiting_on(runner, h, CaseStage.INSPECTION)
    reads = _local_reads_before_the_first_record((await h.fetch_history()).events)
    assert reads == ["load_policy", "schedule_step", "working_days_ends"]
    window = read_policy(DEFAULT_POLICY).policy.investigation_notice
    calendar, day_after = CalendarActivities(None), notice.published_on + timedelta(days=1)
    each = [
        await calendar.working_days_end(WorkingDaysInput(start_on=day_after, working_days=days))
        for days in (
            window.min_working_days_before_inspection,
            window.max_working_days_before_inspection,
        )
    ]
    assert each[0].end_on < each[1].end_on
    assert state.dates["inspection_window_start"] == each[0].end_on
    assert state.dates["inspection_window_end"] == each[1].end_on
    await h.terminate("test finished")


async def test_a_case_opened_with_its_notice_runs_to_its_appointment(runner: CaseRunner) -> None:
    """The whole regular path with the notice sent with the start (the saved histories
    ``case_began_under_baseline_4`` and ``_5`` are this case): every event on record once, in
    order."""
    h, outcome = await _start_with_notice(runner, regular_case("open-full"), investigation_notice())
    assert isinstance(outcome, StepOutcome), outcome
    state = await inspect(runner, h, ["p1", "p2"], ["p1"], notice_sent=True)
    assert state.stage is CaseStage.VOTE
    await finish_notice_and_appoint(runner, h, ["p1"])
    final = await h.result()
    assert final.status is CaseStatus.APPOINTED
    recorded = await runner.events("open-full")
    assert [e.seq for e in recorded] == list(range(1, len(recorded) + 1))
    assert final.events_recorded == len(recorded)
    notices = [e for e in recorded if e.kind == "input" and "考察预告" in e.summary]
    assert len(notices) == 1
    first = _batches((await h.fetch_history()).events)[0]
    assert first[0] == "opened" and first[-2:] == ["input", "transition"]


async def test_a_refused_step_sent_with_the_start_leaves_the_opening_recorded_alone(
    runner: CaseRunner,
) -> None:
    """A notice dated before the case opened is refused under the case's lock: the opening
    held for it goes on record by itself, and the case waits on the notice as before."""
    early = InvestigationNoticeInput(actor=CLERK, published_on=OPENED - timedelta(days=1))
    h, refused = await _start_with_notice(runner, regular_case("open-refused-step"), early)
    assert isinstance(refused, WorkflowUpdateFailedError), refused
    assert isinstance(refused.cause, ApplicationError)
    assert refused.cause.type == "RuleViolation"
    state = await waiting_on(runner, h, CaseStage.INVESTIGATION_NOTICE)
    events = (await h.fetch_history()).events
    assert _batches(events) == [
        ["opened", "eligibility", "transition", "deadline", "overdue", "escalation"]
    ]
    recorded = await runner.events("open-refused-step")
    assert [e.kind for e in recorded] == _batches(events)[0]
    assert state.events_recorded == len(recorded)
    # the case takes the notice once it is right
    notice = InvestigationNoticeInput(actor=CLERK, published_on=OPENED)
    await runner.update(h, "record_investigation_notice", notice)
    await waiting_on(runner, h, CaseStage.INSPECTION)
    await h.terminate("test finished")


async def test_a_refused_policy_fails_the_case_at_once_and_records_nothing(
    time_env, session_factory, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path, reminder_hour=99)
    async with case_runner(time_env, session_factory, policy=policy) as r:
        h = await r.start(regular_case("open-refused"))
        with pytest.raises(WorkflowFailureError) as failed:
            await h.result()
        # (the SDK hands a local activity's failure over as it is, not inside an ActivityError)
        refusal = failed.value.cause
        assert isinstance(refusal, ApplicationError), refusal
        assert refusal.type == "PolicyInvalid" and "reminder_hour" in refusal.message
        assert "不能大于 23" in refusal.message  # the policy's own reason, in Chinese
        assert await r.events("open-refused") == []
        assert await r.row("open-refused") is None
