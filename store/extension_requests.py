"""Extension requests (延期申请) as the database keeps them: filed, listed, decided once.

A request names the step it was filed for (its key and the day it began), the deadline the
step had then, the working days asked for and why, and who asked. Its decision is written
once, with who and when: approved (with the deadline it moved to), refused (with a reason),
withdrawn, or lapsed because the step moved on. Rows are never deleted; the database refuses
a second decision and any change of what was asked (migration 0015). Whether a request may
be filed or granted is the rule's (``workflows.rules.deadline_extension``); sending the
approval to the case is ``gateway.extension_requests``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Text,
    func,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from store.models import Base, Case
from workflows.types import Actor, CaseStatus, Role
from workflows.types import ExtensionDecision as Decision


class ExtensionRequest(Base):
    __tablename__ = "extension_requests"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    case_id: Mapped[str] = mapped_column(Text, ForeignKey("cases.case_id"))
    step: Mapped[str] = mapped_column(Text)
    step_started_on: Mapped[date] = mapped_column(Date)
    deadline_before: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    working_days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(Text)
    requested_role: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    decision: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(Text)
    decided_role: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_reason: Mapped[str] = mapped_column(Text, server_default="")
    deadline_after: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("working_days >= 1", name="working_days"),
        CheckConstraint(
            "decision IS NULL OR decision IN ('approved', 'refused', 'withdrawn', 'lapsed')",
            name="decision_kind",
        ),
        CheckConstraint(
            "(decision IS NULL) = (decided_at IS NULL) AND (decision IS NULL) = "
            "(decided_by IS NULL)",
            name="decided_with_who_and_when",
        ),
        CheckConstraint(
            "decision IS DISTINCT FROM 'refused' OR decision_reason <> ''",
            name="refusal_has_reason",
        ),
        CheckConstraint(
            "deadline_after IS NULL OR decision = 'approved'",
            name="only_approval_moves_deadline",
        ),
        Index("ix_extension_requests_case_id", "case_id"),
        Index(
            "ix_extension_requests_one_pending",
            "case_id",
            unique=True,
            postgresql_where=text("decision IS NULL"),
        ),
    )


@dataclass(frozen=True, slots=True)
class RequestRow:
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
    decision: Decision | None
    decided_by: str | None
    decided_role: Role | None
    decided_at: datetime | None
    decision_reason: str
    deadline_after: datetime | None

    @classmethod
    def of(cls, row: ExtensionRequest) -> RequestRow:
        return cls(
            row.id,
            row.case_id,
            row.step,
            row.step_started_on,
            row.deadline_before,
            row.working_days,
            row.reason,
            row.requested_by,
            Role(row.requested_role),
            row.requested_at,
            Decision(row.decision) if row.decision else None,
            row.decided_by,
            Role(row.decided_role) if row.decided_role else None,
            row.decided_at,
            row.decision_reason,
            row.deadline_after,
        )


@dataclass(frozen=True, slots=True)
class PendingRow:
    """A request waiting for a decision, with its case as the listing shows it now."""

    request: RequestRow
    unit: str
    post: str
    awaited_step: str | None  # the step the case waits on now (the listing's word)

    @property
    def step_moved_on(self) -> bool:
        return self.awaited_step != self.request.step


async def add_request(
    session: AsyncSession,
    *,
    case_id: str,
    step: str,
    step_started_on: date,
    deadline_before: datetime,
    working_days: int,
    reason: str,
    by: Actor,
) -> RequestRow:
    """A new pending request (part of the caller's transaction: commit it)."""
    row = ExtensionRequest(
        case_id=case_id,
        step=step,
        step_started_on=step_started_on,
        deadline_before=deadline_before,
        working_days=working_days,
        reason=reason,
        requested_by=by.name,
        requested_role=by.role.value,
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return RequestRow.of(row)


async def get_request(
    session: AsyncSession, request_id: int, *, for_update: bool = False
) -> RequestRow | None:
    """One request; ``for_update`` holds it until the transaction ends, so two approvers
    never send the same approval to the case."""
    query = select(ExtensionRequest).where(ExtensionRequest.id == request_id)
    if for_update:
        query = query.with_for_update()
    row = await session.scalar(query.execution_options(populate_existing=True))
    return None if row is None else RequestRow.of(row)


async def pending_of_case(session: AsyncSession, case_id: str) -> RequestRow | None:
    query = select(ExtensionRequest).where(
        ExtensionRequest.case_id == case_id, ExtensionRequest.decision.is_(None)
    )
    row = await session.scalar(query.execution_options(populate_existing=True))
    return None if row is None else RequestRow.of(row)


async def requests_of_case(session: AsyncSession, case_id: str) -> list[RequestRow]:
    """Every request of a case, newest first."""
    query = (
        select(ExtensionRequest)
        .where(ExtensionRequest.case_id == case_id)
        .order_by(ExtensionRequest.id.desc())
    )
    result = await session.scalars(query.execution_options(populate_existing=True))
    return [RequestRow.of(r) for r in result]


async def pending_requests(session: AsyncSession, limit: int = 200) -> list[PendingRow]:
    """Requests waiting for a decision on active cases, oldest first, with each case's
    awaited step from the listing (no case is asked)."""
    query = (
        select(ExtensionRequest, Case.unit, Case.post, Case.awaited_step)
        .join(Case, Case.case_id == ExtensionRequest.case_id)
        .where(ExtensionRequest.decision.is_(None), Case.status == CaseStatus.ACTIVE.value)
        .order_by(ExtensionRequest.id)
        .limit(limit)
    )
    result = await session.execute(query.execution_options(populate_existing=True))
    return [PendingRow(RequestRow.of(r), unit, post, step) for r, unit, post, step in result]


async def decide(
    session: AsyncSession,
    request_id: int,
    decision: Decision,
    by: Actor,
    *,
    reason: str = "",
    deadline_after: datetime | None = None,
) -> bool:
    """Write the request's one decision (commit it); False when it was decided already."""
    done = await session.execute(
        update(ExtensionRequest)
        .where(ExtensionRequest.id == request_id, ExtensionRequest.decision.is_(None))
        .values(
            decision=decision.value,
            decided_by=by.name,
            decided_role=by.role.value,
            decided_at=func.now(),
            decision_reason=reason,
            deadline_after=deadline_after,
        )
        .returning(ExtensionRequest.id)
    )
    return done.scalar_one_or_none() is not None


async def lapse_all_but(
    session: AsyncSession, case_id: str, keep: Iterable[tuple[str, date]], by: Actor
) -> list[int]:
    """Mark lapsed the case's pending requests for any step but those of ``keep`` (key, day
    it began): the step they were filed for is no longer awaited. Their ids."""
    kept = set(keep)
    query = select(ExtensionRequest).where(
        ExtensionRequest.case_id == case_id, ExtensionRequest.decision.is_(None)
    )
    lapsed = [
        r.id
        for r in await session.scalars(query.with_for_update())
        if (r.step, r.step_started_on) not in kept
    ]
    for request_id in lapsed:
        await decide(session, request_id, Decision.LAPSED, by, reason=LAPSED_REASON)
    return lapsed


LAPSED_REASON = "所申请延期的事项已经办结或变化"
