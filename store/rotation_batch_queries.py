"""What the database says of the rotation batches (交流批次), from their chains' events: the
list of batches (from ``rotation_batch_opened``, which holds the whole input), who is in a
batch still (moved neither to arrival nor cancelled), and, for the daily digest, where each
waiting move stands (its awaited step and that step's deadline). Temporal holds the live
state (``gateway.rotation_batch``); these need no workflow to answer and cover every batch.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import CaseEvent
from workflows.ids import ROTATION_BATCH_PREFIX

OPENED = "rotation_batch_opened"
FINISHED = "rotation_batch_finished"
DEADLINE = "rotation_deadline"
OVERDUE = "rotation_overdue"
DOCUMENT = "rotation_document"
ARRIVED = "rotation_arrived"
CANCELLED = "rotation_move_cancelled"
_MOVE_KINDS = (DEADLINE, DOCUMENT, ARRIVED, CANCELLED)


@dataclass(frozen=True)
class BatchSummary:
    chain_id: str
    batch_id: str
    title: str
    scan_id: str
    made_on: date
    people: int
    opened_by: str
    opened_at: datetime
    finished: bool


@dataclass
class MoveStanding:
    """Where one move of a batch stands, as the batch's chain says."""

    chain_id: str
    batch_id: str
    title: str
    person_id: str
    name: str
    from_township: str
    destination: str
    awaited_step: str = ""  # rotation_document, rotation_arrival; "" before its deadline
    deadline_on: date | None = None
    settled: bool = False


def _in_batches() -> Any:
    return CaseEvent.case_id.like(f"{ROTATION_BATCH_PREFIX}%")


async def batches(session: AsyncSession, limit: int = 200) -> list[BatchSummary]:
    """The rotation batches, the newest first."""
    rows = list(
        await session.scalars(
            select(CaseEvent)
            .where(_in_batches(), CaseEvent.kind == OPENED)
            .order_by(CaseEvent.occurred_at.desc(), CaseEvent.id.desc())
            .limit(limit)
        )
    )
    ids = [r.case_id for r in rows]
    done = set(
        await session.scalars(
            select(CaseEvent.case_id).where(CaseEvent.kind == FINISHED, CaseEvent.case_id.in_(ids))
        )
    )
    out = []
    for r in rows:
        data: dict[str, Any] = r.payload.get("input", {})
        out.append(
            BatchSummary(
                chain_id=r.case_id,
                batch_id=str(data.get("batch_id", "")),
                title=str(data.get("title", "")),
                scan_id=str(data.get("scan_id", "")),
                made_on=date.fromisoformat(str(data.get("made_on"))),
                people=len(data.get("moves", [])),
                opened_by=r.actor_name,
                opened_at=r.occurred_at,
                finished=r.case_id in done,
            )
        )
    return out


async def move_standings(
    session: AsyncSession, person_ids: Collection[str] | None = None
) -> list[MoveStanding]:
    """Every move of every batch neither arrived nor cancelled (of ``person_ids`` only, if
    given), as its batch's events leave it."""
    opened = await session.scalars(select(CaseEvent).where(_in_batches(), CaseEvent.kind == OPENED))
    standings: dict[tuple[str, str], MoveStanding] = {}
    for r in opened:
        data: dict[str, Any] = r.payload.get("input", {})
        for m in data.get("moves", []):
            pid = str(m.get("person_id"))
            if person_ids is not None and pid not in person_ids:
                continue
            where = f"（{m['to_township']}）" if m.get("to_township") else ""
            standings[(r.case_id, pid)] = MoveStanding(
                chain_id=r.case_id,
                batch_id=str(data.get("batch_id", "")),
                title=str(data.get("title", "")),
                person_id=pid,
                name=str(m.get("name", pid)),
                from_township=str(m.get("from_township", "")),
                destination=f"{m.get('to_unit', '')}{where}",
            )
    if not standings:
        return []
    chains = {chain for chain, _ in standings}
    events = await session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id.in_(chains), CaseEvent.kind.in_(_MOVE_KINDS))
        .order_by(CaseEvent.case_id, CaseEvent.seq)
    )
    for e in events:
        s = standings.get((e.case_id, str(e.payload.get("person_id", ""))))
        if s is None:
            continue
        if e.kind == DEADLINE:
            s.awaited_step = str(e.payload.get("step", ""))
            s.deadline_on = date.fromisoformat(str(e.payload["deadline_on"]))
        elif e.kind == DOCUMENT:  # the arrival's deadline follows
            s.awaited_step, s.deadline_on = "", None
        else:
            s.settled = True
    return [s for s in standings.values() if not s.settled]


async def moving_elsewhere(session: AsyncSession, person_ids: Collection[str]) -> dict[str, str]:
    """Person id → the batch whose move of that person is neither arrived nor cancelled."""
    return {s.person_id: s.batch_id for s in await move_standings(session, person_ids)}
