"""How a command of the cadre work (the register, the capability test, the double
evaluation, the rotation batches) reaches the service: the signed-in account checked against
the API's permission table (``api.permissions``), one call through Temporal, one read of the
database; each failure as the command line says it (exit 1 refused, 3 unreachable).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from api.permissions import ALLOWED, allowed, refusal
from gateway.errors import GatewayError
from starter.cli_base import App, Refused, cli_error, database, open_client
from workflows.glossary import with_value
from workflows.types import Actor

T = TypeVar("T")


def permitted(app: App, action: str) -> Actor:
    """The signed-in account, when the permission table lets its role take ``action``."""
    actor = app.actor()
    if not allowed(action, actor.role):
        roles = "、".join(sorted(with_value(r) for r in ALLOWED[action]))
        raise Refused(f"{refusal(action, actor.role)}（由{roles}办理）")
    return actor


def through_temporal(app: App, call: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``call(client)``, the gateway's errors as the command line says them."""

    async def run() -> T:
        client = await open_client(app.settings)
        try:
            return await call(client)
        except GatewayError as exc:
            raise cli_error(exc, app.settings) from exc

    return asyncio.run(run())


def read_database(app: App, query: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """What ``query(session)`` reads (connection problems said in Chinese)."""

    async def read() -> T:
        async with database(app.settings) as session:
            return await query(session)

    return asyncio.run(read())
