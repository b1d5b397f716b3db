"""The objection intake (反映受理登记): every objection the public board takes in, written
before the case is touched.

A row is the objection as the person typed it, with their name and contact: the only place
those are kept. The case receives a compact form (the receipt number, the person it is
about, the day, a commitment: the sha256 of a random salt with the text, the name and the
contact), so neither Temporal's history nor the hash-chained event log holds an informant's
identity or words, an auditor can still prove from the row that the record was not changed
(``commitment_of``), and nobody can confirm a guessed text or name from the log alone.
A flood of long objections cannot outgrow the case's history. The same text about the same
person within one notice is one row, its ``copies`` counted; the filer of a copy gets the
first one's receipt. ``delivered_at`` is set once the
case has the objection, ``refusal`` if the case refused it (the notice had ended); a row
with neither is sent again before the next objection to the same case.

Migration 0007 adds the intake; 0010 the record of every disclosure of its informants
(``disclose``: who read them, for which case, and why), append-only.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from store.models import Base

RECEIPT_PREFIX = "board-"
RECEIPT_HEX_BYTES = 6
SALT_BYTES = 16


class ObjectionIntake(Base):
    __tablename__ = "objection_intake"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    receipt: Mapped[str] = mapped_column(Text)
    case_id: Mapped[str] = mapped_column(Text)
    notice_published_on: Mapped[date] = mapped_column(Date)
    person_id: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(Text)  # what copies are recognised by
    salt: Mapped[str] = mapped_column(Text)  # random, hex; the commitment's
    commitment: Mapped[str] = mapped_column(Text)
    anonymous: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(Text)  # empty when anonymous
    contact: Mapped[str] = mapped_column(Text)
    received_on: Mapped[date] = mapped_column(Date)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    copies: Mapped[int] = mapped_column(Integer, server_default="1")
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refusal: Mapped[str | None] = mapped_column(Text)  # the case's sentence, if it refused

    __table_args__ = (
        UniqueConstraint("receipt", name="uq_objection_intake_receipt"),
        UniqueConstraint(
            "case_id",
            "notice_published_on",
            "person_id",
            "text_sha256",
            name="uq_objection_intake_same_text",
        ),
        Index("ix_objection_intake_case_id", "case_id"),
    )


@dataclass(frozen=True)
class Intake:
    """One row as the board and the console read it."""

    receipt: str
    case_id: str
    person_id: str
    text: str
    text_sha256: str
    salt: str
    commitment: str
    anonymous: bool
    name: str
    contact: str
    received_on: date
    copies: int
    delivered: bool
    refusal: str | None
    first: bool = True  # False: a copy of an objection already taken in


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def commitment_of(salt: str, text: str, name: str, contact: str) -> str:
    """The objection's commitment, as the case records it: binds the text, the name and the
    contact, and reveals none of them."""
    joined = "\x1f".join((salt, text, name, contact))
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def commitment_holds(intake: Intake) -> bool:
    """Whether the row still is what the case recorded (its commitment recomputed)."""
    found = commitment_of(intake.salt, intake.text, intake.name, intake.contact)
    return found == intake.commitment


def _intake(row: ObjectionIntake, first: bool = True) -> Intake:
    return Intake(
        receipt=row.receipt,
        case_id=row.case_id,
        person_id=row.person_id,
        text=row.text,
        text_sha256=row.text_sha256,
        salt=row.salt,
        commitment=row.commitment,
        anonymous=row.anonymous,
        name=row.name,
        contact=row.contact,
        received_on=row.received_on,
        copies=row.copies,
        delivered=row.delivered_at is not None,
        refusal=row.refusal,
        first=first,
    )


async def take_in(
    session: AsyncSession,
    *,
    case_id: str,
    notice_published_on: date,
    person_id: str,
    text: str,
    anonymous: bool,
    name: str,
    contact: str,
    received_on: date,
) -> Intake:
    """Write the objection (committed) and return its row; a copy of one already taken in
    within the same notice counts as a copy and returns the first one's row."""
    digest = text_digest(text)
    name = "" if anonymous else name
    salt = secrets.token_hex(SALT_BYTES)
    inserted = await session.scalar(
        insert(ObjectionIntake)
        .values(
            receipt=RECEIPT_PREFIX + secrets.token_hex(RECEIPT_HEX_BYTES),
            case_id=case_id,
            notice_published_on=notice_published_on,
            person_id=person_id,
            text=text,
            text_sha256=digest,
            salt=salt,
            commitment=commitment_of(salt, text, name, contact),
            anonymous=anonymous,
            name=name,
            contact=contact,
            received_on=received_on,
        )
        .on_conflict_do_update(
            constraint="uq_objection_intake_same_text",
            set_={"copies": ObjectionIntake.copies + 1},
        )
        .returning(ObjectionIntake.id, ObjectionIntake.copies)
    )
    await session.commit()
    row = await session.get(ObjectionIntake, inserted, populate_existing=True)
    assert row is not None
    return _intake(row, first=row.copies == 1)


