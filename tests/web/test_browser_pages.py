"""Every console page in a real browser (Debian's Chromium through Playwright, the service on
a real port with the Temporal dev server, a worker and PostgreSQL behind it): each page is
opened by a role that may see it, saved as a screenshot (``tests/web/browser.py`` says
where), and read for English: a page a person reads is in Chinese, save for codes, names,
ids and units (the allowed list below).

The pages are listed from the console's own routes, so a new page cannot be forgotten:
``test_every_console_page_is_visited`` fails until it is added to ``PAGES`` (or, for what is
not a page, such as a download, to ``NOT_PAGES``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from playwright.async_api import Page

from gateway import cadre, rotation_batch
from settings import PROJECT_DIR
from sheets.cadre_imports import Upload, read_leaders
from store.register import decide_rotation, record_rotation_scan
from tests.api.test_probation import DAYS_IN, bring_in, today
from tests.register.people import add_person
from tests.sheet_files import FIXTURES
from tests.web.browser import screenshot_path, sign_in
from tests.web.console_fixtures import PASSWORD, make_person
from tests.web.test_browser import Stack, quiet, stack  # noqa: F401  (fixture)
from tests.workflows.scenarios import regular_case
from web import console
from workflows.capability_types import CapabilityCampaignInput, CapabilityResult
from workflows.double_evaluation_types import DoubleEvaluationInput
from workflows.register_types import RotationDecision, RotationDue, RotationScanResult
from workflows.types import Actor, Role

CASE = "{case_id}"
# the register's person and rotation scan the pages show (the register is one per database:
# made again on each run, which changes nothing)
REGISTER_PERSON = "BROWSER-R1"
ROTATION_SCAN = "rotation-scan-browser"
# Each GET page of the console: (who opens it, the address with the test's case filled in).
PAGES: dict[str, tuple[Role | None, str]] = {
    "/console/login": (None, "/console/login"),
    "/console/": (Role.CLERK, "/console/"),
    "/console/tasks": (Role.CLERK, "/console/tasks"),
    "/console/tasks/all": (Role.SECTION_CHIEF, "/console/tasks/all"),
    "/console/cases/new": (Role.CLERK, "/console/cases/new"),
    "/console/cases/{case_id}": (Role.CLERK, f"/console/cases/{CASE}"),
    "/console/cases/{case_id}/steps/{update}": (
        Role.CLERK,
        f"/console/cases/{CASE}/steps/record_investigation_notice",
    ),
    "/console/probation": (Role.DEPARTMENT_HEAD, "/console/probation"),
    "/console/probation/{case_id}/{person_id}": (
        Role.DEPARTMENT_HEAD,
        f"/console/probation/{CASE}/p1",
    ),
    "/console/probation/{case_id}/{person_id}/{slug}": (
        Role.DEPARTMENT_HEAD,
        f"/console/probation/{CASE}/p1/review",
    ),
    "/console/audit": (Role.AUDITOR, f"/console/audit?unit={regular_case('x').unit}"),
    "/console/audit/cases/{case_id}": (Role.AUDITOR, f"/console/audit/cases/{CASE}"),
    "/console/audit/cases/{case_id}/as-of": (
        Role.AUDITOR,
        f"/console/audit/cases/{CASE}/as-of?on={{today}}",
    ),
    "/console/audit/verify": (Role.AUDITOR, f"/console/audit/verify?case={CASE}&run=true"),
    "/console/admin": (Role.ADMINISTRATOR, "/console/admin"),
    "/console/admin/calendar": (Role.ADMINISTRATOR, "/console/admin/calendar"),
    "/console/cases/{case_id}/attachments": (Role.CLERK, f"/console/cases/{CASE}/attachments"),
    "/console/reports": (Role.DEPARTMENT_HEAD, "/console/reports"),
    "/console/substitutes": (Role.CLERK, "/console/substitutes"),
    # the capability test and the double evaluation started for the test (``cadre_work``),
    # under the test's case id
    "/console/capability": (Role.CLERK, "/console/capability"),
    "/console/capability/{campaign_id}": (Role.CLERK, f"/console/capability/{CASE}"),
    "/console/capability/{campaign_id}/{person_id}/{slug}": (
        Role.CLERK,
        f"/console/capability/{CASE}/C1/retest",
    ),
    "/console/evaluation": (Role.COMMITTEE_SECRETARY, "/console/evaluation"),
    "/console/evaluation/{evaluation_id}": (
        Role.COMMITTEE_SECRETARY,
        f"/console/evaluation/{CASE}",
    ),
    "/console/evaluation/{evaluation_id}/{person_id}/vote": (
        Role.COMMITTEE_SECRETARY,
        f"/console/evaluation/{CASE}/L2/vote",
    ),
    # the cadre register (干部名册): its person and its scan are made by the test
    "/console/register": (Role.CLERK, "/console/register"),
    "/console/register/people/{person_id}": (
        Role.CLERK,
        f"/console/register/people/{REGISTER_PERSON}",
    ),
    "/console/register/rotations/{scan_id}": (
        Role.DEPARTMENT_HEAD,
        f"/console/register/rotations/{ROTATION_SCAN}",
    ),
    # the rotation batch of the scan's person, made by the test under the test's case id
    "/console/register/rotation-batches": (Role.CLERK, "/console/register/rotation-batches"),
    "/console/register/rotation-batches/{batch_id}": (
        Role.CLERK,
        f"/console/register/rotation-batches/{CASE}",
    ),
}
# Further visits of a page: the new-case form of a selection method, once it is chosen.
MORE_VISITS: list[tuple[str, Role | None, str]] = [
    ("/console/cases/new", Role.CLERK, "/console/cases/new?method=regular_appointment"),
]
# GET routes that are not pages a person reads: downloads, and a box that only redirects.
NOT_PAGES = {
    "/console/sheets/{kind}.xlsx",
    "/console/audit/case",
    "/console/audit/cases/{case_id}/dossier.{fmt}",
    "/console/audit/cases/{case_id}/dossier.zip",
    "/console/cases/{case_id}/attachments/{sha256}",
    "/console/reports/{name}.{fmt}",
    "/console/capability/{campaign_id}/report.{fmt}",
    "/console/evaluation/{evaluation_id}/report.{fmt}",
}

# English a page may show: codes, names, ids, units and commands, never a sentence.
ALLOWED_ENGLISH = {
    "JSON CSV HTML",  # the dossier's formats, one link each
}
ALLOWED_PREFIXES = (
    "appointments ",  # a command of the command line, in <code>
    # the working-day calendar's source as a deadline records it ("chinese_calendar 1.11.0 +
    # supplement NAME"): an identifier kept in the log and the dossier, read by machines
    "supplement ",
)
# three or more words joined by spaces or punctuation: a sentence; words joined by hyphens
# alone ("past-test-ddcc") are an identifier, such as a case id another test made
WORD_RUN = re.compile(r"[A-Za-z]{3,}(?:(?:[ ,:'-]*[ ,:'][ ,:'-]*)[A-Za-z]{3,}){2,}")


async def cadre_work(stack: Stack, key: str, on: date) -> None:  # noqa: F811
    """A capability test with one failing cadre (C1) and a double evaluation proposing one
    leader (L2, the fixtures' tallies), both under ``key``, once their children run."""
    client, queue = stack.runner.env.client, stack.runner.task_queue
    clerk = Actor(name="王科员", role=Role.CLERK)
    await cadre.start_campaign(
        client,
        queue,
        CapabilityCampaignInput(
            campaign_id=key,
            title="行政管理能力测试",
            tested_on=on,
            notified_on=on,
            results=[
                CapabilityResult(person_id="C1", name="张三", unit="县财政局", score=Decimal(40)),
                CapabilityResult(person_id="C2", name="李四", unit="县财政局", score=Decimal(90)),
            ],
            opened_by=clerk,
        ),
    )
    leaders = read_leaders(*(Upload(n, (FIXTURES / n).read_bytes()) for n in SHEET_FILES))
    await cadre.start_evaluation(
        client,
        queue,
        DoubleEvaluationInput(
            evaluation_id=key, title="双重考核", held_on=on, leaders=leaders, opened_by=clerk
        ),
    )
    for _ in range(300):
        campaign = await cadre.campaign_state(client, key)
        evaluation = await cadre.evaluation_state(client, key)
        if campaign and campaign.retests and evaluation and evaluation.cases:
            await cadre.retest_state(client, key, "C1")
            await cadre.removal_state(client, key, "L2")
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the cadre workflows did not start their children")


SHEET_FILES = ("evaluation_unified.csv", "evaluation_own.csv")


async def rotation_work(stack: Stack, key: str, on: date) -> None:  # noqa: F811
    """The scan's person decided 交流 and put in a rotation batch under ``key``, once the
    batch has read its policy (its page then shows the steps' forms)."""
    head = Actor(name="部长 赵", role=Role.DEPARTMENT_HEAD)
    async with stack.sessions() as s, s.begin():
        await decide_rotation(s, ROTATION_SCAN, REGISTER_PERSON, RotationDecision.ROTATE, "", head)
    client = stack.runner.env.client
    await rotation_batch.make_batch(
        client,
        stack.runner.task_queue,
        stack.sessions,
        PROJECT_DIR / "policy" / "default.yaml",
        batch_id=key,
        title="乡镇一般干部交流",
        scan_id=ROTATION_SCAN,
        made_on=on,
        moves=[rotation_batch.Destination(REGISTER_PERSON, "樟市镇人民政府", "樟市镇")],
        opened_by=Actor(name="王科员", role=Role.CLERK),
    )
    for _ in range(300):
        state = await rotation_batch.batch_state(client, key)
        if state.policy_version and state.moves[0].document_schedule:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the rotation batch did not start")


def console_get_routes() -> set[str]:
    """The address template of every GET route of the console, as the app serves them."""

    def walk(routes: list[Any]) -> Iterator[tuple[set[str], str]]:
        for route in routes:
            contexts = getattr(route, "effective_route_contexts", None)
            if contexts is not None:  # an included router
                for c in contexts():
                    yield set(c.methods or ()), c.path
            elif hasattr(route, "methods"):
                yield set(route.methods or ()), route.path

    return {path for methods, path in walk(console.router.routes) if "GET" in methods}


def test_every_console_page_is_visited() -> None:
    routes = console_get_routes()
    assert len(routes) > 10, "the walk found too few routes: the router's layout changed"
    assert routes == set(PAGES) | NOT_PAGES, (
        "pages without a visit: "
        f"{sorted(routes - set(PAGES) - NOT_PAGES)}; visits without a page: "
        f"{sorted(set(PAGES) | NOT_PAGES - routes)}"
    )


def english_runs(text: str) -> list[str]:
    """Runs of three or more English words (of three letters or more) in the text, less
    the allowed ones."""
    return [
        run
        for run in WORD_RUN.findall(text)
        if run not in ALLOWED_ENGLISH and not run.startswith(ALLOWED_PREFIXES)
    ]


def test_the_english_check_would_see_a_sentence() -> None:
    sentence = "未能办理：the date of the investigation notice lies in the future"
    assert english_runs(sentence) == ["the investigation notice lies"]
    assert english_runs("stage vote → public_notice, personnel_file done for 刘建国") != []
    assert english_runs("导出档案 JSON CSV HTML，案件 GY-2026-017，PDF，政策 2026.1") == []
    assert english_runs("案件 past-test-ddcc") == []  # an id, not a sentence


async def test_every_page_in_the_browser_is_in_chinese(
    stack: Stack,  # noqa: F811
    new_case_id: str,
) -> None:
    await stack.runner.start(regular_case(new_case_id))
    now = await today(stack.runner)
    await bring_in(stack.runner, new_case_id, "p1", now - timedelta(days=DAYS_IN))
    await quiet(stack, new_case_id)
    await cadre_work(stack, new_case_id, now)
    await add_person(stack.sessions, REGISTER_PERSON, "冯名册")
    async with stack.sessions() as s, s.begin():
        await record_rotation_scan(
            s,
            RotationScanResult(
                scan_id=ROTATION_SCAN,
                as_of=date(2026, 3, 1),
                threshold_years=8,
                scanned=1,
                due=[
                    RotationDue(
                        person_id=REGISTER_PERSON,
                        name="冯名册",
                        version=2,
                        township="城关镇",
                        since=date(2016, 1, 4),
                        years=10,
                    )
                ],
            ),
        )
    await rotation_work(stack, new_case_id, now)

    pages: dict[Role | None, Page] = {}
    context = await stack.browser.new_context()
    pages[None] = await context.new_page()
    for person in {r for r, _ in PAGES.values() if r is not None}:
        name = await make_person(stack.sessions, person)
        signed_in = await (await stack.browser.new_context()).new_page()
        await sign_in(signed_in, stack.base, name, PASSWORD)
        pages[person] = signed_in

    english: dict[str, list[str]] = {}
    visits = [(route, role, address) for route, (role, address) in PAGES.items()]
    for route, role, address in visits + MORE_VISITS:
        page = pages[role]
        url = address.replace(CASE, new_case_id).replace("{today}", now.isoformat())
        response = await page.goto(f"{stack.base}{url}")
        assert response is not None and response.status == 200, (route, url)
        slug = re.sub(r"[^A-Za-z0-9_-]+", "_", url.replace(new_case_id, "case")).strip("_")
        await page.screenshot(path=str(screenshot_path(f"page-{slug}")), full_page=True)
        found = english_runs(await page.inner_text("body"))
        if found:
            english[url] = found
    assert not english, "English on the pages:\n" + "\n".join(
        f"{url}: {runs}" for url, runs in english.items()
    )
