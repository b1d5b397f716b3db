"""Cases: start one, list and search them, read one (live state and recorded history)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from api import temporal
from api.deps import Services, ServicesDep, SessionDep, actor_of, permit
from api.errors import ApiError, no_case, unavailable
from api.permissions import READ_CASES, START_CASE
from api.schemas import (
    CaseDetail,
    CaseStart,
    CaseSummary,
    Event,
    IdPath,
    Malformed,
    Problem,
    Started,
    completed,
)
from store import queries
from store.account_models import Caller
from store.register_cases import RegisterRefusal, fill_candidates
from workflows.ids import case_workflow_id
from workflows.rules.working_days import SHANGHAI
from workflows.types import CaseInput, CaseStage, CaseStatus, ChainKind, Line, Model

router = APIRouter(prefix="/cases", tags=["cases"])

CaseId = IdPath
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem},
    403: {"model": Problem},
    503: {"model": Problem},
}


@router.post(
    "",
    status_code=201,
    response_model=Started,
    responses={**ERRORS, 409: {"model": Problem}},
    summary="Start a case; the caller's account opens it",
)
async def start_case(
    who: Annotated[Caller, Depends(permit(START_CASE))],
    body: CaseStart,  # type: ignore[valid-type]
    parts: ServicesDep,
) -> Started:
    data: Model = body
    # only what the caller sent: a fact left out is not a fact typed in (register candidates)
    case = completed(CaseInput, data.model_dump(exclude_unset=True), opened_by=actor_of(who))
    case = await from_register(parts, case)
    workflow_id = await temporal.start_case(parts.client, parts.settings.task_queue, case)
    state, why = await temporal.first_state(parts.client, case.case_id)
    return Started(
        case_id=case.case_id, workflow_id=workflow_id, state=state, state_unavailable=why
    )


async def from_register(parts: Services, case: CaseInput) -> CaseInput:
    """The case's register candidates' facts from the register (409 when it contradicts)."""
    try:
        async with parts.sessions() as s:
            return await fill_candidates(s, case, datetime.now(SHANGHAI).date())
    except RegisterRefusal as exc:
        raise ApiError(409, str(exc), code="register_refused") from exc


@router.get(
    "",
    response_model=list[CaseSummary],
    responses={**ERRORS, 422: {"model": Malformed}},
    summary="List cases",
)
async def list_cases(
    _: Annotated[Caller, Depends(permit(READ_CASES))],
    session: SessionDep,
    stage: CaseStage | None = None,
    status: CaseStatus | None = None,
    unit: Annotated[Line | None, Query(max_length=200)] = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    chain: Annotated[
        ChainKind,
        Query(description="appointment cases, or the listing rows of another kind of chain"),
    ] = ChainKind.APPOINTMENT,
) -> list[CaseSummary]:
    """Cases matching every filter given, the nearest deadline first: appointment cases
    unless another kind of chain is asked for."""
    rows = await queries.list_cases(
        session,
        stage=stage.value if stage else None,
        status=status.value if status else None,
        unit=unit,
        overdue=overdue,
        limit=limit,
        offset=offset,
        chain=chain,
    )
    return [CaseSummary.model_validate(r) for r in rows]


@router.get(
    "/{case_id}",
    response_model=CaseDetail,
    responses={**ERRORS, 404: {"model": Problem}},
    summary="Read a case: its live state and its history",
)
async def get_case(
    _: Annotated[Caller, Depends(permit(READ_CASES))],
    case_id: CaseId,
    parts: ServicesDep,
    session: SessionDep,
) -> CaseDetail:
    listing = await queries.get_case(session, case_id)
    history = await queries.case_history(session, case_id)
    state, why = await temporal.query_state(parts.client, case_id)
    if state is None and listing is None:
        # with Temporal silent and nothing in the database, whether it exists is unknown
        raise unavailable(why) if why else no_case(case_id)
    if state is None and not why:
        why = f"Temporal 中没有流程 {case_workflow_id(case_id)}"
    return CaseDetail(
        case_id=case_id,
        state=state,
        state_unavailable=why,
        listing=None if listing is None else CaseSummary.model_validate(listing),
        history=[Event.model_validate(e) for e in history],
    )
