"""批量办理 through the console on the real stack (dev server, worker, PostgreSQL): a section
chief gives two cases' steps to one clerk at once; a batch withdrawal reports the closed case
refused and the other done; three messages marked read at once; an empty selection and more
than the limit are refused and change nothing."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.models import Case
from tests.api.conftest import live  # noqa: F401  (fixture)
from tests.web.console_fixtures import Person, make_person, sign_in
from tests.web.test_console_assignment import awaited_row
from tests.web.test_console_cases import app_of, record, start_from_the_form
from tests.workflows.conftest import CaseRunner
from web.console.bulk import MAX_BULK
from workflows.types import Role

Live = tuple[httpx.AsyncClient, CaseRunner]


async def bulk(
    person: Person, action: str, field: str, items: list[str], **extra: str
) -> httpx.Response:
    """Tick ``items`` on "my tasks" and press the batch button, as a browser would."""
    await person.get("/console/tasks")
    data: dict[str, str | list[str]] = {"csrf": person.csrf, field: items, **extra}
    return await person.http.post(f"/console/bulk/{action}", data=data)


async def test_chief_assigns_two_and_a_batch_withdrawal_reports_each(
    live: Live,  # noqa: F811
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    _, runner = live
    app = app_of(live)
    tag = uuid.uuid4().hex[:6]
    zhang = await make_person(session_factory, Role.CLERK, f"张三{tag}")
    chief = await make_person(session_factory, Role.SECTION_CHIEF, f"钱{tag}")
    first, second = f"T-{uuid.uuid4().hex[:12]}", f"T-{uuid.uuid4().hex[:12]}"
    async with await sign_in(app, zhang, Role.CLERK) as clerk:
        await start_from_the_form(clerk, runner, first)
        await start_from_the_form(clerk, runner, second)
        for case_id in (first, second):
            await awaited_row(session_factory, case_id)
        tasks = await clerk.get("/console/tasks")
        assert f'name="case" value="{first}"' in tasks and f'value="{second}"' in tasks
        assert "批量指派" in tasks and "批量撤回案件" in tasks

    async with await sign_in(app, chief, Role.SECTION_CHIEF) as boss:
        tasks = await boss.get("/console/tasks")
        assert "批量撤回案件" not in tasks  # a section chief may not withdraw a case
        sent = await bulk(
            boss, "assign", "case", [first, second], assignee=zhang, reason="集中办理"
        )
        assert sent.status_code == 200, sent.text[:2000]
        assert sent.text.count("<td>已办理</td>") == 2 and "已办理 2 项，未办理 0 项" in sent.text
        refused = await bulk(boss, "withdraw", "case", [first], reason="不办了")
        assert refused.status_code == 403
    async with session_factory() as s:
        rows = (await s.scalars(select(Case).where(Case.case_id.in_([first, second])))).all()
        assert {r.case_id: r.assignee for r in rows} == {first: zhang, second: zhang}

    async with await sign_in(app, zhang, Role.CLERK) as clerk:
        await record(clerk, first, "withdraw", {"reason": "岗位调整"})
        # a reason is needed before any case is asked
        empty_reason = await bulk(clerk, "withdraw", "case", [first, second], reason=" ")
        assert empty_reason.status_code == 422 and "撤回的理由" in empty_reason.text
        sent = await bulk(clerk, "withdraw", "case", [first, second], reason="机构改革")
        assert sent.status_code == 200, sent.text[:2000]
        assert "已办理 1 项，未办理 1 项" in sent.text
        assert f"<td>{first}</td><td>未办理：" in sent.text
        assert f"<td>{second}</td><td>已办理</td>" in sent.text
    status = "active"
    for _ in range(200):  # the listing follows the case
        async with session_factory() as s:
            row = await s.get(Case, second)
            status = row.status if row is not None else status
        if status != "active":
            break
        await asyncio.sleep(0.05)
    assert status == "withdrawn"


async def test_three_messages_read_and_bad_selections_change_nothing(
    live: Live,  # noqa: F811
    session_factory: async_sessionmaker[AsyncSession],
    new_case_id: str,
) -> None:
    _, runner = live
    app = app_of(live)
    tag = uuid.uuid4().hex[:6]
    clerk_name = await make_person(session_factory, Role.CLERK, f"赵{tag}")
    chief = await make_person(session_factory, Role.SECTION_CHIEF, f"孙{tag}")
    async with await sign_in(app, clerk_name, Role.CLERK) as clerk:
        await start_from_the_form(clerk, runner, new_case_id)
    await awaited_row(session_factory, new_case_id)
    async with session_factory() as s:
        ids = [
            await s.scalar(
                text(
                    "INSERT INTO inbox (case_id, event_seq, recipient_role, recipient, subject,"
                    " body) VALUES (:c, :n, 'clerk', '', :subject, '请办理') RETURNING id"
                ),
                {"c": new_case_id, "n": 200000 + n, "subject": f"提醒{tag}-{n}"},
            )
            for n in range(4)
        ]
        await s.commit()
    ticked = [str(i) for i in ids[:3]]
    async with session_factory() as s:
        assigned_before = (await s.get(Case, new_case_id)).assignee  # type: ignore[union-attr]

    async def unread() -> set[int]:
        async with session_factory() as s:
            found = await s.scalars(
                text("SELECT id FROM inbox WHERE case_id = :c AND read_at IS NULL"),
                {"c": new_case_id},
            )
            return set(found) & set(ids)  # the case's own reminders aside

    async with await sign_in(app, clerk_name, Role.CLERK) as clerk:
        tasks = await clerk.get("/console/tasks")
        assert f'name="message" value="{ids[0]}"' in tasks
        none = await bulk(clerk, "read", "message", [])
        assert none.status_code == 422 and "没有选择任何事项" in none.text
        too_many = [*ticked, *(str(10**9 + n) for n in range(MAX_BULK - 2))]
        assert len(too_many) == MAX_BULK + 1
        over = await bulk(clerk, "read", "message", too_many)
        assert over.status_code == 422 and f"最多批量办理 {MAX_BULK} 项" in over.text
        assert await unread() == set(ids)
        sent = await bulk(clerk, "read", "message", ticked)
        assert sent.status_code == 200 and "已办理 3 项，未办理 0 项" in sent.text
        assert await unread() == {ids[3]}

    async with await sign_in(app, chief, Role.SECTION_CHIEF) as boss:
        empty = await bulk(boss, "assign", "case", [], assignee=clerk_name)
        assert empty.status_code == 422 and "没有选择任何事项" in empty.text
        over = await bulk(
            boss,
            "assign",
            "case",
            [new_case_id] * 2 + [f"X-{n}" for n in range(MAX_BULK)],
            assignee=clerk_name,
        )
        assert over.status_code == 422 and "未办理" in over.text
    async with session_factory() as s:
        assigned = (await s.get(Case, new_case_id)).assignee  # type: ignore[union-attr]
        assert assigned == assigned_before != clerk_name
