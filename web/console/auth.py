"""Who is signed in to the console, what they may do, and the forms they send.

A page's first dependency is ``Console`` (the person signed in; anyone else is sent to the
sign-in page and back afterwards). ``require(user, action)`` refuses, with a page saying
why, a role the API's permission table (``api.permissions``) does not allow the action:
the console and the API share one table. Every POST is read by ``form_of``, which refuses
a body over the size limit and a form without the session's CSRF token.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.datastructures import FormData

from api.deps import ServicesDep
from api.permissions import allowed
from store.console_models import SignedIn, signed_in
from web import csrf

COOKIE = "console_session"
SESSION_LIFETIME = timedelta(hours=9)  # a working day; signing in again after that
MAX_KEY_LENGTH = 100
MAX_FORM_BYTES = 4 * 1024 * 1024  # a registration of a few thousand applicants
MAX_FORM_FIELDS = 100_000  # the inputs of a table of a few thousand rows


class SignInNeeded(Exception):
    """The page needs a signed-in person; ``then`` is where to come back to."""

    def __init__(self, then: str) -> None:
        super().__init__(then)
        self.then = then


class PageRefused(Exception):
    """A page that must not be shown or a change that must not be made, and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def sign_in_url(then: str) -> str:
    return f"/console/login?next={quote(then, safe='')}"


async def current_user(request: Request, parts: ServicesDep) -> SignedIn:
    key = request.cookies.get(COOKIE, "")
    found = None
    if key and len(key) <= MAX_KEY_LENGTH and key.isascii():
        async with parts.sessions() as s:
            found = await signed_in(s, key)
    if found is None:
        then = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInNeeded(then if request.method == "GET" else "/console/")
    return found


Console = Annotated[SignedIn, Depends(current_user)]


def may(user: SignedIn, action: str) -> bool:
    return allowed(action, user.caller.role)


def require(user: SignedIn, action: str) -> None:
    if not may(user, action):
        raise PageRefused(403, "您的角色无权进行此项操作。")


async def read_form(request: Request, limit: int = MAX_FORM_BYTES) -> FormData:
    """The form sent, refused (413) when larger than ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PageRefused(413, f"提交的内容过大（上限 {limit // 1024} KB）。")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PageRefused(413, f"提交的内容过大（上限 {limit // 1024} KB）。")
    # the body is read: let Starlette parse it from its cache (a table of rows has an input
    # per cell: the size limit bounds their number, not Starlette's default of 1,000)
    request._body = body
    return await request.form(max_fields=MAX_FORM_FIELDS)


def check_csrf(user: SignedIn, form: FormData) -> None:
    if not csrf.same(user.csrf_token, str(form.get(csrf.FIELD, ""))):
        raise PageRefused(403, "表单已失效或来源不明，请刷新页面后重新提交。")


async def form_of(request: Request, user: SignedIn) -> dict[str, str]:
    """The fields of a signed-in person's form, once its CSRF token is checked."""
    form = await read_form(request)
    check_csrf(user, form)
    return {k: v for k, v in form.items() if isinstance(v, str)}
