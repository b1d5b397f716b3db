"""Recording a case's history outside Temporal: the listing row, the event, the inbox message.

Temporal retries an activity whenever it cannot be sure it finished, so the same event may
arrive many times, even concurrently, and an older event may arrive after a newer one. Each
recording is one statement, keyed by (case_id, seq), which makes that harmless:

- the ``cases`` row is inserted if missing, and updated only by an event newer than the one it
  shows (``last_seq``), so a late retry never rolls the listing back;
- the event is inserted with ON CONFLICT DO NOTHING, so it is written once;
- the inbox message goes in only with a newly written event, and is itself keyed the same way.

A step's events come as one batch (``record_events``), written by one statement: the listing
row once, then the events in order, then their inbox messages; ``record_event`` (one event,
from histories recorded before the batches) is the same write with one event.

The upsert of the ``cases`` row comes first in that statement and locks that row, so concurrent
recordings for one case queue behind each other; the events join their case's hash chain as
``audit.append`` links them (read the head, link, write; again if the head moved meanwhile),
the one writer shared with the probations' recording. Two round trips per step, straight
through asyncpg; under load on a connection handed on from the previous recording
(``audit.driver.KeptConnections``: no ping per step, and no more recordings at once than the
pool keeps connections).
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.listing import upsert_listing
from audit.append import Linked, append_batch, insert_linked, linked_arrays
from audit.chain import CASE_CHAIN, ChainFields, person_ids
from audit.driver import ActivityConnections, as_dbapi_errors
from workflows.types import CaseRow, RecordedEvent, RecordEventInput, RecordEventsInput

# the listing row's columns, after case_id ($1) and the events' arrays
_LISTING = (
    "unit",
    "post",
    "method",
    "stage",
    "status",
    "outcome_reason",
    "next_deadline",
    "overdue",
    "policy_version",
    "probation_required",
    "opened_on",
    "awaited_step",
    "awaited_role",
    "assignee",
    "chain",
    "last_seq",
)
_DERIVED = {"person_ids": person_ids}  # text[] columns computed from the payload as stored
_NOTES = ("seq", "recipient_role", "recipient", "subject", "body")
_EVENT_FIELDS = tuple(RecordedEvent.model_fields)


def _upsert_listing(first: int) -> str:
    """The ``cases`` row, locked: $1 the case, its columns from $``first`` on."""
    return upsert_listing("cases", "case_id", _LISTING, first)


def _statement() -> str:
    """The listing row, the events and their inbox messages, in one statement: $1 the case,
    then the events' arrays, the listing's columns, the messages' arrays; the count written."""
    events = insert_linked(CASE_CHAIN, derived=list(_DERIVED), after="listing")
    first = 2 + len(CASE_CHAIN.field_names()) - 1 + 2 + len(_DERIVED)
    notes = range(first + len(_LISTING), first + len(_LISTING) + len(_NOTES))
    note_types = dict(zip(_NOTES, ("int", "text", "text", "text", "text"), strict=True))
    note_arrays = ", ".join(f"${n}::{note_types[c]}[]" for n, c in zip(notes, _NOTES, strict=True))
    return f"""
        WITH listing AS ({_upsert_listing(first)} RETURNING 1),
        written AS ({events}),
        noted AS (
            INSERT INTO inbox (case_id, event_seq, recipient_role, recipient, subject, body)
            SELECT $1, n.seq, n.recipient_role, n.recipient, n.subject, n.body
            FROM unnest({note_arrays}) AS n({", ".join(_NOTES)})
            JOIN written USING (seq)
            ON CONFLICT (case_id, event_seq) DO NOTHING
        )
        SELECT count(*) FROM written
    """


_WRITE = _statement()
_LOCK = _upsert_listing(2)


class RecordActivities:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._connections = ActivityConnections(session_factory)

    @activity.defn
    async def record_event(self, input: RecordEventInput) -> bool:
        """Record one event; True if it was newly written, False if it was already there."""
        # the same fields, validated already as the input's
        event = RecordedEvent.model_construct(**{n: getattr(input, n) for n in _EVENT_FIELDS})
        return await self._write(input.case_id, input.case, [event]) == 1

    @activity.defn
    async def record_events(self, input: RecordEventsInput) -> int:
        """Record a step's events in one transaction; how many were newly written."""
        return await self._write(input.case_id, input.case, input.events)

    async def _write(self, case_id: str, case: CaseRow, events: list[RecordedEvent]) -> int:
        listing = [
            case.unit,
            case.post,
            case.method.value,
            case.stage.value,
            case.status.value,
            case.outcome_reason,
            case.next_deadline,
            case.overdue,
            case.policy_version,
            case.probation_required,
            case.opened_on,
            case.awaited_step,
            case.awaited_role.value if case.awaited_role else None,
            case.assignee,
            case.chain.value,
            max(e.seq for e in events),
        ]
        notes = {e.seq: e.notification for e in events if e.notification is not None}
        fields = [_fields(case_id, e) for e in events]

        async def write(linked: list[Linked]) -> int:
            noted = [
                (link.fields.seq, notes[link.fields.seq])
                for link in linked
                if link.fields.seq in notes
            ]
            messages: list[list[Any]] = [
                [seq for seq, _ in noted],
                [note.recipient_role.value for _, note in noted],
                [note.recipient for _, note in noted],
                [note.subject for _, note in noted],
                [note.body for _, note in noted],
            ]
            arrays = linked_arrays(CASE_CHAIN, linked, _DERIVED)
            written = await driver.fetchval(_WRITE, case_id, *arrays, *listing, *messages)
            return int(written)

        async with self._connections.connection() as driver:
            lock = functools.partial(driver.execute, _LOCK, case_id, *listing)
            with as_dbapi_errors(_WRITE):
                return await append_batch(driver, CASE_CHAIN, fields, write, lock)


def _fields(case_id: str, entry: RecordedEvent) -> ChainFields:
    """An event as its chain will hash it, its place still to be decided."""
    return ChainFields(
        case_id=case_id,
        seq=entry.seq,
        chain_index=0,  # the chain's next place, decided when it is linked
        kind=entry.kind,
        stage=entry.stage.value,
        occurred_at=entry.occurred_at,
        actor_name=entry.actor_name,
        actor_role=entry.actor_role.value,
        summary=entry.summary,
        payload=entry.model_dump(mode="json", include={"payload"})["payload"],
    )
