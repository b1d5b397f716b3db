"""Engines and sessions for the application database, and the spelling of its URLs.

Everything here talks to PostgreSQL through asyncpg. People write database URLs in several
ways (``postgres://`` from a hosting panel, ``postgresql://`` from libpq habits); they are all
turned into the one form SQLAlchemy's asyncio engine needs.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

ASYNC_SCHEME = "postgresql+asyncpg"
_ACCEPTED_SCHEMES = ("postgresql+asyncpg", "postgresql", "postgres")


def to_async_url(url: str) -> str:
    """The asyncpg form (``postgresql+asyncpg://...``) of a PostgreSQL URL.

    Accepts ``postgresql://``, ``postgres://`` and ``postgresql+asyncpg://``; the rest of the
    URL (credentials, host, database, query such as ``?host=/socket/dir``) is kept as written.
    """
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in _ACCEPTED_SCHEMES:
        # Never echo the URL itself: it may carry a password.
        got = f"{scheme}://" if sep else "no scheme"
        raise ValueError(
            "database URL must start with postgresql://, postgres:// or "
            f"postgresql+asyncpg:// (got {got})"
        )
    return f"{ASYNC_SCHEME}://{rest}"


def to_libpq_url(url: str) -> str:
    """The plain ``postgresql://`` form of a PostgreSQL URL, as asyncpg.connect() takes it."""
    return "postgresql://" + to_async_url(url).partition("://")[2]


def with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database (asyncpg form)."""
    return make_url(to_async_url(url)).set(database=database).render_as_string(hide_password=False)


# A connection back in the pool for longer than this is pinged before it is lent again: a
# worker lives for weeks and the database may restart under it. One used a moment ago is
# lent as it is: the ping is three round trips (BEGIN, a statement, ROLLBACK), a tenth of a
# busy worker's CPU when every checkout paid it (bench/RESULTS.md); a connection that died
# within the moment fails its statement, which the pool then replaces, and the caller's
# retry (an activity's, by Temporal) finds a live one.
IDLE_BEFORE_PING_SECONDS = 10.0
_CHECKED_IN = "checked_in_at"


def make_engine(url: str, *, idle_before_ping: float = IDLE_BEFORE_PING_SECONDS) -> AsyncEngine:
    """An engine for the application database; dispose of it when the process is done."""
    engine = create_async_engine(to_async_url(url))
    dialect = engine.dialect

    def noted(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    def ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_CHECKED_IN)
        if since is not None and time.monotonic() - since < idle_before_ping:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as e:
            if dialect.is_disconnect(e, dbapi_connection, None):
                raise exc.DisconnectionError() from e  # the pool opens a new one
            raise

    def discard_if_unusable(dbapi_connection: Any, record: Any) -> None:
        # What happens on the driver itself (asyncpg, which the recordings and the calendar's
        # reads use past SQLAlchemy) is what SQLAlchemy's reset on return does not know of:
        # a transaction begun there and left open (its rollback cut short by a cancellation)
        # would carry over to the next checkout, whose writes would then never be committed;
        # a connection the driver found dead (the server restarted) would be lent again at
        # once, without a ping, and fail every write that drew it for as long as the writes
        # came less than ``idle_before_ping`` apart. Neither is reused.
        driver = getattr(dbapi_connection, "driver_connection", None)
        if driver is not None and (driver.is_closed() or driver.is_in_transaction()):
            record.invalidate()

    event.listen(engine.sync_engine.pool, "connect", noted)  # a new one is alive
    event.listen(engine.sync_engine.pool, "checkin", discard_if_unusable)
    event.listen(engine.sync_engine.pool, "checkin", noted)
    event.listen(engine.sync_engine.pool, "checkout", ping_if_idle)
    return engine


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for units of work; objects stay readable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)