async def mark_delivered(session: AsyncSession, receipt: str) -> None:
    await session.execute(
        update(ObjectionIntake)
        .where(ObjectionIntake.receipt == receipt, ObjectionIntake.delivered_at.is_(None))
        .values(delivered_at=func.now())
    )
    await session.commit()


async def mark_refused(session: AsyncSession, receipt: str, refusal: str) -> None:
    await session.execute(
        update(ObjectionIntake)
        .where(ObjectionIntake.receipt == receipt, ObjectionIntake.delivered_at.is_(None))
        .values(refusal=refusal)
    )
    await session.commit()


async def undelivered(session: AsyncSession, case_id: str, limit: int) -> list[Intake]:
    rows = await session.scalars(
        select(ObjectionIntake)
        .where(
            ObjectionIntake.case_id == case_id,
            ObjectionIntake.delivered_at.is_(None),
            ObjectionIntake.refusal.is_(None),
        )
        .order_by(ObjectionIntake.id)
        .limit(limit)
    )
    return [_intake(r) for r in rows]


async def intake_of_case(session: AsyncSession, case_id: str) -> list[Intake]:
    rows = await session.scalars(
        select(ObjectionIntake)
        .where(ObjectionIntake.case_id == case_id)
        .order_by(ObjectionIntake.id)
    )
    return [_intake(r) for r in rows]


class InformantDisclosure(Base):
    """One reading of a case's informants (反映人信息披露), with its reason; append-only."""

    __tablename__ = "informant_disclosures"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    case_id: Mapped[str] = mapped_column(Text)
    account: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    receipts: Mapped[list[str]] = mapped_column(ARRAY(Text))
    disclosed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (Index("ix_informant_disclosures_case_id", "case_id"),)


@dataclass(frozen=True)
class Disclosure:
    id: int
    case_id: str
    account: str
    role: str
    reason: str
    receipts: list[str]
    disclosed_at: datetime


async def disclose(
    session: AsyncSession, case_id: str, account: str, role: str, reason: str
) -> tuple[Disclosure, list[Intake]]:
    """The case's intake with its informants, for ``account`` and the stated ``reason``; the
    disclosure is recorded (committed) before anything is returned."""
    rows = await intake_of_case(session, case_id)
    found = InformantDisclosure(
        case_id=case_id,
        account=account,
        role=role,
        reason=reason,
        receipts=[r.receipt for r in rows],
    )
    session.add(found)
    await session.commit()
    await session.refresh(found)
    return _disclosure(found), rows


async def disclosures_of(session: AsyncSession, case_id: str) -> list[Disclosure]:
    rows = await session.scalars(
        select(InformantDisclosure)
        .where(InformantDisclosure.case_id == case_id)
        .order_by(InformantDisclosure.id)
    )
    return [_disclosure(r) for r in rows]


def _disclosure(row: InformantDisclosure) -> Disclosure:
    return Disclosure(
        id=row.id,
        case_id=row.case_id,
        account=row.account,
        role=row.role,
        reason=row.reason,
        receipts=list(row.receipts),
        disclosed_at=row.disclosed_at,
    )
