"""The pool pings a connection only after it sat idle (``store.db``): one lent again at once
is not pinged, one idle past the threshold is, and one the server dropped while it sat idle
is replaced before anyone gets it, so the next unit of work runs as if nothing happened."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
from asyncpg.exceptions import InternalClientError
from sqlalchemy import text

from store.db import make_engine, to_libpq_url


async def test_only_an_idle_connection_is_pinged_and_a_dead_one_replaced(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(database_url, idle_before_ping=0.5)
    pings: list[Any] = []
    real_ping = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(dbapi_connection)
        return real_ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    try:
        async with engine.connect() as c:
            first = await c.scalar(text("SELECT pg_backend_pid()"))
        for _ in range(5):  # lent again at once: no ping
            async with engine.connect() as c:
                assert await c.scalar(text("SELECT pg_backend_pid()")) == first
        assert pings == []

        await asyncio.sleep(0.6)  # idle past the threshold: pinged, still the same one
        async with engine.connect() as c:
            assert await c.scalar(text("SELECT pg_backend_pid()")) == first
        assert len(pings) == 1

        # the server drops it while it sits idle: the ping finds out, a new one is lent
        other = await asyncpg.connect(to_libpq_url(database_url))
        try:
            assert await other.fetchval("SELECT pg_terminate_backend($1)", first)
        finally:
            await other.close()
        await asyncio.sleep(0.6)
        async with engine.connect() as c:
            again = await c.scalar(text("SELECT pg_backend_pid()"))
        assert again != first
    finally:
        await engine.dispose()


async def test_a_connection_given_back_inside_a_driver_transaction_is_not_lent_again(
    database_url: str,
) -> None:
    """A transaction begun on asyncpg itself (as the recordings' retry under the chain's lock
    does), left open by a rollback cut short: SQLAlchemy's reset on return does not know of it,
    so the connection is discarded, not lent to the next unit of work, whose writes would
    otherwise stay uncommitted inside it; a clean one is lent again as before."""
    engine = make_engine(database_url)
    try:
        async with engine.connect() as c:  # as audit.driver.KeptConnections lends one
            driver = (await c.get_raw_connection()).driver_connection
            assert isinstance(driver, asyncpg.Connection)
            first = await driver.fetchval("SELECT pg_backend_pid()")
            await driver.transaction().start()  # never committed nor rolled back
            await driver.execute("SELECT 1")
            assert driver.is_in_transaction()
        async with engine.connect() as c:
            second = await c.scalar(text("SELECT pg_backend_pid()"))
        assert second != first
        async with engine.connect() as c:
            assert await c.scalar(text("SELECT pg_backend_pid()")) == second
    finally:
        await engine.dispose()


async def test_a_connection_that_died_under_the_driver_is_not_lent_again(
    database_url: str,
) -> None:
    """The server drops a connection (a restart) and a write through asyncpg itself (as the
    recordings and the calendar's reads go, past SQLAlchemy) finds out: given back at once,
    within the time no ping is made, it is discarded, not lent to the next write. Before, it
    went round the pool failing every write that drew it for as long as the writes came less
    than the ping's threshold apart (a PostgreSQL outage under load: half a minute and more)."""
    engine = make_engine(database_url)  # the service's threshold: no ping on a quick return
    try:
        async with engine.connect() as c:
            driver = (await c.get_raw_connection()).driver_connection
            assert isinstance(driver, asyncpg.Connection)
            first = await driver.fetchval("SELECT pg_backend_pid()")
        other = await asyncpg.connect(to_libpq_url(database_url))
        try:
            assert await other.fetchval("SELECT pg_terminate_backend($1)", first)
        finally:
            await other.close()
        # (the first statement on it may meet the broken protocol before the closed socket)
        with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, InternalClientError)):
            async with engine.connect() as c:
                dying = (await c.get_raw_connection()).driver_connection
                assert isinstance(dying, asyncpg.Connection)
                for _ in range(50):  # until the driver sees the backend gone
                    await dying.fetchval("SELECT pg_backend_pid()")
                    await asyncio.sleep(0.02)
        for _ in range(3):  # lent again at once: a live one each time
            async with engine.connect() as c:
                lent = (await c.get_raw_connection()).driver_connection
                assert isinstance(lent, asyncpg.Connection)
                assert await lent.fetchval("SELECT pg_backend_pid()") != first
    finally:
        await engine.dispose()
