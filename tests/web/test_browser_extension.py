"""A clerk extends a deadline with approval (#18), in a real browser (Debian's Chromium through
Playwright, the service on a real port with the Temporal dev server, a worker and PostgreSQL
behind it): the clerk files the request on the case's page, the section chief approves it
from "my tasks", and the case's page then shows both deadlines and the next reminder moved.
Screenshots of each page go where ``tests/web/browser.py`` says."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.async_api import Page

from tests.web.browser import screenshot_path
from tests.web.test_browser import Stack, new_page, stack  # noqa: F401  (fixture)
from tests.workflows.scenarios import regular_case
from tests.workflows.test_deadline_extension import awaiting
from web.console.extension_requests import schedule_facts
from web.templating import beijing_today
from workflows.glossary_dates import deadline_text, moment_text
from workflows.types import Role


def deadline(at: datetime) -> str:
    return deadline_text(at, beijing_today().year)


async def shot(page: Page, name: str) -> None:
    await page.screenshot(path=str(screenshot_path(f"extension-{name}")), full_page=True)


async def test_a_clerk_extends_a_deadline_with_approval_and_the_reminder_moves(
    stack: Stack,  # noqa: F811
    new_case_id: str,
) -> None:
    clerk_name, chief_name = f"科员-{new_case_id}", f"科长-{new_case_id}"
    clerk = await new_page(stack, Role.CLERK, clerk_name)
    chief = await new_page(stack, Role.SECTION_CHIEF, chief_name)
    h = await stack.runner.start(regular_case(new_case_id, opened_on=None))
    before = await awaiting(stack.runner, h)
    assert before.step is not None and before.step.deadline_at is not None
    first = before.step.deadline_at
    _, first_reminder = schedule_facts(await stack.runner.events(new_case_id), datetime.now(UTC))
    assert first_reminder is not None, "the step is reminded before its deadline"
    case_page = f"{stack.base}/console/cases/{new_case_id}"

    # the clerk asks for five more working days on the case's page
    await clerk.goto(case_page)
    facts = await clerk.inner_text("dl.facts")
    assert deadline(first) in facts and moment_text(first_reminder) in facts
    await clerk.fill('form.extension-request input[name="working_days"]', "5")
    await clerk.fill('form.extension-request input[name="reason"]', "等待上级组织部门答复")
    await clerk.click('form.extension-request button[type="submit"]')
    await clerk.wait_for_url(f"{case_page}?extension=filed")
    assert "已提交延期申请" in await clerk.inner_text(".flash")
    requests = await clerk.inner_text("table.extension-requests")
    assert "待审批" in requests and "等待上级组织部门答复" in requests
    assert await clerk.locator("form.extension-request").count() == 0  # one waits already
    await shot(clerk, "clerk-filed")

    # the section chief finds it in "my tasks" and approves it
    await chief.goto(f"{stack.base}/console/tasks")
    waiting = chief.locator("table.extension-requests tr", has_text=new_case_id)
    assert await waiting.count() == 1
    assert "5 个工作日" in await waiting.inner_text()
    await shot(chief, "chief-tasks")
    await waiting.locator('button[name="approve"]').click()
    await chief.wait_for_url(f"{stack.base}/console/tasks")
    assert await chief.locator("table.extension-requests tr", has_text=new_case_id).count() == 0

    # the case's page: the new deadline, the one before it, and the next reminder moved
    after = await stack.runner.state(h)
    assert after.step is not None and after.step.deadline_at is not None
    moved = after.step.deadline_at
    assert moved > first
    _, next_reminder = schedule_facts(await stack.runner.events(new_case_id), datetime.now(UTC))
    assert next_reminder is not None and next_reminder > first_reminder
    await clerk.goto(case_page)
    facts = await clerk.inner_text("dl.facts")
    assert deadline(moved) in facts
    assert deadline(first) in await clerk.inner_text("dd.first-deadline")
    shown_reminder = await clerk.inner_text("dd.next-reminder")
    assert shown_reminder == moment_text(next_reminder) != moment_text(first_reminder)
    row = await clerk.inner_text("table.extension-requests")
    assert "已批准" in row and deadline(first) in row and deadline(moved) in row
    timeline = await clerk.inner_text("table.timeline")
    assert f"{clerk_name} 申请，{chief_name} 批准：期限延长 5 个工作日" in timeline
    await shot(clerk, "case-after-approval")
