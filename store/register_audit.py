"""The register's hash chain: every change of the cadre register and every rotation decision
as an event of the audit log, through ``audit.append`` like a case's events.

The log's chains are cases' and probations' (``audit.chain``); the register's events are one
chain of the case kind, under the id ``REGISTER_CHAIN_ID``, so ``audit verify``, the signed
checkpoints, the auditors' search (by person) and the dossier cover them as they cover a
case. A case's chain is locked through its listing row, and the register's through one as
well: a ``cases`` row of the chain kind ``cadre_register`` (``cases.chain``), which every
listing, count and report of cases leaves out; its other columns say what they must (closed,
已撤回, its reason naming the register).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from audit.append import append_event
from audit.chain import CASE_CHAIN, ChainFields, person_ids
from store.models import Case, CaseEvent
from workflows.ids import REGISTER_CHAIN_ID, chain_kind_of
from workflows.types import Actor, CaseStage, CaseStatus, SelectionMethod

__all__ = ["REGISTER_CHAIN_ID", "append_register_event", "lock_register"]

_LISTING = {
    "chain": chain_kind_of(REGISTER_CHAIN_ID).value,
    "unit": "组织部",
    "post": "干部名册",
    "method": SelectionMethod.REGULAR_APPOINTMENT.value,
    "stage": CaseStage.CLOSED.value,
    "status": CaseStatus.WITHDRAWN.value,
    "outcome_reason": "干部名册及交流决定的审计链，不是任用案件",
}


async def lock_register(session: AsyncSession) -> None:
    """Lock the register's chain for the caller's transaction: one change of the register
    at a time, read and written under the lock."""
    await _lock_chain(session, datetime.now(UTC).date())


async def _lock_chain(session: AsyncSession, today: date) -> None:
    """The chain's listing row, written on first use and locked for the transaction."""
    statement = insert(Case).values(
        case_id=REGISTER_CHAIN_ID, opened_on=today, last_seq=0, **_LISTING
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[Case.case_id], set_={"updated_at": func.now()}
        )
    )


async def append_register_event(
    session: AsyncSession, actor: Actor, kind: str, summary: str, payload: dict[str, Any]
) -> int:
    """Append one event to the register's chain in the caller's transaction; its seq."""
    now = datetime.now(UTC)
    await _lock_chain(session, now.date())
    last = await session.scalar(
        select(func.max(CaseEvent.seq)).where(CaseEvent.case_id == REGISTER_CHAIN_ID)
    )
    seq = (last or 0) + 1
    event = ChainFields(
        case_id=REGISTER_CHAIN_ID,
        seq=seq,
        chain_index=0,  # decided under the lock
        kind=kind,
        stage=CaseStage.CLOSED.value,
        occurred_at=now,
        actor_name=actor.name,
        actor_role=actor.role.value,
        summary=summary,
        payload=payload,
    )
    await append_event(session, CASE_CHAIN, event, lambda p: {"person_ids": person_ids(p)})
    await session.execute(
        update(Case).where(Case.case_id == REGISTER_CHAIN_ID).values(last_seq=seq)
    )
    return seq
