"""Calls to a probation's workflow that the HTTP API and the web console share: record a
review or an early end, ask who may, each of Temporal's failures turned into an ``ApiError``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode

from api import temporal
from api.deps import Services, actor_of
from api.errors import ApiError
from api.permissions import END_PROBATION_EARLY, POLICY_ACTIONS, RECORD_PROBATION_REVIEW
from api.schemas import EndEarlyBody, ReviewBody, nul_refusal
from gateway.errors import GatewayError
from gateway.probations import find_probation_id
from store.account_models import Caller
from workflows.probation_types import (
    EndEarlyInput,
    ProbationRoles,
    ProbationState,
    ReviewInput,
)
from workflows.types import Model

# action -> (the workflow's input, the request body: that input without ``actor``)
INPUTS: dict[str, tuple[type[Model], type[Model]]] = {
    RECORD_PROBATION_REVIEW: (ReviewInput, ReviewBody),
    END_PROBATION_EARLY: (EndEarlyInput, EndEarlyBody),
}

T = TypeVar("T")


def whose(case_id: str, person_id: str) -> str:
    return f"the probation of {person_id} in case {case_id}"


def no_such(case_id: str, person_id: str) -> ApiError:
    return ApiError(404, f"no probation of {person_id} in case {case_id}")


async def probation_id_of(client: Client, case_id: str, person_id: str) -> str:
    """The workflow ID of the probation (``gateway.probations``: old probations keep theirs)."""
    try:
        return await find_probation_id(client, case_id, person_id)
    except GatewayError as exc:
        raise temporal.api_error(exc) from exc


async def ask(
    client: Client, workflow_id: str, case_id: str, person_id: str, call: Awaitable[T]
) -> T:
    """One call to a probation's workflow (``workflow_id``), Temporal's failures turned into
    ``ApiError``s."""
    about = whose(case_id, person_id)
    try:
        return await asyncio.wait_for(call, temporal.UPDATE_WAIT.total_seconds())
    except WorkflowUpdateFailedError as exc:
        raise temporal.refusal_error(exc) from exc
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise temporal.unreachable(exc.message) from exc
        if await _has_ended(client, workflow_id):
            raise ApiError(409, f"{about} has ended; nothing can be recorded on it") from exc
        raise no_such(case_id, person_id) from exc
    except RuntimeError as exc:
        raise temporal.connect_error(exc) from exc
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
        raise ApiError(
            503,
            f"{about}: no worker answered within {temporal.UPDATE_WAIT.seconds} s; the step "
            "may still be recorded when it comes back: read the probation before sending again",
        ) from exc


async def _has_ended(client: Client, workflow_id: str) -> bool:
    """Whether the workflow is there and closed (servers say "not found" of an update sent to
    a closed workflow in different words)."""
    try:
        described = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise temporal.unreachable(exc.message) from exc
    return described.status not in (None, WorkflowExecutionStatus.RUNNING)


async def probation_roles(client: Client, case_id: str, person_id: str) -> ProbationRoles | None:
    """Who may record a review and an early end on this probation, by the policy it runs
    under (its ``roles`` query); None while it is still reading its policy."""
    workflow_id = await probation_id_of(client, case_id, person_id)
    handle = client.get_workflow_handle(workflow_id)
    try:
        call = handle.query("roles", result_type=ProbationRoles, rpc_timeout=temporal.QUERY_WAIT)
        roles: ProbationRoles | None = await ask(client, workflow_id, case_id, person_id, call)
    except (WorkflowQueryFailedError, WorkflowQueryRejectedError) as exc:
        raise ApiError(409, str(exc)) from exc
    return roles


async def record_probation_action(
    parts: Services,
    who: Caller,
    action: str,
    case_id: str,
    person_id: str,
    fields: dict[str, Any],
) -> ProbationState:
    """Record ``action`` (a review, an early end) on a probation as ``who``: ``fields`` are
    the update's input without ``actor`` (``ValidationError`` if they do not fit). The
    caller has checked the table (``permit``); the probation's own validator checks the role
    against the policy it runs under (403) with its other rules (409)."""
    update = POLICY_ACTIONS[action]
    input_model, _ = INPUTS[action]
    arg = input_model.model_validate({**fields, "actor": actor_of(who)})
    if refusal := nul_refusal(fields):
        raise ApiError(422, refusal)
    workflow_id = await probation_id_of(parts.client, case_id, person_id)
    handle = parts.client.get_workflow_handle(workflow_id)
    return await ask(
        parts.client,
        workflow_id,
        case_id,
        person_id,
        handle.execute_update(update, arg, result_type=ProbationState),
    )
