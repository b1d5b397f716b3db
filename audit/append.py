"""Appending an event to its hash chain (入链): the one writer of case and probation events.

Temporal retries an activity whenever it cannot be sure it finished, so the same event may
arrive many times, even concurrently, and an older event may arrive after a newer one. The
recording activities (``activities.records``, ``activities.probation_records``) make that
harmless the same way, one transaction per event:

1. the caller first upserts the chain's listing row (the ``cases`` or ``probations`` row),
   which locks it (PostgreSQL locks the conflicting row even when the WHERE of ON CONFLICT DO
   UPDATE leaves it unchanged), so concurrent recordings of one chain queue behind each other;
2. ``append_event`` then looks, under that lock, whether (chain id, seq) is already there, and
   if not reads the head of the chain and inserts the event as the next link.

The log is append-only (the database refuses UPDATE), so the hash is computed before the
insert. The lock is what keeps ``chain_index`` free of gaps and forks however many retries run
at once. The payload is hashed as PostgreSQL stores and returns it (read back through
``jsonb``: key order, number spelling), so the verifier recomputes exactly this hash.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from sqlalchemy import TextualSelect, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from audit.chain import CASE_CHAIN, GENESIS, PROBATION_CHAIN, Chain, EventFields, event_hash
from store.models import CaseEvent
from store.probation_models import ProbationEvent

MODELS: dict[str, type[CaseEvent] | type[ProbationEvent]] = {
    CASE_CHAIN.name: CaseEvent,
    PROBATION_CHAIN.name: ProbationEvent,
}


@cache
def _probe(chain: Chain) -> TextualSelect:
    """Is the event there already, where does the chain end, and the payload as jsonb will
    give it back."""
    return (
        text(
            f"""
            SELECT EXISTS (
                       SELECT 1 FROM {chain.table}
                       WHERE {chain.id_key} = :chain_id AND seq = :seq
                   ) AS present,
                   head.chain_index AS head_index,
                   head.hash AS head_hash,
                   CAST(:payload AS jsonb) AS payload
            FROM (SELECT 1) AS one
            LEFT JOIN LATERAL (
                SELECT chain_index, hash FROM {chain.table}
                WHERE {chain.id_key} = :chain_id
                ORDER BY chain_index DESC
                LIMIT 1
            ) AS head ON true
            """
        )
        .bindparams(bindparam("payload", type_=JSONB))
        .columns(payload=JSONB)
    )


async def append_event(
    session: AsyncSession,
    chain: Chain,
    event: EventFields,
    derived: Callable[[dict[str, Any]], Mapping[str, Any]] | None = None,
) -> bool:
    """Write ``event`` as the next link of its chain; True if written, False if (chain id,
    seq) was there already.

    ``event.chain_index`` is not read: the chain decides it. ``derived`` gives columns
    computed from the payload as stored (not covered by the hash). The caller holds the
    chain's lock (its listing row) in the transaction ``session`` is in.
    """
    probe = await session.execute(
        _probe(chain), {"chain_id": event.chain_id, "seq": event.seq, "payload": event.payload}
    )
    present, head_index, head_hash, payload = probe.one()
    if present:
        return False
    prev_hash = head_hash or GENESIS
    linked = dataclasses.replace(event, chain_index=(head_index or 0) + 1, payload=payload)
    model = MODELS[chain.name]
    # ON CONFLICT stays as a second guard of the idempotency key; under the lock it never fires.
    event_id = await session.scalar(
        insert(model)
        .values(
            **linked.columns(),
            prev_hash=prev_hash,
            hash=event_hash(prev_hash, linked),
            **(derived(payload) if derived is not None else {}),
        )
        .on_conflict_do_nothing(index_elements=[chain.id_key, "seq"])
        .returning(model.id)
    )
    return event_id is not None
