"""Beside the cases: the inbox of reminders and escalations (read, mark read), the audit
timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import select

from api.deps import ServicesDep, SessionDep, permit
from api.errors import ApiError, no_history
from api.permissions import (
    INBOX_OVERSEERS,
    MARK_INBOX_READ,
    READ_AUDIT,
    READ_INBOX,
    may_mark_read,
)
from api.routers.cases import ERRORS, CaseId
from api.schemas import AuditEntry, InboxMessage, Malformed, Problem
from audit import queries as audit_queries
from store import queries
from store.account_models import Caller
from store.models import InboxMessage as InboxRecord
from workflows.glossary import zh, zh_recorded
from workflows.types import Line, Role

router = APIRouter()

MessageId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the message's id")]


@router.get(
    "/inbox",
    response_model=list[InboxMessage],
    responses={**ERRORS, 422: {"model": Malformed}},
    tags=["inbox"],
    summary="Reminders and escalations, newest first",
)
async def inbox(
    who: Annotated[Caller, Depends(permit(READ_INBOX))],
    session: SessionDep,
    role: Role | None = None,
    case_id: Annotated[Line | None, Query(alias="case", max_length=64)] = None,
    unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[InboxMessage]:
    """Messages to the caller's role; the department head, auditors and administrators may
    name another role."""
    if role is not None and role is not who.role and who.role not in INBOX_OVERSEERS:
        raise ApiError(403, f"{zh(who.role)}只能查阅本角色的待办消息", code="other_role_inbox")
    rows = await queries.inbox(
        session,
        recipient_role=(role or who.role).value,
        case_id=case_id,
        unread_only=unread,
        limit=limit,
    )
    return [InboxMessage.model_validate(r) for r in rows]


@router.post(
    "/inbox/{message_id}/read",
    response_model=InboxMessage,
    responses={**ERRORS, 404: {"model": Problem}, 422: {"model": Malformed}},
    tags=["inbox"],
    summary="Mark a message read (again: no change, it keeps when it was first read)",
)
async def mark_read(
    who: Annotated[Caller, Depends(permit(MARK_INBOX_READ))],
    message_id: MessageId,
    parts: ServicesDep,
) -> InboxMessage:
    """A message to the caller's role; the department head and administrators may mark
    any role's message read (auditors only their own role's: they change nothing)."""
    async with parts.sessions() as session, session.begin():
        query = select(InboxRecord).where(InboxRecord.id == message_id)
        found = await session.scalar(query)
        if found is None:
            raise ApiError(404, f"没有编号为 {message_id} 的消息", code="no_such_message")
        if not may_mark_read(who.role, found.recipient_role):
            raise ApiError(
                403,
                f"消息 {message_id} 是发给{zh_recorded(found.recipient_role)}的："
                f"{zh(who.role)}只能将本角色的消息标为已读",
                code="other_role_message",
            )
        await queries.mark_read(session, message_id)
        found = await session.scalar(query.execution_options(populate_existing=True))
        assert found is not None  # messages are never deleted
        return InboxMessage.model_validate(queries.InboxRow.of(found))


@router.get(
    "/cases/{case_id}/timeline",
    response_model=list[AuditEntry],
    responses={**ERRORS, 404: {"model": Problem}, 422: {"model": Malformed}},
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
        raise no_history(case_id)
    return [AuditEntry.model_validate(e) for e in events]
