"""The capability test's and the double evaluation's workflows through Temporal, for every
front end: start a campaign or an evaluation, record a retest score, a handling decision and
a removal case's vote, and read where each stands. Temporal's failures come out as
``gateway.errors``, as a case's do.

Who records a step is the policy's word (``cadre.capability_test.retest_roles``, …, as the
workflow started with it): the workflow's validator refuses any other role, which comes out
as ``NotPermitted``, and its other rules as ``Refused``; nothing refused enters the history.
The doors check an input before starting it with the workflows' own pure checks
(``gateway.cadre_checks``); the workflow checks it again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

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

from gateway.cases import (
    QUERY_WAIT,
    UPDATE_WAIT,
    check_size,
    connect_problem,
    no_worker,
    refusal,
)
from gateway.errors import BadRequest, CaseEnded, CaseExists, NoSuchCase, Refused, Unreachable
from workflows.capability_campaign import CapabilityCampaignWorkflow
from workflows.capability_retest import CapabilityRetestWorkflow
from workflows.capability_types import (
    CampaignState,
    CapabilityCampaignInput,
    HandlingInput,
    RetestInput,
    RetestState,
)
from workflows.double_evaluation import DoubleEvaluationWorkflow
from workflows.double_evaluation_types import (
    DoubleEvaluationInput,
    EvaluationState,
    RemovalState,
    RemovalVoteInput,
)
from workflows.ids import (
    capability_campaign_workflow_id,
    capability_retest_workflow_id,
    double_evaluation_workflow_id,
    removal_case_workflow_id,
)
from workflows.removal_case import RemovalCaseWorkflow

T = TypeVar("T")


def campaign_name(campaign_id: str) -> str:
    return f"能力测试 {campaign_id}"


def retest_name(campaign_id: str, person_id: str) -> str:
    return f"能力测试 {campaign_id} 中 {person_id} 的补测"


def evaluation_name(evaluation_id: str) -> str:
    return f"双重考核 {evaluation_id}"


def removal_name(evaluation_id: str, person_id: str) -> str:
    return f"双重考核 {evaluation_id} 中 {person_id} 的降免职案件"


async def _has_ended(client: Client, workflow_id: str) -> bool:
    try:
        described = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise Unreachable(exc.message) from exc
    return described.status not in (None, WorkflowExecutionStatus.RUNNING)


async def _call(client: Client, workflow_id: str, about: str, call: Awaitable[T]) -> T:
    """One call to a cadre workflow, Temporal's failures as ``gateway.errors``."""
    try:
        return await asyncio.wait_for(call, UPDATE_WAIT.total_seconds())
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


async def _started(about: str, start: Awaitable[WorkflowHandle[Any, Any]]) -> str:
    """The workflow ID of a workflow just started, Temporal's refusals as ``gateway.errors``;
    a second start under one ID (the key of a campaign or an evaluation) is ``CaseExists``."""
    try:
        handle = await start
    except WorkflowAlreadyStartedError as exc:
        raise CaseExists(f"{about}已经存在（编号不能重复使用）") from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.INVALID_ARGUMENT:
            raise BadRequest(f"Temporal 拒绝了对{about}的请求：{exc.message}") from exc
        raise Unreachable(exc.message) from exc
    except RuntimeError as exc:
        raise connect_problem(exc) from exc
    return handle.id


# --------------------------------------------------------------------------- capability test


async def start_campaign(client: Client, task_queue: str, data: CapabilityCampaignInput) -> str:
    """Start a campaign; its workflow ID, from the campaign's id (never used twice)."""
    about = campaign_name(data.campaign_id)
    check_size(about, data)
    start = client.start_workflow(
        CapabilityCampaignWorkflow.run,
        data,
        id=capability_campaign_workflow_id(data.campaign_id),
        task_queue=task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    return await _started(about, start)


async def campaign_state(client: Client, campaign_id: str) -> CampaignState | None:
    """The campaign's state; None while it is still reading its policy."""
    workflow_id = capability_campaign_workflow_id(campaign_id)
    handle = client.get_workflow_handle(workflow_id)
    call = handle.query(CapabilityCampaignWorkflow.state, rpc_timeout=QUERY_WAIT)
    return await _call(client, workflow_id, campaign_name(campaign_id), call)


async def retest_state(client: Client, campaign_id: str, person_id: str) -> RetestState:
    workflow_id = capability_retest_workflow_id(campaign_id, person_id)
    handle = client.get_workflow_handle(workflow_id)
    call = handle.query(CapabilityRetestWorkflow.state, rpc_timeout=QUERY_WAIT)
    return await _call(client, workflow_id, retest_name(campaign_id, person_id), call)


async def record_retest(
    client: Client, campaign_id: str, person_id: str, data: RetestInput
) -> RetestState:
    """补测成绩; the cadre's state after it."""
    workflow_id = capability_retest_workflow_id(campaign_id, person_id)
    handle = client.get_workflow_handle(workflow_id)
    call = handle.execute_update(CapabilityRetestWorkflow.record_retest, data)
    return await _call(client, workflow_id, retest_name(campaign_id, person_id), call)


async def record_handling(
    client: Client, campaign_id: str, person_id: str, data: HandlingInput
) -> RetestState:
    """组织处理决定; the cadre's state after it."""
    workflow_id = capability_retest_workflow_id(campaign_id, person_id)
    handle = client.get_workflow_handle(workflow_id)
    call = handle.execute_update(CapabilityRetestWorkflow.record_handling, data)
    return await _call(client, workflow_id, retest_name(campaign_id, person_id), call)


# --------------------------------------------------------------------------- double evaluation


async def start_evaluation(client: Client, task_queue: str, data: DoubleEvaluationInput) -> str:
    """Start a double evaluation; its workflow ID, from the evaluation's id."""
    about = evaluation_name(data.evaluation_id)
    check_size(about, data)
    start = client.start_workflow(
        DoubleEvaluationWorkflow.run,
        data,
        id=double_evaluation_workflow_id(data.evaluation_id),
        task_queue=task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    return await _started(about, start)


async def evaluation_state(client: Client, evaluation_id: str) -> EvaluationState | None:
    """The evaluation's state; None while it is still reading its policy."""
    workflow_id = double_evaluation_workflow_id(evaluation_id)
    handle = client.get_workflow_handle(workflow_id)
    call = handle.query(DoubleEvaluationWorkflow.state, rpc_timeout=QUERY_WAIT)
    return await _call(client, workflow_id, evaluation_name(evaluation_id), call)


async def removal_state(client: Client, evaluation_id: str, person_id: str) -> RemovalState:
    workflow_id = removal_case_workflow_id(evaluation_id, person_id)
    handle = client.get_workflow_handle(workflow_id)
    call = handle.query(RemovalCaseWorkflow.state, rpc_timeout=QUERY_WAIT)
    return await _call(client, workflow_id, removal_name(evaluation_id, person_id), call)


async def record_removal_vote(
    client: Client, evaluation_id: str, person_id: str, data: RemovalVoteInput
) -> RemovalState:
    """常委会票决结果; the removal case's state after it."""
    workflow_id = removal_case_workflow_id(evaluation_id, person_id)
    handle = client.get_workflow_handle(workflow_id)
    call = handle.execute_update(RemovalCaseWorkflow.record_vote, data)
    return await _call(client, workflow_id, removal_name(evaluation_id, person_id), call)
