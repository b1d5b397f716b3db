"""The application database: the listing of cases, their recorded history and the inbox.

Temporal holds the truth of a running case; these tables are the record kept outside it, for
listing cases, for auditors and for people's inboxes. Every row is written by the
``record_event`` activity, keyed so that a retried activity never writes twice:
``case_events`` by (case_id, seq), ``inbox`` by (case_id, event_seq).

``case_events`` is also the audit log: append-only (the database refuses UPDATE, DELETE and
TRUNCATE on it), each case's events hash-chained, and ``audit_checkpoints`` holds signed
checkpoints over the heads of those chains and of the probations' (``probation_events``,
chained the same way; see the ``audit`` package).

Enumerated values (stage, status, role, ...) are stored as text, not as database enums, so a
new stage in ``workflows.types`` needs no migration. The migrations create exactly these
tables; a test compares the two.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
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
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
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
    # the awaited step (its key), its responsible role and its assignee (None: the role's
    # queue), for "my tasks" without asking each case (migration 0014)
    awaited_step: Mapped[str | None] = mapped_column(Text)
    awaited_role: Mapped[str | None] = mapped_column(Text)
    assignee: Mapped[str | None] = mapped_column(Text)
    # The seq of the newest event applied to this row: an older event arriving late (a retry)
    # must not roll the listing back.
    last_seq: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # what the chain records (``workflows.types.ChainKind``): the listings, counts and reports
    # show appointment cases only unless asked; the register's and the cadre workflows' audit
    # chains have rows here only to be locked through (migration 0018)
    chain: Mapped[str] = mapped_column(Text, server_default="appointment")

    __table_args__ = (
        # the case list, nearest deadline first, of one kind
        Index("ix_cases_chain_next_deadline", "chain", "next_deadline", "case_id"),
        Index("ix_cases_stage", "stage"),
        Index("ix_cases_status", "status"),
        Index("ix_cases_next_deadline", "next_deadline"),
        Index("ix_cases_unit", "unit"),
        Index("ix_cases_assignee", "assignee"),
        Index("ix_cases_awaited_role", "awaited_role"),
    )


class HistoryEntry:
    """The columns every history shares (a case's, a probation's): who did what, when."""

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_name: Mapped[str] = mapped_column(Text)
    actor_role: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class ChainedEntry(HistoryEntry):
    """A history entry in a hash chain (audit.chain): 1, 2, ... per case or probation in the
    order written; the hash of the entry before (64 zeros for the first) and this one's own,
    both sha256 in hex."""

    chain_index: Mapped[int] = mapped_column(Integer)
    prev_hash: Mapped[str] = mapped_column(Text)
    hash: Mapped[str] = mapped_column(Text)


def chain_constraints(table: str, chain_id: str) -> tuple[Index | CheckConstraint, ...]:
    """What the database holds true of every chain: one entry per place (a chain cannot fork;
    a unique index rather than a constraint: it is not an idempotency key, only an invariant,
    and the head's lookup), indexes from 1, hashes that are sha256 in hex."""
    return (
        Index(f"ix_{table}_{chain_id}_chain_index", chain_id, "chain_index", unique=True),
        CheckConstraint("chain_index >= 1", name="chain_index_positive"),
        CheckConstraint("hash ~ '^[0-9a-f]{64}$'", name="hash_is_sha256_hex"),
        CheckConstraint("prev_hash ~ '^[0-9a-f]{64}$'", name="prev_hash_is_sha256_hex"),
    )


class CaseEvent(ChainedEntry, Base):
    """One entry of a case's history, written once however often the activity is retried."""

    __tablename__ = "case_events"

    case_id: Mapped[str] = mapped_column(Text, ForeignKey("cases.case_id"))
    stage: Mapped[str] = mapped_column(Text)
    # Every person id the payload names, at any depth: an index for auditors' searches,
    # derived from the payload and not covered by the hash.
    person_ids: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))

    __table_args__ = (
        # The key that makes recording idempotent; it also serves reading a history in order.
        UniqueConstraint("case_id", "seq"),
        *chain_constraints("case_events", "case_id"),
        # Auditors' searches, each in the order of keyset pagination: (occurred_at, id).
        Index("ix_case_events_person_ids", "person_ids", postgresql_using="gin"),
        Index("ix_case_events_occurred_at_id", "occurred_at", "id"),
        Index("ix_case_events_actor_name_occurred_at_id", "actor_name", "occurred_at", "id"),
        Index("ix_case_events_stage_occurred_at_id", "stage", "occurred_at", "id"),
        Index("ix_case_events_kind_occurred_at_id", "kind", "occurred_at", "id"),
    )


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


class AuditCheckpoint(Base):
    """A signed statement of the heads of every chain at one moment (审计检查点).

    Append-only like the log. ``case_heads`` maps each case_id to ``[chain_index, hash]`` of
    its newest event, ``probation_heads`` each probation_id likewise (from ``version`` 2 on;
    empty in version 1, which covered cases only); ``merkle_root`` is the root of the tree
    over those heads (``audit.merkle``) and ``signature`` an Ed25519 signature (hex) over the
    checkpoint's canonical statement of its version (``audit.checkpoints``), by the key named
    ``key_id``. From version 3 on, ``id`` is the checkpoint's number in the chain of
    checkpoints (one more than the one before) and ``previous_digest`` links it to that one.
    """

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    merkle_root: Mapped[str] = mapped_column(Text)
    case_heads: Mapped[dict[str, Any]] = mapped_column(JSONB)
    probation_heads: Mapped[dict[str, Any]] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb")
    )
    version: Mapped[int] = mapped_column(Integer)  # of the statement and the leaves signed
    event_count: Mapped[int] = mapped_column(BigInteger)
    signature: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(Text)
    # version 3 on: the digest of checkpoint id - 1, which it is linked to (None: the first)
    previous_digest: Mapped[str | None] = mapped_column(Text)
