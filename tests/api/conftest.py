"""The API on the real test database: accounts with tokens for every role, and clients."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from settings import load_settings
from store.account_models import create_account, issue_token
from tests.workflows.conftest import time_env  # noqa: F401  (the time-skipping server)
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
