"""A case opens in one round trip to the server (patch "open-in-one-round-trip"): the policy is
read by a local activity, kept in the history as a marker, and the opening with the
eligibility check before inspection is recorded by one activity; the calendar is read locally
too ("calendar-read-locally"); a refused policy still fails the case at once, with its
reasons, recording nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError

from tests.workflows.conftest import CaseRunner, case_runner, write_policy
from tests.workflows.scenarios import regular_case
from tests.workflows.test_search_attributes import waiting_on
from workflows.activity_refs import LOCAL_ACTIVITY_MARKER
from workflows.patches import PATCH_MARKER
from workflows.types import CaseStage


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
    assert markers == [PATCH_MARKER, LOCAL_ACTIVITY_MARKER]  # the baseline, then the policy
    scheduled = events[first_activity].activity_task_scheduled_event_attributes
    assert scheduled.activity_type.name == "record_events"
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
