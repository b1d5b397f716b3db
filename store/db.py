"""Engines and sessions for the application database, and the spelling of its URLs.

Everything here talks to PostgreSQL through asyncpg. People write database URLs in several
ways (``postgres://`` from a hosting panel, ``postgresql://`` from libpq habits); they are all
turned into the one form SQLAlchemy's asyncio engine needs.
"""

from __future__ import annotations

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


def make_engine(url: str) -> AsyncEngine:
    """An engine for the application database; dispose of it when the process is done."""
    # pre_ping: a worker lives for weeks and the database may restart under it.
    return create_async_engine(to_async_url(url), pool_pre_ping=True)


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for units of work; objects stay readable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)
