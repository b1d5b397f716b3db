"""The capability test (能力测试) and the double evaluation (双重考核), as ``appointments
capability …`` and ``appointments evaluation …`` and the console's pages do them: list, start
(the input checked with the policy in force before anything starts), read one with its
cadres' retests or its removal cases, record a retest score, a handling decision, a vote.

The caller's account is the actor (``opened_by``, ``actor``). Who may record a step is the
workflow's policy: a role it does not name is refused 403 by the workflow, nothing recorded;
its rules refuse with 409 and the rule.
"""

# No ``from __future__ import annotations``: FastAPI reads each endpoint's body type from
# its signature, and the body types here are made at import time.

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from api import cadre_calls
from api.deps import ServicesDep, SessionDep, actor_of, permit
from api.permissions import (
    READ_CADRE_WORK,
    RECORD_HANDLING,
    RECORD_REMOVAL_VOTE,
    RECORD_RETEST,
    START_CAPABILITY_TEST,
    START_DOUBLE_EVALUATION,
)
from api.schemas import (
    WORKFLOW_ERRORS,
    WORKFLOW_ONE_ERRORS,
    WORKFLOW_STEP_ERRORS,
    IdPath,
    Limit,
    Problem,
    WorkflowStarted,
    completed,
    without,
)
from store import cadre_queries
from store.account_models import Caller
from workflows.capability_types import (
    CampaignState,
    CapabilityCampaignInput,
    HandlingInput,
    RetestInput,
    RetestState,
)
from workflows.double_evaluation_types import (
    DoubleEvaluationInput,
    EvaluationState,
    RankedRow,
    RemovalState,
    RemovalVoteInput,
)

router = APIRouter(tags=["cadre"])

Key = IdPath

CampaignBody = without(CapabilityCampaignInput, "opened_by", "CampaignBody")
EvaluationBody = without(DoubleEvaluationInput, "opened_by", "EvaluationBody")
RetestBody = without(RetestInput, "actor", "RetestBody")
HandlingBody = without(HandlingInput, "actor", "HandlingBody")
RemovalVoteBody = without(RemovalVoteInput, "actor", "RemovalVoteBody")


class OpenedSummary(BaseModel):
    """A campaign or an evaluation as its first event recorded it."""

    chain_id: str
    key: str
    title: str
    held_on: date
    people: int
    opened_by: str
    opened_at: datetime
    finished: bool


class CampaignDetail(BaseModel):
    state: CampaignState | None  # None while the campaign reads its policy
    retests: dict[str, RetestState]
    state_unavailable: str = ""


class EvaluationDetail(BaseModel):
    state: EvaluationState | None
    cases: dict[str, RemovalState]
    state_unavailable: str = ""


def _summaries(rows: list[cadre_queries.Opened]) -> list[OpenedSummary]:
    return [OpenedSummary.model_validate(r, from_attributes=True) for r in rows]


# --------------------------------------------------------------------------- capability test


@router.get(
    "/capability-tests",
    response_model=list[OpenedSummary],
    responses=WORKFLOW_ERRORS,
    summary="List the capability test campaigns, the newest first",
)
async def list_campaigns(
    _: Annotated[Caller, Depends(permit(READ_CADRE_WORK))], session: SessionDep, limit: Limit = 200
) -> list[OpenedSummary]:
    return _summaries(await cadre_queries.campaigns(session, limit))


@router.post(
    "/capability-tests",
    status_code=201,
    response_model=WorkflowStarted,
    responses={**WORKFLOW_ERRORS, 409: {"model": Problem}},
    summary="Start a capability test campaign from its results; the caller opens it",
)
async def start_campaign(
    who: Annotated[Caller, Depends(permit(START_CAPABILITY_TEST))],
    body: CampaignBody,  # type: ignore[valid-type]
    parts: ServicesDep,
) -> WorkflowStarted:
    fields = body.model_dump()  # type: ignore[attr-defined]
    data = completed(CapabilityCampaignInput, fields, opened_by=actor_of(who))
    return WorkflowStarted(workflow_id=await cadre_calls.start_campaign(parts, data))


@router.get(
    "/capability-tests/{campaign_id}",
    response_model=CampaignDetail,
    responses=WORKFLOW_ONE_ERRORS,
    summary="Read a campaign: each cadre's result, each failing cadre's retest",
)
async def get_campaign(
    _: Annotated[Caller, Depends(permit(READ_CADRE_WORK))],
    campaign_id: Key,
    parts: ServicesDep,
) -> CampaignDetail:
    found = await cadre_calls.campaign(parts, campaign_id)
    return CampaignDetail(
        state=found.state, retests=found.retests, state_unavailable=found.unavailable
    )


