"""Recording a probation's history outside Temporal: its listing row and its events.

The same discipline as ``activities.records``: one transaction per event, keyed by
(probation_id, seq). The ``probations`` row is inserted if missing and updated only by an
event newer than the one it shows (``last_seq``), so a late retry never rolls the listing
back. The upsert comes first and locks the row, so concurrent recordings of one probation
queue behind each other; under that lock the event joins the probation's hash chain
(``audit.append``, the same writer as a case's), written once.

Before the row exists, that lock is not enough: the table has a second unique key (case_id,
person_id) that ON CONFLICT (probation_id) does not arbitrate, so two first recordings racing
could fail on it before either committed. A transaction-scoped advisory lock on the probation
id, taken first, queues them from the start.

Mail is not sent here: the workflow sends it through ``activities.mail`` with the same
(probation_id, seq), so a retried recording never mails and a retried mail never records.
"""

from __future__ import annotations

from sqlalchemy import func, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from audit.append import append_event
from audit.chain import PROBATION_CHAIN, ProbationChainFields
from store.probation_models import Probation
from workflows.probation_types import ProbationEventInput

_QUEUE = text("SELECT pg_advisory_xact_lock(hashtextextended(:probation_id, 0))")


class ProbationRecordActivities:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    @activity.defn
    async def record_probation_event(self, input: ProbationEventInput) -> bool:
        """Record one event; True if it was newly written, False if it was already there."""
        r = input.row
        row = {
            "case_id": r.case_id,
            "person_id": r.person_id,
            "name": r.name,
            "unit": r.unit,
            "post": r.post,
            "former_rank": r.former_rank,
            "former_post": r.former_post,
            "starts_on": r.starts_on,
            "ends_on": r.ends_on,
            "status": r.status.value,
            "review_status": r.review_status.value,
            "review_due_on": r.review_due_on,
            "review_overdue": r.review_overdue,
            "reviewed_on": r.reviewed_on,
            "rank_restored": r.rank_restored,
            "closed_on": r.closed_on,
            "imported": r.imported,
            "last_seq": input.seq,
        }
        upsert = insert(Probation).values(probation_id=input.probation_id, **row)
        upsert = upsert.on_conflict_do_update(
            index_elements=[Probation.probation_id],
            set_={**{name: upsert.excluded[name] for name in row}, "updated_at": func.now()},
            where=Probation.last_seq < upsert.excluded.last_seq,
        )
        event = ProbationChainFields(
            probation_id=input.probation_id,
            seq=input.seq,
            chain_index=0,  # the chain's next place, decided under the lock
            kind=input.kind,
            occurred_at=input.occurred_at,
            actor_name=input.actor_name,
            actor_role=input.actor_role.value,
            summary=input.summary,
            payload=input.model_dump(mode="json")["payload"],
        )
        async with self._session_factory() as session, session.begin():
            await session.execute(_QUEUE, {"probation_id": input.probation_id})
            await session.execute(upsert)
            return await append_event(session, PROBATION_CHAIN, event)
