"""Issue #18's casework walked in a real browser: headless Chromium (Debian's) driven by
Playwright against the service on a real port, with real Temporal and PostgreSQL behind it.

- a section chief finds a step a colleague claimed in 全部待办 and hands it to 张三, whose
  substitute 李四 completes it; the case's history shows the reassignment and "李四 代 张三";
- an attachment is uploaded, named by an inspection report, and found by its sha256 in the
  dossier, which the console's verification passes (and fails once that hash is changed);
- the reports page draws every chart from a county-year of cases played by
  ``bench/county_year.py``'s generator (``tests/web/county_year_data.py``).

Every page walked is saved as a screenshot (``tests/web/browser.py`` says where).
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.async_api import Page
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from audit.checkpoints import create_checkpoint
from audit.keys import load_private_key
from settings import load_settings
from store.db import make_engine, make_session_factory
from store.models import CaseEvent
from tests.web.browser import chromium, fill, screenshot_path, served, sign_in
from tests.web.console_fixtures import PASSWORD, inspection_forms, make_person
from tests.web.county_year_data import CountyYear, play_county_year
from tests.web.test_browser import Stack, new_page, quiet, stack, start_case, step  # noqa: F401
from tests.web.test_console_assignment import awaited_row
from tests.workflows.conftest import case_runner, start_time_skipping
from tests.workflows.scenarios import INVESTIGATION_NOTICE
from web.console.reports import NAMES
from web.templating import beijing_today
from workflows.glossary import zh
from workflows.types import Role, SelectionMethod

NOTICE_STEP = "record_investigation_notice"


async def shot(page: Page, name: str) -> None:
    await page.screenshot(path=str(screenshot_path(f"casework-{name}")), full_page=True)


# --------------------------------------------------------------------------- (a) reassign


async def test_a_chief_reassigns_a_step_and_the_assignees_substitute_completes_it(
    stack: Stack,  # noqa: F811
    new_case_id: str,
) -> None:
    tag = uuid.uuid4().hex[:6]
    wang_name, zhang_name = f"王五{tag}", f"张三{tag}"
    li_name, chief_name = f"李四{tag}", f"钱科长{tag}"
    wang = await new_page(stack, Role.CLERK, wang_name)
    zhang = await new_page(stack, Role.CLERK, zhang_name)
    li = await new_page(stack, Role.CLERK, li_name)
    chief = await new_page(stack, Role.SECTION_CHIEF, chief_name)
    base, case_id = stack.base, new_case_id

    # 王五 starts a case and claims its first step from his role's queue
    await start_case(stack, wang, case_id)
    await awaited_row(stack.sessions, case_id)
    await wang.goto(f"{base}/console/tasks")
    await wang.locator("tr", has_text=case_id).locator('button:has-text("认领")').click()
    await wang.wait_for_url(f"{base}/console/tasks")
    assert case_id in await wang.locator('h2:has-text("指派给我的") + table').inner_text()
    await shot(wang, "a1-colleague-claims")

    # 张三 names 李四 his substitute from today for three days
    today = beijing_today()
    await zhang.goto(f"{base}/console/substitutes")
    await zhang.select_option('select[name="substitute"]', li_name)
    await fill(zhang, {"to_date": (today + timedelta(days=3)).isoformat(), "reason": "休假"})
    await zhang.click('form[action="/console/substitutes"] button[type="submit"]')
    await zhang.wait_for_url(f"{base}/console/substitutes")
    named = await zhang.locator("tr", has_text=li_name).inner_text()
    assert zhang_name in named and "代理中" in named
    await shot(zhang, "a2-substitute-named")

    # the chief's own tasks do not reach 王五's step; 全部待办 does, narrowed to 王五
    await chief.goto(f"{base}/console/tasks")
    assert case_id not in await chief.inner_text("main")
    await chief.click('nav a[href="/console/tasks/all"]')
    await chief.wait_for_url(f"{base}/console/tasks/all")
    await chief.select_option('form.filters select[name="assignee"]', wang_name)
    await chief.select_option('form.filters select[name="role"]', Role.CLERK.value)
    await chief.click('form.filters button[type="submit"]')
    await chief.wait_for_url(lambda url: url.startswith(f"{base}/console/tasks/all?"))
    row = chief.locator("table.tasks-all tbody tr", has_text=case_id)
    assert await row.locator("td.assignee").inner_text() == wang_name
    assert "发布考察预告" in await row.inner_text()
    await shot(chief, "a3-department-tasks")
    await row.locator('input[name="case"]').check()
    await chief.fill('#bulk-cases input[name="assignee"]', zhang_name)
    await chief.fill('#bulk-cases input[name="reason"]', "王五出差，改由张三办理")
    await chief.click('#bulk-cases button:has-text("批量指派")')
    await chief.wait_for_url(f"{base}/console/bulk/assign")
    result = await chief.inner_text("main")
    assert f"批量指派给 {zhang_name}" in result and "已办理 1 项，未办理 0 项" in result
    await shot(chief, "a4-bulk-reassigned")
    await chief.click("text=返回全部待办")
    await chief.wait_for_url(f"{base}/console/tasks/all")
    now_row = chief.locator("table.tasks-all tbody tr", has_text=case_id)
    assert await now_row.locator("td.assignee").inner_text() == zhang_name

    # 李四 sees 张三's step among those he covers, and records it in the browser
    await li.goto(f"{base}/console/tasks")
    assert f"代理：{zhang_name}（" in await li.inner_text("main")
    covered = li.locator('h2:has-text("代理：") ~ table').first
    assert case_id in await covered.inner_text()
    await shot(li, "a5-substitute-tasks")
    await covered.locator(f'a[href="/console/cases/{case_id}/steps/{NOTICE_STEP}"]').click()
    await li.wait_for_url(f"{base}/console/cases/{case_id}/steps/{NOTICE_STEP}")
    await fill(li, {"published_on": INVESTIGATION_NOTICE.isoformat()})
    await li.click('form.step button[type="submit"]')
    await li.wait_for_url(f"{base}/console/cases/{case_id}?done={NOTICE_STEP}")
    assert "已记录" in await li.inner_text(".flash")

    # the case's history, as the chief reads it: the reassignment, then "李四 代 张三"
    await chief.goto(f"{base}/console/cases/{case_id}")
    timeline = await chief.inner_text("table.timeline")
    reassigned = (
        f"科长 {chief_name} 将「发布考察预告」指派给 {zhang_name}（原由 {wang_name} 办理）"
        "：王五出差，改由张三办理"
    )
    assert reassigned in timeline
    assert f"{wang_name} 认领「发布考察预告」" in timeline
    done = chief.locator("table.timeline tr", has_text=f"{li_name} 代 {zhang_name}")
    assert await done.count() == 1
    assert "考察预告" in await done.locator("td").last.inner_text()
    assert timeline.index(reassigned) < timeline.index(f"{li_name} 代 {zhang_name}")
    await shot(chief, "a6-history-shows-both")


# --------------------------------------------------------------------------- (b) attachment


def pdf_bytes(case_id: str) -> bytes:
    """A small PDF of this test's own (its case in it, so its hash is new to the database)."""
    return (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n"
        + f"% inspection materials of {case_id}\n".encode()
        + b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )


