"""Reads of the cadre register (干部名册): the newest version of each person's record, a
person's versions, the list and its search, a candidate's facts as of a case's day, the posts
the rotation scan reads, and what the scans found with the decisions on them."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from store.register_models import (
    RegisterVersionRow,
    RotationDecisionRow,
    RotationListingRow,
    RotationScanRow,
)
from workflows.register_types import (
    PersonRecord,
    PostSpan,
    RegisterPosts,
    RegisterSection,
    RotationDecision,
)
from workflows.rules.register_facts import candidate_as_of, post_title, posts_held
from workflows.types import RECORDED, Candidate


@dataclass(frozen=True, slots=True)
class VersionRow:
    person_id: str
    version: int
    record: PersonRecord
    sections: list[RegisterSection]
    reason: str
    changed_by: str
    changed_role: str
    changed_at: datetime
    audit_seq: int

    @classmethod
    def of(cls, row: RegisterVersionRow) -> VersionRow:
        return cls(
            person_id=row.person_id,
            version=row.version,
            record=PersonRecord.model_validate(row.record, context=RECORDED),
            sections=[RegisterSection(s) for s in row.sections],
            reason=row.reason,
            changed_by=row.changed_by,
            changed_role=row.changed_role,
            changed_at=row.changed_at,
            audit_seq=row.audit_seq,
        )

    def current_post(self, on: date) -> str:
        held = posts_held(self.record, on)
        return "、".join(post_title(p) for p in held)


def _newest() -> Select[RegisterVersionRow]:
    return (
        select(RegisterVersionRow)
        .ext(distinct_on(RegisterVersionRow.person_id))
        .order_by(RegisterVersionRow.person_id, RegisterVersionRow.version.desc())
    )


async def current_versions(
    session: AsyncSession, person_ids: Collection[str] | None = None
) -> dict[str, VersionRow]:
    """The newest version of each person (of ``person_ids`` only, if given), by person id."""
    query = _newest()
    if person_ids is not None:
        query = query.where(RegisterVersionRow.person_id.in_(list(person_ids)))
    rows = await session.scalars(query)
    return {r.person_id: VersionRow.of(r) for r in rows}


async def current_version(session: AsyncSession, person_id: str) -> VersionRow | None:
    return (await current_versions(session, [person_id])).get(person_id)


async def list_register(
    session: AsyncSession, search: str | None = None, limit: int = 200
) -> list[VersionRow]:
    """The register as it stands, by person id; ``search`` matches a person id or a part of
    the name (in the newest version)."""
    newest = _newest().subquery()
    query = select(RegisterVersionRow).join(newest, RegisterVersionRow.id == newest.c.id)
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                RegisterVersionRow.person_id == search,
                RegisterVersionRow.name.like(pattern, escape="\\"),
            )
        )
    query = query.order_by(RegisterVersionRow.person_id).limit(limit)
    return [VersionRow.of(r) for r in await session.scalars(query)]


async def person_history(session: AsyncSession, person_id: str) -> list[VersionRow]:
    """Every version of a person's record, the first first."""
    query = (
        select(RegisterVersionRow)
        .where(RegisterVersionRow.person_id == person_id)
        .order_by(RegisterVersionRow.version)
    )
    return [VersionRow.of(r) for r in await session.scalars(query)]


async def person_version(session: AsyncSession, person_id: str, version: int) -> VersionRow | None:
    row = await session.scalar(
        select(RegisterVersionRow).where(
            RegisterVersionRow.person_id == person_id, RegisterVersionRow.version == version
        )
    )
    return None if row is None else VersionRow.of(row)


@dataclass(frozen=True, slots=True)
class RegisterCandidate:
    """A candidate's facts as the register gives them on a case's day, and the version read."""

    candidate: Candidate
    version: int


async def candidate_from_register(
    session: AsyncSession, person_id: str, on: date, *, promotion: bool = True
) -> RegisterCandidate | None:
    """The person's eligibility facts on ``on`` from the newest version; None if not there."""
    found = await current_version(session, person_id)
    if found is None:
        return None
    return RegisterCandidate(candidate_as_of(found.record, on, promotion=promotion), found.version)


async def register_posts(session: AsyncSession) -> list[RegisterPosts]:
    """Every person's posts in the newest version, for the rotation scan."""
    out = []
    for v in (await current_versions(session)).values():
        posts = [
            PostSpan(township=p.township, rank=p.rank, started_on=p.started_on, ended_on=p.ended_on)
            for p in v.record.posts
        ]
        out.append(
            RegisterPosts(
                person_id=v.person_id, name=v.record.person.name, version=v.version, posts=posts
            )
        )
    return out


# --------------------------------------------------------------------------- rotation


@dataclass(frozen=True, slots=True)
class ListedPerson:
    scan_id: str
    person_id: str
    name: str
    register_version: int
    township: str
    since: date
    years: int
    decision: RotationDecision | None  # the newest decision, None while undecided
    note: str
    decided_by: str
    decided_at: datetime | None
    decision_seq: int | None = None  # the newest decision's event in the register's chain


async def rotation_scans(session: AsyncSession, limit: int = 50) -> list[RotationScanRow]:
    query = select(RotationScanRow).order_by(RotationScanRow.as_of.desc(), RotationScanRow.scan_id)
    return list(await session.scalars(query.limit(limit)))


async def rotation_scan(session: AsyncSession, scan_id: str) -> RotationScanRow | None:
    return await session.get(RotationScanRow, scan_id)


async def rotation_listing(session: AsyncSession, scan_id: str) -> list[ListedPerson]:
    """The persons a scan listed, by township and person, each with the newest decision."""
    newest = (
        select(RotationDecisionRow)
        .where(RotationDecisionRow.scan_id == scan_id)
        .ext(distinct_on(RotationDecisionRow.person_id))
        .order_by(RotationDecisionRow.person_id, RotationDecisionRow.id.desc())
    )
    decisions = {d.person_id: d for d in await session.scalars(newest)}
    listed = await session.scalars(
        select(RotationListingRow)
        .where(RotationListingRow.scan_id == scan_id)
        .order_by(RotationListingRow.township, RotationListingRow.person_id)
    )
    out = []
    for r in listed:
        d = decisions.get(r.person_id)
        out.append(
            ListedPerson(
                scan_id=r.scan_id,
                person_id=r.person_id,
                name=r.name,
                register_version=r.register_version,
                township=r.township,
                since=r.since,
                years=r.years,
                decision=RotationDecision(d.decision) if d else None,
                note=d.note if d else "",
                decided_by=d.decided_by if d else "",
                decided_at=d.decided_at if d else None,
                decision_seq=d.audit_seq if d else None,
            )
        )
    return out


async def count_register(session: AsyncSession) -> int:
    query = select(func.count(func.ext(distinct_on(RegisterVersionRow.person_id))))
    return (await session.scalar(query)) or 0
