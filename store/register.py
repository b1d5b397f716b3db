"""Changes of the cadre register (干部名册): a sheet's rows into new versions of the persons'
records, the rotation scans' findings, the department's decision on each person listed, and
the new post of a cadre who arrived through a rotation batch.

Every change is a new version of the person's whole record (``register_versions``) and an
event of the register's hash chain (``store.register_audit``), with who made it, when and
why; nothing is edited in place. A sheet is taken whole or not at all: a row naming a person
the register does not have is refused with its row number, and then nothing is written.

What each sheet does to the persons it names (the others are left as they are):

- 基本信息: the person's own facts (a new person is added);
- 任职经历: all of the person's posts, as the sheet lists them (the department's list of
  that person's posts replaces what the register held);
- 处分: all of the person's sanctions, likewise (an empty cell: none);
- 考核与测试: each result added, or replacing the result of the same kind and day.

A version identical to the one before is not written (importing the same sheet again
changes nothing).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sheets.columns import (
    REGISTER_ASSESSMENTS,
    REGISTER_PEOPLE,
    REGISTER_POSTS,
    REGISTER_SANCTIONS,
    REGISTER_SHEETS,
    SHEETS,
    Sheet,
)
from sheets.problems import SheetProblems, at_row, error_text
from sheets.xlsx import read_numbered_xlsx
from store.register_audit import append_register_event, lock_register
from store.register_models import (
    RegisterVersionRow,
    RotationDecisionRow,
    RotationListingRow,
    RotationScanRow,
)
from store.register_queries import VersionRow, current_versions, rotation_listing
from workflows.glossary import zh
from workflows.register_types import (
    Assessment,
    AssessmentRow,
    PersonFacts,
    PersonRecord,
    PersonRow,
    PostHeld,
    PostRow,
    RegisterSection,
    RotationDecision,
    RotationScanResult,
    SanctionsRow,
)
from workflows.rotation_batch_types import RotationArrivalInput, RotationArrivalResult
from workflows.types import Actor, Model

SECTIONS: dict[str, RegisterSection] = {
    REGISTER_PEOPLE.kind: RegisterSection.PERSON,
    REGISTER_POSTS.kind: RegisterSection.POSTS,
    REGISTER_SANCTIONS.kind: RegisterSection.SANCTIONS,
    REGISTER_ASSESSMENTS.kind: RegisterSection.ASSESSMENTS,
}


class RegisterRefused(ValueError):
    """A change the register does not take, said in Chinese."""


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    section: RegisterSection
    changed: list[tuple[str, int]]  # (person id, the new version) of each person changed
    unchanged: list[str]  # person ids whose record the sheet left as it was


def _person_of(row: Model) -> str:
    person_id = getattr(row, "person_id", None)
    assert isinstance(person_id, str)
    return person_id


def _new_record(
    section: RegisterSection, rows: Sequence[Model], current: PersonRecord | None
) -> PersonRecord:
    """The record after the person's rows of the sheet (``current`` is there unless a new
    person is added by the people's sheet)."""
    if section is RegisterSection.PERSON:
        (row,) = rows
        assert isinstance(row, PersonRow)
        facts = PersonFacts.model_validate(row.model_dump())
        if current is None:
            return PersonRecord(person=facts)
        return current.model_copy(update={"person": facts})
    assert current is not None
    if section is RegisterSection.POSTS:
        posts = [
            PostHeld.model_validate(r.model_dump(exclude={"person_id"}))
            for r in rows
            if isinstance(r, PostRow)
        ]
        posts.sort(key=lambda p: (p.started_on, p.unit))
        return PersonRecord.model_validate({**current.model_dump(), "posts": posts})
    if section is RegisterSection.SANCTIONS:
        (row,) = rows
        assert isinstance(row, SanctionsRow)
        sanctions = sorted(row.sanctions, key=lambda s: s.decided_on)
        return PersonRecord.model_validate({**current.model_dump(), "sanctions": sanctions})
    merged = {(a.kind, a.held_on): a for a in current.assessments}
    for r in rows:
        assert isinstance(r, AssessmentRow)
        merged[(r.kind, r.held_on)] = Assessment.model_validate(r.model_dump(exclude={"person_id"}))
    assessments = sorted(merged.values(), key=lambda a: (a.held_on, a.kind))
    return PersonRecord.model_validate({**current.model_dump(), "assessments": assessments})


