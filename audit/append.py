"""Appending events to their hash chain (入链): the one writer of case and probation events.

Temporal retries an activity whenever it cannot be sure it finished, so the same event may
arrive many times, even concurrently, and an older event may arrive after a newer one. Two
ways of writing make that harmless, and they may run side by side on one chain.

Under the chain's lock (``append_event``, one event per call; the register's records):

1. the caller first upserts the chain's listing row (the ``cases`` or ``probations`` row),
   which locks it (PostgreSQL locks the conflicting row even when the WHERE of ON CONFLICT DO
   UPDATE leaves it unchanged), so concurrent recordings of one chain queue behind each other;
2. ``append_event`` then looks, under that lock, whether (chain id, seq) is already there, and
   if not reads the head of the chain and inserts the event as the next link.

A batch in one statement (``append_batch``; a case's step, ``activities.records``, and a
probation's event, ``activities.probation_records``), two round trips in all:

1. ``link_batch`` reads, without a lock, which seqs are there already, the head, and each
   payload as jsonb gives it back, and links the new events from that head in Python;
2. one statement (``insert_linked`` inside the caller's) upserts the listing row first, which
   takes the same lock, then inserts the events with ON CONFLICT (chain id, seq) DO NOTHING.
   If a writer took one of the places meanwhile, the unique index on (chain id, chain_index)
   refuses the statement as a whole; ``append_batch`` links again from the new head. A writer
   under the lock never meets this: while it holds the lock the statement waits for it.

The log is append-only (the database refuses UPDATE), so the hash is computed before the
insert. The payload is hashed as PostgreSQL stores and returns it (read back through
``jsonb``: key order, number spelling), so the verifier recomputes exactly this hash.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import TextualSelect, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from audit.chain import (
    CASE_CHAIN,
    GENESIS,
    PROBATION_CHAIN,
    Chain,
    EventFields,
    event_hash,
    loads_json,
)
from store.models import CaseEvent
from store.probation_models import ProbationEvent

T = TypeVar("T")

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


# --------------------------------------------------------------------------- a batch, at once


@dataclass(frozen=True, slots=True)
class Linked:
    """An event as it joins its chain: its fields (its place decided, its payload as jsonb
    gives it back), the hash it links to, its own, and the payload as jsonb spells it."""

    fields: EventFields
    prev_hash: str
    hash: str
    payload_json: str


def _batch_probe(chain: Chain) -> str:
    """Which seqs are there already, where the chain ends, and each payload as jsonb gives it
    back: $1 the chain id, $2 the seqs, $3 the payloads as JSON text."""
    return f"""
        SELECT ARRAY(
                   SELECT seq FROM {chain.table} WHERE {chain.id_key} = $1 AND seq = ANY($2::int[])
               ) AS present,
               head.chain_index AS head_index,
               head.hash AS head_hash,
               ARRAY(
                   SELECT p::jsonb::text FROM unnest($3::text[]) WITH ORDINALITY AS u(p, i)
                   ORDER BY i
               ) AS payloads
        FROM (SELECT 1) AS one
        LEFT JOIN LATERAL (
            SELECT chain_index, hash FROM {chain.table}
            WHERE {chain.id_key} = $1
            ORDER BY chain_index DESC
            LIMIT 1
        ) AS head ON true
    """


async def link_batch(
    conn: asyncpg.Connection, chain: Chain, events: Sequence[EventFields]
) -> list[Linked]:
    """The events of one chain that are not there yet (nor earlier in ``events`` by seq), in
    order, each linked to the one before it from the chain's present head. One round trip; no
    lock: ``insert_linked`` refuses a place someone took meanwhile."""
    chain_id = events[0].chain_id
    fresh: dict[int, EventFields] = {}
    for event in events:
        fresh.setdefault(event.seq, event)
    batch = list(fresh.values())
    # json.dumps as SQLAlchemy's jsonb parameters spell it (NaN refused by jsonb, as before)
    texts = [json.dumps(e.payload) for e in batch]
    probe = await conn.fetchrow(_batch_probe(chain), chain_id, list(fresh), texts)
    assert probe is not None
    present = set(probe["present"])
    index, prev_hash = probe["head_index"] or 0, probe["head_hash"] or GENESIS
    linked = []
    for event, stored in zip(batch, probe["payloads"], strict=True):
        if event.seq in present:
            continue
        index += 1
        fields = dataclasses.replace(event, chain_index=index, payload=loads_json(stored))
        digest = event_hash(prev_hash, fields)
        linked.append(Linked(fields, prev_hash, digest, stored))
        prev_hash = digest
    return linked


def insert_linked(chain: Chain, derived: Sequence[str] = (), after: str | None = None) -> str:
    """An INSERT of linked events that writes each (chain id, seq) once and returns the seqs it
    wrote: $1 the chain id, then the arrays of ``linked_arrays`` ($2, $3, ...). ``derived``:
    the names of text[] columns given as JSON arrays; ``after``: a CTE of the same statement
    to run first (the chain's lock, its listing row)."""
    names = [n for n in chain.field_names() if n != chain.id_key]
    types = {"seq": "int", "chain_index": "int", "occurred_at": "timestamptz"}
    arrays = [*names, "prev_hash", "hash", *derived]
    given = ", ".join(f"${n}::{types.get(a, 'text')}[]" for n, a in enumerate(arrays, 2))
    values = [
        "e.payload::jsonb" if a == "payload" else f"e.{a}" for a in [*names, "prev_hash", "hash"]
    ] + [f"ARRAY(SELECT jsonb_array_elements_text(e.{a}::jsonb))" for a in derived]
    first = f"WHERE (SELECT count(*) FROM {after}) >= 0" if after is not None else ""
    return f"""
        INSERT INTO {chain.table} ({chain.id_key}, {", ".join(arrays)})
        SELECT $1, {", ".join(values)}
        FROM unnest({given}) AS e({", ".join(arrays)})
        {first}
        ON CONFLICT ({chain.id_key}, seq) DO NOTHING
        RETURNING seq
    """


def linked_arrays(
    chain: Chain,
    linked: Sequence[Linked],
    derived: Mapping[str, Callable[[Any], list[str]]] | None = None,
) -> list[list[Any]]:
    """The parameters of ``insert_linked`` after the chain id: one array per column, empty if
    nothing is linked; ``derived``: each text[] column's value from the payload as stored."""
    names = [n for n in chain.field_names() if n != chain.id_key]
    columns: list[list[Any]] = [[] for _ in names]
    prev_hashes, hashes = [], []
    extra: dict[str, list[str]] = {name: [] for name in derived or {}}
    for link in linked:
        row = link.fields.columns()
        for column, name in zip(columns, names, strict=True):
            column.append(link.payload_json if name == "payload" else row[name])
        prev_hashes.append(link.prev_hash)
        hashes.append(link.hash)
        for name, of in (derived or {}).items():
            extra[name].append(json.dumps(of(link.fields.payload)))
    return [*columns, prev_hashes, hashes, *extra.values()]


async def append_batch(
    conn: asyncpg.Connection,
    chain: Chain,
    events: Sequence[EventFields],
    write: Callable[[list[Linked]], Awaitable[T]],
    lock: Callable[[], Awaitable[object]],
) -> T:
    """Link ``events`` (``link_batch``) and ``write`` them (one statement with
    ``insert_linked``), outside a transaction. If a writer took one of their places meanwhile,
    which the chain's unique index refuses, again in a transaction under the chain's lock
    (``lock``: the caller's statement that takes it), where no one can."""
    try:
        return await write(await link_batch(conn, chain, events))
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name != f"ix_{chain.table}_{chain.id_key}_chain_index":
            raise
    async with conn.transaction():
        await lock()
        return await write(await link_batch(conn, chain, events))
