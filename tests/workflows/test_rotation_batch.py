"""A rotation batch (交流批次) on the time-skipping server with the real worker and the real
PostgreSQL: a scan over the register lists three ordinary cadres, the head decides 交流, a
batch is made of them through the gateway; one arrives on time (the register's new version
holds the new post and names the batch), one is late (reminders and the escalation recorded,
the digest lists it overdue), one is cancelled; the batch completes."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowHandle

from activities.digest import DigestActivities
from gateway import rotation_batch
from gateway.errors import NotPermitted, Refused
from settings import PROJECT_DIR
from sheets.columns import REGISTER_PEOPLE, REGISTER_POSTS
from store.register import decide_rotation
from store.register_queries import person_history
from store.rotation_batch_queries import batches, move_standings
from tests.register.people import imported
from tests.workflows.conftest import SETTLE_SECONDS, CaseRunner
from workflows.cadre_enums import MoveStatus
from workflows.ids import rotation_batch_workflow_id
from workflows.probation_types import DigestItemKind, DigestRequest
from workflows.register_types import (
    PersonRow,
    PostRow,
    RotationDecision,
    RotationScanInput,
    RotationScanResult,
)
from workflows.rotation import RotationScanWorkflow
from workflows.rotation_batch import RotationBatchWorkflow
from workflows.rotation_batch_types import (
    ArrivalInput,
    CancelMoveInput,
    DocumentInput,
    MoveState,
    RotationBatchState,
)
from workflows.rules.working_days import SHANGHAI
from workflows.types import Actor, Role

CLERK = Actor(name="王科员", role=Role.CLERK)
HEAD = Actor(name="部长 赵", role=Role.DEPARTMENT_HEAD)
POLICY = PROJECT_DIR / "policy" / "default.yaml"
TOWN = "城关镇"


async def today(runner: CaseRunner) -> date:
    return (await runner.env.get_current_time()).astimezone(SHANGHAI).date()


async def three_cadres(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    """Three ordinary cadres in 城关镇 since 2015 (ids of this test's own)."""
    ids = [f"RB{uuid.uuid4().hex[:8]}" for _ in range(3)]
    names = ["准时", "迟到", "撤销"]
    await imported(
        sessions,
        REGISTER_PEOPLE,
        [PersonRow(person_id=pid, name=n) for pid, n in zip(ids, names, strict=True)],
        "名册导入",
    )
    await imported(
        sessions,
        REGISTER_POSTS,
        [
            PostRow(
                person_id=pid,
                unit="城关镇人民政府",
                township=TOWN,
                post="科员",
                rank="科员",
                started_on=date(2015, 1, 1),
            )
            for pid in ids
        ],
        "任职经历导入",
    )
    return ids


async def settle(check: Any) -> Any:
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        found = await check()
        if found is not None:
            return found
        assert time.monotonic() < deadline, "the worker did not get there in time"
        await asyncio.sleep(0.1)


async def test_a_batch_of_three_moves(
    runner: CaseRunner, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    client = runner.env.client
    ontime, late, cancelled = await three_cadres(session_factory)
    day = await today(runner)
    scan_id = f"rotation-scan-{uuid.uuid4().hex[:8]}"
    # the clock stands still while the scan runs: waiting for a result would let the test
    # server skip to its next timer (years ahead, with nothing else to wait for)
    with runner.env.auto_time_skipping_disabled():
        scan: RotationScanResult = await client.execute_workflow(
            RotationScanWorkflow.run,
            RotationScanInput(as_of=day),
            id=scan_id,
            task_queue=runner.task_queue,
        )
    due = {d.person_id for d in scan.due}
    assert {ontime, late, cancelled} <= due
    for pid in (ontime, late, cancelled):
        async with session_factory() as s, s.begin():
            await decide_rotation(s, scan_id, pid, RotationDecision.ROTATE, "", HEAD)

    destinations = [
        rotation_batch.Destination(ontime, "樟市镇人民政府", "樟市镇"),
        rotation_batch.Destination(late, "县农业农村局", None, "办事员"),
        rotation_batch.Destination(cancelled, "太和镇人民政府", "太和镇"),
    ]
    batch_id = f"B{uuid.uuid4().hex[:8]}"

    async def make(bid: str, moves: list[rotation_batch.Destination]) -> str:
        return await rotation_batch.make_batch(
            client,
            runner.task_queue,
            session_factory,
            POLICY,
            batch_id=bid,
            title="2026 年第一批乡镇一般干部交流",
            scan_id=scan_id,
            made_on=day,
            moves=moves,
            opened_by=CLERK,
        )

    # a person the scan did not list, or named twice, is refused before anything starts
    with pytest.raises(Refused, match="不在交流排查") as refused:
        await make(batch_id, [rotation_batch.Destination("NOBODY", "县农业农村局")])
    assert refused.value.rule == "rotation.batch.members"
    with pytest.raises(Refused, match="出现了 2 次"):
        await make(batch_id, [destinations[0], destinations[0]])

    workflow_id = await make(batch_id, destinations)
    assert workflow_id == rotation_batch_workflow_id(batch_id)
    runner.started.append(client.get_workflow_handle(workflow_id))
    handle: WorkflowHandle[Any, RotationBatchState] = client.get_workflow_handle(
        workflow_id, result_type=RotationBatchState
    )

    async def scheduled() -> RotationBatchState | None:
        s = await handle.query(RotationBatchWorkflow.state)
        return s if all(m.document_schedule for m in s.moves) else None

    state: RotationBatchState = await settle(scheduled)
    assert state.policy_version == "2026.4"
    assert [m.status for m in state.moves] == [MoveStatus.AWAITING_DOCUMENT] * 3

    # the digest lists the three moves waiting once their deadline is within its days
    first_deadline = state.moves[0].document_schedule
    assert first_deadline is not None

    async def waiting_in_digest(days_ahead: int) -> list[tuple[DigestItemKind, str]]:
        found = await DigestActivities(session_factory).gather_digest(
            DigestRequest(
                as_of=await runner.env.get_current_time(), today=day, days_ahead=days_ahead
            )
        )
        return [(i.kind, i.name) for i in found.items if i.ref == workflow_id]

    within = (first_deadline.deadline_on - day).days
    assert await waiting_in_digest(within) == [
        (DigestItemKind.ROTATION_MOVE_DUE, name) for name in ("准时", "迟到", "撤销")
    ]
    assert await waiting_in_digest(within - 1) == []

    # one person is in one batch at a time: a second batch of the same person is refused
    with pytest.raises(Refused, match=f"已在交流批次 {batch_id} 中"):
        await make(f"{batch_id}x", [destinations[0]])

    # on time: the document, then the arrival, the same day
    with pytest.raises(Refused, match="待印发交流文件"):  # arrival before the document
        await rotation_batch.record_arrival(
            client, batch_id, ArrivalInput(actor=CLERK, person_id=ontime, arrived_on=day)
        )
    await rotation_batch.record_document(
        client,
        batch_id,
        DocumentInput(actor=CLERK, person_id=ontime, issued_on=day, reference="组干〔2026〕12号"),
    )

    async def arrival_scheduled() -> MoveState | None:
        m = (await handle.query(RotationBatchWorkflow.state)).move(ontime)
        return m if m is not None and m.arrival_schedule else None

    await settle(arrival_scheduled)
    arrived = await rotation_batch.record_arrival(
        client, batch_id, ArrivalInput(actor=CLERK, person_id=ontime, arrived_on=day)
    )
    assert arrived.status is MoveStatus.ARRIVED and arrived.arrival is not None
    async with session_factory() as s:
        history = await person_history(s, ontime)
    newest = history[-1]
    assert arrived.arrival.register_version == newest.version == 3
    assert batch_id in newest.reason and "到岗" in newest.reason
    assert newest.changed_by == CLERK.name
    old, new = newest.record.posts
    assert (old.township, old.ended_on) == (TOWN, day - timedelta(days=1))
    assert (new.unit, new.township, new.started_on, new.ended_on) == (
        "樟市镇人民政府",
        "樟市镇",
        day,
        None,
    )
    assert (new.rank, new.post, new.leading) == ("科员", "科员", False)

    # cancelled: only the policy's roles (the head) may, with a reason
    with pytest.raises(NotPermitted, match="撤销交流只能由部领导登记"):
        await rotation_batch.cancel_move(
            client, batch_id, CancelMoveInput(actor=CLERK, person_id=cancelled, reason="x")
        )
    gone = await rotation_batch.cancel_move(
        client,
        batch_id,
        CancelMoveInput(actor=HEAD, person_id=cancelled, reason="太和镇岗位已由选调生补足"),
    )
    assert gone.status is MoveStatus.CANCELLED
    with pytest.raises(Refused, match="已撤销"):
        await rotation_batch.record_document(
            client,
            batch_id,
            DocumentInput(actor=CLERK, person_id=cancelled, issued_on=day, reference="x"),
        )

    # late: the document's deadline (10 working days) passes, with its reminders and the
    # escalation to the head a working day after
    deadline = state.moves[1].document_schedule
    assert deadline is not None
    await runner.env.sleep(deadline.deadline_on - day + timedelta(days=6))

    async def escalated() -> list[Any] | None:
        events = await runner.events(workflow_id)
        mine = [e for e in events if e.payload.get("person_id") == late]
        alarms = [e.payload.get("kind") for e in mine if e.kind == "rotation_alarm"]
        return mine if "escalation" in alarms else None

    mine = await settle(escalated)
    alarms = [e for e in mine if e.kind == "rotation_alarm"]
    assert [a.payload["kind"] for a in alarms] == ["reminder", "reminder", "escalation"]
    assert alarms[-1].payload["role"] == Role.DEPARTMENT_HEAD.value
    assert "第1级督办，报部领导" in alarms[-1].summary
    overdue = [e for e in await runner.events(workflow_id) if e.kind == "rotation_overdue"]
    assert len(overdue) == 1 and "迟到" in overdue[0].summary
    late_state = (await handle.query(RotationBatchWorkflow.state)).move(late)
    assert late_state is not None and late_state.overdue

    # the digest lists the late move as overdue, and nothing of the two settled
    now = await today(runner)
    found = await DigestActivities(session_factory).gather_digest(
        DigestRequest(as_of=await runner.env.get_current_time(), today=now, days_ahead=7)
    )
    listed = [i for i in found.items if i.ref == workflow_id]
    assert [(i.kind, i.name) for i in listed] == [(DigestItemKind.ROTATION_MOVE_OVERDUE, "迟到")]
    assert listed[0].due_on == deadline.deadline_on
    assert listed[0].detail.startswith("待办：登记交流文件印发")

    # late, but done: the document and the arrival
    later = await today(runner)
    await rotation_batch.record_document(
        client,
        batch_id,
        DocumentInput(actor=CLERK, person_id=late, issued_on=later, reference="组干〔2026〕15号"),
    )

    async def late_arrival_scheduled() -> MoveState | None:
        m = (await handle.query(RotationBatchWorkflow.state)).move(late)
        return m if m is not None and m.arrival_schedule else None

    await settle(late_arrival_scheduled)
    await rotation_batch.record_arrival(
        client, batch_id, ArrivalInput(actor=CLERK, person_id=late, arrived_on=later)
    )

    end = await handle.result()
    assert end.finished
    assert [m.status for m in end.moves] == [
        MoveStatus.ARRIVED,
        MoveStatus.ARRIVED,
        MoveStatus.CANCELLED,
    ]
    kinds = [e.kind for e in await runner.events(workflow_id)]
    assert kinds[0] == "rotation_batch_opened" and kinds[-1] == "rotation_batch_finished"
    assert kinds.count("rotation_arrived") == 2 and kinds.count("rotation_move_cancelled") == 1
    async with session_factory() as s:
        late_new = (await person_history(s, late))[-1].record.posts[-1]
        summary = next(b for b in await batches(s) if b.batch_id == batch_id)
        waiting = await move_standings(s, [ontime, late, cancelled])
    assert (late_new.unit, late_new.township, late_new.post) == ("县农业农村局", None, "办事员")
    assert summary.finished and summary.people == 3
    assert waiting == []
    row = await runner.row(workflow_id)
    assert row is not None and "不是任用案件" in row.outcome_reason
