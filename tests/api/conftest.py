"""The API on the real test database: accounts with tokens for every role, and clients.

- ``offline_api``: the shared test database, no Temporal behind it (any use fails);
- ``live``: the Temporal dev server (one per module) with a real worker on the shared database;
- ``log_api``: a database of the test's own holding a log written by the real recording
  activity, and the service's audit key, for what must not disturb other tests (tampering).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from settings import load_settings
from store.account_models import create_account, issue_token
from tests.audit.conftest import (  # noqa: F401  (a log database of the test's own, keys)
    Keys,
    keys,
    log_sessions,
    log_url,
    record_all,
    story,
)
from tests.workflows.conftest import CaseRunner, case_runner
from workflows.types import Role

PERSON_ROLES = [r for r in Role if r is not Role.SYSTEM]


@dataclass(frozen=True)
class Account:
    name: str
    role: Role
    token_id: int
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def make_account(
    sessions: async_sessionmaker[AsyncSession], role: Role, name: str = ""
) -> Account:
    name = name or f"{role.value}-{uuid.uuid4().hex[:8]}"
    async with sessions() as s:
        await create_account(s, name, role)
        token_id, token = await issue_token(s, name)
        await s.commit()
    return Account(name, role, token_id, token)


@pytest.fixture
async def accounts(session_factory: async_sessionmaker[AsyncSession]) -> dict[Role, Account]:
    """One fresh account with a token for each role a person can have."""
    return {role: await make_account(session_factory, role) for role in PERSON_ROLES}


class NoTemporal:
    """A stand-in client for tests that must never reach Temporal: any use fails loudly."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the API used Temporal ({name}) where it must not")


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")


@pytest.fixture
async def offline_api(
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[httpx.AsyncClient]:
    """The API on the real database with no Temporal behind it."""
    app = create_app(load_settings({}), NoTemporal(), session_factory)  # type: ignore[arg-type]
    async with client_for(app) as http:
        yield http


Factory = Callable[..., Any]


@pytest.fixture
async def live(
    devserver: WorkflowEnvironment,
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[tuple[httpx.AsyncClient, CaseRunner]]:
    """The API on the real Temporal dev server with a real worker (cases and probations), on
    a task queue of its own."""
    async with case_runner(devserver, session_factory) as runner:
        settings = load_settings({"TASK_QUEUE": runner.task_queue})
        app = create_app(settings, devserver.client, session_factory)
        async with client_for(app) as http:
            yield http, runner


@dataclass(frozen=True)
class LogApi:
    http: httpx.AsyncClient
    sessions: async_sessionmaker[AsyncSession]
    url: str
    keys: Keys
    accounts: dict[Role, Account]


LOG_CASES = ("L-1", "L-2", "L-3")


@pytest.fixture
async def log_api(
    log_url: str,  # noqa: F811
    log_sessions: async_sessionmaker[AsyncSession],  # noqa: F811
    keys: Keys,  # noqa: F811
) -> AsyncIterator[LogApi]:
    """The API without Temporal on a database of its own: three cases' stories recorded by
    the real activity (L-2 and L-3 in another unit, with other people), the service's
    signing key set, and an account for each role."""
    await record_all(log_sessions, story("L-1"))
    for case_id in LOG_CASES[1:]:
        await record_all(log_sessions, story(case_id, unit="县水利局", people=("q1", "q2")))
    settings = load_settings({"AUDIT_SIGNING_KEY": str(keys.private_path)})
    app = create_app(settings, NoTemporal(), log_sessions)  # type: ignore[arg-type]
    accounts: dict[Role, Account] = {
        role: await make_account(log_sessions, role) for role in PERSON_ROLES
    }
    async with client_for(app) as http:
        yield LogApi(http, log_sessions, log_url, keys, accounts)