async def import_sheet(
    session: AsyncSession,
    sheet: Sheet,
    rows: Sequence[tuple[int, Model]],
    actor: Actor,
    reason: str,
) -> ImportOutcome:
    """The rows of one register sheet (numbered as in the file) as new versions, in the
    caller's transaction; ``SheetProblems`` (nothing written) when a row cannot be taken."""
    section = SECTIONS.get(sheet.kind)
    if section is None:
        raise RegisterRefused(f"{sheet.title}不是干部名册的表")
    if not reason.strip():
        raise RegisterRefused("请说明变更的理由（如：2026 年度干部名册导入）")
    await lock_register(session)
    by_person: dict[str, list[tuple[int, Model]]] = defaultdict(list)
    for number, row in rows:
        by_person[_person_of(row)].append((number, row))
    current = await current_versions(session, list(by_person))
    problems: list[str] = []
    planned: list[tuple[str, PersonRecord, VersionRow | None]] = []
    for person_id, numbered in by_person.items():
        found = current.get(person_id)
        if found is None and section is not RegisterSection.PERSON:
            problems += [
                at_row(n, "人员编号", f"{person_id} 不在干部名册中：请先导入其基本信息")
                for n, _ in numbered
            ]
            continue
        try:
            record = _new_record(section, [r for _, r in numbered], found.record if found else None)
        except ValidationError as exc:
            first = numbered[0][0]
            problems += [at_row(first, "", error_text(e)) for e in exc.errors(include_url=False)]
            continue
        if found is None or record != found.record:
            planned.append((person_id, record, found))
    if problems:
        raise SheetProblems(sorted(problems, key=_row_number))
    changed: list[tuple[str, int]] = []
    for person_id, record, found in planned:
        version = found.version + 1 if found else 1
        await _write_version(session, person_id, version, record, [section], actor, reason)
        changed.append((person_id, version))
    unchanged = [p for p in by_person if p not in {c for c, _ in changed}]
    return ImportOutcome(section, changed, unchanged)


async def import_xlsx(
    sessions: async_sessionmaker[AsyncSession], kind: str, data: bytes, actor: Actor, reason: str
) -> ImportOutcome:
    """An ``.xlsx`` register sheet of ``kind`` imported in one transaction: the one way the
    command line and the console import; ``SheetProblems`` or ``RegisterRefused`` (nothing
    written) when it cannot be taken whole."""
    sheet = SHEETS.get(kind)
    if sheet is None or sheet.group != "register":
        kinds = "、".join(f"{s.kind}（{s.title}）" for s in REGISTER_SHEETS)
        raise RegisterRefused(f"没有干部名册的表 {kind}；可导入：{kinds}")
    rows = read_numbered_xlsx(sheet, data)
    async with sessions() as session, session.begin():
        return await import_sheet(session, sheet, rows, actor, reason)


def _row_number(problem: str) -> int:
    digits = problem.removeprefix("第 ").split(" ", 1)[0]
    return int(digits) if digits.isdigit() else 0


async def _write_version(
    session: AsyncSession,
    person_id: str,
    version: int,
    record: PersonRecord,
    sections: list[RegisterSection],
    actor: Actor,
    reason: str,
) -> None:
    data = record.model_dump(mode="json")
    parts = "、".join(zh(s) for s in sections)
    summary = f"{record.person.name}（{person_id}）第 {version} 版：{parts}；{reason}"
    seq = await append_register_event(
        session,
        actor,
        "register_changed",
        summary,
        {
            "person_id": person_id,
            "version": version,
            "sections": [s.value for s in sections],
            "reason": reason,
            "record": data,
        },
    )
    session.add(
        RegisterVersionRow(
            person_id=person_id,
            version=version,
            name=record.person.name,
            record=data,
            sections=[s.value for s in sections],
            reason=reason,
            changed_by=actor.name,
            changed_role=actor.role.value,
            audit_seq=seq,
        )
    )
    await session.flush()


# --------------------------------------------------------------------------- rotation


