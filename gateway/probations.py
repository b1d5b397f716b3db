"""The probations' workflows through Temporal, for every front end: finding one from its
business key (case, person), probations started under the old form of ID included
(``workflows.ids``), sending it a step and asking it its state or its roles, Temporal's
failures as ``gateway.errors``.

A probation runs under ``probation_workflow_id(case, person)``; one started before IDs were
made unambiguous runs, for the rest of its year, under ``legacy_probation_workflow_id``,
which two pairs can share (case ``A-B``/person ``1`` and case ``A``/person ``B-1``). So the
old ID is used only when Temporal has no workflow under the new one, and only when the
probation found under the old one was started for this very pair: its recorded input (the
first event of its run) names its case and person. Telling the pairs apart by the ID's text
alone would not do: ``C-1``/``P7`` is as common a pair as any, and its old ID is ambiguous.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from pydantic import BaseModel
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode

from gateway.cases import QUERY_WAIT, UPDATE_WAIT, connect_problem, no_worker, refusal
from gateway.errors import CaseEnded, NoSuchCase, Refused, Unreachable
from workflows.appointment_case import PROBATION_WORKFLOW_NAME
from workflows.ids import legacy_probation_workflow_id, probation_workflow_id
from workflows.probation_types import ProbationInput, ProbationRoles, ProbationState

T = TypeVar("T")


async def find_probation_id(client: Client, case_id: str, person_id: str) -> str:
    """The ID the probation of ``person_id`` in ``case_id`` runs (or ran) under: the current
    one, unless Temporal has none under it and the one under the old ID is this pair's. With
    neither, the current ID (a call to it then says "not found"). ``Unreachable`` when
    Temporal does not answer."""
    current = probation_workflow_id(case_id, person_id)
    try:
        if await _exists(client, current):
            return current
        legacy = legacy_probation_workflow_id(case_id, person_id)
        if await _started_for(client, legacy, case_id, person_id):
            return legacy
    except RPCError as exc:
        raise Unreachable(exc.message) from exc
    except RuntimeError as exc:
        raise connect_problem(exc) from exc
    return current


async def _exists(client: Client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


async def _started_for(client: Client, workflow_id: str, case_id: str, person_id: str) -> bool:
    """Whether the newest run under ``workflow_id`` is a probation of (case, person)."""
    events = client.get_workflow_handle(workflow_id).fetch_history_events(page_size=1)
    try:
        first = await anext(events, None)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    if first is None or first.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        return False
    started = first.workflow_execution_started_event_attributes
    if started.workflow_type.name != PROBATION_WORKFLOW_NAME:
        return False
    try:
        [recorded] = await client.data_converter.decode(started.input.payloads, [ProbationInput])
    except ValueError:  # not a probation's input as this code reads one
        return False
    assert isinstance(recorded, ProbationInput)
    return (recorded.case_id, recorded.person_id) == (case_id, person_id)


def no_probation(case_id: str, person_id: str) -> str:
    return f"案件 {case_id} 中没有 {person_id} 的试用期"


def whose(case_id: str, person_id: str) -> str:
    return f"案件 {case_id} 中 {person_id} 的试用期"


async def _has_ended(client: Client, workflow_id: str) -> bool:
    """Whether the workflow is there and closed (servers say "not found" of an update sent to
    a closed workflow in different words)."""
    try:
        described = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise Unreachable(exc.message) from exc
    return described.status not in (None, WorkflowExecutionStatus.RUNNING)


async def _call(
    client: Client, workflow_id: str, case_id: str, person_id: str, call: Awaitable[T]
) -> T:
    """One call to a probation's workflow, Temporal's failures as ``gateway.errors``."""
    about = whose(case_id, person_id)
    try:
        return await asyncio.wait_for(call, UPDATE_WAIT.total_seconds())
    except WorkflowUpdateFailedError as exc:
        raise refusal(exc) from exc
    except (WorkflowQueryFailedError, WorkflowQueryRejectedError) as exc:
        raise Refused(str(exc)) from exc
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise Unreachable(exc.message) from exc
        if await _has_ended(client, workflow_id):
            raise CaseEnded(f"{about}已经结束，不能再登记任何事项") from exc
        raise NoSuchCase(no_probation(case_id, person_id)) from exc
    except RuntimeError as exc:
        raise connect_problem(exc) from exc
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
        raise no_worker(about, "该试用期") from exc


async def execute_update(
    client: Client, case_id: str, person_id: str, update: str, arg: BaseModel
) -> tuple[str, ProbationState]:
    """Send one step (a review, an early end) to the probation of (case, person); its
    workflow ID and its state after the step."""
    workflow_id = await find_probation_id(client, case_id, person_id)
    handle = client.get_workflow_handle(workflow_id)
    call = handle.execute_update(update, arg, result_type=ProbationState)
    return workflow_id, await _call(client, workflow_id, case_id, person_id, call)


async def query_roles(client: Client, case_id: str, person_id: str) -> ProbationRoles | None:
    """Who may record a review and an early end on this probation, by the policy it runs
    under (its ``roles`` query); None while it is still reading its policy."""
    workflow_id = await find_probation_id(client, case_id, person_id)
    handle = client.get_workflow_handle(workflow_id)
    call = handle.query("roles", result_type=ProbationRoles, rpc_timeout=QUERY_WAIT)
    roles: ProbationRoles | None = await _call(client, workflow_id, case_id, person_id, call)
    return roles


async def query_state(
    client: Client, workflow_id: str, case_id: str, person_id: str
) -> ProbationState:
    """The live state of the probation running under ``workflow_id``."""
    handle = client.get_workflow_handle(workflow_id)
    call = handle.query("state", result_type=ProbationState, rpc_timeout=QUERY_WAIT)
    state: ProbationState = await _call(client, workflow_id, case_id, person_id, call)
    return state
