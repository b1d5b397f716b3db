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
from api.permissions import allowed
from api.throttles import throttles
from settings import Settings
from store.account_models import Caller, caller_of
from workflows.types import Actor

_bearer = HTTPBearer(auto_error=False, description="a token from `appointments accounts token`")
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
        raise ApiError(401, "no token: send Authorization: Bearer <token>", headers=_CHALLENGE)
    # An address that sent many bad tokens is not told whether the next one is good.
    address, bad = client_address(request), throttles(request.app).bad_tokens_by_address
    wait = bad.wait(address)
    if wait:
        raise ApiError(
            429,
            f"too many requests with a token that is not valid came from {address}; "
            f"try again in {math.ceil(wait)} seconds",
            headers={"Retry-After": str(math.ceil(wait))},
        )
    token = credentials.credentials.strip()
    found = None
    if token and len(token) <= MAX_TOKEN_LENGTH and token.isascii() and token.isprintable():
        async with parts.sessions() as s:
            found = await caller_of(s, token)
    if found is None:
        bad.hit(address)
        raise ApiError(401, "the token is not valid or has been revoked", headers=_CHALLENGE)
    return found


def permit(action: str) -> Callable[..., Awaitable[Caller]]:
    """The dependency of an endpoint doing ``action``: its caller, if allowed."""

    async def check(who: Annotated[Caller, Depends(caller)]) -> Caller:
        if not allowed(action, who.role):
            raise ApiError(403, f"the role {who.role.value} may not {action.replace('_', ' ')}")
        return who

    return check


def actor_of(who: Caller) -> Actor:
    """The actor recorded with every change made through the API: the account itself."""
    return Actor(name=who.name, role=who.role)
