"""Probations (试用期) and mail: their tables, and the reads the command line makes of them.

Same ``Base`` (and so the same metadata and naming convention) as ``store.models``, so
Alembic sees these tables; migration 0003 creates exactly them (0005 adds the chain).

- ``probations``: one listing row per appointee on probation, the state after its newest
  event (``last_seq``), written by the ``record_probation_event`` activity;
- ``probation_events``: the history, once per (probation_id, seq) however often retried,
  hash-chained per probation and append-only (the audit trail, see ``audit``);
- ``outbox``: every mail the service sends, one row per (source, seq, recipient). The row
  is written before the message goes out and marked once it has, so a retried activity
  never mails twice (see ``activities.mail``).

There is no foreign key to ``cases``: a probation brought in at deployment (``probation
import``) has no case in this database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    func,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from store.models import Base, ChainedEntry, chain_constraints


class OutboxStatus:
    PENDING = "pending"  # written, not yet handed to the SMTP server
    SENT = "sent"
    NOT_SENT = "not_sent"  # never will be: no SMTP server, or no address for the role
    FAILED = "failed"  # the SMTP server refused it for good (5xx)


class Probation(Base):
    """One appointee's probation as the listing shows it: the state after its newest event."""

    __tablename__ = "probations"

    probation_id: Mapped[str] = mapped_column(Text, primary_key=True)  # the workflow id
    case_id: Mapped[str] = mapped_column(Text)
    person_id: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(Text)
    post: Mapped[str] = mapped_column(Text)
    former_rank: Mapped[str] = mapped_column(Text, server_default="")
    former_post: Mapped[str] = mapped_column(Text, server_default="")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(Text)
    review_status: Mapped[str] = mapped_column(Text)
    review_due_on: Mapped[date | None] = mapped_column(Date)
    review_overdue: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    reviewed_on: Mapped[date | None] = mapped_column(Date)
    rank_restored: Mapped[str] = mapped_column(Text, server_default="")
    closed_on: Mapped[date | None] = mapped_column(Date)
    imported: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # the seq of the newest event applied: a late retry of an older one must not roll back
    last_seq: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        UniqueConstraint("case_id", "person_id"),
        Index("ix_probations_status", "status"),
        Index("ix_probations_ends_on", "ends_on"),
    )


class ProbationEvent(ChainedEntry, Base):
    """One entry of a probation's history, written once however often the activity retries.

    Part of the audit trail like a case's events: append-only (migration 0005), hash-chained
    per probation, its chains' heads in the signed checkpoints.
    """

    __tablename__ = "probation_events"

    probation_id: Mapped[str] = mapped_column(Text, ForeignKey("probations.probation_id"))

    __table_args__ = (
        UniqueConstraint("probation_id", "seq"),
        *chain_constraints("probation_events", "probation_id"),
    )


class OutboxMail(Base):
    """One message to one recipient; (source, seq, recipient) is written once."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    source: Mapped[str] = mapped_column(Text)  # a probation id, or "digest:<workflow id>"
    seq: Mapped[int] = mapped_column(Integer)  # the event it belongs to
    recipient: Mapped[str] = mapped_column(Text)  # the address, or "role:<role>" without one
    recipient_role: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default=OutboxStatus.PENDING)
    note: Mapped[str] = mapped_column(Text, server_default="")  # why not sent, the last error
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("source", "seq", "recipient"),
        Index("ix_outbox_status", "status"),
    )


# --------------------------------------------------------------------------- reads


@dataclass(frozen=True, slots=True)
class ProbationListRow:
    probation_id: str
    case_id: str
    person_id: str
    name: str
    unit: str
    post: str
    former_rank: str
    starts_on: date
    ends_on: date
    status: str
    review_status: str
    review_due_on: date | None
    review_overdue: bool
    reviewed_on: date | None
    rank_restored: str
    closed_on: date | None
    imported: bool

    @classmethod
    def of(cls, p: Probation) -> ProbationListRow:
        return cls(
            probation_id=p.probation_id,
            case_id=p.case_id,
            person_id=p.person_id,
            name=p.name,
            unit=p.unit,
            post=p.post,
            former_rank=p.former_rank,
            starts_on=p.starts_on,
            ends_on=p.ends_on,
            status=p.status,
            review_status=p.review_status,
            review_due_on=p.review_due_on,
            review_overdue=p.review_overdue,
            reviewed_on=p.reviewed_on,
            rank_restored=p.rank_restored,
            closed_on=p.closed_on,
            imported=p.imported,
        )


@dataclass(frozen=True, slots=True)
class ProbationEventRow:
    seq: int
    kind: str
    occurred_at: datetime
    actor_name: str
    actor_role: str
    summary: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    source: str
    seq: int
    recipient: str
    recipient_role: str
    subject: str
    body: str
    status: str
    note: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None


async def list_probations(
    session: AsyncSession,
    *,
    status: str | None = None,
    probation_id: str | None = None,
    limit: int = 1000,
) -> list[ProbationListRow]:
    """Probations, the nearest end of year first."""
    query = select(Probation).order_by(Probation.ends_on, Probation.probation_id).limit(limit)
    if status is not None:
        query = query.where(Probation.status == status)
    if probation_id is not None:
        query = query.where(Probation.probation_id == probation_id)
    rows = await session.scalars(query.execution_options(populate_existing=True))
    return [ProbationListRow.of(p) for p in rows]


async def probation_of(
    session: AsyncSession, case_id: str, person_id: str
) -> ProbationListRow | None:
    """The listing row of the probation of ``person_id`` in ``case_id`` (one per pair), with
    the workflow ID it runs under, of whichever form (``workflows.ids``)."""
    found = await session.scalar(
        select(Probation)
        .where(Probation.case_id == case_id, Probation.person_id == person_id)
        .execution_options(populate_existing=True)
    )
    return None if found is None else ProbationListRow.of(found)


async def probation_history(session: AsyncSession, probation_id: str) -> list[ProbationEventRow]:
    rows = await session.scalars(
        select(ProbationEvent)
        .where(ProbationEvent.probation_id == probation_id)
        .order_by(ProbationEvent.seq)
        .execution_options(populate_existing=True)
    )
    return [
        ProbationEventRow(
            seq=e.seq,
            kind=e.kind,
            occurred_at=e.occurred_at,
            actor_name=e.actor_name,
            actor_role=e.actor_role,
            summary=e.summary,
            payload=e.payload,
        )
        for e in rows
    ]


async def outbox(
    session: AsyncSession, *, source: str | None = None, limit: int = 1000
) -> list[OutboxRow]:
    """Messages, oldest first."""
    query = select(OutboxMail).order_by(OutboxMail.id).limit(limit)
    if source is not None:
        query = query.where(OutboxMail.source == source)
    rows = await session.scalars(query.execution_options(populate_existing=True))
    return [
        OutboxRow(
            id=m.id,
            source=m.source,
            seq=m.seq,
            recipient=m.recipient,
            recipient_role=m.recipient_role,
            subject=m.subject,
            body=m.body,
            status=m.status,
            note=m.note,
            attempts=m.attempts,
            created_at=m.created_at,
            sent_at=m.sent_at,
        )
        for m in rows
    ]
