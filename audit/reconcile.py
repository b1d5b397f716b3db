"""The log compared with Temporal's own history (对账), for the cases Temporal still holds.

Every event reaches the log through a recording activity (``record_events``, a step's events
at once; ``record_event``, one, in histories from before the batches), and Temporal keeps each
activity's input in the workflow's history until the history is deleted (the namespace's
retention after the case closes). So while it is there, the history is a second, independent
record: the log must hold exactly the events of the recording activities that completed,
with the same content.

Reported per case:

- ``missing_from_log``: an activity completed, but its (case_id, seq) is not in the log;
- ``unknown_to_temporal``: the log has a seq no activity was ever scheduled for (a forged
  event, or one from another run of the same case id);
- ``differing``: the seq is in both, but the log's content is not the activity's input (an
  event rewritten even if its chain was recomputed);
- ``in_flight``: scheduled, not completed yet (not a fault: a worker is on it or will retry).

A case whose history is gone (``held`` False) is not a fault: the log alone is then the record,
and ``verify`` is what vouches for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.service import RPCError, RPCStatusCode

from audit.chain import canonical_json, iso_utc
from audit.queries import AuditEvent, timeline
from store.models import CaseEvent
from workflows.activity_refs import RECORD_EVENT, RECORD_EVENTS
from workflows.ids import case_workflow_id
from workflows.types import RecordedEvent, RecordEventInput, RecordEventsInput

CONCURRENCY = 8


@dataclass
class CaseReconciliation:
    case_id: str
    held: bool = True
    log_events: int = 0
    temporal_events: int = 0
    missing_from_log: list[int] = field(default_factory=list)
    unknown_to_temporal: list[int] = field(default_factory=list)
    differing: list[tuple[int, str]] = field(default_factory=list)  # (seq, which fields)
    in_flight: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing_from_log or self.unknown_to_temporal or self.differing)

    def problems(self) -> list[str]:
        c = self.case_id
        out = [
            f"案件 {c}：序号 {s} 已由完成的活动登记，但不在审计记录中"
            for s in self.missing_from_log
        ]
        out += [
            f"案件 {c}：序号 {s} 在审计记录中，但 Temporal 从未安排过它"
            for s in self.unknown_to_temporal
        ]
        out += [
            f"案件 {c}：审计记录中的序号 {s} 与活动的输入不一致（{what}）"
            for s, what in self.differing
        ]
        return out


@dataclass(frozen=True, slots=True)
class RecordedInTemporal:
    completed: dict[int, RecordedEvent]
    scheduled_only: list[int]


async def record_inputs(
    client: Client, case_id: str, converter: DataConverter | None = None
) -> RecordedInTemporal | None:
    """The events the recording activities in the case's history were given; None if
    Temporal no longer has the history."""
    handle = client.get_workflow_handle(case_workflow_id(case_id))
    try:
        history = await handle.fetch_history()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    # the client's own converter by default: it holds the payload keys
    decode = (converter or client.data_converter).decode
    scheduled: dict[int, list[RecordedEvent]] = {}
    completed: set[int] = set()
    for event in history.events:
        if event.HasField("activity_task_scheduled_event_attributes"):
            attrs = event.activity_task_scheduled_event_attributes
            name, payloads = attrs.activity_type.name, attrs.input.payloads
            if name == RECORD_EVENTS.name:
                [batch] = await decode(payloads, [RecordEventsInput])
                scheduled[event.event_id] = list(batch.events)
            elif name == RECORD_EVENT.name:
                [one] = await decode(payloads, [RecordEventInput])
                entry = one.model_dump(exclude={"case_id", "case"})
                scheduled[event.event_id] = [RecordedEvent.model_validate(entry)]
        elif event.HasField("activity_task_completed_event_attributes"):
            completed.add(event.activity_task_completed_event_attributes.scheduled_event_id)
    done = {e.seq: e for k, events in scheduled.items() if k in completed for e in events}
    waiting = {e.seq for k, events in scheduled.items() if k not in completed for e in events}
    return RecordedInTemporal(done, sorted(waiting - set(done)))


def _differences(logged: AuditEvent, sent: RecordedEvent) -> list[str]:
    pairs = {
        "kind": (logged.kind, sent.kind),
        "stage": (logged.stage, sent.stage.value),
        "occurred_at": (iso_utc(logged.occurred_at), iso_utc(sent.occurred_at)),
        "actor_name": (logged.actor_name, sent.actor_name),
        "actor_role": (logged.actor_role, sent.actor_role.value),
        "summary": (logged.summary, sent.summary),
        "payload": (
            canonical_json(logged.payload),
            canonical_json(sent.model_dump(mode="json")["payload"]),
        ),
    }
    return [name for name, (a, b) in pairs.items() if a != b]


async def reconcile_case(
    client: Client,
    session: AsyncSession,
    case_id: str,
    converter: DataConverter | None = None,
) -> CaseReconciliation:
    result = CaseReconciliation(case_id)
    logged = {e.seq: e for e in await timeline(session, case_id)}
    result.log_events = len(logged)
    recorded = await record_inputs(client, case_id, converter)
    if recorded is None:
        result.held = False
        return result
    result.temporal_events = len(recorded.completed)
    result.in_flight = [s for s in recorded.scheduled_only if s not in logged]
    result.missing_from_log = sorted(set(recorded.completed) - set(logged))
    known = set(recorded.completed) | set(recorded.scheduled_only)
    result.unknown_to_temporal = sorted(set(logged) - known)
    for seq in sorted(set(recorded.completed) & set(logged)):
        what = _differences(logged[seq], recorded.completed[seq])
        if what:
            result.differing.append((seq, ", ".join(what)))
    return result


async def logged_case_ids(session: AsyncSession) -> list[str]:
    result = await session.scalars(select(CaseEvent.case_id).distinct().order_by(CaseEvent.case_id))
    return list(result)


async def reconcile(
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    case_ids: Sequence[str] | None = None,
    converter: DataConverter | None = None,
) -> list[CaseReconciliation]:
    """Reconcile the given cases (default: every case in the log), a few at a time."""
    if case_ids is None:
        async with sessions() as session:
            case_ids = await logged_case_ids(session)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(case_id: str) -> CaseReconciliation:
        async with gate, sessions() as session:
            return await reconcile_case(client, session, case_id, converter)

    return list(await asyncio.gather(*(one(c) for c in case_ids)))
