"""The cadre register's tables (干部名册) and the rotation scans' (交流排查); migration 0017
creates exactly them.

- ``register_versions``: every version of every person's record, whole (``PersonRecord`` as
  JSON), with who changed it, when and why; the newest version of a person is the register.
  A change is a new row: the table is append-only (the audit trail's triggers refuse UPDATE,
  DELETE and TRUNCATE), and each version is an event of the register's hash chain
  (``store.register_audit``), whose seq the row keeps;
- ``rotation_scans`` and ``rotation_listings``: what each scan found (written once per scan
  and person however often the activity is retried);
- ``rotation_decisions``: the department's decision on each person listed, append-only (the
  newest decision counts; the older ones stay as history).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from store.models import Base


class RegisterVersionRow(Base):
    __tablename__ = "register_versions"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    person_id: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)  # the person's name in this version, for search
    record: Mapped[dict[str, Any]] = mapped_column(JSONB)
    sections: Mapped[list[str]] = mapped_column(ARRAY(Text))  # the parts this version changed
    reason: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(Text)
    changed_role: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    audit_seq: Mapped[int] = mapped_column(Integer)  # its event in the register's chain

    __table_args__ = (
        UniqueConstraint("person_id", "version"),
        Index("ix_register_versions_name", "name"),
    )


class RotationScanRow(Base):
    __tablename__ = "rotation_scans"

    scan_id: Mapped[str] = mapped_column(Text, primary_key=True)  # the scan workflow's id
    as_of: Mapped[date] = mapped_column(Date)
    threshold_years: Mapped[int] = mapped_column(Integer)
    scanned: Mapped[int] = mapped_column(Integer)
    due: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (Index("ix_rotation_scans_as_of", "as_of"),)


class RotationListingRow(Base):
    __tablename__ = "rotation_listings"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    scan_id: Mapped[str] = mapped_column(Text)
    person_id: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    register_version: Mapped[int] = mapped_column(Integer)
    township: Mapped[str] = mapped_column(Text)
    since: Mapped[date] = mapped_column(Date)
    years: Mapped[int] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("scan_id", "person_id"),)


class RotationDecisionRow(Base):
    __tablename__ = "rotation_decisions"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    scan_id: Mapped[str] = mapped_column(Text)
    person_id: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(Text)
    decided_role: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    audit_seq: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_rotation_decisions_scan_id_person_id", "scan_id", "person_id"),)