async def test_an_attachment_on_a_step_is_in_the_dossier_by_its_hash_and_verified(
    stack: Stack,  # noqa: F811
    new_case_id: str,
    tmp_path: Path,
) -> None:
    base, case_id = stack.base, new_case_id
    clerk = await new_page(stack, Role.CLERK)
    team_name = f"考察组-{case_id}"
    team = await new_page(stack, Role.INSPECTION_TEAM, team_name)
    auditor = await new_page(stack, Role.AUDITOR)
    await start_case(stack, clerk, case_id)

    content = pdf_bytes(case_id)
    expected = hashlib.sha256(content).hexdigest()
    scanned = tmp_path / "考察材料.pdf"
    scanned.write_bytes(content)

    by_role = {Role.CLERK: clerk, Role.INSPECTION_TEAM: team}
    for role, update, values in inspection_forms(team_name):
        if update == "record_inspection_report" and values["person_id"] == "p1":
            # the team uploads the scanned materials, then names them in p1's report
            await team.goto(f"{base}/console/cases/{case_id}/attachments")
            await team.set_input_files('input[name="file"]', str(scanned))
            await team.click('form.step button[type="submit"]')
            await team.wait_for_url(lambda url: "/attachments?added=" in url)
            assert expected in await team.inner_text(".flash")
            listed = await team.locator("tr", has_text="考察材料.pdf").inner_text()
            assert expected in listed and f"{len(content):,}" in listed
            await shot(team, "b1-attachment-uploaded")
            await step(team, base, case_id, update, {**values, "attachments": expected})
            break
        await step(by_role[role], base, case_id, update, values)
    case_page = await team.inner_text("main")
    assert "考察材料.pdf" in case_page and expected in case_page
    await shot(team, "b2-case-lists-attachment")

    await quiet(stack, case_id)
    async with stack.sessions() as s:
        await create_checkpoint(s, load_private_key(stack.key_path))

    # the auditor exports the dossier: the file is in it by its hash, and the report's
    # chained event names the same hash
    await auditor.goto(f"{base}/console/audit/cases/{case_id}")
    await shot(auditor, "b3-audit-case")
    async with auditor.expect_download() as downloading:
        await auditor.click("text=JSON")
    saved = tmp_path / (await downloading.value).suggested_filename
    await (await downloading.value).save_as(saved)
    dossier = json.loads(saved.read_text("utf-8"))
    assert [a["sha256"] for a in dossier["attachments"]] == [expected]
    assert dossier["attachments"][0]["file_name"] == "考察材料.pdf"
    relying = [e for e in dossier["events"] if e["payload"].get("attachments") == [expected]]
    assert len(relying) == 1 and relying[0]["payload"].get("person_id") == "p1"

    await auditor.click("text=核验本案记录")
    assert "核验通过" in await auditor.inner_text(".flash")
    await auditor.set_input_files('input[name="dossier"]', str(saved))
    await auditor.click('form[action="/console/audit/verify-dossier"] button')
    verdict = await auditor.inner_text(".flash")
    assert "核验通过" in verdict and case_id in verdict
    await shot(auditor, "b4-dossier-verified")

    # the report's event naming another file: the same verification refuses the dossier
    other = hashlib.sha256(content + b"changed").hexdigest()
    relying[0]["payload"]["attachments"] = [other]
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(dossier, ensure_ascii=False), "utf-8")
    await auditor.goto(f"{base}/console/audit/verify")
    await auditor.set_input_files('input[name="dossier"]', str(changed))
    await auditor.click('form[action="/console/audit/verify-dossier"] button')
    assert "核验未通过" in await auditor.inner_text(".refused")
    await shot(auditor, "b5-changed-hash-refused")


