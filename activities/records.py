"""Recording a case's history outside Temporal: the listing row, the event, the inbox message.

Temporal retries an activity whenever it cannot be sure it finished, so the same event may
arrive many times, even concurrently, and an older event may arrive after a newer one. One
transaction per event, keyed by (case_id, seq), makes that harmless:

- the ``cases`` row is inserted if missing, and updated only by an event newer than the one it
  shows (``last_seq``), so a late retry never rolls the listing back;
- the event is inserted with ON CONFLICT DO NOTHING, so it is written once;
- the inbox message goes in only with a newly written event, and is itself keyed the same way.

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
from workflows.types import RecordEventInput


class RecordActivities:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    @activity.defn
    async def record_event(self, input: RecordEventInput) -> bool:
        """Record one event; True if it was newly written, False if it was already there."""
        case = input.case
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
            "last_seq": input.seq,
        }
        upsert_case = insert(Case).values(case_id=input.case_id, **row)
        upsert_case = upsert_case.on_conflict_do_update(
            index_elements=[Case.case_id],
            set_={**{name: upsert_case.excluded[name] for name in row}, "updated_at": func.now()},
            where=Case.last_seq < upsert_case.excluded.last_seq,
        )

        async with self._session_factory() as session, session.begin():
            await session.execute(upsert_case)
            event = ChainFields(
                case_id=input.case_id,
                seq=input.seq,
                chain_index=0,  # the chain's next place, decided under the lock
                kind=input.kind,
                stage=input.stage.value,
                occurred_at=input.occurred_at,
                actor_name=input.actor_name,
                actor_role=input.actor_role.value,
                summary=input.summary,
                payload=input.model_dump(mode="json")["payload"],
            )
            newly_written = await append_event(
                session,
                CASE_CHAIN,
                event,
                lambda payload: {"person_ids": person_ids(payload)},
            )
            if newly_written and input.notification is not None:
                note = input.notification
                await session.execute(
                    insert(InboxMessage)
                    .values(
                        case_id=input.case_id,
                        event_seq=input.seq,
                        recipient_role=note.recipient_role.value,
                        recipient=note.recipient,
                        subject=note.subject,
                        body=note.body,
                    )
                    .on_conflict_do_nothing(
                        index_elements=[InboxMessage.case_id, InboxMessage.event_seq]
                    )
                )
        return newly_written
