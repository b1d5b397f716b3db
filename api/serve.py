"""Serve the HTTP API with uvicorn beside the worker, and make the first administrator."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

import uvicorn
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp

from api.app import create_app
from gateway.client import connect, warn_if_plain
from settings import Settings
from store.account_models import Account, create_account, issue_token
from store.console_models import set_password
from store.db import make_engine, make_session_factory
from workflows.types import Role

FIRST_ADMINISTRATOR = "admin"
FIRST_PASSWORD_BYTES = 12  # 16 characters


@dataclass(frozen=True)
class FirstAdministrator:
    """The credentials of the account made on the first start, shown that once."""

    name: str
    password: str  # for the web console
    token: str  # for the HTTP API


async def ensure_first_administrator(
    sessions: async_sessionmaker[AsyncSession],
) -> FirstAdministrator | None:
    """On a database with no accounts, create ``admin`` with a console password and an API
    token, and return them (shown once); None when accounts exist already."""
    async with sessions() as session, session.begin():
        # one start at a time decides whether this is the first
        await session.execute(select(func.pg_advisory_xact_lock(0x41444D494E)))
        if await session.scalar(select(func.count()).select_from(Account)):
            return None
        await create_account(session, FIRST_ADMINISTRATOR, Role.ADMINISTRATOR)
        _, token = await issue_token(session, FIRST_ADMINISTRATOR)
        password = secrets.token_urlsafe(FIRST_PASSWORD_BYTES)
        await set_password(session, FIRST_ADMINISTRATOR, password)
        return FirstAdministrator(FIRST_ADMINISTRATOR, password, token)


def http_server(app: ASGIApp, host: str, port: int) -> uvicorn.Server:
    """uvicorn for the app. It must not believe X-Forwarded-For itself: by default it would,
    from 127.0.0.1, for any client on this machine; ``api.client_address`` decides. Its own
    lines go through the service's logging (``gateway.logs``); it keeps no access log, which
    would write query strings: ``api.request_log`` writes each request's line instead."""
    return uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            log_config=None,
            access_log=False,
            lifespan="off",
            proxy_headers=False,
        )
    )


async def serve_api(
    settings: Settings,
    *,
    host: str,
    port: int,
    stop: asyncio.Event,
    listening: asyncio.Event | None = None,
) -> None:
    """Run the API until ``stop`` is set; ``listening`` is set once it accepts connections."""
    if not settings.database_url:
        raise RuntimeError("未设置 DATABASE_URL：网页服务在 PostgreSQL 中读取和登记")
    engine = make_engine(settings.database_url)
    try:
        client = await connect(settings)
        warn_if_plain(settings, "the web service")
        app = create_app(settings, client, make_session_factory(engine))
        server = http_server(app, host, port)
        serving = asyncio.create_task(server.serve())
        # uvicorn tells that it listens by a flag only, not an event
        while not server.started and not serving.done():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        if listening is not None and server.started:
            listening.set()
        await asyncio.wait(
            {serving, asyncio.create_task(stop.wait())}, return_when=asyncio.FIRST_COMPLETED
        )
        server.should_exit = True
        await serving
    finally:
        await engine.dispose()
