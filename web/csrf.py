"""Cross-site request forgery protection for forms.

Signed-in pages compare the form's ``csrf`` field with the token of the login session
(kept in the database with the session). Pages without a session (the sign-in form, the
public board) use a double-submit token: a random value in a SameSite=Strict, HttpOnly
cookie, repeated in a hidden field; a forged cross-site post can set neither.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from fastapi.responses import Response

ANONYMOUS_COOKIE = "csrf_anonymous"
FIELD = "csrf"
TOKEN_BYTES = 24


def same(expected: str, given: str) -> bool:
    """Constant-time comparison; an empty token never matches."""
    return bool(expected) and hmac.compare_digest(expected.encode(), given.encode())


def anonymous_token(request: Request) -> str:
    """The double-submit token of this browser: the cookie's value, or a new one."""
    current = request.cookies.get(ANONYMOUS_COOKIE, "")
    if current and len(current) <= 64 and current.isascii():
        return current
    return secrets.token_urlsafe(TOKEN_BYTES)


def set_anonymous_cookie(response: Response, token: str, secure: bool) -> None:
    response.set_cookie(
        ANONYMOUS_COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/"
    )


def anonymous_ok(request: Request, given: str) -> bool:
    return same(request.cookies.get(ANONYMOUS_COOKIE, ""), given)
