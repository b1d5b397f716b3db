"""Probations (试用期): list them, read one (live state and recorded history), record the
review (考核) and an early end, as ``appointments probation list|show|review|end-early`` do.

The caller's account is the actor. Who may record a review or an early end is the
probation's own policy (``probation.review_roles`` / ``end_early_roles``, as the probation
started with them; a later policy file does not change a running probation): the
probation's validator refuses a role the policy does not name (403, nothing recorded), and
its other rules (the review window, dates, a second review) with 409 and the rule.
"""

# No ``from __future__ import annotations``: FastAPI reads each endpoint's body type from
# its signature, and the body types here are made at import time.

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import ServicesDep, SessionDep, permit
from api.errors import ApiError, unavailable
from api.permissions import (
    END_PROBATION_EARLY,
    READ_PROBATIONS,
    RECORD_PROBATION_REVIEW,
)
from api.probation_calls import (
    INPUTS,
    no_such,
    probation_id_of,
    probation_state,
    record_probation_action,
)
from api.routers.cases import ERRORS, CaseId
from api.schemas import (
    FIRST_DAY,
    LAST_DAY,
    Limit,
    Malformed,
    Offset,
    OutboxEntry,
    ProbationDetail,
    ProbationEvent,
    ProbationSummary,
    Problem,
)
from store.account_models import Caller
from store.probation_models import (
    Probation,
    ProbationListRow,
    outbox,
    probation_history,
    probation_of,
)
from workflows.ids import probation_workflow_id
from workflows.probation_types import ProbationState, ProbationStatus
from workflows.types import Line, Model

router = APIRouter(prefix="/probations", tags=["probation"])

PersonId = Annotated[Line, Path(min_length=1, max_length=64)]
READ_ERRORS: dict[int | str, dict[str, Any]] = {**ERRORS, 422: {"model": Malformed}}
ONE_ERRORS: dict[int | str, dict[str, Any]] = {**READ_ERRORS, 404: {"model": Problem}}
UPDATE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ONE_ERRORS,
    403: {"model": Problem, "description": "the role may not, or the probation's policy says so"},
    409: {"model": Problem, "description": "refused by a rule, or the probation has ended"},
}


async def _probations(
    session: AsyncSession,
    *,
    status: ProbationStatus | None,
    due_before: date | None,
    person_id: str | None,
    case_id: str | None,
    limit: int,
    offset: int,
) -> list[ProbationListRow]:
    """The listing with the API's filters and paging (``store.probation_models`` has status
    and id only), the nearest end of year first."""
    query = select(Probation)
    if status is not None:
        query = query.where(Probation.status == status.value)
    if due_before is not None:
        query = query.where(Probation.ends_on < due_before)
    if person_id is not None:
        query = query.where(Probation.person_id == person_id)
    if case_id is not None:
        query = query.where(Probation.case_id == case_id)
    query = query.order_by(Probation.ends_on, Probation.probation_id).limit(limit).offset(offset)
    rows = await session.scalars(query.execution_options(populate_existing=True))
    return [ProbationListRow.of(p) for p in rows]


@router.get(
    "",
    response_model=list[ProbationSummary],
    responses=READ_ERRORS,
    summary="List probations, the nearest end of year first",
)
async def list_all(
    _: Annotated[Caller, Depends(permit(READ_PROBATIONS))],
    session: SessionDep,
    status: ProbationStatus | None = None,
    due_before: Annotated[
        date | None,
        Query(ge=FIRST_DAY, le=LAST_DAY, description="only years ending before this day"),
    ] = None,
    person: Annotated[Line | None, Query(max_length=64)] = None,
    case_id: Annotated[Line | None, Query(alias="case", max_length=64)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[ProbationSummary]:
    """Probations matching every filter given, with the review's standing."""
    rows = await _probations(
        session,
        status=status,
        due_before=due_before,
        person_id=person,
        case_id=case_id,
        limit=limit,
        offset=offset,
    )
    return [ProbationSummary.model_validate(r) for r in rows]


@router.get(
    "/{case_id}/{person_id}",
    response_model=ProbationDetail,
    responses=ONE_ERRORS,
    summary="Read a probation: its live state, its history and its mail",
)
async def get_one(
    _: Annotated[Caller, Depends(permit(READ_PROBATIONS))],
    case_id: CaseId,
    person_id: PersonId,
    parts: ServicesDep,
    session: SessionDep,
) -> ProbationDetail:
    # The listing knows the ID the probation runs under (an old probation keeps the old form
    # of ID); before its first event is recorded, only Temporal does.
    row = await probation_of(session, case_id, person_id)
    rows = [row] if row else []
    state: ProbationState | None = None
    why = ""
    if row is not None:
        pid = row.probation_id
    else:
        try:
            pid = await probation_id_of(parts.client, case_id, person_id)
        except ApiError as exc:
            pid, why = probation_workflow_id(case_id, person_id), exc.detail
    history = await probation_history(session, pid)
    mail = await outbox(session, source=pid)
    try:
        if not why:
            state = await probation_state(parts.client, pid, case_id, person_id)
    except ApiError as exc:
        if exc.status != 404:
            why = exc.detail
    if state is None and not rows:
        # with Temporal silent and nothing in the database, whether it exists is unknown
        raise unavailable(why) if why else no_such(case_id, person_id)
    if state is None and not why:
        why = f"Temporal 中没有流程 {pid}"
    return ProbationDetail(
        probation_id=pid,
        state=state,
        state_unavailable=why,
        listing=ProbationSummary.model_validate(rows[0]) if rows else None,
        history=[ProbationEvent.model_validate(e) for e in history],
        mail=[OutboxEntry.model_validate(m) for m in mail],
    )


def _endpoint(action: str) -> Callable[..., Awaitable[ProbationState]]:
    input_model, body_model = INPUTS[action]

    async def record(
        who: Annotated[Caller, Depends(permit(action))],
        case_id: CaseId,
        person_id: PersonId,
        body: body_model,  # type: ignore[valid-type]
        parts: ServicesDep,
    ) -> ProbationState:
        data: Model = body
        return await record_probation_action(
            parts, who, action, case_id, person_id, data.model_dump()
        )

    record.__name__ = action
    record.__doc__ = (input_model.__doc__ or "").strip() or None
    return record


for _action, (_path, _summary) in {
    RECORD_PROBATION_REVIEW: ("review", "Record the review (考核) at the end of the year"),
    END_PROBATION_EARLY: ("end-early", "End the probation early (serious errors)"),
}.items():
    router.add_api_route(
        f"/{{case_id}}/{{person_id}}/{_path}",
        _endpoint(_action),
        methods=["POST"],
        response_model=ProbationState,
        responses=UPDATE_ERRORS,
        summary=_summary,
        operation_id=_action,
    )
