"""The search attributes a case keeps in Temporal (stage, unit, post, next deadline, overdue)
are right whenever the case waits, though they are upserted only then (patch
"upsert-when-the-case-waits"): after a step that ends the awaited one, the case upserts once
it has the next step's deadline, not in between; a closed case has no deadline. A case begun
now takes its patches by one marker, the baseline's (``workflows.patches``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest

from tests.workflows.conftest import SETTLE_SECONDS, CaseRunner
from tests.workflows.scenarios import CLERK, inspect, regular_case
from tests.workflows.test_paths import finish_notice_and_appoint
from workflows import search_attributes as sa
from workflows.appointment_case import CASE_BASELINE, CASE_BASELINE_PATCH
from workflows.types import CaseStage, CaseState, InvestigationNoticeInput


async def settled(runner: CaseRunner, h, ready: Callable[[CaseState], bool]) -> CaseState:
    for _ in range(SETTLE_SECONDS * 20):
        state = await runner.state(h)
        if ready(state):
            return state
        await asyncio.sleep(0.05)
    raise AssertionError("the case did not settle")


def waiting_on(stage: CaseStage) -> Callable[[CaseState], bool]:
    return lambda s: s.stage is stage and s.step is not None and s.step.deadline_at is not None


async def attributes_match(h, state: CaseState) -> None:
    found = (await h.describe()).typed_search_attributes
    assert state.step is not None
    assert found.get(sa.CASE_STAGE) == state.stage.value
    assert (found.get(sa.CASE_UNIT), found.get(sa.CASE_POST)) == (state.unit, state.post)
    assert found.get(sa.NEXT_DEADLINE) == state.step.deadline_at
    assert found.get(sa.CASE_OVERDUE) is state.step.overdue


async def test_the_attributes_are_right_whenever_the_case_waits(runner: CaseRunner) -> None:
    h = await runner.start(regular_case("sa-1", opened_on=None))
    first = await settled(runner, h, waiting_on(CaseStage.INVESTIGATION_NOTICE))
    await attributes_match(h, first)
    # the notice ends the step: the next deadline is the only one upserted after it
    await runner.update(
        h,
        "record_investigation_notice",
        InvestigationNoticeInput(actor=CLERK, published_on=first.opened_on),
    )
    inspection = await settled(runner, h, waiting_on(CaseStage.INSPECTION))
    await attributes_match(h, inspection)
    events = (await h.fetch_history()).events
    accepted = next(
        n
        for n, e in enumerate(events)
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    )
    upserted = [
        e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
        for e in events[accepted:]
        if e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
    ]
    assert len(upserted) == 1  # not the new stage first, then its deadline
    await h.terminate("test finished")


async def test_a_closed_case_has_no_deadline_and_one_marker(runner: CaseRunner) -> None:
    h = await runner.start(regular_case("sa-2"))
    await inspect(runner, h, ["p1", "p2"], ["p1"])
    await finish_notice_and_appoint(runner, h, ["p1"])
    await h.result()
    # read raw: the SDK cannot decode the unset deadline the test server keeps as a null
    raw = await runner.env.client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(
            namespace=runner.env.client.namespace, execution=WorkflowExecution(workflow_id=h.id)
        )
    )
    fields = raw.workflow_execution_info.search_attributes.indexed_fields
    found = {k: json.loads(v.data) if v.data else None for k, v in fields.items()}
    assert found[sa.CASE_STAGE.name] == CaseStage.CLOSED.value
    assert found.get(sa.NEXT_DEADLINE.name) is None and found[sa.CASE_OVERDUE.name] is False
    history = await h.fetch_history()
    markers = [
        e.marker_recorded_event_attributes.details["patch-data"].payloads[0].data
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
    ]
    assert [m for m in markers if CASE_BASELINE_PATCH.encode() in m] == markers
    assert len(markers) == 1 and not any(p.encode() in markers[0] for p in CASE_BASELINE)
