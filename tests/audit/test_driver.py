"""The audit trail's reads and writes straight through asyncpg keep SQLAlchemy's promises: the
session's transaction as the caller set it up, SQLAlchemy's errors, and the pool's connections
given back."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import QueuePool

from activities.records import RecordActivities
from audit.driver import KeptConnections
from audit.queries import rows, timeline
from tests.audit.conftest import record_all, story
from workflows.types import RecordedEvent, RecordEventsInput


async def test_reads_stay_in_the_snapshot_the_caller_opened(
    log_sessions: async_sessionmaker[AsyncSession],
) -> None:
    events = story("D-1")
    await record_all(log_sessions, events[:3])
    async with log_sessions() as reader:
        await reader.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        first = await timeline(reader, "D-1")  # opens the transaction, through SQLAlchemy
        await record_all(log_sessions, events[3:5])  # recorded meanwhile
        second = await timeline(reader, "D-1")  # straight through asyncpg, same snapshot
        assert [e.seq for e in first] == [e.seq for e in second] == [1, 2, 3]
    async with log_sessions() as later:
        assert [e.seq for e in await timeline(later, "D-1")] == [1, 2, 3, 4, 5]


async def test_errors_are_sqlalchemys_on_either_path(
    log_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with log_sessions() as session:
        with pytest.raises(DBAPIError, match="no_such_table"):
            await rows(session, "SELECT * FROM no_such_table")  # the first statement
    async with log_sessions() as session:
        assert await rows(session, "SELECT $1::int + 1", 1) == [(2,)]
        with pytest.raises(DBAPIError, match="no_such_table"):
            await rows(session, "SELECT * FROM no_such_table")  # the transaction open


async def test_writes_at_once_are_as_many_as_the_pool_keeps_and_give_everything_back(
    log_sessions: async_sessionmaker[AsyncSession],
) -> None:
    engine = log_sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    pool = engine.pool
    assert isinstance(pool, QueuePool)
    kept = KeptConnections(engine)
    busy, most, seen = 0, 0, set()

    async def write(n: int) -> None:
        nonlocal busy, most
        async with kept.connection() as driver:
            busy += 1
            most = max(most, busy)
            seen.add(id(driver))
            assert await driver.fetchval("SELECT $1::int", n) == n
            await asyncio.sleep(0.01)
            busy -= 1

    await asyncio.gather(*(write(n) for n in range(40)))
    assert most == pool.size() == 5
    assert len(seen) <= 5  # handed on while others waited, not checked out for each
    assert pool.checkedout() == 0  # none kept once nothing waits

    with pytest.raises(ZeroDivisionError):
        async with kept.connection():
            raise ZeroDivisionError
    assert pool.checkedout() == 0


async def test_a_batch_with_a_seq_twice_and_one_already_there_writes_each_once(
    log_sessions: async_sessionmaker[AsyncSession],
) -> None:
    events = story("D-2")
    await record_all(log_sessions, events[:2])
    records = RecordActivities(log_sessions)
    batch = [
        RecordedEvent.model_validate(e.model_dump(exclude={"case_id", "case"}))
        for e in (events[1], events[2], events[2], events[3])
    ]
    step = RecordEventsInput(case_id="D-2", case=events[3].case, events=batch)
    assert await records.record_events(step) == 2
    assert await records.record_events(step) == 0
    async with log_sessions() as session:
        chain = [(e.chain_index, e.seq) for e in await timeline(session, "D-2")]
    assert chain == [(1, 1), (2, 2), (3, 3), (4, 4)]