# --------------------------------------------------------------------------- (c) reports

# a tenth of the county's year by default: 1 open selection, 7 competitive appointments and
# 10 regular appointments (2 with the city's approval), about 30 s here; the whole year (173
# cases, CASEWORK_COUNTY_SCALE=1) takes minutes
COUNTY_SCALE = float(os.environ.get("CASEWORK_COUNTY_SCALE", "0.1"))


@dataclass
class Reports:
    base: str
    year: CountyYear
    sessions: async_sessionmaker[AsyncSession]
    page: Page


@pytest.fixture
async def county_reports(migrated_database_url: str) -> AsyncIterator[Reports]:
    """A county-year played into a database of its own (time-skipping server, the service's
    worker), then the service on it and a department head's browser."""
    engine = make_engine(migrated_database_url)
    sessions = make_session_factory(engine)
    env = await start_time_skipping()
    try:
        async with case_runner(env, sessions) as runner:
            year = await play_county_year(env, runner.task_queue, COUNTY_SCALE)
        settings = load_settings({"TASK_QUEUE": runner.task_queue})
        app: FastAPI = create_app(settings, env.client, sessions)
        head = await make_person(sessions, Role.DEPARTMENT_HEAD, "部领导赵")
        async with served(app) as base, chromium() as browser:
            page = await (await browser.new_context()).new_page()
            await sign_in(page, base, head, PASSWORD)
            yield Reports(base, year, sessions, page)
    finally:
        await env.shutdown()
        await engine.dispose()


async def report_table(page: Page, name: str) -> list[list[str]]:
    """The rows of a report's table, as the page shows them."""
    rows: list[list[str]] = await page.eval_on_selector_all(
        f"section#{name} table tbody tr",
        "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))",
    )
    return rows


async def test_the_reports_page_draws_every_chart_from_a_county_year(
    county_reports: Reports,
) -> None:
    """The data: ``bench/county_year.py``'s year at ``COUNTY_SCALE`` (seed 2003), every case
    played step by step through the real workflow and activities on the time-skipping server,
    so every figure comes from recorded events: cases opened over twelve months, inspected,
    voted, noticed and appointed (one appointment overdue past its first escalation, one late
    at its second reminder), each appointee's year of probation reviewed and ended in the
    formal appointment. Then each chart must be drawn with bars of real length, and the
    tables must add up to what was played."""
    page, year = county_reports.page, county_reports.year
    await page.click('nav a[href="/console/reports"]')
    await page.wait_for_url(f"{county_reports.base}/console/reports")
    for name in NAMES:
        section = page.locator(f"section#{name}")
        assert await section.locator("svg.chart").count() == 1, name
        # a bar is a rect with its own title (the legend's swatches have none)
        widths: list[float] = await section.locator("svg.chart rect").evaluate_all(
            "rs => rs.filter(r => r.querySelector('title'))"
            ".map(r => parseFloat(r.getAttribute('width')))"
        )
        assert widths and max(widths) > 0, f"{name}: no bar with data"
        assert await report_table(page, name), f"{name}: an empty table"
    await page.screenshot(path=str(screenshot_path("casework-c-reports")), full_page=True)

    months = await report_table(page, "opened-closed")
    assert sum(int(r[1]) for r in months) == len(year.plans)  # every case opened
    assert sum(int(r[2]) for r in months) == len(year.plans)  # and closed, appointed
    outcomes = await report_table(page, "probation-outcomes")
    assert sum(int(r[-1]) for r in outcomes) == year.appointees
    assert {r[1] for r in outcomes} <= year.units
    methods = {r[0] for r in await report_table(page, "durations-by-method")}
    assert methods == {zh(SelectionMethod(m)) for m in year.by_method}
    async with county_reports.sessions() as s:
        escalations = await s.scalar(
            select(func.count()).select_from(CaseEvent).where(CaseEvent.kind == "escalation")
        )
    assert escalations and sum(int(r[1]) for r in await report_table(page, "escalations")) == (
        escalations
    )
    late_steps = [r for r in await report_table(page, "overdue-by-step") if int(r[2]) > 0]
    assert late_steps, "the overdue appointment is not among the overdue steps"
