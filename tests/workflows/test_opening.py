"""A case opens in one round trip to the server (patch "open-in-one-round-trip"): the policy is
read by a local activity, kept in the history as a marker, and the opening with the
eligibility check before inspection is recorded by one activity; the calendar is read locally
too ("calendar-read-locally"), and the first step's deadline goes with the opening
("first-deadline-with-the-opening"), so a step sent while the case opens finds it set and goes
first; a refused policy still fails the case at once, with its reasons, recording nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import text
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError

from tests.workflows.conftest import SETTLE_SECONDS, CaseRunner, case_runner, write_policy
from tests.workflows.scenarios import CLERK, OPENED, regular_case
from tests.workflows.test_search_attributes import waiting_on
from workflows import search_attributes as sa
from workflows.activity_refs import LOCAL_ACTIVITY_MARKER
from workflows.patches import PATCH_MARKER
from workflows.types import CaseStage, InvestigationNoticeInput


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
    scheduled = [
        json.loads(e.activity_task_scheduled_event_attributes.input.payloads[0].data)["events"]
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    late = ["deadline", "overdue", "escalation"]
    assert [[e["kind"] for e in batch] for batch in scheduled] == [
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
