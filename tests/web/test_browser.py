"""The console and the board in a real browser: headless Chromium (Debian's) driven by
Playwright against the service on a real port, with the Temporal dev server, a real worker
and PostgreSQL behind it. Each test saves a screenshot of its last page
(``tests/web/browser.py`` says where)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.async_api import Browser, Page
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from audit.checkpoints import create_checkpoint
from audit.keys import load_private_key, write_keypair
from settings import load_settings
from store import queries
from tests.api.test_cases import QUORUM_REFUSAL
from tests.web.browser import chromium, fill, screenshot_path, served, sign_in
from tests.web.console_fixtures import PASSWORD, inspection_forms, make_person, vote_form
from tests.web.test_board import Board, Timeline, case_on
from tests.workflows.conftest import CaseRunner, case_runner
from tests.workflows.scenarios import (
    INVESTIGATION_NOTICE,
    regular_case,
)
from web.forms import form_values
from workflows.ids import case_workflow_id
from workflows.types import CaseStage, Role


@dataclass
class Stack:
    base: str
    runner: CaseRunner
    browser: Browser
    sessions: async_sessionmaker[AsyncSession]
    key_path: Path


@pytest.fixture
async def stack(
    devserver: WorkflowEnvironment,
    session_factory: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> AsyncIterator[Stack]:
    key_path, _, _ = write_keypair(tmp_path / "audit.pem")
    async with case_runner(devserver, session_factory) as runner:
        settings = load_settings(
            {"TASK_QUEUE": runner.task_queue, "AUDIT_SIGNING_KEY": str(key_path)}
        )
        app: FastAPI = create_app(settings, devserver.client, session_factory)
        async with served(app) as base, chromium() as browser:
            yield Stack(base, runner, browser, session_factory, key_path)


async def step(page: Page, base: str, case_id: str, update: str, values: dict[str, str]) -> None:
    await page.goto(f"{base}/console/cases/{case_id}/steps/{update}")
    await fill(page, values)
    await page.click('form.step button[type="submit"]')
    await page.wait_for_url(f"{base}/console/cases/{case_id}?done={update}")


async def new_page(stack: Stack, role: Role, name: str = "") -> Page:
    """A browser of its own, signed in as a new account of ``role`` (named ``name``)."""
    name = await make_person(stack.sessions, role, name)
    page = await (await stack.browser.new_context(accept_downloads=True)).new_page()
    await sign_in(page, stack.base, name, PASSWORD)
    return page


async def start_case(stack: Stack, clerk: Page, case_id: str) -> None:
    stack.runner.started.append(
        stack.runner.env.client.get_workflow_handle(case_workflow_id(case_id))
    )
    await clerk.click("text=新建案件")
    await clerk.wait_for_url(f"{stack.base}/console/cases/new")
    # first the selection method: the form then asks only what that method needs
    await clerk.click('a[href="/console/cases/new?method=regular_appointment"]')
    await clerk.wait_for_url(f"{stack.base}/console/cases/new?method=regular_appointment")
    await fill(clerk, form_values(regular_case(case_id), skip=frozenset({"opened_by", "method"})))
    await clerk.click('form.step button[type="submit"]')
    await clerk.wait_for_url(f"{stack.base}/console/cases/{case_id}")


async def through_inspection(
    stack: Stack, clerk: Page, team: Page, team_name: str, case_id: str
) -> None:
    by_role = {Role.CLERK: clerk, Role.INSPECTION_TEAM: team}
    for role, update, values in inspection_forms(team_name):
        await step(by_role[role], stack.base, case_id, update, values)


async def test_a_clerk_signs_in_starts_a_case_and_takes_it_to_the_vote(
    stack: Stack, new_case_id: str
) -> None:
    clerk = await new_page(stack, Role.CLERK)
    team_name = f"考察组-{new_case_id}"
    team = await new_page(stack, Role.INSPECTION_TEAM, team_name)
    secretary = await new_page(stack, Role.COMMITTEE_SECRETARY)
    await start_case(stack, clerk, new_case_id)
    assert "考察预告" in await clerk.inner_text("main")
    await through_inspection(stack, clerk, team, team_name, new_case_id)
    assert (await stack.runner.state(stack.runner.started[0])).stage is CaseStage.VOTE

    # the secretary's vote without quorum: refused with the rule's sentence, form kept
    await secretary.goto(f"{stack.base}/console/cases/{new_case_id}/steps/record_vote")
    await fill(secretary, vote_form(present=7, agree=6))
    await secretary.click('form.step button[type="submit"]')
    assert QUORUM_REFUSAL in await secretary.inner_text(".refused")
    assert await secretary.input_value('[name="meeting.present"]') == "7"
    await fill(secretary, {"meeting.present": "9", "items.0.agree": "8"})
    await secretary.click('form.step button[type="submit"]')
    await secretary.wait_for_url(f"{stack.base}/console/cases/{new_case_id}?done=record_vote")
    assert "已记录：常委会票决" in await secretary.inner_text(".flash")
    assert (await stack.runner.state(stack.runner.started[0])).stage is CaseStage.PUBLIC_NOTICE

    # the clerk's dashboard shows the case at its new stage
    await clerk.goto(f"{stack.base}/console/?stage=public_notice")
    assert new_case_id in await clerk.inner_text("table.cases")
    await clerk.screenshot(
        path=str(screenshot_path("clerk_takes_a_case_to_the_vote")), full_page=True
    )


async def quiet(stack: Stack, case_id: str, still: float = 1.0, give_up: float = 20.0) -> None:
    """Wait until the case has recorded nothing new for ``still`` seconds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + give_up
    count, since = -1, loop.time()
    while loop.time() < end:
        async with stack.sessions() as s:
            now = len(await queries.case_history(s, case_id))
        if now != count:
            count, since = now, loop.time()
        elif loop.time() - since >= still:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"case {case_id} kept recording for {give_up} s")


