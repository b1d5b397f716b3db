"""What the command line and the console read from the database: cases, histories, inboxes.

The listing (``cases``) holds appointment cases and the rows of the audit chains that are not
(``cases.chain``, ``workflows.types.ChainKind``): the case list and the counts by stage give
appointment cases only unless asked for another kind.

Every function takes the caller's ``AsyncSession`` and returns frozen rows, never ORM objects,
so nothing read here can be changed by accident or loaded lazily after the session is gone.
Reads refresh rows the session may already hold (``populate_existing``), so a long-lived
session never shows a stale copy. Nothing here commits: ``mark_read`` changes a row inside
the caller's transaction, and the caller commits its unit of work.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Case, CaseEvent, InboxMessage
from workflows.types import CaseStage, CaseStatus, ChainKind, Role, SelectionMethod


@dataclass(frozen=True, slots=True)
class CaseListRow:
    case_id: str
    unit: str
    post: str
    method: SelectionMethod
    stage: CaseStage
    status: CaseStatus
    outcome_reason: str
    next_deadline: datetime | None
    overdue: bool
    policy_version: str
    probation_required: bool
    opened_on: date
    last_seq: int
    created_at: datetime
    updated_at: datetime
    chain: ChainKind

    @classmethod
    def of(cls, case: Case) -> CaseListRow:
        return cls(
            case_id=case.case_id,
            unit=case.unit,
            post=case.post,
            method=SelectionMethod(case.method),
            stage=CaseStage(case.stage),
            status=CaseStatus(case.status),
            outcome_reason=case.outcome_reason,
            next_deadline=case.next_deadline,
            overdue=case.overdue,
            policy_version=case.policy_version,
            probation_required=case.probation_required,
            opened_on=case.opened_on,
            last_seq=case.last_seq,
            created_at=case.created_at,
            updated_at=case.updated_at,
            chain=ChainKind(case.chain),
        )


@dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    case_id: str
    seq: int
    kind: str
    stage: CaseStage
    occurred_at: datetime
    actor_name: str
    actor_role: Role
    summary: str
    payload: dict[str, Any]
    recorded_at: datetime

    @classmethod
    def of(cls, event: CaseEvent) -> EventRow:
        return cls(
            id=event.id,
            case_id=event.case_id,
            seq=event.seq,
            kind=event.kind,
            stage=CaseStage(event.stage),
            occurred_at=event.occurred_at,
            actor_name=event.actor_name,
            actor_role=Role(event.actor_role),
            summary=event.summary,
            payload=event.payload,
            recorded_at=event.recorded_at,
        )


@dataclass(frozen=True, slots=True)
class InboxRow:
    id: int
    case_id: str
    event_seq: int
    recipient_role: Role
    recipient: str
    subject: str
    body: str
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, message: InboxMessage) -> InboxRow:
        return cls(
            id=message.id,
            case_id=message.case_id,
            event_seq=message.event_seq,
            recipient_role=Role(message.recipient_role),
            recipient=message.recipient,
            subject=message.subject,
            body=message.body,
            created_at=message.created_at,
            read_at=message.read_at,
        )


async def list_cases(
    session: AsyncSession,
    *,
    stage: str | None = None,
    status: str | None = None,
    unit: str | None = None,
    overdue: bool | None = None,
    limit: int = 100,
    offset: int = 0,
    chain: ChainKind = ChainKind.APPOINTMENT,
) -> list[CaseListRow]:
    """Cases matching every filter given, the nearest deadline first, cases without one last:
    appointment cases, or the listing rows of the audit chains of ``chain``."""
    query = select(Case).where(Case.chain == chain.value)
    if stage is not None:
        query = query.where(Case.stage == stage)
    if status is not None:
        query = query.where(Case.status == status)
    if unit is not None:
        query = query.where(Case.unit == unit)
    if overdue is not None:
        query = query.where(Case.overdue.is_(overdue))
    query = (
        query.order_by(Case.next_deadline.asc().nulls_last(), Case.case_id)
        .limit(limit)
        .offset(offset)
    )
    result = await session.scalars(query.execution_options(populate_existing=True))
    return [CaseListRow.of(case) for case in result]


async def get_case(session: AsyncSession, case_id: str) -> CaseListRow | None:
    query = select(Case).where(Case.case_id == case_id).execution_options(populate_existing=True)
    case = await session.scalar(query)
    return None if case is None else CaseListRow.of(case)


async def case_history(session: AsyncSession, case_id: str) -> list[EventRow]:
    """Every recorded event of a case, in the order the workflow numbered them."""
    query = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
    result = await session.scalars(query.execution_options(populate_existing=True))
    return [EventRow.of(event) for event in result]


async def count_events(session: AsyncSession, case_id: str) -> int:
    query = select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id)
    return (await session.scalar(query)) or 0


async def inbox(
    session: AsyncSession,
    *,
    recipient_role: str | None = None,
    case_id: str | None = None,
    unread_only: bool = False,
    limit: int = 100,
) -> list[InboxRow]:
    """Messages matching every filter given, newest first."""
    query = select(InboxMessage)
    if recipient_role is not None:
        query = query.where(InboxMessage.recipient_role == recipient_role)
    if case_id is not None:
        query = query.where(InboxMessage.case_id == case_id)
    if unread_only:
        query = query.where(InboxMessage.read_at.is_(None))
    query = query.order_by(InboxMessage.id.desc()).limit(limit)
    result = await session.scalars(query.execution_options(populate_existing=True))
    return [InboxRow.of(message) for message in result]


async def mark_read(session: AsyncSession, inbox_id: int) -> bool:
    """Mark a message read; False if there is no such message.

    Marking a message read twice is not an error and keeps the time it was first read. The
    change is part of the caller's transaction: commit it.
    """
    statement = (
        update(InboxMessage)
        .where(InboxMessage.id == inbox_id)
        .values(read_at=func.coalesce(InboxMessage.read_at, func.now()))
        .returning(InboxMessage.id)
    )
    return (await session.scalar(statement)) is not None


async def active_cases_by_stage(session: AsyncSession) -> dict[CaseStage, tuple[int, int]]:
    """For each stage, (active cases there, how many of them are overdue)."""
    query = (
        select(Case.stage, func.count(), func.count().filter(Case.overdue.is_(True)))
        .where(Case.chain == ChainKind.APPOINTMENT.value, Case.status == "active")
        .group_by(Case.stage)
    )
    return {CaseStage(stage): (n, late) for stage, n, late in (await session.execute(query)).all()}


async def chain_kinds(session: AsyncSession, case_ids: Collection[str]) -> dict[str, ChainKind]:
    """What each of these chains records, by its listing row (those without one: none)."""
    if not case_ids:
        return {}
    query = select(Case.case_id, Case.chain).where(Case.case_id.in_(list(set(case_ids))))
    return {case_id: ChainKind(chain) for case_id, chain in await session.execute(query)}


async def inbox_message(session: AsyncSession, inbox_id: int) -> InboxRow | None:
    message = await session.get(InboxMessage, inbox_id, populate_existing=True)
    return None if message is None else InboxRow.of(message)
