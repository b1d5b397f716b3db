"""Recording a case's history outside Temporal: the listing row, the event, the inbox message.

Temporal retries an activity whenever it cannot be sure it finished, so the same event may
arrive many times, even concurrently, and an older event may arrive after a newer one. One
transaction per event, keyed by (case_id, seq), makes that harmless:

- the ``cases`` row is inserted if missing, and updated only by an event newer than the one it
  shows (``last_seq``), so a late retry never rolls the listing back;
- the event is inserted with ON CONFLICT DO NOTHING, so it is written once;
- the inbox message goes in only with a newly written event, and is itself keyed the same way.

The upsert of the ``cases`` row comes first and locks that row (PostgreSQL locks the
conflicting row even when the WHERE of ON CONFLICT DO UPDATE leaves it unchanged), so
concurrent recordings for one case queue behind each other instead of racing.

The event also joins its case's hash chain (``audit.chain``). The log is append-only (the
database refuses UPDATE), so the hash is computed before the insert: holding the case's lock,
the transaction looks whether (case_id, seq) is already there, and if not reads the head of the
chain and inserts the event as the next link. The lock is what keeps ``chain_index`` free of
gaps and forks however many retries run at once. The payload is hashed as PostgreSQL stores
and returns it (read back through ``jsonb``), so the verifier recomputes exactly this hash.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, text
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from audit.chain import GENESIS, ChainFields, event_hash, person_ids
from store.models import Case, CaseEvent, InboxMessage
from workflows.types import RecordEventInput

# Under the case's lock: is the event there already, where does the chain end, and the payload
# as jsonb will give it back (key order, number spelling), which is what gets hashed.
_PROBE = (
    text(
        """
        SELECT EXISTS (
                   SELECT 1 FROM case_events WHERE case_id = :case_id AND seq = :seq
               ) AS present,
               head.chain_index AS head_index,
               head.hash AS head_hash,
               CAST(:payload AS jsonb) AS payload
        FROM (SELECT 1) AS one
        LEFT JOIN LATERAL (
            SELECT chain_index, hash FROM case_events
            WHERE case_id = :case_id
            ORDER BY chain_index DESC
            LIMIT 1
        ) AS head ON true
        """
    )
    .bindparams(bindparam("payload", type_=JSONB))
    .columns(payload=JSONB)
)


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
            probe = await session.execute(
                _PROBE,
                {
                    "case_id": input.case_id,
                    "seq": input.seq,
                    "payload": input.model_dump(mode="json")["payload"],
                },
            )
            present, head_index, head_hash, payload = probe.one()
            if present:
                return False
            prev_hash = head_hash or GENESIS
            fields = ChainFields(
                case_id=input.case_id,
                seq=input.seq,
                chain_index=(head_index or 0) + 1,
                kind=input.kind,
                stage=input.stage.value,
                occurred_at=input.occurred_at,
                actor_name=input.actor_name,
                actor_role=input.actor_role.value,
                summary=input.summary,
                payload=payload,
            )
            # ON CONFLICT stays as a second guard of the idempotency key; under the lock it
            # never fires.
            event_id = await session.scalar(
                insert(CaseEvent)
                .values(
                    case_id=fields.case_id,
                    seq=fields.seq,
                    chain_index=fields.chain_index,
                    kind=fields.kind,
                    stage=fields.stage,
                    occurred_at=fields.occurred_at,
                    actor_name=fields.actor_name,
                    actor_role=fields.actor_role,
                    summary=fields.summary,
                    payload=fields.payload,
                    prev_hash=prev_hash,
                    hash=event_hash(prev_hash, fields),
                    person_ids=person_ids(fields.payload),
                )
                .on_conflict_do_nothing(index_elements=[CaseEvent.case_id, CaseEvent.seq])
                .returning(CaseEvent.id)
            )
            newly_written = event_id is not None
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
