"""Recording a probation's history outside Temporal: its listing row and its events.

The same discipline as ``activities.records``, and the same writer: the event is keyed by
(probation_id, seq) and joins the probation's hash chain as ``audit.append`` links it, in one
statement with the ``probations`` row, straight through asyncpg on a connection kept between
recordings. The row is inserted if missing and updated only by an event newer than the one
it shows (``last_seq``), so a late retry never rolls the listing back; its upsert locks it,
so a recording that finds its place taken meanwhile links again under that lock.

Before the row exists, that lock is not enough: the table has a second unique key (case_id,
person_id) that ON CONFLICT (probation_id) does not arbitrate, so two first recordings racing
could fail on it before either committed. The upsert therefore takes a transaction-scoped
advisory lock on the probation id first, which queues them from the start.

Mail is not sent here: the workflow sends it through ``activities.mail`` with the same
(probation_id, seq), so a retried recording never mails and a retried mail never records.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.listing import upsert_listing
from audit.append import Linked, append_batch, insert_linked, linked_arrays
from audit.chain import PROBATION_CHAIN, ProbationChainFields
from audit.driver import ActivityConnections, as_dbapi_errors
from store.probation_models import Probation
from workflows.probation_types import ProbationEventInput, ProbationRow

# the listing row's columns (after probation_id, $1): the row's fields and the newest seq,
# typed as the table has them
_LISTING = (*ProbationRow.model_fields, "last_seq")
_TYPES = {
    name: Probation.__table__.c[name].type.compile(dialect=postgresql.dialect())
    for name in _LISTING
}


def _upsert_listing(first: int) -> str:
    """The ``probations`` row, queued and locked: $1 the probation, its columns from $``first``."""
    return upsert_listing("probations", "probation_id", _LISTING, first, queued_as=_TYPES)


def _statement() -> str:
    """The listing row, then the event, in one statement: $1 the probation, the event's
    arrays, the listing's columns; the count written."""
    first = 2 + len(PROBATION_CHAIN.field_names()) - 1 + 2
    return f"""
        WITH listing AS ({_upsert_listing(first)} RETURNING 1),
        written AS ({insert_linked(PROBATION_CHAIN, after="listing")})
        SELECT count(*) FROM written
    """


_WRITE = _statement()
_LOCK = _upsert_listing(2)


def _listing(row: ProbationRow, seq: int) -> list[Any]:
    """The listing's columns in ``_LISTING``'s order, the enumerations by their values."""
    values = {**dict(row), "status": row.status.value, "review_status": row.review_status.value}
    return [*(values[name] for name in ProbationRow.model_fields), seq]


class ProbationRecordActivities:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._connections = ActivityConnections(session_factory)

    @activity.defn
    async def record_probation_event(self, input: ProbationEventInput) -> bool:
        """Record one event; True if it was newly written, False if it was already there."""
        listing = _listing(input.row, input.seq)
        event = ProbationChainFields(
            probation_id=input.probation_id,
            seq=input.seq,
            chain_index=0,  # the chain's next place, decided when it is linked
            kind=input.kind,
            occurred_at=input.occurred_at,
            actor_name=input.actor_name,
            actor_role=input.actor_role.value,
            summary=input.summary,
            payload=input.model_dump(mode="json", include={"payload"})["payload"],
        )

        async def write(linked: list[Linked]) -> int:
            arrays = linked_arrays(PROBATION_CHAIN, linked)
            return int(await driver.fetchval(_WRITE, input.probation_id, *arrays, *listing))

        async with self._connections.connection() as driver:
            lock = functools.partial(driver.execute, _LOCK, input.probation_id, *listing)
            with as_dbapi_errors(_WRITE):
                return await append_batch(driver, PROBATION_CHAIN, [event], write, lock) == 1
