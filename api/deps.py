"""Dependencies of the endpoints: the service's parts, a database session, the caller.

``permit(action)`` is every endpoint's first dependency: it finds the caller from the
bearer token (401 without a valid one; 429 from an address that sent too many bad ones,
``api.throttles``) and refuses a role not allowed the action (403), so a refused caller
learns nothing about the case. (A body that is not even JSON is refused as
malformed, 422, before the role is looked at: FastAPI reads the body first.)
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.client_address import client_address
from api.errors import ApiError
from api.permissions import allowed, refusal
from api.throttles import throttles
from settings import Settings
from store.account_models import Caller, caller_of
from workflows.types import Actor

_bearer = HTTPBearer(auto_error=False, description="由 `appointments accounts token` 签发的令牌")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}
MAX_TOKEN_LENGTH = 200


@dataclass(frozen=True)
class Services:
    settings: Settings
    client: Client
    sessions: async_sessionmaker[AsyncSession]


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]


async def session(parts: ServicesDep) -> AsyncIterator[AsyncSession]:
    """One session per request; reads only, so nothing is committed."""
    async with parts.sessions() as s:
        yield s


SessionDep = Annotated[AsyncSession, Depends(session)]


async def caller(
    request: Request,
    parts: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    if credentials is None:
        raise ApiError(
            401,
            "请求未带令牌：请在请求头中发送 Authorization: Bearer <令牌>",
            headers=_CHALLENGE,
            code="no_token",
        )
    # An address that sent many bad tokens is not told whether the next one is good.
    address, bad = client_address(request), throttles(request.app).bad_tokens_by_address
    wait = bad.wait(address)
    if wait:
        raise ApiError(
            429,
            f"来自 {address} 的无效令牌请求过多，请 {math.ceil(wait)} 秒后再试",
            headers={"Retry-After": str(math.ceil(wait))},
            code="too_many_bad_tokens",
        )
    token = credentials.credentials.strip()
    found = None
    if token and len(token) <= MAX_TOKEN_LENGTH and token.isascii() and token.isprintable():
        async with parts.sessions() as s:
            found = await caller_of(s, token)
    if found is None:
        bad.hit(address)
        raise ApiError(401, "令牌无效或已被吊销", headers=_CHALLENGE, code="token_not_valid")
    return found


def permit(action: str) -> Callable[..., Awaitable[Caller]]:
    """The dependency of an endpoint doing ``action``: its caller, if allowed."""

    async def check(who: Annotated[Caller, Depends(caller)]) -> Caller:
        if not allowed(action, who.role):
            raise not_permitted(action, who)
        return who

    return check


def not_permitted(action: str, who: Caller) -> ApiError:
    """The 403 of a caller whose role may not do ``action``."""
    return ApiError(403, refusal(action, who.role), code="role_not_permitted")


def actor_of(who: Caller) -> Actor:
    """The actor recorded with every change made through the API: the account itself."""
    return Actor(name=who.name, role=who.role)
