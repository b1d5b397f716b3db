"""Bringing a database to the current schema, from code: at start-up, in tests, in the CLI.

Alembic's online migrations run on their own event loop (``env.py`` calls ``asyncio.run``),
which cannot start inside a running loop; so the Alembic command runs in a worker thread and
the caller awaits it. Databases themselves are created and dropped through the server's
``postgres`` database, since CREATE/DROP DATABASE cannot run inside one's own connection.
"""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path

import asyncpg
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from store.db import to_libpq_url, with_database

ALEMBIC_INI = Path(__file__).resolve().with_name("alembic.ini")


def alembic_config(database_url: str) -> Config:
    """Alembic's configuration for the package's migrations, aimed at ``database_url``."""
    config = Config(str(ALEMBIC_INI))
    config.attributes["database_url"] = database_url
    config.attributes["called_from_code"] = True
    return config


@functools.cache
def head_revision() -> str:
    """The newest migration this code ships (what ``upgrade_to_head`` brings a database to)."""
    head = ScriptDirectory.from_config(Config(str(ALEMBIC_INI))).get_current_head()
    assert head is not None, "the package ships no migrations"
    return head


async def applied_revision(session: AsyncSession) -> str | None:
    """The migration the database is at; None before the first (no ``alembic_version``)."""
    exists = await session.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL"))
    if not exists:
        return None
    return await session.scalar(text("SELECT version_num FROM alembic_version"))


async def upgrade_to_head(database_url: str) -> None:
    """Apply every migration not yet applied; a database already at head is left as it is."""
    await asyncio.to_thread(command.upgrade, alembic_config(database_url), "head")


async def downgrade_to(database_url: str, revision: str = "base") -> None:
    """Undo migrations down to ``revision`` ("base" removes every table they created)."""
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), revision)


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _connect_maintenance(server_url: str) -> asyncpg.Connection:
    return await asyncpg.connect(to_libpq_url(with_database(server_url, "postgres")))


async def ensure_database(server_url: str, name: str) -> None:
    """Create database ``name`` on the server of ``server_url`` unless it exists.

    ``server_url`` may name any database on that server; the work is done from ``postgres``.
    """
    conn = await _connect_maintenance(server_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return
        try:
            await conn.execute(f"CREATE DATABASE {_quote_identifier(name)}")
        except asyncpg.DuplicateDatabaseError:
            pass  # created by someone else between our look and our create: fine
    finally:
        await conn.close()


async def drop_database(server_url: str, name: str) -> None:
    """Drop database ``name`` if it exists, ending any session still connected to it."""
    conn = await _connect_maintenance(server_url)
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        # FORCE (PostgreSQL 13+) also ends sessions that reconnected since the line above.
        await conn.execute(f"DROP DATABASE IF EXISTS {_quote_identifier(name)} WITH (FORCE)")
    finally:
        await conn.close()
