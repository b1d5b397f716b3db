"""Signing in and out of the console (登录 / 退出)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import ServicesDep
from store.console_models import MAX_PASSWORD_LENGTH, sign_in, sign_out
from web import csrf
from web.console.auth import COOKIE, SESSION_LIFETIME, Console, PageRefused, form_of, read_form
from web.ratelimit import SlidingWindow
from web.templating import render

router = APIRouter()

MAX_NAME_LENGTH = 100
MAX_LOGIN_FORM_BYTES = 4096
# Wrong passwords: this many per address in the window, then a pause.
FAILED_SIGN_INS = SlidingWindow(limit=10, seconds=15 * 60)


def _safe_next(then: str) -> str:
    """Only an address inside the console: never a jump to another site after sign-in."""
    if then.startswith("/console/") and not then.startswith("//") and "\\" not in then:
        return then
    return "/console/"


def _login_page(request: Request, then: str, error: str = "", status: int = 200) -> Response:
    token = csrf.anonymous_token(request)
    response = render(
        request,
        "console_login.html",
        {"next": then, "error": error, "csrf_field": csrf.FIELD, "csrf_token": token},
        status_code=status,
    )
    csrf.set_anonymous_cookie(response, token, request.url.scheme == "https")
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(
    request: Request, then: Annotated[str, Query(alias="next", max_length=500)] = "/console/"
) -> Response:
    return _login_page(request, _safe_next(then))


@router.post("/login")
async def login(request: Request, parts: ServicesDep) -> Response:
    form = await read_form(request, MAX_LOGIN_FORM_BYTES)
    then = _safe_next(str(form.get("next", "/console/")))
    if not csrf.anonymous_ok(request, str(form.get(csrf.FIELD, ""))):
        return _login_page(request, then, "页面已失效，请重新登录。", 403)
    address = request.client.host if request.client else "unknown"
    if FAILED_SIGN_INS.wait(address):
        return _login_page(request, then, "登录失败次数过多，请稍后再试。", 429)
    name = str(form.get("name", "")).strip()[:MAX_NAME_LENGTH]
    password = str(form.get("password", ""))[:MAX_PASSWORD_LENGTH]
    async with parts.sessions() as s:
        made = await sign_in(s, name, password, SESSION_LIFETIME) if name and password else None
        await s.commit()
    if made is None:
        FAILED_SIGN_INS.hit(address)
        return _login_page(request, then, "用户名或密码不正确。", 401)
    key, _ = made
    response = RedirectResponse(then, status_code=303)
    response.set_cookie(
        COOKIE,
        key,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
async def logout(request: Request, user: Console, parts: ServicesDep) -> Response:
    try:
        await form_of(request, user)
    except PageRefused:
        pass  # signing out is harmless: a stale form still signs out
    async with parts.sessions() as s:
        await sign_out(s, user.session_id)
        await s.commit()
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
