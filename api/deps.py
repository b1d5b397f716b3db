"""Dependencies of the endpoints: the service's parts, a database session, the caller.

``permit(action)`` is every endpoint's first dependency: it finds the caller from the
bearer token (401 without a valid one) and refuses a role not allowed the action (403), so
a refused caller learns nothing about the case. (A body that is not even JSON is refused as
malformed, 422, before the role is looked at: FastAPI reads the body first.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.errors import ApiError
from api.permissions import allowed
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
    parts: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    if credentials is None:
        raise ApiError(401, "no token: send Authorization: Bearer <token>", headers=_CHALLENGE)
    token = credentials.credentials.strip()
    found = None
    if token and len(token) <= MAX_TOKEN_LENGTH and token.isascii() and token.isprintable():
        async with parts.sessions() as s:
            found = await caller_of(s, token)
    if found is None:
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
