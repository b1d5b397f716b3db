"""How the gateway calls one of the cadre work's workflows (a capability test, a double
evaluation, their retests and removal cases, a rotation batch) under its workflow ID: start
it, query it, send it an update; Temporal's failures come out as ``gateway.errors``, each
naming the workflow as a clerk knows it (``about``, e.g. ``交流批次 B1``).

A second start under one ID (the key of a campaign, an evaluation or a batch) is
``CaseExists``; a workflow not found is ``CaseEnded`` when it is there and closed, else
``NoSuchCase``; a silent worker is ``NoWorker``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from gateway.cases import QUERY_WAIT, UPDATE_WAIT, check_size, connect_problem, no_worker, refusal
from gateway.errors import BadRequest, CaseEnded, CaseExists, NoSuchCase, Refused, Unreachable

T = TypeVar("T")
I = TypeVar("I", bound=BaseModel)  # noqa: E741 - a workflow's or an update's input


async def _has_ended(client: Client, workflow_id: str) -> bool:
    try:
        described = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise Unreachable(exc.message) from exc
    return described.status not in (None, WorkflowExecutionStatus.RUNNING)


async def call(client: Client, workflow_id: str, about: str, sent: Awaitable[T]) -> T:
    """One call to a running workflow, Temporal's failures as ``gateway.errors``."""
    try:
        return await asyncio.wait_for(sent, UPDATE_WAIT.total_seconds())
    except WorkflowUpdateFailedError as exc:
        raise refusal(exc) from exc
    except (WorkflowQueryFailedError, WorkflowQueryRejectedError) as exc:
        raise Refused(str(exc)) from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.INVALID_ARGUMENT:
            raise BadRequest(f"Temporal 拒绝了对{about}的请求：{exc.message}") from exc
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise Unreachable(exc.message) from exc
        if await _has_ended(client, workflow_id):
            raise CaseEnded(f"{about}已经结束，不能再登记任何事项") from exc
        raise NoSuchCase(f"没有{about}") from exc
    except RuntimeError as exc:
        raise connect_problem(exc) from exc
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
        raise no_worker(about, about) from exc


async def start(
    client: Client,
    task_queue: str,
    about: str,
    run: Callable[[Any, I], Awaitable[Any]],
    data: I,
    workflow_id: str,
) -> str:
    """Start ``run`` with ``data`` under ``workflow_id`` (never used twice; the input checked
    for its size first); the workflow ID."""
    check_size(about, data)
    try:
        handle: WorkflowHandle[Any, Any] = await client.start_workflow(
            run,
            data,
            id=workflow_id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError as exc:
        raise CaseExists(f"{about}已经存在（编号不能重复使用）") from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.INVALID_ARGUMENT:
            raise BadRequest(f"Temporal 拒绝了对{about}的请求：{exc.message}") from exc
        raise Unreachable(exc.message) from exc
    except RuntimeError as exc:
        raise connect_problem(exc) from exc
    return handle.id


async def query(client: Client, workflow_id: str, about: str, state: Callable[[Any], T]) -> T:
    """The answer of the workflow's query ``state``."""
    handle = client.get_workflow_handle(workflow_id)
    return await call(client, workflow_id, about, handle.query(state, rpc_timeout=QUERY_WAIT))


async def update(
    client: Client,
    workflow_id: str,
    about: str,
    step: UpdateMethodMultiParam[[Any, I], T],
    data: I,
) -> T:
    """Send the update ``step`` with ``data``; the update's answer."""
    handle = client.get_workflow_handle(workflow_id)
    return await call(client, workflow_id, about, handle.execute_update(step, data))
