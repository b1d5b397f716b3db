"""The database itself refuses to change history: privileges for the application's role,
triggers for everyone else, the tables' owner included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.probation_records import ProbationRecordActivities
from activities.records import RecordActivities
from audit import APP_ROLE
from audit.checkpoints import create_checkpoint
from audit.verify import verify_log
from store import queries
from store.db import make_engine, make_session_factory, to_libpq_url
from tests.audit.conftest import (
    Keys,
    probation_story,
    record_all,
    record_appointment,
    record_probation,
    sign,
    story,
)

CHANGES = [
    "UPDATE case_events SET summary = 'x'",
    "DELETE FROM case_events",
    "TRUNCATE case_events",
    "UPDATE audit_checkpoints SET merkle_root = 'x'",
    "DELETE FROM audit_checkpoints",
    "TRUNCATE audit_checkpoints",
    "UPDATE probation_events SET summary = 'x'",
    "DELETE FROM probation_events",
    "TRUNCATE probation_events",
]


@pytest_asyncio.fixture(loop_scope="session")
async def filled(log_url: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys) -> str:
    await record_appointment(log_sessions, "R-1")
    await sign(log_sessions, keys)
    return log_url


@pytest_asyncio.fixture(loop_scope="session")
async def owner(filled: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(to_libpq_url(filled))
    try:
        yield conn
    finally:
        await conn.close()


@pytest.mark.parametrize("statement", CHANGES)
async def test_the_application_role_has_no_right_to_change_history(
    owner: asyncpg.Connection, statement: str
) -> None:
    async with owner.transaction():
        await owner.execute(f"SET LOCAL ROLE {APP_ROLE}")
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await owner.execute(statement)


@pytest.mark.parametrize("statement", CHANGES)
async def test_the_trigger_refuses_even_the_owner(
    owner: asyncpg.Connection, statement: str
) -> None:
    with pytest.raises(asyncpg.PostgresError, match="append-only") as refused:
        await owner.execute(statement)
    assert refused.value.hint.startswith("A correction is recorded as a new event")
    assert await owner.fetchval("SELECT count(*) FROM case_events") == 9
    assert await owner.fetchval("SELECT count(*) FROM probation_events") == 5


async def test_the_application_role_can_do_its_work(filled: str, keys: Keys) -> None:
    """Recording (a case's and a probation's), checkpoints, verification and the inbox, all as
    the application's role."""
    engine = make_engine(filled)

    @event.listens_for(engine.sync_engine, "connect")
    def become_the_app(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET ROLE {APP_ROLE}")
        cursor.close()

    sessions = make_session_factory(engine)
    try:
        async with sessions() as session:
            assert await session.scalar(text("SELECT current_user")) == APP_ROLE
        events = story("R-2")
        await record_all(sessions, events)
        assert not await RecordActivities(sessions).record_event(events[0])  # a retry
        probation = probation_story("R-2")
        await record_probation(sessions, probation)
        record = ProbationRecordActivities(sessions).record_probation_event
        assert not await record(probation[0])  # a retry
        async with sessions() as session:
            await create_checkpoint(session, keys.private)
        async with sessions() as session:
            report = await verify_log(session, keys.public)
        assert report.ok, report.faults
        assert (report.cases, report.probations) == (2, 2)
        async with sessions() as session:
            [message, *_] = await queries.inbox(session, case_id="R-2")
            assert await queries.mark_read(session, message.id)
            await session.commit()
    finally:
        await engine.dispose()
