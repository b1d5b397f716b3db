"""The session's own asyncpg connection (驱动连接), for the audit trail's hot paths.

Reading and writing the log a row at a time through SQLAlchemy's ORM costs many times the
database's own work; the timeline, the searches, the verifier and the recording activities
therefore talk to asyncpg directly, on the connection of the caller's session (so in its
transaction, when one is open on the server). What goes wrong there is raised as SQLAlchemy
raises it (``DBAPIError``), which is what every caller already handles.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import QueuePool

_DRIVER = "audit.driver"  # where a session keeps them for its transaction (``session.info``)


async def driver_of(session: AsyncSession) -> tuple[AsyncConnection, asyncpg.Connection]:
    """The session's connection, and asyncpg's connection beneath it (kept by the session
    for as long as its transaction lasts, which holds the one connection)."""
    known = session.info.get(_DRIVER)
    transaction = session.sync_session.get_transaction()
    if known is not None and transaction is not None and known[0] is transaction:
        return known[1], known[2]
    conn = await session.connection()
    driver: asyncpg.Connection = (await conn.get_raw_connection()).driver_connection
    session.info[_DRIVER] = (session.sync_session.get_transaction(), conn, driver)
    return conn, driver


@contextmanager
def as_dbapi_errors(statement: str, arguments: Sequence[Any] = ()) -> Iterator[None]:
    """asyncpg's errors raised as SQLAlchemy's (the original kept as ``orig``)."""
    try:
        yield
    except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise DBAPIError(statement, list(arguments), exc) from exc


class KeptConnections:
    """Connections of an engine's pool handed from one write to the next while writes queue.

    A checkout of the application's pool may ping the database first (``store.db``: a
    connection idle for a while; three round trips, more than a write of a step's events
    costs); and more writes at once than the pool keeps open make it open and close a connection per
    write. So at most as many writes run at once as the pool keeps connections, and while
    others wait, a write hands its connection (idle, out of any transaction) to the next one
    instead of giving it back: one checkout per burst of writes rather than one per write.
    When none waits it goes back to the pool; a connection that failed is never handed on.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        size = engine.pool.size() if isinstance(engine.pool, QueuePool) else 1
        self._engine = engine
        self._slots = asyncio.Semaphore(max(size, 1))
        self._waiting = 0
        self._kept: list[tuple[AsyncConnection, asyncpg.Connection]] = []

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection out of any transaction, for one write."""
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        try:
            if self._kept:
                conn, driver = self._kept.pop()
            else:
                conn = await self._engine.connect()
                driver = (await conn.get_raw_connection()).driver_connection
            try:
                yield driver
            except BaseException:
                await conn.close()
                raise
            if self._waiting and not driver.is_closed() and not driver.is_in_transaction():
                self._kept.append((conn, driver))
            else:
                await conn.close()
            while not self._waiting and self._kept:  # one a waiter gave up on
                await self._kept.pop()[0].close()
        finally:
            self._slots.release()


class ActivityConnections:
    """Where an activity talks to PostgreSQL straight through asyncpg: a connection out of any
    transaction, kept between activities (``KeptConnections``) when the session factory is bound
    to one engine, else the connection of a session of its own."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory
        engine = session_factory.kw.get("bind")
        self._kept = KeptConnections(engine) if isinstance(engine, AsyncEngine) else None

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        if self._kept is not None:
            async with self._kept.connection() as driver:
                yield driver
        else:
            async with self._session_factory() as session:
                yield (await driver_of(session))[1]
