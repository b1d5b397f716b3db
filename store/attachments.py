"""Attachments of a case's steps, stored by content: the bytes once under their sha256, and
each case's numbered list of the files it was given (migration 0013 creates both tables; the
service may add to them and read them, never change or remove a row).

``put`` is idempotent: the same bytes given to the same case again return the entry they
already have, and the same bytes given to another case are stored once and listed twice.
Given the hash the sender computed, it refuses bytes that do not give it, before writing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    Text,
    UniqueConstraint,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from store.models import Base, Case

SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class HashMismatch(ValueError):
    """The bytes received do not give the hash their sender computed: nothing was stored."""

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(
            f"收到的文件的 SHA-256 是 {actual}，与发送方算得的 {expected} 不符："
            "文件在传送中损坏或被调换，未保存"
        )
        self.expected = expected
        self.actual = actual


class Attachment(Base):
    """One distinct file, by the sha256 of its bytes; name and uploader of its first upload."""

    __tablename__ = "attachments"

    sha256: Mapped[str] = mapped_column(Text, primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    media_type: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    file_name: Mapped[str] = mapped_column(Text)
    uploaded_by: Mapped[str] = mapped_column(Text)
    uploaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),)


class CaseAttachment(Base):
    """A file given to a case: its number in the case, the name it came under, who, when."""

    __tablename__ = "case_attachments"

    case_id: Mapped[str] = mapped_column(
        Text,
        ForeignKey("cases.case_id", name="fk_case_attachments_case_id_cases"),
        primary_key=True,
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(
        Text, ForeignKey("attachments.sha256", name="fk_case_attachments_sha256_attachments")
    )
    file_name: Mapped[str] = mapped_column(Text)
    uploaded_by: Mapped[str] = mapped_column(Text)
    uploaded_role: Mapped[str] = mapped_column(Text)
    uploaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (
        UniqueConstraint("case_id", "sha256", name="uq_case_attachments_case_id_sha256"),
    )


@dataclass(frozen=True)
class Listed:
    """A case's attachment as lists and dossiers show it (the bytes left out)."""

    case_id: str
    number: int
    sha256: str
    file_name: str
    media_type: str
    size: int
    uploaded_by: str
    uploaded_role: str
    uploaded_at: datetime
    new: bool = False  # put: whether this upload added it to the case

    def to_json(self) -> dict[str, object]:
        return {
            "number": self.number,
            "sha256": self.sha256,
            "file_name": self.file_name,
            "media_type": self.media_type,
            "size": self.size,
            "uploaded_by": self.uploaded_by,
            "uploaded_role": self.uploaded_role,
            "uploaded_at": self.uploaded_at.isoformat(),
        }


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


async def case_exists(session: AsyncSession, case_id: str) -> bool:
    found = await session.scalar(select(Case.case_id).where(Case.case_id == case_id))
    return found is not None


_LISTED = select(
    CaseAttachment.case_id,
    CaseAttachment.number,
    CaseAttachment.sha256,
    CaseAttachment.file_name,
    Attachment.media_type,
    Attachment.size,
    CaseAttachment.uploaded_by,
    CaseAttachment.uploaded_role,
    CaseAttachment.uploaded_at,
).join(Attachment, Attachment.sha256 == CaseAttachment.sha256)


async def put(
    session: AsyncSession,
    case_id: str,
    content: bytes,
    *,
    media_type: str,
    file_name: str,
    uploaded_by: str,
    uploaded_role: str,
    expected_sha256: str | None = None,
) -> Listed:
    """Store ``content`` (checked by the caller) and list it on the case, once; commits.
    HashMismatch, and nothing written, if ``content`` does not give ``expected_sha256``."""
    digest = sha256_of(content)
    if expected_sha256 is not None and digest != expected_sha256:
        raise HashMismatch(expected_sha256, digest)
    # One upload to a case at a time, so that the case's numbers follow one another.
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('case_attachments:' || :case_id))"),
        {"case_id": case_id},
    )
    existing = await listed_one(session, case_id, digest)
    if existing is not None:
        await session.rollback()
        return existing
    await session.execute(
        insert(Attachment)
        .values(
            sha256=digest,
            content=content,
            media_type=media_type,
            size=len(content),
            file_name=file_name,
            uploaded_by=uploaded_by,
        )
        .on_conflict_do_nothing(index_elements=["sha256"])
    )
    number = await session.scalar(
        select(func.coalesce(func.max(CaseAttachment.number), 0) + 1).where(
            CaseAttachment.case_id == case_id
        )
    )
    session.add(
        CaseAttachment(
            case_id=case_id,
            number=number,
            sha256=digest,
            file_name=file_name,
            uploaded_by=uploaded_by,
            uploaded_role=uploaded_role,
        )
    )
    await session.commit()
    added = await listed_one(session, case_id, digest)
    assert added is not None
    return Listed(**{**added.__dict__, "new": True})


async def listed_one(session: AsyncSession, case_id: str, sha256: str) -> Listed | None:
    row = (
        await session.execute(
            _LISTED.where(CaseAttachment.case_id == case_id, CaseAttachment.sha256 == sha256)
        )
    ).one_or_none()
    return None if row is None else Listed(*row)


async def case_attachments(session: AsyncSession, case_id: str) -> list[Listed]:
    """The case's attachments in the order they were given to it."""
    rows = await session.execute(
        _LISTED.where(CaseAttachment.case_id == case_id).order_by(CaseAttachment.number)
    )
    return [Listed(*row) for row in rows]


async def get(session: AsyncSession, case_id: str, sha256: str) -> tuple[Listed, bytes] | None:
    """A case's attachment and its bytes; None if the case was not given that file."""
    entry = await listed_one(session, case_id, sha256)
    if entry is None:
        return None
    content = await session.scalar(select(Attachment.content).where(Attachment.sha256 == sha256))
    assert content is not None
    return entry, content


async def not_on_case(session: AsyncSession, case_id: str, hashes: Iterable[str]) -> list[str]:
    """Those of ``hashes`` that are not attachments of the case, in the order given."""
    wanted = list(dict.fromkeys(hashes))
    if not wanted:
        return []
    found = set(
        await session.scalars(
            select(CaseAttachment.sha256).where(
                CaseAttachment.case_id == case_id, CaseAttachment.sha256.in_(wanted)
            )
        )
    )
    return [h for h in wanted if h not in found]
