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

from temporalio.client import Client

from gateway import workflow_calls
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


def campaign_name(campaign_id: str) -> str:
    return f"能力测试 {campaign_id}"


def retest_name(campaign_id: str, person_id: str) -> str:
    return f"能力测试 {campaign_id} 中 {person_id} 的补测"


def evaluation_name(evaluation_id: str) -> str:
    return f"双重考核 {evaluation_id}"


def removal_name(evaluation_id: str, person_id: str) -> str:
    return f"双重考核 {evaluation_id} 中 {person_id} 的降免职案件"


# --------------------------------------------------------------------------- capability test


async def start_campaign(client: Client, task_queue: str, data: CapabilityCampaignInput) -> str:
    """Start a campaign; its workflow ID, from the campaign's id (never used twice)."""
    return await workflow_calls.start(
        client,
        task_queue,
        campaign_name(data.campaign_id),
        CapabilityCampaignWorkflow.run,
        data,
        capability_campaign_workflow_id(data.campaign_id),
    )


async def campaign_state(client: Client, campaign_id: str) -> CampaignState | None:
    """The campaign's state; None while it is still reading its policy."""
    workflow_id = capability_campaign_workflow_id(campaign_id)
    about = campaign_name(campaign_id)
    return await workflow_calls.query(client, workflow_id, about, CapabilityCampaignWorkflow.state)


async def retest_state(client: Client, campaign_id: str, person_id: str) -> RetestState:
    workflow_id = capability_retest_workflow_id(campaign_id, person_id)
    about = retest_name(campaign_id, person_id)
    return await workflow_calls.query(client, workflow_id, about, CapabilityRetestWorkflow.state)


async def record_retest(
    client: Client, campaign_id: str, person_id: str, data: RetestInput
) -> RetestState:
    """补测成绩; the cadre's state after it."""
    workflow_id = capability_retest_workflow_id(campaign_id, person_id)
    about = retest_name(campaign_id, person_id)
    step = CapabilityRetestWorkflow.record_retest
    return await workflow_calls.update(client, workflow_id, about, step, data)


async def record_handling(
    client: Client, campaign_id: str, person_id: str, data: HandlingInput
) -> RetestState:
    """组织处理决定; the cadre's state after it."""
    workflow_id = capability_retest_workflow_id(campaign_id, person_id)
    about = retest_name(campaign_id, person_id)
    step = CapabilityRetestWorkflow.record_handling
    return await workflow_calls.update(client, workflow_id, about, step, data)


# --------------------------------------------------------------------------- double evaluation


async def start_evaluation(client: Client, task_queue: str, data: DoubleEvaluationInput) -> str:
    """Start a double evaluation; its workflow ID, from the evaluation's id."""
    return await workflow_calls.start(
        client,
        task_queue,
        evaluation_name(data.evaluation_id),
        DoubleEvaluationWorkflow.run,
        data,
        double_evaluation_workflow_id(data.evaluation_id),
    )


async def evaluation_state(client: Client, evaluation_id: str) -> EvaluationState | None:
    """The evaluation's state; None while it is still reading its policy."""
    workflow_id = double_evaluation_workflow_id(evaluation_id)
    about = evaluation_name(evaluation_id)
    return await workflow_calls.query(client, workflow_id, about, DoubleEvaluationWorkflow.state)


async def removal_state(client: Client, evaluation_id: str, person_id: str) -> RemovalState:
    workflow_id = removal_case_workflow_id(evaluation_id, person_id)
    about = removal_name(evaluation_id, person_id)
    return await workflow_calls.query(client, workflow_id, about, RemovalCaseWorkflow.state)


async def record_removal_vote(
    client: Client, evaluation_id: str, person_id: str, data: RemovalVoteInput
) -> RemovalState:
    """常委会票决结果; the removal case's state after it."""
    workflow_id = removal_case_workflow_id(evaluation_id, person_id)
    about = removal_name(evaluation_id, person_id)
    step = RemovalCaseWorkflow.record_vote
    return await workflow_calls.update(client, workflow_id, about, step, data)
