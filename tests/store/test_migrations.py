"""The migrations build the schema the models describe, and can be undone and redone."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import make_url

from store.db import make_engine, to_async_url, with_database
from store.migrate import downgrade_to, ensure_database, upgrade_to_head
from store.models import Base

APP_TABLES = {
    "cases",
    "case_events",
    "inbox",
    "audit_checkpoints",
    "probations",
    "probation_events",
    "outbox",
    "accounts",
    "api_tokens",
    "console_sessions",
    "objection_intake",
    "informant_disclosures",
    "calendar_years",
    "calendar_year_diffs",
    "account_changes",
    "attachments",
    "case_attachments",
    "substitutes",
    "extension_requests",
    "register_versions",
    "rotation_scans",
    "rotation_listings",
    "rotation_decisions",
}
HEAD = "0018_chain_kinds"


async def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_upgrade_creates_the_tables(database_url: str) -> None:
    assert await table_names(database_url) == APP_TABLES | {"alembic_version"}


async def test_the_idempotency_keys_are_unique_constraints(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:

            def unique_keys(c: Connection) -> dict[str, list[list[str]]]:
                inspector = inspect(c)
                return {
                    table: [u["column_names"] for u in inspector.get_unique_constraints(table)]
                    for table in ("case_events", "inbox")
                }

            keys = await conn.run_sync(unique_keys)
    finally:
        await engine.dispose()
    assert keys == {"case_events": [["case_id", "seq"]], "inbox": [["case_id", "event_seq"]]}


async def test_the_models_match_the_migrations(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
            )
    finally:
        await engine.dispose()
    assert diff == []


async def test_downgrade_to_base_and_upgrade_again(throwaway_database_url: str) -> None:
    url = throwaway_database_url
    await upgrade_to_head(url)
    await upgrade_to_head(url)  # already at head: nothing to do, no error
    assert APP_TABLES <= await table_names(url)

    await downgrade_to(url, "base")
    assert await table_names(url) & APP_TABLES == set()

    await upgrade_to_head(url)
    assert APP_TABLES <= await table_names(url)
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        await engine.dispose()
    assert version == HEAD


async def test_ensure_database_leaves_an_existing_database_alone(
    pg_server_url: str, throwaway_database_url: str
) -> None:
    await upgrade_to_head(throwaway_database_url)
    name = make_url(throwaway_database_url).database
    assert name is not None
    await ensure_database(pg_server_url, name)
    assert APP_TABLES <= await table_names(throwaway_database_url)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:p@h:5432/db",
        "postgres://u:p@h:5432/db",
        "postgresql+asyncpg://u:p@h:5432/db",
    ],
)
def test_every_spelling_of_a_postgres_url_becomes_asyncpg(url: str) -> None:
    assert to_async_url(url) == "postgresql+asyncpg://u:p@h:5432/db"


def test_a_url_of_another_database_system_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValueError, match="postgresql://") as refused:
        to_async_url("mysql://root:secret@h/db")
    assert "secret" not in str(refused.value)


def test_with_database_keeps_the_socket_directory() -> None:
    url = make_url(with_database("postgresql://postgres@/postgres?host=/tmp/pg", "other"))
    assert (url.drivername, url.database, url.query["host"]) == (
        "postgresql+asyncpg",
        "other",
        "/tmp/pg",
    )
