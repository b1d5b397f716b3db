"""Signing in to the console: passwords, sessions, CSRF, the sign-in page's own limits.

The real PostgreSQL; no Temporal is needed for these pages (a stand-in fails loudly if
one of them asked it anything).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from api.throttles import SIGN_IN_FAILURES_PER_ADDRESS
from settings import load_settings
from tests.api.conftest import NoTemporal
from tests.web.console_fixtures import (
    PASSWORD,
    browser,
    csrf_of,
    make_person,
    sign_in,
)
from workflows.types import Role


@pytest.fixture
async def app(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[FastAPI]:
    # the sign-in limits are the application's: a new app for each test starts afresh
    yield create_app(load_settings({}), NoTemporal(), session_factory)  # type: ignore[arg-type]


async def test_a_page_without_a_session_sends_to_sign_in_and_back(app: FastAPI) -> None:
    async with browser(app) as http:
        response = await http.get("/console/tasks")
        assert response.status_code == 303
        assert response.headers["location"] == "/console/login?next=%2Fconsole%2Ftasks"
        login = await http.get(response.headers["location"])
        assert login.status_code == 200
        assert 'name="next" value="/console/tasks"' in login.text


async def test_sign_in_with_the_right_password_only(
    app: FastAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    name = await make_person(session_factory, Role.CLERK)
    async with browser(app) as http:
        token = csrf_of((await http.get("/console/login")).text)
        wrong = await http.post(
            "/console/login", data={"name": name, "password": "not it at all", "csrf": token}
        )
        assert wrong.status_code == 401 and "用户名或密码不正确" in wrong.text
        unknown = await http.post(
            "/console/login", data={"name": "nobody-here", "password": PASSWORD, "csrf": token}
        )
        assert unknown.status_code == 401 and "用户名或密码不正确" in unknown.text
        assert (await http.get("/console/")).status_code == 303  # still not signed in

        right = await http.post(
            "/console/login",
            data={"name": name, "password": PASSWORD, "csrf": token, "next": "/console/tasks"},
        )
        assert right.status_code == 303 and right.headers["location"] == "/console/tasks"
        cookie = right.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie


async def test_sign_in_form_without_its_csrf_token_is_refused(
    app: FastAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    name = await make_person(session_factory, Role.CLERK)
    async with browser(app) as http:
        response = await http.post("/console/login", data={"name": name, "password": PASSWORD})
        assert response.status_code == 403
        assert "console_session" not in response.headers.get("set-cookie", "")


async def test_after_sign_in_the_next_address_stays_inside_the_console(
    app: FastAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    name = await make_person(session_factory, Role.AUDITOR)
    for then in ("//evil.example/", "https://evil.example/", "/console/\\evil", "/board/"):
        async with browser(app) as http:
            token = csrf_of((await http.get("/console/login")).text)
            response = await http.post(
                "/console/login",
                data={"name": name, "password": PASSWORD, "csrf": token, "next": then},
            )
            assert response.headers["location"] == "/console/", then


async def test_sign_out_ends_the_session_for_good(
    app: FastAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    name = await make_person(session_factory, Role.CLERK)
    async with await sign_in(app, name, Role.CLERK) as person:
        page = await person.get("/console/")
        assert name in page
        stolen = person.http.cookies.get("console_session")
        assert stolen
        out = await person.post("/console/logout", {})
        assert out.status_code == 303
    async with browser(app) as other:
        other.cookies.set("console_session", stolen)  # the old cookie, replayed
        assert (await other.get("/console/")).status_code == 303


async def test_a_disabled_account_cannot_sign_in_and_its_session_stops(
    app: FastAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    name = await make_person(session_factory, Role.CLERK)
    async with await sign_in(app, name, Role.CLERK) as person:
        await person.get("/console/")
        async with session_factory() as s:
            await s.execute(
                text("UPDATE accounts SET disabled_at = now() WHERE name = :n"), {"n": name}
            )
            await s.commit()
        assert (await person.http.get("/console/")).status_code == 303
    async with browser(app) as http:
        token = csrf_of((await http.get("/console/login")).text)
        again = await http.post(
            "/console/login", data={"name": name, "password": PASSWORD, "csrf": token}
        )
        assert again.status_code == 401


async def test_guessing_passwords_is_paused_after_a_few_failures(
    app: FastAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    name = await make_person(session_factory, Role.CLERK)
    async with browser(app) as http:
        token = csrf_of((await http.get("/console/login")).text)
        codes = [
            (
                await http.post(
                    "/console/login", data={"name": name, "password": f"guess-{i}", "csrf": token}
                )
            ).status_code
            for i in range(SIGN_IN_FAILURES_PER_ADDRESS.times + 1)
        ]
        assert codes == [401] * SIGN_IN_FAILURES_PER_ADDRESS.times + [429]
        # even the right password waits now
        right = await http.post(
            "/console/login", data={"name": name, "password": PASSWORD, "csrf": token}
        )
        assert right.status_code == 429 and "稍后再试" in right.text


async def test_passwords_are_stored_only_as_argon2id_hashes(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    name = await make_person(session_factory, Role.CLERK)
    async with session_factory() as s:
        stored = await s.scalar(
            text("SELECT password_hash FROM accounts WHERE name = :n"), {"n": name}
        )
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


async def test_pages_carry_the_security_headers(app: FastAPI) -> None:
    async with browser(app) as http:
        response = await http.get("/console/login")
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_no_page_loads_anything_from_another_site(app: FastAPI) -> None:
    async with browser(app) as http:
        assert (await http.get("/docs")).status_code == 404  # the docs page would use a CDN
        login = (await http.get("/console/login")).text
        css = await http.get("/static/style.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert "http://" not in login and "https://" not in login


async def test_filter_forms_sent_as_they_are_work_and_bad_filters_get_a_page(
    app: FastAPI, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """A browser sends every field of a filter form, the empty ones too ("全部")."""
    name = await make_person(session_factory, Role.AUDITOR)
    async with await sign_in(app, name, Role.AUDITOR) as auditor:
        for path in (
            "/console/?stage=&status=&unit=&offset=0",
            "/console/probation?status=",
            "/console/audit?person=&actor=&unit=&stage=&kind=&from=&to=",
        ):
            await auditor.get(path)
        for path, said in (
            ("/console/?stage=bogus", "不是可选的值"),
            ("/console/audit?from=2026-13-01", "不是日期"),
            ("/console/audit/cases/X-1/as-of?on=notadate", "网址中的参数无法识别"),
        ):
            response = await auditor.http.get(path)
            assert response.status_code == 422, path
            assert response.headers["content-type"].startswith("text/html")
            assert said in response.text, path
