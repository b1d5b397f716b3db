"""Accounts in the console's settings (系统设置) on the real stack: the first administrator
does what the README's getting-started text says (signs in with the printed password, creates
a clerk and an auditor in the settings, each then signs in and does their work); roles,
passwords, tokens and disabling, each change recorded with who made it; the last
administrator cannot lock everyone out; a refused change writes nothing; all as the service's
own restricted database role."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.serve import ensure_first_administrator
from audit import APP_ROLE
from settings import load_settings
from store.account_models import Account, AccountChange, caller_of, list_accounts
from store.db import make_session_factory
from tests.audit.test_append_only import engine_as
from tests.web.console_fixtures import Person, browser, csrf_of, sign_in
from tests.workflows.conftest import CaseRunner, case_runner
from tests.workflows.scenarios import regular_case
from web.forms import form_values
from workflows.ids import case_workflow_id
from workflows.types import Role

README = Path(__file__).resolve().parents[2] / "README.md"
SECRET = re.compile(r'<code class="secret-value">([^<]+)</code>')


@dataclass
class Fresh:
    """A service on a database of its own, started the first time: only ``admin`` exists."""

    app: FastAPI
    sessions: async_sessionmaker[AsyncSession]
    runner: CaseRunner
    admin_password: str
    admin_token: str


@pytest.fixture
async def fresh(devserver: WorkflowEnvironment, migrated_database_url: str) -> AsyncIterator[Fresh]:
    # the service's own login role, as `serve` and production connect: what it may not
    # write, these tests cannot write either
    engine = engine_as(migrated_database_url, APP_ROLE)
    sessions = make_session_factory(engine)
    owner = engine_as(migrated_database_url, "postgres")
    try:
        first = await ensure_first_administrator(make_session_factory(owner))
        assert first is not None
        async with case_runner(devserver, sessions) as runner:
            settings = load_settings({"TASK_QUEUE": runner.task_queue})
            app = create_app(settings, devserver.client, sessions)
            yield Fresh(app, sessions, runner, first.password, first.token)
    finally:
        await engine.dispose()
        await owner.dispose()


def shown_secret(page: str) -> str:
    found = SECRET.search(page)
    assert found, "the page shows no password or token"
    return html.unescape(found.group(1))


async def changes(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, str, str]]:
    async with sessions() as s:
        rows = await s.scalars(select(AccountChange).order_by(AccountChange.id))
        return [(r.account_name, r.change, r.changed_by) for r in rows]


async def create(admin: Person, name: str, role: Role) -> str:
    """Create the account in the settings page; the password it shows once."""
    await admin.get("/console/admin")
    response = await admin.post("/console/admin/accounts/create", {"account": name, "role": role})
    assert response.status_code == 200, response.text[:3000]
    assert response.headers["cache-control"] == "no-store"
    return shown_secret(response.text)


async def test_the_first_administrator_follows_the_readme(fresh: Fresh, new_case_id: str) -> None:
    readme = README.read_text("utf-8")
    section = readme[readme.index("### What `./dev run` starts") : readme.index("### Tests")]
    # what the README promises the first account, and how the work's accounts are made
    assert "administrator role" in section and "系统设置" in section
    assert "creates the accounts" in section and "clerk" in section and "auditor" in section

    admin = await sign_in(fresh.app, "admin", Role.ADMINISTRATOR, fresh.admin_password)
    async with admin:
        home = await admin.get("/console/")
        assert 'href="/console/admin"' in home
        # the administrator alone neither starts cases nor reads the audit log
        await admin.get("/console/cases/new", expect=403)
        await admin.get("/console/audit", expect=403)
        settings = await admin.get("/console/admin")
        assert "账号与角色" in settings and "admin（本人）" in settings

        clerk_password = await create(admin, "李科员", Role.CLERK)
        auditor_password = await create(admin, "赵审计", Role.AUDITOR)
        listing = await admin.get("/console/admin")
        assert "李科员" in listing and "赵审计" in listing
        assert clerk_password not in listing  # shown once only

    async with await sign_in(fresh.app, "李科员", Role.CLERK, clerk_password) as clerk:
        # the clerk starts a case from the console's form
        handle = fresh.runner.env.client.get_workflow_handle(case_workflow_id(new_case_id))
        fresh.runner.started.append(handle)
        await clerk.get("/console/cases/new")
        values = form_values(regular_case(new_case_id), skip=frozenset({"opened_by"}))
        started = await clerk.post("/console/cases/new", values)
        assert started.status_code == 303, started.text[:3000]
        assert (await fresh.runner.state(handle)).case_id == new_case_id
    async with await sign_in(fresh.app, "赵审计", Role.AUDITOR, auditor_password) as auditor:
        timeline = await auditor.get(f"/console/audit/cases/{new_case_id}")
        assert "李科员" in timeline
    assert await changes(fresh.sessions) == [
        ("李科员", "created", "admin"),
        ("李科员", "password", "admin"),
        ("赵审计", "created", "admin"),
        ("赵审计", "password", "admin"),
    ]


async def test_roles_passwords_tokens_and_disabling_are_recorded(fresh: Fresh) -> None:
    async with await sign_in(fresh.app, "admin", Role.ADMINISTRATOR, fresh.admin_password) as admin:
        password = await create(admin, "钱科长", Role.CLERK)
        async with await sign_in(fresh.app, "钱科长", Role.CLERK, password) as person:
            await person.get("/console/")
            # a new role ends the person's sessions: it takes effect at the next sign-in
            done = await admin.post(
                "/console/admin/accounts/role",
                {"account": "钱科长", "role": Role.SECTION_CHIEF},
            )
            assert (done.status_code, done.headers["location"]) == (303, "/console/admin?done=role")
            assert (await person.http.get("/console/")).status_code == 303

        token_page = await admin.post("/console/admin/accounts/token", {"account": "钱科长"})
        token = shown_secret(token_page.text)
        async with fresh.sessions() as s:
            caller = await caller_of(s, token)
            assert caller is not None and caller.role is Role.SECTION_CHIEF
            token_id = caller.token_id
        revoked = await admin.post("/console/admin/accounts/revoke", {"token_id": str(token_id)})
        assert revoked.status_code == 303
        async with fresh.sessions() as s:
            assert await caller_of(s, token) is None

        new_password = shown_secret(
            (await admin.post("/console/admin/accounts/password", {"account": "钱科长"})).text
        )
        assert new_password != password
        await admin.post("/console/admin/accounts/token", {"account": "钱科长"})
        assert (
            await admin.post("/console/admin/accounts/disable", {"account": "钱科长"})
        ).status_code == 303
        async with fresh.sessions() as s:
            [row] = [a for a in await list_accounts(s) if a.name == "钱科长"]
            assert row.disabled_at is not None and row.active_tokens == 0
        login = browser(fresh.app)
        form = await login.get("/console/login")
        refused = await login.post(
            "/console/login",
            data={"name": "钱科长", "password": new_password, "csrf": csrf_of(form.text)},
        )
        assert refused.status_code == 401
        await login.aclose()
        page = await admin.get("/console/admin")
        assert "角色由干部科工作人员改为科长" in page and "停用账号" in page
    assert [c[1] for c in await changes(fresh.sessions)] == [
        "created",
        "password",
        "role",
        "token_issued",
        "token_revoked",
        "password",
        "token_issued",
        "disabled",
    ]


async def test_the_last_administrator_cannot_lock_everyone_out(fresh: Fresh) -> None:
    async with await sign_in(fresh.app, "admin", Role.ADMINISTRATOR, fresh.admin_password) as admin:
        await admin.get("/console/admin")
        for action, data in (
            ("role", {"account": "admin", "role": Role.CLERK}),
            ("disable", {"account": "admin"}),
        ):
            refused = await admin.post(f"/console/admin/accounts/{action}", data)
            assert refused.status_code == 422
            assert "唯一可用的系统管理员账号" in html.unescape(refused.text)
        # with a second administrator, the first may step down
        await create(admin, "孙管理", Role.ADMINISTRATOR)
        stepped = await admin.post(
            "/console/admin/accounts/role", {"account": "admin", "role": Role.AUDITOR}
        )
        assert (stepped.status_code, stepped.headers["location"]) == (303, "/console/login")
    async with fresh.sessions() as s:
        roles = {a.name: a.role for a in await list_accounts(s)}
    assert roles == {"admin": Role.AUDITOR, "孙管理": Role.ADMINISTRATOR}


async def test_a_refused_change_writes_nothing(fresh: Fresh) -> None:
    async def counts() -> tuple[int, int]:
        async with fresh.sessions() as s:
            accounts = await s.scalar(select(func.count()).select_from(Account))
            recorded = await s.scalar(select(func.count()).select_from(AccountChange))
        return accounts or 0, recorded or 0

    async with await sign_in(fresh.app, "admin", Role.ADMINISTRATOR, fresh.admin_password) as admin:
        await create(admin, "周科员", Role.CLERK)
        before = await counts()
        for action, data, message in (
            ("create", {"account": "周科员", "role": "clerk"}, "已有名为“周科员”的账号"),
            ("create", {"account": "x" * 150, "role": "clerk"}, "不可用"),
            ("create", {"account": "吴某", "role": "system"}, "不能赋予账号"),
            ("create", {"account": "吴某", "role": "boss"}, "不是可选的角色"),
            ("role", {"account": "没有这个人", "role": "clerk"}, "没有名为“没有这个人”的账号"),
            ("role", {"account": "周科员", "role": "clerk"}, "角色已是"),
            ("revoke", {"token_id": "abc"}, "不是接口令牌编号"),
            ("revoke", {"token_id": "999999"}, "没有编号为 #999999 的接口令牌"),
        ):
            refused = await admin.post(f"/console/admin/accounts/{action}", data)
            assert refused.status_code == 422, (action, data)
            assert message in html.unescape(refused.text), (action, data)
        # without the session's CSRF token: refused before anything is read
        forged = await admin.http.post(
            "/console/admin/accounts/create", data={"account": "伪造", "role": "clerk"}
        )
        assert forged.status_code == 403
        assert await counts() == before

    password = await _new_password(fresh, "周科员")
    async with await sign_in(fresh.app, "周科员", Role.CLERK, password) as clerk:
        await clerk.get("/console/admin", expect=403)
        denied = await clerk.post(
            "/console/admin/accounts/create", {"account": "x", "role": "clerk"}
        )
        assert denied.status_code == 403
    assert (await counts())[0] == before[0]


async def _new_password(fresh: Fresh, name: str) -> str:
    """A new console password for ``name``, set by the administrator in the settings."""
    async with await sign_in(fresh.app, "admin", Role.ADMINISTRATOR, fresh.admin_password) as a:
        await a.get("/console/admin")
        return shown_secret(
            (await a.post("/console/admin/accounts/password", {"account": name})).text
        )


async def test_account_changes_are_append_only_for_the_service(fresh: Fresh) -> None:
    async with await sign_in(fresh.app, "admin", Role.ADMINISTRATOR, fresh.admin_password) as admin:
        await create(admin, "郑科员", Role.CLERK)
    async with fresh.sessions() as s:
        for statement in ("UPDATE account_changes SET detail = 'x'", "DELETE FROM account_changes"):
            with pytest.raises(Exception, match="permission denied"):
                await s.execute(text(statement))
            await s.rollback()