@router.post(
    "/capability-tests/{campaign_id}/{person_id}/retest",
    response_model=RetestState,
    responses=WORKFLOW_STEP_ERRORS,
    summary="Record a failing cadre's retest score (补测成绩)",
)
async def record_retest(
    who: Annotated[Caller, Depends(permit(RECORD_RETEST))],
    campaign_id: Key,
    person_id: Key,
    body: RetestBody,  # type: ignore[valid-type]
    parts: ServicesDep,
) -> RetestState:
    fields = body.model_dump()  # type: ignore[attr-defined]
    return await cadre_calls.record_retest(parts, who, campaign_id, person_id, fields)


@router.post(
    "/capability-tests/{campaign_id}/{person_id}/handling",
    response_model=RetestState,
    responses=WORKFLOW_STEP_ERRORS,
    summary="Record the department's handling of a cadre who failed the retest (组织处理)",
)
async def record_handling(
    who: Annotated[Caller, Depends(permit(RECORD_HANDLING))],
    campaign_id: Key,
    person_id: Key,
    body: HandlingBody,  # type: ignore[valid-type]
    parts: ServicesDep,
) -> RetestState:
    fields = body.model_dump()  # type: ignore[attr-defined]
    return await cadre_calls.record_handling(parts, who, campaign_id, person_id, fields)


# --------------------------------------------------------------------------- double evaluation


@router.get(
    "/double-evaluations",
    response_model=list[OpenedSummary],
    responses=WORKFLOW_ERRORS,
    summary="List the double evaluations, the newest first",
)
async def list_evaluations(
    _: Annotated[Caller, Depends(permit(READ_CADRE_WORK))], session: SessionDep, limit: Limit = 200
) -> list[OpenedSummary]:
    return _summaries(await cadre_queries.evaluations(session, limit))


def _evaluation(who: Caller, body: Any) -> DoubleEvaluationInput:
    return completed(DoubleEvaluationInput, body.model_dump(), opened_by=actor_of(who))


@router.post(
    "/double-evaluations/preview",
    response_model=list[RankedRow],
    responses={**WORKFLOW_ERRORS, 409: {"model": Problem}},
    summary="The ranking and proposals an evaluation would record, starting nothing",
)
async def preview_evaluation(
    who: Annotated[Caller, Depends(permit(START_DOUBLE_EVALUATION))],
    body: EvaluationBody,  # type: ignore[valid-type]
    parts: ServicesDep,
) -> list[RankedRow]:
    return await cadre_calls.preview_evaluation(parts, _evaluation(who, body))


@router.post(
    "/double-evaluations",
    status_code=201,
    response_model=WorkflowStarted,
    responses={**WORKFLOW_ERRORS, 409: {"model": Problem}},
    summary="Start a double evaluation from both tallies; the caller opens it",
)
async def start_evaluation(
    who: Annotated[Caller, Depends(permit(START_DOUBLE_EVALUATION))],
    body: EvaluationBody,  # type: ignore[valid-type]
    parts: ServicesDep,
) -> WorkflowStarted:
    return WorkflowStarted(
        workflow_id=await cadre_calls.start_evaluation(parts, _evaluation(who, body))
    )


@router.get(
    "/double-evaluations/{evaluation_id}",
    response_model=EvaluationDetail,
    responses=WORKFLOW_ONE_ERRORS,
    summary="Read an evaluation: the ranking, the proposals and each removal case",
)
async def get_evaluation(
    _: Annotated[Caller, Depends(permit(READ_CADRE_WORK))],
    evaluation_id: Key,
    parts: ServicesDep,
) -> EvaluationDetail:
    found = await cadre_calls.evaluation(parts, evaluation_id)
    return EvaluationDetail(
        state=found.state, cases=found.cases, state_unavailable=found.unavailable
    )


@router.post(
    "/double-evaluations/{evaluation_id}/{person_id}/vote",
    response_model=RemovalState,
    responses=WORKFLOW_STEP_ERRORS,
    summary="Record the standing committee's vote on a proposed leader (常委会票决)",
)
async def record_removal_vote(
    who: Annotated[Caller, Depends(permit(RECORD_REMOVAL_VOTE))],
    evaluation_id: Key,
    person_id: Key,
    body: RemovalVoteBody,  # type: ignore[valid-type]
    parts: ServicesDep,
) -> RemovalState:
    fields = body.model_dump()  # type: ignore[attr-defined]
    return await cadre_calls.record_removal_vote(parts, who, evaluation_id, person_id, fields)
