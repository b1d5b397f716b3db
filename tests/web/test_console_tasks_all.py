"""全部待办, the leadership's list, through the console on the real stack (dev server, worker,
PostgreSQL): a section chief finds the step a colleague claimed, which their own "my tasks"
does not show, narrows the list by assignee and by role, and hands the step to another clerk
with the batch form of "my tasks"; the page reads the listing alone; a clerk is refused it
with a page in Chinese; contradictory or unknown filters are refused."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import temporal
from store.models import Case
from tests.api.conftest import live  # noqa: F401  (fixture)
from tests.web.console_fixtures import make_person, sign_in
from tests.web.test_console_assignment import awaited_row
from tests.web.test_console_cases import app_of, start_from_the_form
from tests.workflows.conftest import CaseRunner
from workflows.types import Role

Live = tuple[httpx.AsyncClient, CaseRunner]
ALL = "/console/tasks/all"


async def test_a_chief_reassigns_a_colleagues_step_from_the_list_and_a_clerk_is_refused(
    live: Live,  # noqa: F811
    session_factory: async_sessionmaker[AsyncSession],
    new_case_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, runner = live
    app = app_of(live)
    tag = uuid.uuid4().hex[:6]
    wang = await make_person(session_factory, Role.CLERK, f"王五{tag}")
    zhang = await make_person(session_factory, Role.CLERK, f"张三{tag}")
    chief = await make_person(session_factory, Role.SECTION_CHIEF, f"钱{tag}")

    # 王五 starts a case and claims its first step: it is his, no longer in a queue
    async with await sign_in(app, wang, Role.CLERK) as clerk:
        await start_from_the_form(clerk, runner, new_case_id)
        await awaited_row(session_factory, new_case_id)
        claimed = await clerk.post(
            f"/console/cases/{new_case_id}/assign",
            {"step": "investigation_notice", "action": "claim"},
        )
        assert claimed.status_code == 303, claimed.text[:2000]
        # a clerk may claim, not see the department's list
        refused = await clerk.get(ALL, expect=403)
        assert "全部待办只有科长、部领导可以查看" in refused and "无权查看" in refused
        assert new_case_id not in refused
        assert 'href="/console/tasks/all"' not in await clerk.get("/console/tasks")
    async with session_factory() as s:
        assert (await s.get(Case, new_case_id)).assignee == wang  # type: ignore[union-attr]

    async def no_query(*_: object, **__: object) -> object:
        raise AssertionError("the list asked a case")

    async with await sign_in(app, chief, Role.SECTION_CHIEF) as boss:
        # the chief's own "my tasks" cannot reach 王五's step
        assert new_case_id not in await boss.get("/console/tasks")
        with monkeypatch.context() as patch:
            patch.setattr(temporal, "query_state", no_query)
            everything = await boss.get(ALL)
            assert 'href="/console/tasks/all"' in everything  # in the chief's menu
            assert f'name="case" value="{new_case_id}"' in everything
            assert f'<option value="{wang}">' in everything
            his = await boss.get(f"{ALL}?assignee={wang}&role=clerk")
            assert f'value="{new_case_id}"' in his and f'<td class="assignee">{wang}</td>' in his
            assert f'<option value="{wang}" selected>' in his
            assert new_case_id not in await boss.get(f"{ALL}?role=committee_secretary")
            assert new_case_id not in await boss.get(f"{ALL}?queue=1")
            assert new_case_id not in await boss.get(f"{ALL}?assignee={zhang}")
        both = await boss.get(f"{ALL}?assignee={wang}&queue=1", expect=422)
        assert "不能同时选择" in both
        unknown = await boss.get(f"{ALL}?role=nobody", expect=422)
        assert "不是可选的值" in unknown

        # tick it and give it to 张三 with the one batch form
        await boss.get(f"{ALL}?assignee={wang}")
        sent = await boss.http.post(
            "/console/bulk/assign",
            data={
                "csrf": boss.csrf,
                "case": [new_case_id],
                "assignee": zhang,
                "reason": "王五出差",
                "back": "all",
            },
        )
        assert sent.status_code == 200, sent.text[:2000]
        assert "已办理 1 项，未办理 0 项" in sent.text
        assert 'href="/console/tasks/all">返回全部待办' in sent.text
        assert f'<td class="assignee">{zhang}</td>' in await boss.get(f"{ALL}?assignee={zhang}")
        assert new_case_id not in await boss.get(f"{ALL}?assignee={wang}")

    async with session_factory() as s:
        assert (await s.get(Case, new_case_id)).assignee == zhang  # type: ignore[union-attr]
    assigned = [e.summary for e in await runner.events(new_case_id) if e.summary.startswith("科长")]
    assert assigned == [
        f"科长 {chief} 将「发布考察预告」指派给 {zhang}（原由 {wang} 办理）：王五出差"
    ]