async def record_rotation_scan(session: AsyncSession, result: RotationScanResult) -> bool:
    """What a scan found, once however often the activity retries; True if newly written."""
    written = await session.scalar(
        insert(RotationScanRow)
        .values(
            scan_id=result.scan_id,
            as_of=result.as_of,
            threshold_years=result.threshold_years,
            scanned=result.scanned,
            due=len(result.due),
        )
        .on_conflict_do_nothing(index_elements=[RotationScanRow.scan_id])
        .returning(RotationScanRow.scan_id)
    )
    if written is None:
        return False
    for d in result.due:
        await session.execute(
            insert(RotationListingRow).values(
                scan_id=result.scan_id,
                person_id=d.person_id,
                name=d.name,
                register_version=d.version,
                township=d.township,
                since=d.since,
                years=d.years,
            )
        )
    return True


async def decide_rotation(
    session: AsyncSession,
    scan_id: str,
    person_id: str,
    decision: RotationDecision,
    note: str,
    actor: Actor,
) -> None:
    """The department's decision on a person a scan listed, in the caller's transaction;
    an earlier decision stays in the history, the newest counts."""
    listed = {p.person_id: p for p in await rotation_listing(session, scan_id)}
    person = listed.get(person_id)
    if person is None:
        raise RegisterRefused(f"交流排查 {scan_id} 没有列出 {person_id}")
    if decision is not RotationDecision.ROTATE and not note.strip():
        raise RegisterRefused(f"{zh(decision)}须说明理由")
    seq = await append_register_event(
        session,
        actor,
        "rotation_decided",
        f"{person.name}（{person_id}）：{zh(decision)}" + (f"；{note}" if note else ""),
        {
            "scan_id": scan_id,
            "person_id": person_id,
            "register_version": person.register_version,
            "decision": decision.value,
            "note": note,
        },
    )
    session.add(
        RotationDecisionRow(
            scan_id=scan_id,
            person_id=person_id,
            decision=decision.value,
            note=note,
            decided_by=actor.name,
            decided_role=actor.role.value,
            audit_seq=seq,
        )
    )
    await session.flush()


# --------------------------------------------------------------------------- a move done


def _same_place(township: str | None, other: str | None) -> bool:
    return (township or "").strip() == (other or "").strip()


def _moved_record(record: PersonRecord, move: RotationArrivalInput) -> PersonRecord:
    """The record with the posts held in the township left ended the day before arrival and
    the new post from that day (same rank and title unless the move names a title)."""
    day = move.arrived_on
    left = [
        p
        for p in record.posts
        if _same_place(p.township, move.from_township)
        and p.started_on < day
        and (p.ended_on is None or p.ended_on >= day)
    ]
    if not left:
        raise RegisterRefused(
            f"名册中 {record.person.name}（{move.person_id}）在 {day} 前没有在{move.from_township}"
            "任职的记录：请先核对其任职经历，再登记到岗"
        )
    held = left[0]
    posts = [
        p.model_copy(update={"ended_on": day - timedelta(days=1)}) if p in left else p
        for p in record.posts
    ]
    posts.append(
        PostHeld(
            unit=move.to_unit,
            township=move.to_township,
            post=move.to_post or held.post,
            rank=held.rank,
            leading=False,  # ordinary cadres are rotated (rules.cadre_rotation)
            started_on=day,
        )
    )
    posts.sort(key=lambda p: (p.started_on, p.unit))
    return PersonRecord.model_validate({**record.model_dump(), "posts": posts})


async def record_rotation_arrival(
    session: AsyncSession, move: RotationArrivalInput
) -> RotationArrivalResult:
    """The cadre's new post on arrival as a new version of his record, in the caller's
    transaction, the batch named as the reason; once however often the activity retries
    (a version that already holds the new post is the answer)."""
    await lock_register(session)
    found = (await current_versions(session, [move.person_id])).get(move.person_id)
    if found is None:
        raise RegisterRefused(f"干部名册中没有 {move.person_id}")
    for p in found.record.posts:
        if (
            p.unit == move.to_unit
            and _same_place(p.township, move.to_township)
            and p.started_on == move.arrived_on
        ):
            return RotationArrivalResult(version=found.version, written=False)
    record = _moved_record(found.record, move)
    reason = f"交流批次 {move.batch_id}（{move.title}）：{move.arrived_on} 到岗"
    version = found.version + 1
    await _write_version(
        session, move.person_id, version, record, [RegisterSection.POSTS], move.actor, reason
    )
    return RotationArrivalResult(version=version, written=True)
