"""Extension requests (延期申请) through the API: file one for a case's awaited step, list a
case's, list those waiting for the caller's decision, and approve, refuse or withdraw one.

Every route calls the one service (``gateway.extension_requests``) that the console and the
command line call too; who the requester and the approver are comes from the caller's
token, never from the body.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel

from api.deps import ServicesDep, SessionDep, actor_of, permit
from api.permissions import DECIDE_EXTENSION, READ_CASES, REQUEST_EXTENSION
from api.routers.cases import ERRORS, CaseId
from api.schemas import Malformed, Problem
from api.temporal import answer
from gateway import extension_requests as service
from store.account_models import Caller
from store.extension_requests import PendingRow, RequestRow, requests_of_case
from workflows.rules.working_days import SHANGHAI
from workflows.types import CaseState, Role

router = APIRouter(tags=["extension requests"])

RequestId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the request's id")]
RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    403: {"model": Problem, "description": "the role may not, or the policy does not name it"},
    404: {"model": Problem},
    409: {"model": Problem, "description": "refused by a rule, or decided already"},
    422: {"model": Malformed},
}


class ExtensionRequestOut(BaseModel):
    id: int
    case_id: str
    step: str
    step_started_on: date
    deadline_before: datetime
    working_days: int
    reason: str
    requested_by: str
    requested_role: Role
    requested_at: datetime
    decision: str | None  # approved / refused / withdrawn / lapsed; None while it waits
    decided_by: str | None
    decided_role: Role | None
    decided_at: datetime | None
    decision_reason: str
    deadline_after: datetime | None

    @classmethod
    def of(cls, row: RequestRow) -> ExtensionRequestOut:
        fields = {name: getattr(row, name) for name in cls.model_fields}
        fields["decision"] = row.decision.value if row.decision else None
        return cls.model_validate(fields)


class PendingOut(ExtensionRequestOut):
    unit: str
    post: str
    step_moved_on: bool  # the listing no longer shows the step awaited: approving lapses it

    @classmethod
    def of_pending(cls, row: PendingRow) -> PendingOut:
        base = ExtensionRequestOut.of(row.request).model_dump()
        return cls(**base, unit=row.unit, post=row.post, step_moved_on=row.step_moved_on)


class ApprovalOut(BaseModel):
    request: ExtensionRequestOut
    state: CaseState | None


def _door(parts: ServicesDep) -> service.Door:
    return service.Door(parts.sessions, parts.client, parts.settings.policy_file)


def _today() -> date:
    return datetime.now(SHANGHAI).date()


@router.post(
    "/cases/{case_id}/extension-requests",
    response_model=ExtensionRequestOut,
    status_code=201,
    responses=RESPONSES,
    summary="File an extension request for the case's awaited step",
)
async def file_request(
    who: Annotated[Caller, Depends(permit(REQUEST_EXTENSION))],
    case_id: CaseId,
    body: service.ExtensionRequestInput,
    parts: ServicesDep,
) -> ExtensionRequestOut:
    row = await answer(service.file_request(_door(parts), actor_of(who), case_id, body, _today()))
    return ExtensionRequestOut.of(row)


@router.get(
    "/cases/{case_id}/extension-requests",
    response_model=list[ExtensionRequestOut],
    responses=RESPONSES,
    summary="A case's extension requests, newest first",
)
async def case_requests(
    who: Annotated[Caller, Depends(permit(READ_CASES))],
    case_id: CaseId,
    session: SessionDep,
) -> list[ExtensionRequestOut]:
    return [ExtensionRequestOut.of(r) for r in await requests_of_case(session, case_id)]


@router.get(
    "/extension-requests/pending",
    response_model=list[PendingOut],
    responses=RESPONSES,
    summary="Extension requests waiting for the caller's decision",
)
async def pending(
    who: Annotated[Caller, Depends(permit(DECIDE_EXTENSION))],
    parts: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[PendingOut]:
    """All waiting requests when the policy names the caller's role an approver (not their
    own), else none; from the database, no case is asked."""
    rows = await service.pending_for(_door(parts), actor_of(who), limit)
    return [PendingOut.of_pending(r) for r in rows]


@router.post(
    "/extension-requests/{request_id}/approve",
    response_model=ApprovalOut,
    responses=RESPONSES,
    summary="Approve an extension request: the case's deadline moves",
)
async def approve(
    who: Annotated[Caller, Depends(permit(DECIDE_EXTENSION))],
    request_id: RequestId,
    parts: ServicesDep,
) -> ApprovalOut:
    done = await answer(service.approve_request(_door(parts), actor_of(who), request_id, _today()))
    return ApprovalOut(request=ExtensionRequestOut.of(done.request), state=done.state)


@router.post(
    "/extension-requests/{request_id}/refuse",
    response_model=ExtensionRequestOut,
    responses=RESPONSES,
    summary="Refuse an extension request, with a reason",
)
async def refuse(
    who: Annotated[Caller, Depends(permit(DECIDE_EXTENSION))],
    request_id: RequestId,
    body: service.ExtensionDecisionInput,
    parts: ServicesDep,
) -> ExtensionRequestOut:
    row = await answer(service.refuse_request(_door(parts), actor_of(who), request_id, body))
    return ExtensionRequestOut.of(row)


@router.post(
    "/extension-requests/{request_id}/withdraw",
    response_model=ExtensionRequestOut,
    responses=RESPONSES,
    summary="Withdraw one's own extension request while it waits",
)
async def withdraw(
    who: Annotated[Caller, Depends(permit(REQUEST_EXTENSION))],
    request_id: RequestId,
    parts: ServicesDep,
) -> ExtensionRequestOut:
    row = await answer(service.withdraw_request(_door(parts), actor_of(who), request_id))
    return ExtensionRequestOut.of(row)
