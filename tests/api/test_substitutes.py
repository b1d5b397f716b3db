"""代理 through the API: a step the substitute sends for an assigned case is recorded on the
assignee's behalf, decided by the service from the substitutes table; once the substitution
has ended, the same caller acts for no one."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowQueryFailedError

from store.models import Case
from store.substitutes import Substitute
from tests.api.conftest import live, make_account  # noqa: F401  (fixture)
from tests.workflows.conftest import CaseRunner
from tests.workflows.scenarios import INVESTIGATION_NOTICE, regular_case
from workflows.rules.working_days import SHANGHAI
from workflows.types import Actor, AssignStepInput, Role

Live = tuple[httpx.AsyncClient, CaseRunner]
KEY = "investigation_notice"


async def assigned(sessions: async_sessionmaker[AsyncSession], case_id: str, to: str) -> None:
    for _ in range(200):
        async with sessions() as s:
            row = await s.get(Case, case_id)
            if row is not None and row.assignee == to:
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the listing never showed the assignee")


async def test_the_substitute_acts_on_behalf_only_while_covered(
    live: Live,  # noqa: F811
    session_factory: async_sessionmaker[AsyncSession],
    new_case_id: str,
) -> None:
    http, runner = live
    tag = uuid.uuid4().hex[:6]
    zhang, wang = f"张三{tag}", f"王五{tag}"
    li = await make_account(session_factory, Role.CLERK, f"李四{tag}")
    for person in (zhang, wang):
        await make_account(session_factory, Role.CLERK, person)
    today = datetime.now(SHANGHAI).date()
    async with session_factory() as s:
        s.add(
            Substitute(
                person=zhang,
                substitute=li.name,
                from_date=today,
                to_date=today,
                reason="休假",
                set_by=zhang,
            )
        )
        s.add(
            Substitute(
                person=wang,
                substitute=li.name,
                from_date=today - timedelta(days=3),
                to_date=today - timedelta(days=1),
                reason="出差",
                set_by=wang,
            )
        )
        await s.commit()
    chief = Actor(name="钱", role=Role.SECTION_CHIEF)
    cases = {new_case_id: zhang, f"{new_case_id}-b": wang}
    for case_id, person in cases.items():
        h = await runner.start(regular_case(case_id))
        for _ in range(200):
            try:
                state = await runner.state(h)
            except WorkflowQueryFailedError:  # the case is still being set up
                await asyncio.sleep(0.05)
                continue
            if state.step is not None and state.step.deadline_at is not None:
                assert state.step.step == KEY
                break
            await asyncio.sleep(0.05)
        await runner.update(
            h, "assign_step", AssignStepInput(actor=chief, step=KEY, assignee=person)
        )
        await assigned(session_factory, case_id, person)
        body = {"published_on": INVESTIGATION_NOTICE.isoformat()}
        sent = await http.post(
            f"/cases/{case_id}/steps/record_investigation_notice", json=body, headers=li.headers
        )
        assert sent.status_code == 200, sent.text
    for case_id, person in cases.items():
        events = await runner.events(case_id)
        notice = next(e for e in events if "published_on" in e.payload)
        assert notice.actor_name == li.name
        covered = person == zhang
        assert notice.payload.get("on_behalf_of") == (zhang if covered else None)
