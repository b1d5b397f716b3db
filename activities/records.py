"""Recording a case's history outside Temporal: the listing row, the event, the inbox message.

Temporal retries an activity whenever it cannot be sure it finished, so the same event may
arrive many times, even concurrently, and an older event may arrive after a newer one. One
transaction per event, keyed by (case_id, seq), makes that harmless:

- the ``cases`` row is inserted if missing, and updated only by an event newer than the one it
  shows (``last_seq``), so a late retry never rolls the listing back;
- the event is inserted with ON CONFLICT DO NOTHING, so it is written once;
- the inbox message goes in only with a newly written event, and is itself keyed the same way.

A step's events come as one batch (``record_events``), written in one transaction: the
listing row once, then each event in order; ``record_event`` (one event, from histories
recorded before the batches) is the same write with one event.

The upsert of the ``cases`` row comes first and locks that row, so concurrent recordings for
one case queue behind each other instead of racing; under that lock the event joins its case's
hash chain (``audit.append``, shared with the probations' recording).
"""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from audit.append import append_event
from audit.chain import CASE_CHAIN, ChainFields, person_ids
from store.models import Case, InboxMessage
from workflows.types import CaseRow, RecordedEvent, RecordEventInput, RecordEventsInput


class RecordActivities:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    @activity.defn
    async def record_event(self, input: RecordEventInput) -> bool:
        """Record one event; True if it was newly written, False if it was already there."""
        event = RecordedEvent.model_validate(input.model_dump(exclude={"case_id", "case"}))
        return await self._write(input.case_id, input.case, [event]) == 1

    @activity.defn
    async def record_events(self, input: RecordEventsInput) -> int:
        """Record a step's events in one transaction; how many were newly written."""
        return await self._write(input.case_id, input.case, input.events)

    async def _write(self, case_id: str, case: CaseRow, events: list[RecordedEvent]) -> int:
        row = {
            "unit": case.unit,
            "post": case.post,
            "method": case.method.value,
            "stage": case.stage.value,
            "status": case.status.value,
            "outcome_reason": case.outcome_reason,
            "next_deadline": case.next_deadline,
            "overdue": case.overdue,
            "policy_version": case.policy_version,
            "probation_required": case.probation_required,
            "opened_on": case.opened_on,
            "awaited_step": case.awaited_step,
            "awaited_role": case.awaited_role.value if case.awaited_role else None,
            "assignee": case.assignee,
            "last_seq": max(e.seq for e in events),
        }
        upsert_case = insert(Case).values(case_id=case_id, **row)
        upsert_case = upsert_case.on_conflict_do_update(
            index_elements=[Case.case_id],
            set_={**{name: upsert_case.excluded[name] for name in row}, "updated_at": func.now()},
            where=Case.last_seq < upsert_case.excluded.last_seq,
        )
        written = 0
        async with self._session_factory() as session, session.begin():
            await session.execute(upsert_case)
            for entry in events:
                written += await self._append(session, case_id, entry)
        return written

    @staticmethod
    async def _append(session: AsyncSession, case_id: str, entry: RecordedEvent) -> int:
        """One event into its case's chain (under the case row's lock), and its inbox message
        if it was newly written; 1 if it was, 0 if it was there already."""
        event = ChainFields(
            case_id=case_id,
            seq=entry.seq,
            chain_index=0,  # the chain's next place, decided under the lock
            kind=entry.kind,
            stage=entry.stage.value,
            occurred_at=entry.occurred_at,
            actor_name=entry.actor_name,
            actor_role=entry.actor_role.value,
            summary=entry.summary,
            payload=entry.model_dump(mode="json")["payload"],
        )
        newly_written = await append_event(
            session,
            CASE_CHAIN,
            event,
            lambda payload: {"person_ids": person_ids(payload)},
        )
        if newly_written and entry.notification is not None:
            note = entry.notification
            await session.execute(
                insert(InboxMessage)
                .values(
                    case_id=case_id,
                    event_seq=entry.seq,
                    recipient_role=note.recipient_role.value,
                    recipient=note.recipient,
                    subject=note.subject,
                    body=note.body,
                )
                .on_conflict_do_nothing(
                    index_elements=[InboxMessage.case_id, InboxMessage.event_seq]
                )
            )
        return 1 if newly_written else 0
