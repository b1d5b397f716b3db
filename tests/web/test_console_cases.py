"""The console on the real stack (the Temporal dev server, a real worker, PostgreSQL): a clerk
starts a case from the form and takes it to the vote with the inspection team and the
committee secretary, each signed in as themselves; refusals show the rule's sentence and
write nothing; a malformed form says what is wrong in Chinese; everything is escaped."""

from __future__ import annotations

import html

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store import queries
from store.objection_models import take_in
from tests.api.conftest import live  # noqa: F401  (fixture)
from tests.api.test_cases import QUORUM_REFUSAL
from tests.web.console_fixtures import (
    Person,
    inspection_forms,
    make_person,
    sign_in,
    vote_form,
)
from tests.workflows.conftest import CaseRunner
from tests.workflows.scenarios import (
    INSPECTION_START,
    INVESTIGATION_NOTICE,
    regular_case,
)
from web.forms import form_values
from workflows.ids import case_workflow_id
from workflows.types import CaseStage, Role


def app_of(stack: tuple[httpx.AsyncClient, CaseRunner]) -> FastAPI:
    transport = stack[0]._transport
    assert isinstance(transport, httpx.ASGITransport)
    app = transport.app
    assert isinstance(app, FastAPI)
    return app


async def inputs(runner: CaseRunner, case_id: str) -> int:
    """How many steps people have recorded in the case."""
    return sum(e.kind == "input" for e in await runner.events(case_id))


async def record(person: Person, case_id: str, update: str, data: dict[str, str]) -> None:
    """Send a step's form as a browser would: open it (its CSRF token), then submit."""
    await person.get(f"/console/cases/{case_id}/steps/{update}")
    response = await person.post(f"/console/cases/{case_id}/steps/{update}", data)
    assert response.status_code == 303, (update, response.status_code, response.text[:3000])
    assert response.headers["location"] == f"/console/cases/{case_id}?done={update}"


async def start_from_the_form(
    clerk: Person, runner: CaseRunner, case_id: str, **extra: str
) -> None:
    runner.started.append(runner.env.client.get_workflow_handle(case_workflow_id(case_id)))
    form = await clerk.get("/console/cases/new?method=regular_appointment")
    assert "案件编号" in form and "人选" in form
    values = form_values(regular_case(case_id), skip=frozenset({"opened_by"}))
    response = await clerk.post("/console/cases/new", {**values, **extra})
    assert response.status_code == 303, response.text[:3000]
    assert response.headers["location"] == f"/console/cases/{case_id}"


async def test_a_clerk_takes_a_case_to_the_vote_through_the_console(
    live: tuple[httpx.AsyncClient, CaseRunner],  # noqa: F811
    session_factory: async_sessionmaker[AsyncSession],
    new_case_id: str,
) -> None:
    _, runner = live
    app = app_of(live)
    names = {
        role: await make_person(session_factory, role)
        for role in (Role.CLERK, Role.INSPECTION_TEAM, Role.COMMITTEE_SECRETARY)
    }
    async with (
        await sign_in(app, names[Role.CLERK], Role.CLERK) as clerk,
        await sign_in(app, names[Role.INSPECTION_TEAM], Role.INSPECTION_TEAM) as team,
        await sign_in(app, names[Role.COMMITTEE_SECRETARY], Role.COMMITTEE_SECRETARY) as sec,
    ):
        await start_from_the_form(clerk, runner, new_case_id)
        page = await clerk.get(f"/console/cases/{new_case_id}")
        assert "考察预告" in page and "发布考察预告" in page

        # the dashboard lists it under its stage
        dashboard = await clerk.get("/console/?stage=investigation_notice")
        assert new_case_id in dashboard

        by_role = {Role.CLERK: clerk, Role.INSPECTION_TEAM: team}
        for role, update, values in inspection_forms(team.name):
            await record(by_role[role], new_case_id, update, values)
            if update == "record_inspection_team":
                # the team member now has the case among their tasks
                assert new_case_id in await team.get("/console/tasks")
        handle = runner.started[0]
        assert (await runner.state(handle)).stage is CaseStage.VOTE

        # the secretary's refused vote: the rule's sentence on the page, nothing recorded
        # (inputs only: the past-dated steps are overdue at once, their alarms recorded
        # meanwhile)
        before = await inputs(runner, new_case_id)
        await sec.get(f"/console/cases/{new_case_id}/steps/record_vote")
        refused = await sec.post(
            f"/console/cases/{new_case_id}/steps/record_vote", vote_form(present=7, agree=6)
        )
        assert refused.status_code == 409
        assert html.escape(QUORUM_REFUSAL) in refused.text
        source = "《党政领导干部选拔任用工作条例》关于讨论决定的规定：应到会成员三分之二以上到会"
        assert f"（依据：{source}）" in refused.text
        assert 'value="7"' in refused.text  # what was typed is kept
        # a malformed form: told in Chinese which field, nothing sent
        malformed = await sec.post(
            f"/console/cases/{new_case_id}/steps/record_vote",
            {**vote_form(present=9, agree=8), "meeting.held_on": "9月22日"},
        )
        assert malformed.status_code == 422 and "格式不对，应为 YYYY-MM-DD" in malformed.text
        # without the session's CSRF token: refused before anything is read
        forged = await sec.http.post(
            f"/console/cases/{new_case_id}/steps/record_vote", data=vote_form(9, 8)
        )
        assert forged.status_code == 403
        assert await inputs(runner, new_case_id) == before
        assert (await runner.state(handle)).stage is CaseStage.VOTE

        # a clerk may not record the vote at all
        await clerk.get(f"/console/cases/{new_case_id}/steps/record_vote", expect=403)

        # once the inspection is concluded, the case is no longer the team's task
        assert new_case_id not in await team.get("/console/tasks")
        assert new_case_id in await sec.get("/console/tasks")
        await record(sec, new_case_id, "record_vote", vote_form(present=9, agree=8))
        assert (await runner.state(handle)).stage is CaseStage.PUBLIC_NOTICE
        page = await clerk.get(f"/console/cases/{new_case_id}?done=record_vote")
        assert "已记录：常委会票决" in page and "任前公示" in page
        # the timeline names each person who acted, under their own account
        for name in names.values():
            assert name in page