async def test_an_auditor_opens_a_timeline_exports_it_and_verifies_it(
    stack: Stack, new_case_id: str, tmp_path: Path
) -> None:
    clerk = await new_page(stack, Role.CLERK)
    await start_case(stack, clerk, new_case_id)
    await step(
        clerk,
        stack.base,
        new_case_id,
        "record_investigation_notice",
        {"published_on": INVESTIGATION_NOTICE.isoformat()},
    )
    # the past-dated step is overdue at once: let its alarms be recorded, then sign (the
    # worker's schedule would sign in time)
    await quiet(stack, new_case_id)
    async with stack.sessions() as s:
        await create_checkpoint(s, load_private_key(stack.key_path))

    auditor = await new_page(stack, Role.AUDITOR)
    await auditor.click("text=审计查询")
    await auditor.fill('input[name="case"]', new_case_id)
    await auditor.click('form[action="/console/audit/case"] button')
    await auditor.wait_for_url(f"{stack.base}/console/audit/cases/{new_case_id}")
    timeline = await auditor.inner_text("table.timeline")
    assert "立案" in timeline or "opened" in timeline
    assert "发布考察预告" in timeline or "investigation" in timeline

    async with auditor.expect_download() as downloading:
        await auditor.click("text=JSON")
    download = await downloading.value
    assert download.suggested_filename == f"dossier-{new_case_id}.json"
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)

    await auditor.click("text=核验本案记录")
    assert "核验通过" in await auditor.inner_text(".flash")

    await auditor.set_input_files('input[name="dossier"]', str(saved))
    await auditor.click('form[action="/console/audit/verify-dossier"] button')
    verdict = await auditor.inner_text(".flash")
    assert "核验通过" in verdict and new_case_id in verdict

    # one byte changed: the same page says it fails
    changed = tmp_path / "changed.json"
    text = saved.read_text("utf-8")
    changed.write_text(text.replace("无问题", "有问题", 1).replace('"2026-09-07', '"2026-09-08', 1))
    await auditor.goto(f"{stack.base}/console/audit/verify")
    await auditor.set_input_files('input[name="dossier"]', str(changed))
    await auditor.click('form[action="/console/audit/verify-dossier"] button')
    assert "核验未通过" in await auditor.inner_text(".refused")

    await auditor.goto(f"{stack.base}/console/audit/cases/{new_case_id}")
    await auditor.screenshot(
        path=str(screenshot_path("auditor_verifies_a_dossier")), full_page=True
    )


async def test_a_member_of_the_public_files_an_objection_during_a_notice(
    stack: Stack, new_case_id: str
) -> None:
    now = Timeline.current()
    setup = Board(http=None, runner=stack.runner, app=None)  # type: ignore[arg-type]
    handle = await setup.on_notice(case_on(now, new_case_id), now)

    context = await stack.browser.new_context()  # no account, no session: the public
    public = await context.new_page()
    await public.goto(f"{stack.base}/board/")
    listing = await public.inner_text("main")
    assert "任前公示" in listing and "张三" in listing
    await public.click(f'a[href="/board/notices/{new_case_id}"]')
    await public.wait_for_url(f"{stack.base}/board/notices/{new_case_id}")
    await public.select_option('select[name="person_id"]', "p1")
    await public.fill('textarea[name="text"]', "反映该同志在原单位的工作作风问题。")
    await public.check('input[name="anonymous"][value="1"]')
    await public.click('form.objection button[type="submit"]')
    receipt = await public.inner_text("main")
    assert "受理编号" in receipt

    state = await stack.runner.state(handle)
    [filed] = state.objections
    assert filed.person_id == "p1" and filed.anonymous
    assert filed.objection_id in receipt
    shot = screenshot_path("public_files_an_objection")
    await public.screenshot(path=str(shot), full_page=True)
