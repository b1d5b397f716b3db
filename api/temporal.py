"""The API's conversation with the case workflows: the gateway's calls (``gateway.cases``),
each of its domain errors turned into an ``ApiError``: a rule's refusal keeps its sentence,
its rule's code and the source the code stands for (409); a role the step is not for is 403;
an unknown case is 404; a silent worker or server is 503.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from pydantic import BaseModel
from temporalio.client import Client, WorkflowUpdateFailedError

from api.errors import ApiError
from gateway import cases
from gateway.cases import MAX_INPUT_BYTES, QUERY_WAIT, UPDATE_WAIT, first_state, query_state
from gateway.errors import (
    TEMPORAL_UNREACHABLE,
    BadRequest,
    CaseEnded,
    CaseExists,
    GatewayError,
    NoSuchCase,
    NotPermitted,
    NoWorker,
    Refused,
    TooLarge,
    Unreachable,
)
from workflows.rules.sources import source
from workflows.step_outcome import StepOutcome
from workflows.types import CaseInput, CaseState

__all__ = [
    "MAX_INPUT_BYTES",
    "QUERY_WAIT",
    "UPDATE_WAIT",
    "answer",
    "api_error",
    "check_size",
    "connect_error",
    "execute_update",
    "first_state",
    "query_state",
    "refusal_error",
    "start_case",
    "state_after",
    "unreachable",
]

T = TypeVar("T")

STATUS: dict[type[GatewayError], int] = {
    Refused: 409,
    NotPermitted: 403,
    NoSuchCase: 404,
    CaseEnded: 409,
    CaseExists: 409,
    TooLarge: 413,
    BadRequest: 422,
    Unreachable: 503,
    NoWorker: 503,
}


def api_error(error: GatewayError) -> ApiError:
    if isinstance(error, Unreachable):
        return unreachable(error.message)
    rule = getattr(error, "rule", "")
    status = STATUS[type(error)]
    return ApiError(status, error.message, source(rule) if rule else "", code=rule or error.code)


async def answer(call: Awaitable[T]) -> T:
    """What one of the gateway's calls returns; its failure as an ``ApiError``."""
    try:
        return await call
    except GatewayError as exc:
        raise api_error(exc) from exc


def unreachable(detail: str) -> ApiError:
    return ApiError(503, f"{TEMPORAL_UNREACHABLE}：{detail}", code=Unreachable.code)


def refusal_error(exc: WorkflowUpdateFailedError) -> ApiError:
    """A workflow's refusal of an update (a case's or a probation's) as an answer."""
    return api_error(cases.refusal(exc))


def connect_error(exc: RuntimeError) -> ApiError:
    return api_error(cases.connect_problem(exc))


def check_size(what: str, arg: BaseModel) -> None:
    """413 before anything is sent when ``arg`` would be too large a payload for Temporal."""
    try:
        cases.check_size(what, arg)
    except TooLarge as exc:
        raise api_error(exc) from exc


async def start_case(client: Client, task_queue: str, case: CaseInput) -> str:
    try:
        return await cases.start_case(client, task_queue, case)
    except GatewayError as exc:
        raise api_error(exc) from exc


async def execute_update(client: Client, case_id: str, update: str, arg: BaseModel) -> StepOutcome:
    try:
        return await cases.execute_update(client, case_id, update, arg)
    except GatewayError as exc:
        raise api_error(exc) from exc


async def state_after(client: Client, case_id: str, update: str, arg: BaseModel) -> CaseState:
    try:
        return await cases.state_after(client, case_id, update, arg)
    except GatewayError as exc:
        raise api_error(exc) from exc
