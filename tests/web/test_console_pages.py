"""The console's other pages on the real stack: each role sees only its pages; a probation's
review recorded from its form (refused first by the rule, then accepted); the auditors'
search, as-of view, dossier download and verification; the administrators' settings; the
inbox marked read from "my tasks"."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.conftest import live  # noqa: F401  (fixture)
from tests.api.test_probation import DAYS_IN, bring_in, today
from tests.web.console_fixtures import make_person, sign_in
from tests.web.test_console_cases import app_of, record, start_from_the_form
from tests.workflows.conftest import CaseRunner
from tests.workflows.scenarios import INVESTIGATION_NOTICE
from workflows.probation_types import ProbationState, probation_workflow_id
from workflows.types import Role

Live = tuple[httpx.AsyncClient, CaseRunner]


async def test_each_role_sees_only_its_pages(
    live: Live,  # noqa: F811
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    app = app_of(live)
    pages = {
        "/console/cases/new": {Role.CLERK},
        "/console/audit": {Role.AUDITOR, Role.DEPARTMENT_HEAD},
        "/console/audit/verify": {Role.AUDITOR, Role.DEPARTMENT_HEAD, Role.ADMINISTRATOR},
        "/console/admin": {Role.ADMINISTRATOR},
        "/console/probation": set(Role) - {Role.SYSTEM},
        "/console/": set(Role) - {Role.SYSTEM},
    }
    for role in Role:
        if role is Role.SYSTEM:
            continue
        name = await make_person(session_factory, role)
        async with await sign_in(app, name, role) as person:
            home = await person.get("/console/")
            for path, allowed in pages.items():
                response = await person.http.get(path)
                want = 200 if role in allowed else 403
                assert response.status_code == want, (role, path, response.status_code)
                # the menu offers exactly the pages the role may open
                if path not in ("/console/", "/console/audit/verify"):
                    assert (f'href="{path}"' in home) == (role in allowed), (role, path)


async def test_a_review_is_recorded_from_its_form(
    live: Live,  # noqa: F811
    session_factory: async_sessionmaker[AsyncSession],
    new_case_id: str,
) -> None:
    _, runner = live
    app = app_of(live)
    now = await today(runner)

    probation_id = await bring_in(runner, new_case_id, "p1", now - timedelta(days=DAYS_IN))
    head_name = await make_person(session_factory, Role.DEPARTMENT_HEAD)
    clerk_name = await make_person(session_factory, Role.CLERK)
    path = f"/console/probation/{new_case_id}/p1"
    async with await sign_in(app, head_name, Role.DEPARTMENT_HEAD) as head:
        for _ in range(50):  # the listing row is written by the probation's first activity
            if (await head.http.get(path)).status_code == 200:
                break
        listing = await head.get("/console/probation")
        assert "试用p1" in listing and "试用中" in listing
        # inside its review window: among the department head's tasks
        assert f"/console/probation/{new_case_id}/p1" in await head.get("/console/tasks")
        assert "试用期满考核" in await head.get(path)
        await head.get(f"{path}/review")
        future = (now + timedelta(days=3)).isoformat()
        refused = await head.post(
            f"{path}/review",
            {"outcome": "competent", "reviewed_on": future, "summary": "表现良好"},
        )
        assert refused.status_code == 409, refused.text[:2000]
        assert "未能办理" in refused.text
        done = await head.post(
            f"{path}/review",
            {"outcome": "competent", "reviewed_on": now.isoformat(), "summary": "表现良好"},
        )
        assert done.status_code == 303, done.text[:2000]
        assert "已记录：试用期满考核" in await head.get(f"{path}?done=review")
        assert f"/console/probation/{new_case_id}/p1" not in await head.get("/console/tasks")
    handle = runner.env.client.get_workflow_handle(probation_id)
    state = await handle.query("state", result_type=ProbationState)
    assert state.review is not None and state.review.outcome.value == "competent"
    assert state.review.actor.name == head_name
    async with await sign_in(app, clerk_name, Role.CLERK) as clerk:
        page = await clerk.get(path)
        assert f'href="{path}/review"' not in page  # the clerk may read, not review
        await clerk.get(f"{path}/review", expect=403)
    assert probation_id == probation_workflow_id(new_case_id, "p1")


async def test_the_auditor_pages(
    live: Live,  # noqa: F811
    session_factory: async_sessionmaker[AsyncSession],
    new_case_id: str,
) -> None:
    _, runner = live
    app = app_of(live)
    clerk_name = await make_person(session_factory, Role.CLERK)
    auditor_name = await make_person(session_factory, Role.AUDITOR)
    async with await sign_in(app, clerk_name, Role.CLERK) as clerk:
        await start_from_the_form(clerk, runner, new_case_id)
        await record(
            clerk,
            new_case_id,
            "record_investigation_notice",
            {"published_on": INVESTIGATION_NOTICE.isoformat()},
        )
    async with await sign_in(app, auditor_name, Role.AUDITOR) as auditor:
        found = await auditor.get(f"/console/audit?actor={clerk_name}")
        assert new_case_id in found and "办理录入" in found and "立案" in found
        jump = await auditor.http.get(f"/console/audit/case?case={new_case_id}")
        assert jump.headers["location"] == f"/console/audit/cases/{new_case_id}"
        timeline = await auditor.get(f"/console/audit/cases/{new_case_id}")
        assert "哈希链" in timeline and "环节变更" in timeline
        before = await auditor.get(f"/console/audit/cases/{new_case_id}/as-of?on=2020-01-01")
        assert "该日本案尚未立案" in before
        for fmt, media in (
            ("json", "application/json"),
            ("csv", "text/csv"),
            ("html", "text/html"),
        ):
            got = await auditor.http.get(f"/console/audit/cases/{new_case_id}/dossier.{fmt}")
            assert got.status_code == 200 and got.headers["content-type"].startswith(media)
            assert got.headers["content-disposition"] == (
                f'attachment; filename="dossier-{new_case_id}.{fmt}"'
            )
        await auditor.get("/console/audit/cases/NO-SUCH-CASE", expect=404)
        # the service in this test has no signing key: verification says so, politely
        verify = await auditor.get(f"/console/audit/verify?case={new_case_id}&run=true")
        assert "AUDIT_SIGNING_KEY" in verify


async def test_the_settings_page_shows_the_policy_and_the_schedules(
    live: Live,  # noqa: F811
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    app = app_of(live)
    name = await make_person(session_factory, Role.ADMINISTRATOR)
    async with await sign_in(app, name, Role.ADMINISTRATOR) as admin:
        settings = await admin.get("/console/admin")
        assert "提醒与督办设置" in settings and "逾期" in settings
        assert "试用期每日汇总" in settings and "审计检查点签名" in settings
        forged = await admin.http.post("/console/admin/schedules/sync")
        assert forged.status_code == 403


async def test_a_message_is_marked_read_from_my_tasks(
    live: Live,  # noqa: F811
    session_factory: async_sessionmaker[AsyncSession],
    new_case_id: str,
) -> None:
    _, runner = live
    app = app_of(live)
    clerk_name = await make_person(session_factory, Role.CLERK)
    async with await sign_in(app, clerk_name, Role.CLERK) as clerk:
        await start_from_the_form(clerk, runner, new_case_id)
    # a reminder as the workflow's recording activity writes one (its own come days later)
    async with session_factory() as s:
        message_id = await s.scalar(
            text(
                "INSERT INTO inbox (case_id, event_seq, recipient_role, recipient, subject, body)"
                " VALUES (:c, 1, 'clerk', 'clerk', '提醒：测试', '请办理') RETURNING id"
            ),
            {"c": new_case_id},
        )
        await s.commit()
    head_name = await make_person(session_factory, Role.COMMITTEE_SECRETARY)
    async with await sign_in(app, head_name, Role.COMMITTEE_SECRETARY) as other:
        await other.get("/console/tasks")
        refused = await other.post(f"/console/inbox/{message_id}/read", {})
        assert refused.status_code == 403
    async with await sign_in(app, clerk_name, Role.CLERK) as clerk:
        tasks = await clerk.get("/console/tasks")
        assert "提醒：测试" in tasks and "未读" in tasks
        marked = await clerk.post(f"/console/inbox/{message_id}/read", {})
        assert marked.status_code == 303
        again = await clerk.post(f"/console/inbox/{message_id}/read", {})
        assert again.status_code == 303  # marking twice is harmless
        await clerk.get("/console/inbox/999999999/read", expect=405)
        missing = await clerk.post("/console/inbox/999999999/read", {})
        assert missing.status_code == 404
    async with session_factory() as s:
        read_at = await s.scalar(text("SELECT read_at FROM inbox WHERE id = :i"), {"i": message_id})
    assert read_at is not None
