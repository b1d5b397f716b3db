"""The pool pings a connection only after it sat idle (``store.db``): one lent again at once
is not pinged, one idle past the threshold is, and one the server dropped while it sat idle
is replaced before anyone gets it, so the next unit of work runs as if nothing happened."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
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
