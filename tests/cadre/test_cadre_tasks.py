""" "My tasks" lists the cadre work waiting for the person's role (干部管理待办): the standing
committee's vote on each proposed removal for the committee secretary (not for a clerk), a
failing cadre's retest for a clerk once it opens, each with the console's form for it; a step
recorded leaves the list. Read from the chains the real workflows wrote, on the time-skipping
server."""

from __future__ import annotations

import uuid
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.cadre_calls import campaign
from api.deps import Services
from gateway import cadre
from tests.cadre.conftest import Stack, settle
from tests.web.console_fixtures import make_person, sign_in
from tests.workflows.test_double_evaluation import EDGE, vote_input
from workflows.cadre_enums import RemovalStatus, RetestStatus
from workflows.ids import (
    capability_retest_workflow_id,
    chain_keys,
    probation_workflow_id,
    removal_case_workflow_id,
    rotation_batch_workflow_id,
)
from workflows.types import Actor, Role

CLERK = Actor(name="王科员", role=Role.CLERK)
SECTION = "<h2>干部管理待办</h2>"


async def test_the_committee_secretary_sees_the_votes_awaited(
    stack: Stack, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    evaluation_id = f"T{uuid.uuid4().hex[:8]}"
    day = await stack.start_evaluation(evaluation_id, EDGE)
    secretary_name = await make_person(session_factory, Role.COMMITTEE_SECRETARY)
    secretary = await sign_in(stack.app, secretary_name, Role.COMMITTEE_SECRETARY)
    clerk = await sign_in(stack.app, await make_person(session_factory, Role.CLERK), Role.CLERK)
    vote = {p: f"/console/evaluation/{evaluation_id}/{p}/vote" for p in ("L4", "L7", "L8")}
    async with secretary, clerk:

        async def listed() -> str | None:  # once each vote's deadline is recorded
            page = await secretary.get("/console/tasks")
            return page if all(f'href="{href}"' in page for href in vote.values()) else None

        page = await settle(listed)
        assert SECTION in page and "登记常委会票决结果" in page and "干部L8" in page
        clerks = await clerk.get("/console/tasks")
        assert all(href not in clerks for href in vote.values())
        assert "登记" in await secretary.get(vote["L8"])  # the link is the vote's form

        decided = await cadre.record_removal_vote(
            stack.env.client, evaluation_id, "L8", vote_input(day, 6, 3)
        )
        assert decided.status is RemovalStatus.DECIDED
        page = await secretary.get("/console/tasks")
        assert vote["L8"] not in page and vote["L4"] in page and vote["L7"] in page


async def test_a_clerk_sees_a_retest_once_it_opens(
    stack: Stack, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    services: Services = stack.app.state.services
    campaign_id = f"T{uuid.uuid4().hex[:8]}"
    day = await stack.start_campaign(campaign_id)
    retest = f"/console/capability/{campaign_id}/C1/retest"
    clerk = await sign_in(stack.app, await make_person(session_factory, Role.CLERK), Role.CLERK)
    head_name = await make_person(session_factory, Role.DEPARTMENT_HEAD)
    head = await sign_in(stack.app, head_name, Role.DEPARTMENT_HEAD)

    async def standing(status: RetestStatus) -> RetestStatus | None:
        r = (await campaign(services, campaign_id)).retests.get("C1")
        return r.status if r is not None and r.status is status else None

    async with clerk, head:
        self_study = await settle(lambda: standing(RetestStatus.SELF_STUDY))
        assert self_study is RetestStatus.SELF_STUDY
        assert retest not in await clerk.get("/console/tasks")  # studying: nothing to record
        opens = (await campaign(services, campaign_id)).retests["C1"].retest_opens_on
        await stack.env.sleep(opens - day + timedelta(days=1))

        async def listed() -> str | None:
            page = await clerk.get("/console/tasks")
            return page if retest in page else None

        page = await settle(listed)
        assert SECTION in page and "登记补测成绩" in page and "张三" in page
        assert retest not in await head.get("/console/tasks")  # the head records handling only


@given(st.text(), st.text())
def test_the_keys_of_an_id_read_back_as_given(first: str, second: str) -> None:
    for made in (capability_retest_workflow_id, removal_case_workflow_id, probation_workflow_id):
        assert chain_keys(made(first, second)) == [first, second]
    assert chain_keys(rotation_batch_workflow_id(first)) == [first]
