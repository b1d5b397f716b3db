"""Reads beside the cases: the inbox of reminders and escalations, the audit timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import SessionDep, permit
from api.errors import ApiError
from api.permissions import INBOX_OVERSEERS, READ_AUDIT, READ_INBOX
from api.routers.cases import ERRORS, CaseId
from api.schemas import AuditEntry, InboxMessage, Problem
from audit import queries as audit_queries
from store import queries
from store.account_models import Caller
from workflows.types import Role

router = APIRouter()


@router.get(
    "/inbox",
    response_model=list[InboxMessage],
    responses=ERRORS,
    tags=["inbox"],
    summary="Reminders and escalations, newest first",
)
async def inbox(
    who: Annotated[Caller, Depends(permit(READ_INBOX))],
    session: SessionDep,
    role: Role | None = None,
    case_id: Annotated[str | None, Query(alias="case", max_length=64)] = None,
    unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[InboxMessage]:
    """Messages to the caller's role; the department head, auditors and administrators may
    name another role."""
    if role is not None and role is not who.role and who.role not in INBOX_OVERSEERS:
        raise ApiError(403, f"the role {who.role.value} may read only its own inbox")
    rows = await queries.inbox(
        session,
        recipient_role=(role or who.role).value,
        case_id=case_id,
        unread_only=unread,
        limit=limit,
    )
    return [InboxMessage.model_validate(r) for r in rows]


@router.get(
    "/cases/{case_id}/timeline",
    response_model=list[AuditEntry],
    responses={**ERRORS, 404: {"model": Problem}},
    tags=["audit"],
    summary="The audit timeline of a case, with its hash chain",
)
async def timeline(
    _: Annotated[Caller, Depends(permit(READ_AUDIT))],
    case_id: CaseId,
    session: SessionDep,
) -> list[AuditEntry]:
    events = await audit_queries.timeline(session, case_id)
    if not events:
        raise ApiError(404, f"no recorded history for case {case_id}")
    return [AuditEntry.model_validate(e) for e in events]
