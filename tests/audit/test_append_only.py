"""The database itself refuses to change history: privileges for the application's role,
triggers for everyone else, the tables' owner included."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from activities.probation_records import ProbationRecordActivities
from activities.records import RecordActivities
from audit import APP_ROLE, SIGNER_ROLE
from audit.checkpoints import create_checkpoint
from audit.verify import verify_log
from store import queries
from store.db import make_session_factory, to_async_url, to_libpq_url
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


# the record of who read informants' identities, and why (append-only by its grants)
DISCLOSURE_CHANGES = [
    "UPDATE informant_disclosures SET reason = 'x'",
    "DELETE FROM informant_disclosures",
    "TRUNCATE informant_disclosures",
]


@pytest.mark.parametrize("statement", DISCLOSURE_CHANGES)
async def test_the_application_role_cannot_change_a_disclosure(
    owner: asyncpg.Connection, statement: str
) -> None:
    async with owner.transaction():
        await owner.execute(f"SET LOCAL ROLE {APP_ROLE}")
        await owner.execute(
            "INSERT INTO informant_disclosures (case_id, account, role, reason, receipts) "
            "VALUES ('R-1', 'a', 'clerk', '核实需要', ARRAY['board-1'])"
        )
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await owner.execute(statement)


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


def engine_as(url: str, role: str) -> AsyncEngine:
    """An engine whose every connection is ``role`` from its start (a startup parameter:
    no transaction can roll it back, as it would a SET ROLE)."""
    return create_async_engine(to_async_url(url), connect_args={"server_settings": {"role": role}})


async def test_the_application_role_may_not_insert_a_checkpoint(
    owner: asyncpg.Connection,
) -> None:
    async with owner.transaction():
        await owner.execute(f"SET LOCAL ROLE {APP_ROLE}")
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await owner.execute(
                "INSERT INTO audit_checkpoints (id, created_at, version, merkle_root, "
                "case_heads, event_count, signature, key_id) "
                "VALUES (2, now(), 3, 'x', '{}', 0, 'x', 'x')"
            )


async def test_the_application_role_can_do_its_work(filled: str, keys: Keys) -> None:
    """Recording (a case's and a probation's), verification and the inbox, all as the
    application's role; signing a checkpoint is refused it."""
    engine = engine_as(filled, APP_ROLE)
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
            with pytest.raises(DBAPIError, match="permission denied for table audit_checkpoints"):
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


async def test_the_signer_role_signs_and_does_nothing_else(filled: str, keys: Keys) -> None:
    engine = engine_as(filled, SIGNER_ROLE)
    sessions = make_session_factory(engine)
    try:
        async with sessions() as session:
            assert await session.scalar(text("SELECT current_user")) == SIGNER_ROLE
        async with sessions() as session:
            cp = await create_checkpoint(session, keys.private)
        assert cp.id == 2 and cp.previous() is not None
        async with sessions() as session:
            assert (await verify_log(session, keys.public, checkpoints=None)).ok
        with pytest.raises(DBAPIError, match="permission denied for table cases"):
            await record_all(sessions, story("R-3"))
    finally:
        await engine.dispose()
