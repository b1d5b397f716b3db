"""The search attributes a case keeps in Temporal (stage, unit, post, next deadline, overdue)
are right whenever the case waits, though they are upserted only then (patch
"upsert-when-the-case-waits"): after a step that ends the awaited one, the case upserts once
it has the next step's deadline, not in between; a closed case has no deadline. A case begun
now takes its patches by one marker, the baseline's (``workflows.patches``)."""

from __future__ import annotations

import asyncio
import json

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.common import TypedSearchAttributes

from settings import PROJECT_DIR
from tests.workflows.conftest import SETTLE_SECONDS, CaseRunner
from tests.workflows.scenarios import CLERK, inspect, regular_case
from tests.workflows.test_paths import finish_notice_and_appoint
from workflows import search_attributes as sa
from workflows.appointment_case import CASE_BASELINE_5, CASE_BASELINE_5_PATCH, CASE_BASELINES
from workflows.patches import PATCH_MARKER
from workflows.types import CaseStage, CaseState, InvestigationNoticeInput


def shown(
    found: TypedSearchAttributes, state: CaseState
) -> tuple[tuple[object, ...], tuple[object, ...]]:
    """What the attributes say of the awaited step, and what the state says of it."""
    assert state.step is not None
    said = (state.stage.value, state.unit, state.post, state.step.deadline_at, state.step.overdue)
    keys = (sa.CASE_STAGE, sa.CASE_UNIT, sa.CASE_POST, sa.NEXT_DEADLINE, sa.CASE_OVERDUE)
    return tuple(found.get(k) for k in keys), said


async def waiting_on(runner: CaseRunner, h, stage: CaseStage) -> CaseState:
    """The case once it waits on a step of ``stage`` (its deadline set and recorded), and its
    attributes as the case upserted them then: equal to its state, or the test fails."""
    found: tuple[object, ...] = ()
    for _ in range(SETTLE_SECONDS * 20):
        state = await runner.state(h)
        if state.stage is stage and state.step is not None and state.step.deadline_at:
            found, said = shown((await h.describe()).typed_search_attributes, state)
            if found == said:
                return state
        await asyncio.sleep(0.05)
    raise AssertionError(f"the attributes never showed the case waiting on {stage}: {found}")


async def test_the_attributes_are_right_whenever_the_case_waits(runner: CaseRunner) -> None:
    h = await runner.start(regular_case("sa-1", opened_on=None))
    first = await waiting_on(runner, h, CaseStage.INVESTIGATION_NOTICE)
    # the notice ends the step: the next deadline is the only one upserted after it
    await runner.update(
        h,
        "record_investigation_notice",
        InvestigationNoticeInput(actor=CLERK, published_on=first.opened_on),
    )
    await waiting_on(runner, h, CaseStage.INSPECTION)
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
        if e.marker_recorded_event_attributes.marker_name == PATCH_MARKER
    ]
    assert [m for m in markers if CASE_BASELINE_5_PATCH.encode() in m] == markers
    assert len(markers) == 1 and not any(p.encode() in markers[0] for p in CASE_BASELINE_5)


def test_the_readme_names_the_markers_of_every_baseline_the_newest_as_a_new_cases() -> None:
    readme = (PROJECT_DIR / "README.md").read_text("utf-8")
    newest, *earlier = [marker for marker, _ in CASE_BASELINES]
    assert newest == CASE_BASELINE_5_PATCH
    assert (
        f'A case begun now\ncarries one patch marker, `TemporalChangeVersion = "{newest}"`'
        in readme
    )
    assert all(f"`{marker}`" in readme for marker in earlier)
