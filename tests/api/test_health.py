"""The web service's probes, unauthenticated: /healthz answers while the process runs;
/readyz is 200 only when the database answers at the code's migration and Temporal knows the
namespace, else 503 naming the failed check, and never shows an address or an error's text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from settings import load_settings
from store.db import make_engine, make_session_factory
from store.migrate import downgrade_to, head_revision
from tests.api.conftest import NoTemporal, client_for
from tests.conftest import free_port

KEYS = {"status", "failed", "checks", "migration"}


async def readyz(
    client: Client, sessions: async_sessionmaker[AsyncSession], namespace: str = "default"
) -> httpx.Response:
    app = create_app(load_settings({"TEMPORAL_NAMESPACE": namespace}), client, sessions)
    async with client_for(app) as http:
        return await http.get("/readyz")


async def test_healthz_answers_without_a_token_or_any_backend(
    offline_api: httpx.AsyncClient,
) -> None:
    answer = await offline_api.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "alive"}
    assert answer.headers["cache-control"] == "no-store"


async def test_ready_when_database_temporal_and_migrations_are(
    devserver: WorkflowEnvironment, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    answer = await readyz(devserver.client, session_factory, devserver.client.namespace)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body == {
        "status": "ready",
        "failed": [],
        "checks": {"database": "ok", "temporal": "ok", "migrations": "ok"},
        "migration": {"code": head_revision(), "database": head_revision()},
    }


async def test_not_ready_when_temporal_is_unreachable_or_lacks_the_namespace(
    devserver: WorkflowEnvironment, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    nobody = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True)
    answer = await readyz(nobody, session_factory)
    assert answer.status_code == 503
    assert answer.json()["failed"] == ["temporal"]
    assert answer.json()["checks"]["temporal"] in ("unreachable", "timeout")

    answer = await readyz(devserver.client, session_factory, namespace="no-such-namespace")
    assert answer.status_code == 503
    assert answer.json()["checks"] == {
        "database": "ok",
        "temporal": "namespace_not_found",
        "migrations": "ok",
    }


@asynccontextmanager
async def _sessions(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(url)
    try:
        yield make_session_factory(engine)
    finally:
        await engine.dispose()


async def test_not_ready_when_the_database_is_down_and_nothing_of_it_is_shown() -> None:
    url = f"postgresql+asyncpg://appointments:s3cret-pw@127.0.0.1:{free_port()}/appointments"
    async with _sessions(url) as sessions:
        answer = await readyz(NoTemporal(), sessions)  # type: ignore[arg-type]
    assert answer.status_code == 503
    body = answer.json()
    assert set(body) == KEYS
    assert body["failed"] == ["database", "temporal", "migrations"]
    assert body["checks"]["database"] == "unreachable"
    assert body["checks"]["migrations"] == "unknown"
    for secret in ("s3cret", "127.0.0.1", "appointments:", "asyncpg", "Error"):
        assert secret not in answer.text, secret


async def test_not_ready_when_the_database_is_behind_the_code(migrated_database_url: str) -> None:
    await downgrade_to(migrated_database_url, "-1")
    async with _sessions(migrated_database_url) as sessions:
        answer = await readyz(NoTemporal(), sessions)  # type: ignore[arg-type]
    body = answer.json()
    assert answer.status_code == 503
    assert body["checks"]["database"] == "ok" and body["checks"]["migrations"] == "not_at_head"
    assert body["migration"]["database"] not in (None, head_revision())
