"""Signing in and out of the console (登录 / 退出), with the pause after repeated failures:
per client address and per account name (numbers in ``api.throttles``)."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.client_address import client_address, is_https
from api.deps import ServicesDep
from api.throttles import Throttles, account_key, throttles
from store.console_models import MAX_PASSWORD_LENGTH, sign_in, sign_out
from web import csrf
from web.console.auth import COOKIE, SESSION_LIFETIME, Console, PageRefused, form_of, read_form
from web.templating import render

router = APIRouter()

MAX_NAME_LENGTH = 100
MAX_LOGIN_FORM_BYTES = 4096


def _safe_next(then: str) -> str:
    """Only an address inside the console: never a jump to another site after sign-in."""
    if then.startswith("/console/") and not then.startswith("//") and "\\" not in then:
        return then
    return "/console/"


def _login_page(
    request: Request,
    then: str,
    error: str = "",
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    token = csrf.anonymous_token(request)
    response = render(
        request,
        "console_login.html",
        {"next": then, "error": error, "csrf_field": csrf.FIELD, "csrf_token": token},
        status_code=status,
    )
    response.headers.update(headers or {})
    csrf.set_anonymous_cookie(response, token, is_https(request))
    return response


def _paused(request: Request, then: str, who: str, wait: float) -> Response:
    minutes = max(1, math.ceil(wait / 60))
    return _login_page(
        request,
        then,
        f"{who}登录失败次数过多，已暂停登录，请稍后再试（约 {minutes} 分钟）。"
        "如非本人操作，请告知系统管理员。",
        429,
        {"Retry-After": str(math.ceil(wait))},
    )


def _give_back(limits: Throttles, address: str, account: str) -> None:
    limits.sign_in_by_address.release(address)
    limits.sign_in_by_account.release(account)


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
    name = str(form.get("name", "")).strip()[:MAX_NAME_LENGTH]
    password = str(form.get("password", ""))[:MAX_PASSWORD_LENGTH]
    # Each attempt is counted before the password is checked, so that many sent at once
    # cannot all pass; a success takes its count back: only failures pause.
    address, account = client_address(request), account_key(name)
    limits = throttles(request.app)
    wait = limits.sign_in_by_address.hit(address)
    if wait:
        return _paused(request, then, "此网络地址", wait)
    wait = limits.sign_in_by_account.hit(account)
    if wait:
        limits.sign_in_by_address.release(address)
        return _paused(request, then, "该账号", wait)
    try:
        async with parts.sessions() as s:
            made = await sign_in(s, name, password, SESSION_LIFETIME) if name and password else None
            await s.commit()
    except BaseException:
        _give_back(limits, address, account)  # no answer about the password: not a failure
        raise
    if made is None:
        return _login_page(request, then, "用户名或密码不正确。", 401)
    _give_back(limits, address, account)
    key, _ = made
    response = RedirectResponse(then, status_code=303)
    response.set_cookie(
        COOKIE,
        key,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=is_https(request),
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
