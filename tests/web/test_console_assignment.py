"""认领 / 指派 and 代理 through the console on the real stack (dev server, worker, PostgreSQL):
"my tasks" is served from the listing without asking any case; a substitute sees the
person's task and messages, takes the step for them and the timeline shows "李四 代 张三";
an expired substitution gives nothing; bad input writes nothing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import temporal
from store.models import Case
from store.substitutes import Substitute, actor_for
from tests.api.conftest import live  # noqa: F401  (fixture)
from tests.web.console_fixtures import make_person, sign_in
from tests.web.test_console_cases import app_of, record, start_from_the_form
from tests.workflows.conftest import CaseRunner
from tests.workflows.scenarios import INVESTIGATION_NOTICE
from web.templating import beijing_today
from workflows.types import Role

Live = tuple[httpx.AsyncClient, CaseRunner]


async def awaited_row(sessions: async_sessionmaker[AsyncSession], case_id: str) -> Case:
    for _ in range(200):
        async with sessions() as s:
            row = await s.get(Case, case_id)
            if row is not None and row.awaited_step == "investigation_notice":
                return row
        await asyncio.sleep(0.05)
    raise AssertionError("the listing never showed the awaited step")


async def test_claim_delegate_and_act_on_behalf(
    live: Live,  # noqa: F811
    session_factory: async_sessionmaker[AsyncSession],
    new_case_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, runner = live
    app = app_of(live)
    tag = uuid.uuid4().hex[:6]
    zhang = await make_person(session_factory, Role.CLERK, f"张三{tag}")
    li = await make_person(session_factory, Role.CLERK, f"李四{tag}")
    wang = await make_person(session_factory, Role.CLERK, f"王五{tag}")
    sun = await make_person(session_factory, Role.COMMITTEE_SECRETARY, f"孙秘书{tag}")
    chief = await make_person(session_factory, Role.SECTION_CHIEF, f"钱{tag}")
    today = beijing_today()
    async with await sign_in(app, zhang, Role.CLERK) as clerk:
        await start_from_the_form(clerk, runner, new_case_id)
    await awaited_row(session_factory, new_case_id)

    # the chief gives the step to 张三 from the case's page
    async with await sign_in(app, chief, Role.SECTION_CHIEF) as boss:
        page = await boss.get(f"/console/cases/{new_case_id}")
        assert "指派给" in page and f'<option value="{zhang}">' in page
        sent = await boss.post(
            f"/console/cases/{new_case_id}/assign",
            {
                "step": "investigation_notice",
                "action": "assign",
                "assignee": zhang,
                "reason": "熟悉情况",
            },
        )
        assert sent.status_code == 303, sent.text[:2000]
        # someone who is not of the step's role is refused before the case is asked
        wrong = await boss.post(
            f"/console/cases/{new_case_id}/assign",
            {"step": "investigation_notice", "action": "assign", "assignee": sun},
        )
        assert wrong.status_code == 422 and "不是办理这一事项的角色" in wrong.text
    async with session_factory() as s:
        assert (await s.get(Case, new_case_id)).assignee == zhang  # type: ignore[union-attr]

    # 张三 names 李四 for today (a bad period first: refused, nothing written)
    async with await sign_in(app, zhang, Role.CLERK) as clerk:
        await clerk.get("/console/substitutes")
        bad = await clerk.post(
            "/console/substitutes",
            {
                "substitute": li,
                "from_date": today.isoformat(),
                "to_date": (today - timedelta(days=1)).isoformat(),
                "reason": "休假",
            },
        )
        assert bad.status_code == 422 and "不能早于开始日期" in bad.text
        async with session_factory() as s:
            count = select(func.count()).select_from(Substitute).where(Substitute.person == zhang)
            assert await s.scalar(count) == 0
        good = await clerk.post(
            "/console/substitutes",
            {
                "substitute": li,
                "from_date": today.isoformat(),
                "to_date": (today + timedelta(days=3)).isoformat(),
                "reason": "休假",
            },
        )
        assert good.status_code == 303, good.text[:2000]
    # 王五's substitution by 李四 ended yesterday; 孙秘书's covers today
    async with session_factory() as s:
        s.add(
            Substitute(
                person=wang,
                substitute=li,
                from_date=today - timedelta(days=5),
                to_date=today - timedelta(days=1),
                reason="出差",
                set_by=wang,
            )
        )
        s.add(
            Substitute(
                person=sun, substitute=li, from_date=today, to_date=today, reason="开会", set_by=sun
            )
        )
        await s.execute(
            text(
                "INSERT INTO inbox (case_id, event_seq, recipient_role, recipient, subject, body)"
                " VALUES (:c, 100000, 'committee_secretary', '', '督办：测试代理', '请办理')"
            ),
            {"c": new_case_id},
        )
        await s.commit()
        expired = await actor_for(s, li, Role.CLERK, wang, today)
        assert expired.on_behalf_of is None

    # "my tasks" from the listing alone: no case is asked
    async def no_query(*_: object, **__: object) -> object:
        raise AssertionError("my tasks asked a case")

    with monkeypatch.context() as patch:
        patch.setattr(temporal, "query_state", no_query)
        async with await sign_in(app, zhang, Role.CLERK) as clerk:
            mine = await clerk.get("/console/tasks")
            assert "指派给我的" in mine and new_case_id in mine and "放弃" in mine
        async with await sign_in(app, li, Role.CLERK) as sub:
            tasks = await sub.get("/console/tasks")
            assert "代理：" in tasks and f"{zhang}（" in tasks and new_case_id in tasks
            assert "督办：测试代理" in tasks  # 孙秘书's message reaches the substitute
            assert wang not in tasks  # the expired substitution shows nothing

    # 李四 takes the step for 张三; the record shows both
    async with await sign_in(app, li, Role.CLERK) as sub:
        await record(
            sub,
            new_case_id,
            "record_investigation_notice",
            {"published_on": INVESTIGATION_NOTICE.isoformat()},
        )
        page = await sub.get(f"/console/cases/{new_case_id}")
        assert f"{li} 代 {zhang}" in page
    events = await runner.events(new_case_id)
    taken = [e for e in events if e.payload.get("on_behalf_of") == zhang]
    assert [e.actor_name for e in taken] == [li]
    assigned = [e.summary for e in events if e.payload.get("kind") == "assign"]
    assert assigned == [f"科长 {chief} 将「发布考察预告」指派给 {zhang}：熟悉情况"]
