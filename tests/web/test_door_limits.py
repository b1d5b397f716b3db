"""The board's and the sign-in page's limits are kept per trusted client address (and the
sign-in's per account name too), on the service as it is served: uvicorn on a real port,
where a forged X-Forwarded-For from this machine must not change the key.

No Temporal: every post here is refused before the case would be asked (a stand-in fails
loudly if it were).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from api.throttles import (
    BOARD_POSTS_PER_ADDRESS,
    SIGN_IN_FAILURES_PER_ACCOUNT,
    SIGN_IN_FAILURES_PER_ADDRESS,
    throttles,
)
from settings import load_settings
from tests.api.conftest import NoTemporal
from tests.web.browser import served
from tests.web.console_fixtures import PASSWORD, make_person
from web.csrf import ANONYMOUS_COOKIE
from workflows.types import Role

OBJECTIONS = "/board/notices/NO-SUCH-CASE/objections"
CLIENT_A = "203.0.113.5"
CLIENT_B = "203.0.113.77"
FORGED = "198.51.100.66"
TOKEN = "t" * 32  # the anonymous CSRF token, as cookie and field


def _app(session_factory: async_sessionmaker[AsyncSession], trusted: str = "") -> FastAPI:
    settings = load_settings({"TRUSTED_PROXIES": trusted} if trusted else {})
    return create_app(settings, NoTemporal(), session_factory)  # type: ignore[arg-type]


@pytest.fixture
async def base(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[str]:
    """The service with the default settings, served by uvicorn on 127.0.0.1."""
    async with served(_app(session_factory)) as url:
        yield url


async def _object(http: httpx.AsyncClient, forwarded: str) -> int:
    response = await http.post(
        OBJECTIONS, data={"text": "x"}, headers={"X-Forwarded-For": forwarded}
    )
    return response.status_code


# ------------------------------------------------------------------ the board


async def test_served_by_default_a_forged_forwarded_for_from_this_machine_changes_nothing(
    base: str,
) -> None:
    async with httpx.AsyncClient(base_url=base) as http:
        codes = [await _object(http, f"192.0.2.{i}") for i in range(BOARD_POSTS_PER_ADDRESS.times)]
        assert codes == [403] * BOARD_POSTS_PER_ADDRESS.times  # past the limit, no CSRF token
        limited = await http.post(
            OBJECTIONS, data={"text": "x"}, headers={"X-Forwarded-For": FORGED}
        )
        assert limited.status_code == 429 and "提交过于频繁" in limited.text


async def test_served_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with (
        served(_app(session_factory, "127.0.0.1")) as url,
        httpx.AsyncClient(base_url=url) as proxy,
    ):
        times = BOARD_POSTS_PER_ADDRESS.times
        assert [await _object(proxy, CLIENT_A) for _ in range(times)] == [403] * times
        assert await _object(proxy, CLIENT_A) == 429
        # a forged entry in front of the proxy's own does not make A someone else
        assert await _object(proxy, f"{FORGED}, {CLIENT_A}") == 429
        assert await _object(proxy, f"{CLIENT_B}, {CLIENT_A}") == 429
        # B, behind the same proxy, is another client
        assert await _object(proxy, CLIENT_B) == 403
        assert await _object(proxy, f"{CLIENT_A}, {CLIENT_B}") == 403


# ------------------------------------------------------------------ signing in


def _from(app: FastAPI, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 4000)),
        base_url="http://console.test",
        cookies={ANONYMOUS_COOKIE: TOKEN},
    )


async def _sign_in(
    app: FastAPI, address: str, name: str, password: str, forwarded: str = ""
) -> httpx.Response:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    async with _from(app, address) as http:
        return await http.post(
            "/console/login",
            data={"name": name, "password": password, "csrf": TOKEN},
            headers=headers,
        )


async def test_guessing_one_account_from_many_addresses_is_paused_for_that_account(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    app = _app(session_factory)
    target = await make_person(session_factory, Role.ADMINISTRATOR)
    colleague = await make_person(session_factory, Role.CLERK)
    for i in range(SIGN_IN_FAILURES_PER_ACCOUNT.times):
        wrong = await _sign_in(app, f"198.51.100.{i + 1}", target, f"guess-{i}")
        assert wrong.status_code == 401
    # from a new address, the same name written otherwise: still that account, paused
    paused = await _sign_in(app, "198.51.100.200", target.upper(), "guess-again")
    assert paused.status_code == 429
    assert "该账号登录失败次数过多" in paused.text and "请稍后再试" in paused.text
    assert 0 < int(paused.headers["retry-after"]) <= SIGN_IN_FAILURES_PER_ACCOUNT.seconds
    assert (await _sign_in(app, "198.51.100.201", target, PASSWORD)).status_code == 429
    # other accounts sign in, also from an address that took part in the guessing
    assert (await _sign_in(app, "198.51.100.1", colleague, PASSWORD)).status_code == 303
    # after the window the owner signs in
    window = throttles(app).sign_in_by_account
    started = window.clock()
    window.clock = lambda: started + SIGN_IN_FAILURES_PER_ACCOUNT.seconds + 1
    assert (await _sign_in(app, "198.51.100.202", target, PASSWORD)).status_code == 303


async def test_successful_sign_ins_are_not_counted(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    app = _app(session_factory)
    person = await make_person(session_factory, Role.CLERK)
    for _ in range(max(SIGN_IN_FAILURES_PER_ACCOUNT.times, SIGN_IN_FAILURES_PER_ADDRESS.times) + 2):
        assert (await _sign_in(app, CLIENT_A, person, PASSWORD)).status_code == 303


async def test_sign_ins_sent_at_once_get_no_more_tries_than_the_limit(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    app = _app(session_factory)
    times = SIGN_IN_FAILURES_PER_ADDRESS.times
    codes = await asyncio.gather(
        *(_sign_in(app, CLIENT_A, f"nobody-{i}", "guess") for i in range(3 * times))
    )
    statuses = sorted(r.status_code for r in codes)
    assert statuses == [401] * times + [429] * (2 * times)


async def test_sign_in_by_default_ignores_a_forged_forwarded_for(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    app = _app(session_factory)
    times = SIGN_IN_FAILURES_PER_ADDRESS.times
    for i in range(times):
        wrong = await _sign_in(app, "127.0.0.1", f"nobody-{i}", "guess", forwarded=f"192.0.2.{i}")
        assert wrong.status_code == 401
    paused = await _sign_in(app, "127.0.0.1", "nobody-else", "guess", forwarded=FORGED)
    assert paused.status_code == 429 and "此网络地址登录失败次数过多" in paused.text


async def test_sign_in_behind_a_trusted_proxy_is_limited_per_forwarded_client(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    app = _app(session_factory, "127.0.0.1")
    person = await make_person(session_factory, Role.CLERK)
    times = SIGN_IN_FAILURES_PER_ADDRESS.times
    for i in range(times):
        wrong = await _sign_in(app, "127.0.0.1", f"nobody-{i}", "guess", forwarded=CLIENT_A)
        assert wrong.status_code == 401
    forged = await _sign_in(app, "127.0.0.1", person, PASSWORD, forwarded=f"{FORGED}, {CLIENT_A}")
    assert forged.status_code == 429
    other = await _sign_in(app, "127.0.0.1", person, PASSWORD, forwarded=CLIENT_B)
    assert other.status_code == 303
