"""Alembic environment of the application database (asyncpg, online and offline).

The URL comes from ``config.attributes["database_url"]`` when called from code
(``store.migrate``), else from the ``DATABASE_URL`` environment variable. Online migrations
run on their own event loop (``asyncio.run``), so callers inside a running loop run Alembic
in a worker thread; ``store.migrate.upgrade_to_head`` does that.
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from store.account_models import Account  # noqa: F401  (its tables join Base.metadata)
from store.attachments import Attachment  # noqa: F401  (its tables join Base.metadata)
from store.calendar_models import CalendarYear  # noqa: F401  (its tables join Base.metadata)
from store.console_models import ConsoleSession  # noqa: F401  (its table joins Base.metadata)
from store.db import to_async_url
from store.extension_requests import ExtensionRequest  # noqa: F401  (its table joins Base.metadata)
from store.models import Base
from store.objection_models import (  # noqa: F401  (their tables join Base.metadata)
    InformantDisclosure,
    ObjectionIntake,
)
from store.probation_models import Probation  # noqa: F401  (its tables join Base.metadata)
from store.register_models import RegisterVersionRow  # noqa: F401  (its tables join Base.metadata)
from store.substitutes import Substitute  # noqa: F401  (its table joins Base.metadata)

config = context.config
target_metadata = Base.metadata

# Only the command line gets its logging from alembic.ini; from code, fileConfig would replace
# the application's logging (and silence its existing loggers).
if config.config_file_name is not None and not config.attributes.get("called_from_code"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    url = config.attributes.get("database_url") or os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError(
            "no database to migrate: set DATABASE_URL (e.g. postgresql://user@host/appointments)"
        )
    return to_async_url(str(url))


def run_migrations_offline() -> None:
    """Write the SQL to standard output instead of running it (``alembic upgrade --sql``)."""
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    engine = create_async_engine(database_url(), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
