"""The API's conversation with the case workflows: start, query, update.

Each function turns Temporal's failures into ``ApiError``s: a rule's refusal keeps its
sentence and its source; an unknown case is 404; a silent worker or server is 503.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import QueryRejectCondition, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import ApiError
from workflows.ids import case_workflow_id
from workflows.steps import NOT_PERMITTED
from workflows.types import CaseInput, CaseState, CaseStatus

WORKFLOW_NAME = "AppointmentCaseWorkflow"
# An update waits for a worker to take it; without one it would wait for ever.
UPDATE_WAIT = timedelta(seconds=60)
QUERY_WAIT = timedelta(seconds=10)
STARTUP_WAIT = timedelta(seconds=5)
STARTUP_POLL_INTERVAL = 0.25  # seconds
# Temporal refuses a payload over 2 MB, and a refused one fails the case's workflow task: an
# input must be well below it before it is sent.
MAX_INPUT_BYTES = 1_500_000


def check_size(what: str, arg: BaseModel) -> None:
    """413 before anything is sent when ``arg`` would be too large a payload for Temporal."""
    size = len(arg.model_dump_json().encode("utf-8"))
    if size > MAX_INPUT_BYTES:
        raise ApiError(
            413,
            f"{what} is {size:,} bytes; at most {MAX_INPUT_BYTES:,} bytes can be sent to a case "
            "at once (Temporal's limit on one input): send fewer rows at a time",
        )


def _unreachable(detail: str) -> ApiError:
    return ApiError(503, f"Temporal cannot be reached or did not answer: {detail}")


def _rpc_problem(exc: RPCError, case_id: str) -> ApiError:
    if exc.status == RPCStatusCode.NOT_FOUND:
        if "completed" in exc.message.lower():
            return ApiError(409, f"case {case_id} has ended; no step can be recorded on it")
        return ApiError(404, f"no case {case_id}")
    if exc.status == RPCStatusCode.INVALID_ARGUMENT:
        return ApiError(422, f"Temporal refused the request for case {case_id}: {exc.message}")
    return _unreachable(exc.message)


def _is_connect_failure(exc: RuntimeError) -> bool:
    # A lazily connected client reports a server it cannot reach as this RuntimeError.
    return str(exc).startswith("Failed client connect")


def _connect_problem(exc: RuntimeError) -> ApiError:
    if not _is_connect_failure(exc):
        raise exc
    return _unreachable(str(exc).splitlines()[0])


def _refusal(exc: WorkflowUpdateFailedError) -> ApiError:
    cause = exc.cause
    if isinstance(cause, ApplicationError) and cause.type == NOT_PERMITTED:
        return ApiError(403, cause.message)
    if isinstance(cause, ApplicationError):
        rule = cause.details[0] if cause.details and isinstance(cause.details[0], str) else ""
        return ApiError(409, cause.message, rule)
    return ApiError(409, str(cause) or type(cause).__name__)


async def start_case(client: Client, task_queue: str, case: CaseInput) -> str:
    """Start the case's workflow; its id, derived from the case id, makes a second start
    of the same case a 409."""
    check_size(f"case {case.case_id}", case)
    try:
        handle = await client.start_workflow(
            WORKFLOW_NAME,
            case,
            id=case_workflow_id(case.case_id),
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError as exc:
        raise ApiError(409, f"case {case.case_id} already exists") from exc
    except RPCError as exc:
        raise _rpc_problem(exc, case.case_id) from exc
    except RuntimeError as exc:
        raise _connect_problem(exc) from exc
    return handle.id


async def execute_update(client: Client, case_id: str, update: str, arg: BaseModel) -> CaseState:
    check_size(f"the input of {update}", arg)
    handle = client.get_workflow_handle(case_workflow_id(case_id))
    try:
        return await asyncio.wait_for(
            handle.execute_update(update, arg, result_type=CaseState),
            UPDATE_WAIT.total_seconds(),
        )
    except WorkflowUpdateFailedError as exc:
        raise _refusal(exc) from exc
    except RPCError as exc:
        raise _rpc_problem(exc, case_id) from exc
    except RuntimeError as exc:
        raise _connect_problem(exc) from exc
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
        raise ApiError(
            503,
            f"case {case_id}: no worker answered within {UPDATE_WAIT.seconds} s; the step may "
            "still be recorded when it comes back: read the case before sending it again",
        ) from exc


async def query_state(
    client: Client, case_id: str, *, open_only: bool = False
) -> tuple[CaseState | None, str]:
    """The live state, or why there is none; (None, "") when Temporal has no such case, or,
    with ``open_only``, when the case is closed: the server then refuses the query at once
    instead of waking a worker to replay a finished case."""
    handle = client.get_workflow_handle(case_workflow_id(case_id))
    try:
        state = await handle.query(
            "state",
            result_type=CaseState,
            rpc_timeout=QUERY_WAIT,
            reject_condition=QueryRejectCondition.NOT_OPEN if open_only else None,
        )
        return state, ""
    except WorkflowQueryRejectedError as exc:
        return None, "" if open_only else str(exc)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None, ""
        if exc.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED) or (
            "timeout" in exc.message.lower()
        ):
            return None, f"no worker answered within {QUERY_WAIT.seconds} s"
        return None, f"Temporal cannot be reached or did not answer: {exc.message}"
    except WorkflowQueryFailedError as exc:
        return None, str(exc)
    except RuntimeError as exc:
        return None, _connect_problem(exc).detail


async def first_state(client: Client, case_id: str) -> tuple[CaseState | None, str]:
    """The state of a case just started, once it has its first step (or after a few
    seconds: the first deadline needs the calendar, read by an activity)."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + STARTUP_WAIT.total_seconds()
    while True:
        state, why = await query_state(client, case_id)
        settled = state is not None and (
            state.step is not None or state.status is not CaseStatus.ACTIVE
        )
        if settled or loop.time() >= give_up:
            return state, why or ("" if state else "the case has not started yet")
        await asyncio.sleep(STARTUP_POLL_INTERVAL)
