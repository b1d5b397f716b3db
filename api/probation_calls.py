"""Calls to a probation's workflow that the HTTP API and the web console share: record a
review or an early end, ask who may, each of Temporal's failures turned into an ``ApiError``.
"""

from __future__ import annotations

from typing import Any

from temporalio.client import Client

from api import temporal
from api.deps import Services, actor_of
from api.errors import ApiError
from api.permissions import END_PROBATION_EARLY, POLICY_ACTIONS, RECORD_PROBATION_REVIEW
from api.schemas import EndEarlyBody, ReviewBody, nul_refusal
from gateway import probations
from gateway.errors import GatewayError
from gateway.probations import no_probation
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


def no_such(case_id: str, person_id: str) -> ApiError:
    return ApiError(404, no_probation(case_id, person_id), code="no_such_probation")


async def probation_id_of(client: Client, case_id: str, person_id: str) -> str:
    """The workflow ID of the probation (``gateway.probations``: old probations keep theirs)."""
    try:
        return await probations.find_probation_id(client, case_id, person_id)
    except GatewayError as exc:
        raise temporal.api_error(exc) from exc


async def probation_state(
    client: Client, workflow_id: str, case_id: str, person_id: str
) -> ProbationState:
    try:
        return await probations.query_state(client, workflow_id, case_id, person_id)
    except GatewayError as exc:
        raise temporal.api_error(exc) from exc


async def probation_roles(client: Client, case_id: str, person_id: str) -> ProbationRoles | None:
    """Who may record a review and an early end on this probation (its ``roles`` query)."""
    try:
        return await probations.query_roles(client, case_id, person_id)
    except GatewayError as exc:
        raise temporal.api_error(exc) from exc


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
    try:
        _, state = await probations.execute_update(parts.client, case_id, person_id, update, arg)
    except GatewayError as exc:
        raise temporal.api_error(exc) from exc
    return state