async def test_a_team_member_of_another_case_cannot_record_its_inspection(
    live: tuple[httpx.AsyncClient, CaseRunner],  # noqa: F811
    session_factory: async_sessionmaker[AsyncSession],
    new_case_id: str,
) -> None:
    _, runner = live
    app = app_of(live)
    clerk_name = await make_person(session_factory, Role.CLERK)
    outsider_name = await make_person(session_factory, Role.INSPECTION_TEAM)
    async with (
        await sign_in(app, clerk_name, Role.CLERK) as clerk,
        await sign_in(app, outsider_name, Role.INSPECTION_TEAM) as outsider,
    ):
        await start_from_the_form(clerk, runner, new_case_id)
        await record(
            clerk,
            new_case_id,
            "record_investigation_notice",
            {"published_on": INVESTIGATION_NOTICE.isoformat()},
        )
        await record(
            clerk,
            new_case_id,
            "record_inspection_team",
            {"members": "李组长\n周干事", "started_on": INSPECTION_START.isoformat()},
        )
        page = await outsider.get(f"/console/cases/{new_case_id}")
        assert "凡提四必核查" not in page  # not offered
        await outsider.get(
            f"/console/cases/{new_case_id}/steps/record_inspection_check", expect=403
        )
        assert new_case_id not in await outsider.get("/console/tasks")


async def test_what_people_typed_is_shown_as_text(
    live: tuple[httpx.AsyncClient, CaseRunner],  # noqa: F811
    session_factory: async_sessionmaker[AsyncSession],
    new_case_id: str,
) -> None:
    _, runner = live
    app = app_of(live)
    name = await make_person(session_factory, Role.CLERK)
    script = "<script>alert(1)</script>"
    async with await sign_in(app, name, Role.CLERK) as clerk:
        await start_from_the_form(clerk, runner, new_case_id, unit=f"县{script}局")
        page = await clerk.get(f"/console/cases/{new_case_id}")
        dashboard = await clerk.get("/console/")
    for shown in (page, dashboard):
        assert script not in shown
        assert html.escape(script, quote=False) in shown


async def test_a_malformed_case_form_starts_nothing(
    live: tuple[httpx.AsyncClient, CaseRunner],  # noqa: F811
    session_factory: async_sessionmaker[AsyncSession],
    new_case_id: str,
) -> None:
    _, runner = live
    app = app_of(live)
    name = await make_person(session_factory, Role.CLERK)
    values = form_values(regular_case(new_case_id), skip=frozenset({"opened_by"}))
    async with await sign_in(app, name, Role.CLERK) as clerk:
        await clerk.get("/console/cases/new")
        for bad, said in (
            ({"positions": "0"}, "职数：不能小于 1"),
            ({"candidates": "person_id,name,height\np1,张三,180"}, "「height」：不是可识别的列"),
            ({"case_id": "no spaces allowed"}, "案件编号：格式不对"),
            ({"opened_on": "2026-02-30"}, "立案日期：格式不对，应为 YYYY-MM-DD"),
        ):
            response = await clerk.post("/console/cases/new", {**values, **bad})
            assert response.status_code == 422, bad
            assert said in response.text, (bad, response.text[:3000])
    async with session_factory() as s:
        assert await queries.get_case(s, new_case_id) is None
    runner.started.clear()


async def test_the_clerk_reads_the_boards_objections_an_auditor_does_not(
    live: tuple[httpx.AsyncClient, CaseRunner],  # noqa: F811
    session_factory: async_sessionmaker[AsyncSession],
    new_case_id: str,
) -> None:
    _, runner = live
    app = app_of(live)
    clerk_name = await make_person(session_factory, Role.CLERK)
    auditor_name = await make_person(session_factory, Role.AUDITOR)
    async with session_factory() as s:
        taken = await take_in(
            s,
            case_id=new_case_id,
            notice_published_on=INVESTIGATION_NOTICE,
            person_id="p1",
            text="反映原文<b>不当</b>",
            anonymous=False,
            name="刘群众",
            contact="13900007777",
            received_on=INVESTIGATION_NOTICE,
        )
    async with await sign_in(app, clerk_name, Role.CLERK) as clerk:
        await start_from_the_form(clerk, runner, new_case_id)
        page = await clerk.get(f"/console/cases/{new_case_id}")
    assert "公示栏反映受理登记" in page and taken.receipt in page
    assert html.escape("反映原文<b>不当</b>", quote=False) in page and "刘群众" in page
    assert "13900007777" in page and "待转交" in page
    assert "与案件记录核对" in page and "一致" in page and "不一致" not in page
    # a row changed behind the service's back no longer matches its commitment
    async with session_factory() as s:
        await s.execute(
            text("UPDATE objection_intake SET contact = '13900000000' WHERE receipt = :r"),
            {"r": taken.receipt},
        )
        await s.commit()
    async with await sign_in(app, clerk_name, Role.CLERK) as clerk:
        changed = await clerk.get(f"/console/cases/{new_case_id}")
    assert "不一致：登记内容已被改动" in changed
    async with await sign_in(app, auditor_name, Role.AUDITOR) as auditor:
        seen = await auditor.get(f"/console/cases/{new_case_id}")
    assert "刘群众" not in seen and "13900007777" not in seen and taken.receipt not in seen
