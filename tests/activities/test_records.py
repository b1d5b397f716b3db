"""Recording is idempotent, order-safe and race-safe, and the queries read back what it wrote."""

from __future__ import annotations

import asyncio
import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.records import RecordActivities
from store import queries
from workflows.types import (
    CaseRow,
    CaseStage,
    CaseStatus,
    Notification,
    RecordedEvent,
    RecordEventInput,
    RecordEventsInput,
    Role,
    SelectionMethod,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


def event(
    case_id: str,
    seq: int,
    *,
    stage: CaseStage = CaseStage.INSPECTION,
    status: CaseStatus = CaseStatus.ACTIVE,
    unit: str = "县发展和改革局",
    next_deadline: datetime | None = None,
    overdue: bool = False,
    notify: Role | None = Role.CLERK,
    payload: dict[str, object] | None = None,
) -> RecordEventInput:
    return RecordEventInput(
        case_id=case_id,
        seq=seq,
        kind="transition",
        stage=stage,
        occurred_at=T0 + timedelta(hours=seq),
        actor_name="王芳",
        actor_role=Role.CLERK,
        summary=f"第{seq}步",
        payload=payload or {"seq": seq},
        case=CaseRow(
            unit=unit,
            post="副局长",
            method=SelectionMethod.REGULAR_APPOINTMENT,
            stage=stage,
            status=status,
            next_deadline=next_deadline,
            overdue=overdue,
            policy_version="2026.1",
            opened_on=date(2026, 3, 2),
        ),
        notification=(
            None
            if notify is None
            else Notification(recipient_role=notify, subject=f"事项{seq}", body="请办理")
        ),
    )


async def test_recording_the_same_event_three_times_writes_it_once(
    session_factory: async_sessionmaker[AsyncSession], new_case_id: str
) -> None:
    records = RecordActivities(session_factory)
    item = event(new_case_id, 1)

    assert [await records.record_event(item) for _ in range(3)] == [True, False, False]

    async with session_factory() as session:
        assert await queries.count_events(session, new_case_id) == 1
        assert len(await queries.inbox(session, case_id=new_case_id)) == 1
        case = await queries.get_case(session, new_case_id)
    assert case is not None
    assert case.last_seq == 1


async def test_an_older_event_arriving_late_does_not_roll_the_case_back(
    session_factory: async_sessionmaker[AsyncSession], new_case_id: str
) -> None:
    records = RecordActivities(session_factory)
    assert await records.record_event(event(new_case_id, 2, stage=CaseStage.VOTE))
    assert await records.record_event(event(new_case_id, 1, stage=CaseStage.INSPECTION))

    async with session_factory() as session:
        case = await queries.get_case(session, new_case_id)
        history = await queries.case_history(session, new_case_id)
    assert case is not None
    assert (case.stage, case.last_seq) == (CaseStage.VOTE, 2)
    # the late event is still part of the history, in its place
    assert [(e.seq, e.stage) for e in history] == [(1, CaseStage.INSPECTION), (2, CaseStage.VOTE)]

    assert await records.record_event(
        event(new_case_id, 3, stage=CaseStage.CLOSED, status=CaseStatus.APPOINTED)
    )
    async with session_factory() as session:
        case = await queries.get_case(session, new_case_id)
    assert case is not None
    assert (case.stage, case.status, case.last_seq) == (
        CaseStage.CLOSED,
        CaseStatus.APPOINTED,
        3,
    )


async def test_concurrent_recordings_of_one_event_write_it_once(
    session_factory: async_sessionmaker[AsyncSession], new_case_id: str
) -> None:
    records = RecordActivities(session_factory)
    item = event(new_case_id, 1)

    results = await asyncio.gather(*(records.record_event(item) for _ in range(20)))

    assert results.count(True) == 1
    async with session_factory() as session:
        assert await queries.count_events(session, new_case_id) == 1
        assert len(await queries.inbox(session, case_id=new_case_id)) == 1


async def test_concurrent_recordings_in_any_order_leave_the_newest_state(
    session_factory: async_sessionmaker[AsyncSession], new_case_id: str
) -> None:
    records = RecordActivities(session_factory)
    stages = list(CaseStage)
    items = [event(new_case_id, seq, stage=stages[seq - 1]) for seq in range(1, len(stages) + 1)]
    shuffled = random.Random(7).sample(items * 2, k=len(items) * 2)  # each one twice

    results = await asyncio.gather(*(records.record_event(item) for item in shuffled))

    assert results.count(True) == len(items)
    async with session_factory() as session:
        case = await queries.get_case(session, new_case_id)
        history = await queries.case_history(session, new_case_id)
    assert case is not None
    assert (case.stage, case.last_seq) == (stages[-1], len(stages))
    assert [e.seq for e in history] == list(range(1, len(stages) + 1))


async def test_queries_read_back_what_was_recorded(
    session_factory: async_sessionmaker[AsyncSession], new_case_id: str
) -> None:
    records = RecordActivities(session_factory)
    unit = f"测试单位-{new_case_id}"  # the database is shared: list only this test's cases
    soon, later = T0 + timedelta(days=3), T0 + timedelta(days=9)
    first, second, third = (f"{new_case_id}-{n}" for n in ("a", "b", "c"))

    await records.record_event(event(third, 1, unit=unit, next_deadline=None, notify=None))
    await records.record_event(event(second, 1, unit=unit, next_deadline=later))
    await records.record_event(
        event(first, 1, unit=unit, next_deadline=soon, overdue=True, notify=Role.SECTION_CHIEF)
    )
    # history is read in seq order, whatever the order of writing
    for seq in (3, 2):
        await records.record_event(
            event(first, seq, unit=unit, next_deadline=soon, overdue=True, notify=None)
        )
    await records.record_event(
        event(second, 2, unit=unit, next_deadline=later, payload={"on": date(2026, 3, 9)})
    )

    async with session_factory() as session:
        listed = await queries.list_cases(session, unit=unit)
        assert [c.case_id for c in listed] == [first, second, third]  # deadline, nulls last
        assert [c.case_id for c in await queries.list_cases(session, unit=unit, overdue=True)] == [
            first
        ]
        assert [
            c.case_id for c in await queries.list_cases(session, unit=unit, limit=1, offset=1)
        ] == [second]
        assert (
            await queries.list_cases(session, unit=unit, stage=CaseStage.VOTE, status="active")
            == []
        )
        assert len(await queries.list_cases(session, unit=unit, stage="inspection")) == 3
        assert listed[0].next_deadline == soon
        assert listed[0].method is SelectionMethod.REGULAR_APPOINTMENT
        assert await queries.get_case(session, f"{new_case_id}-missing") is None

        history = await queries.case_history(session, first)
        assert [e.seq for e in history] == [1, 2, 3]
        assert history[0].occurred_at == T0 + timedelta(hours=1)
        assert history[0].actor_role is Role.CLERK
        assert (await queries.case_history(session, second))[1].payload == {"on": "2026-03-09"}
        assert await queries.count_events(session, first) == 3
        assert await queries.count_events(session, f"{new_case_id}-missing") == 0

        chief = await queries.inbox(session, recipient_role=Role.SECTION_CHIEF, case_id=first)
        assert [(m.case_id, m.event_seq, m.subject) for m in chief] == [(first, 1, "事项1")]
        mine = await queries.inbox(session, case_id=second)
        assert [m.event_seq for m in mine] == [2, 1]  # newest first
        assert await queries.inbox(session, case_id=third) == []

        assert await queries.mark_read(session, mine[0].id) is True
        await session.commit()
    async with session_factory() as session:
        unread = await queries.inbox(session, case_id=second, unread_only=True)
        assert [m.event_seq for m in unread] == [1]
        read = (await queries.inbox(session, case_id=second))[0]
        assert read.read_at is not None
        assert await queries.mark_read(session, read.id) is True  # again: not an error
        assert await queries.mark_read(session, -1) is False
        await session.commit()
    async with session_factory() as session:
        again = (await queries.inbox(session, case_id=second))[0]
    assert again.read_at == read.read_at  # the first reading time is kept


def batch(case_id: str, seqs: list[int], **row: object) -> RecordEventsInput:
    """A step's events as the workflow sends them since the patch record-step-in-one-activity."""
    items = [event(case_id, seq, **row) for seq in seqs]  # type: ignore[arg-type]
    return RecordEventsInput(
        case_id=case_id,
        case=items[-1].case,
        events=[RecordedEvent(**i.model_dump(exclude={"case_id", "case"})) for i in items],
    )


async def test_a_steps_batch_is_written_once_in_order_with_its_inbox(
    session_factory: async_sessionmaker[AsyncSession], new_case_id: str
) -> None:
    records = RecordActivities(session_factory)
    step = batch(new_case_id, [1, 2, 3], stage=CaseStage.VOTE)
    # retried whole, and after a retry that had written only its first event
    assert await records.record_event(event(new_case_id, 1, stage=CaseStage.VOTE))
    assert [await records.record_events(step) for _ in range(3)] == [2, 0, 0]

    async with session_factory() as session:
        history = await queries.case_history(session, new_case_id)
        inbox = await queries.inbox(session, case_id=new_case_id)
        case = await queries.get_case(session, new_case_id)
    assert [e.seq for e in history] == [1, 2, 3]
    assert sorted(m.event_seq for m in inbox) == [1, 2, 3]
    assert case is not None and (case.stage, case.last_seq) == (CaseStage.VOTE, 3)


async def test_an_older_batch_arriving_late_does_not_roll_the_case_back(
    session_factory: async_sessionmaker[AsyncSession], new_case_id: str
) -> None:
    records = RecordActivities(session_factory)
    assert await records.record_events(batch(new_case_id, [3, 4], stage=CaseStage.CLOSED)) == 2
    assert await records.record_events(batch(new_case_id, [1, 2], stage=CaseStage.VOTE)) == 2
    async with session_factory() as session:
        case = await queries.get_case(session, new_case_id)
        history = await queries.case_history(session, new_case_id)
    assert case is not None and (case.stage, case.last_seq) == (CaseStage.CLOSED, 4)
    assert [e.seq for e in history] == [1, 2, 3, 4]
