"""The application database: the listing of cases, their recorded history and the inbox.

Temporal holds the truth of a running case; these tables are the record kept outside it, for
listing cases, for auditors and for people's inboxes. Every row is written by the
``record_event`` activity, keyed so that a retried activity never writes twice:
``case_events`` by (case_id, seq), ``inbox`` by (case_id, event_seq).

Enumerated values (stage, status, role, ...) are stored as text, not as database enums, so a
new stage in ``workflows.types`` needs no migration. Migration 0001 creates exactly these
tables; a test compares the two.
"""

from __future__ import annotations

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
    MetaData,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Constraint names are spelled out by convention so that the hand-written migration and the
# models agree on them, and a later migration can drop a constraint by a predictable name.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Case(Base):
    """One appointment case as the listing shows it: the state after its newest event."""

    __tablename__ = "cases"

    case_id: Mapped[str] = mapped_column(Text, primary_key=True)
    unit: Mapped[str] = mapped_column(Text)
    post: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    outcome_reason: Mapped[str] = mapped_column(Text, server_default="")
    next_deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    overdue: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    policy_version: Mapped[str] = mapped_column(Text, server_default="")
    probation_required: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    opened_on: Mapped[date] = mapped_column(Date)
    # The seq of the newest event applied to this row: an older event arriving late (a retry)
    # must not roll the listing back.
    last_seq: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_cases_stage", "stage"),
        Index("ix_cases_status", "status"),
        Index("ix_cases_next_deadline", "next_deadline"),
        Index("ix_cases_unit", "unit"),
    )


class CaseEvent(Base):
    """One entry of a case's history, written once however often the activity is retried."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    case_id: Mapped[str] = mapped_column(Text, ForeignKey("cases.case_id"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_name: Mapped[str] = mapped_column(Text)
    actor_role: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    # The key that makes recording idempotent; it also serves reading a history in order.
    __table_args__ = (UniqueConstraint("case_id", "seq"),)


class InboxMessage(Base):
    """A notification for a role (and, where known, a named person), at most one per event."""

    __tablename__ = "inbox"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    case_id: Mapped[str] = mapped_column(Text, ForeignKey("cases.case_id"))
    event_seq: Mapped[int] = mapped_column(Integer)
    recipient_role: Mapped[str] = mapped_column(Text)
    recipient: Mapped[str] = mapped_column(Text, server_default="")
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("case_id", "event_seq"),
        Index("ix_inbox_recipient_role", "recipient_role"),
    )
