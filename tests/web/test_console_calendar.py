"""The calendar page of the console (系统设置 → 工作日历) on a database of the test's own (a
year saved here must not change the calendar of other tests):

- the issue's "done when": a case blocked on a year the package does not know moves on when an
  administrator enters the year in the console and asks the case to retry, on the same worker
  (the time-skipping Temporal test server, the service's worker, PostgreSQL);
- only administrators open the page; a bad entry is refused in Chinese and writes nothing;
  only what was previewed is saved; the dashboard warns from October while next year is
  missing.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from chinese_calendar import constants as package
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from settings import load_settings
from store.calendar_models import CalendarYear
from store.db import make_engine, make_session_factory
from tests.api.conftest import NoTemporal
from tests.web.console_fixtures import Person, make_person, sign_in
from tests.workflows.conftest import case_runner, time_env, write_policy  # noqa: F401
from tests.workflows.scenarios import regular_case
from web.console import calendar_years
from workflows.rules.calendar_years import WARN_FROM_MONTH_DAY
from workflows.types import Role

LAST = max(d.year for d in package.holidays)
YEAR = LAST + 1  # a year the installed chinesecalendar does not know
PAGE = "/console/admin/calendar"
DIGEST = re.compile(r'name="digest" value="([0-9a-f]{64})"')


def weekend_after(d: date) -> date:
    while d.weekday() < 5:
        d += timedelta(days=1)
    return d


# TEST DATA shaped like a State Council notice, not the real one for the year.
ENTRY = {
    "year": str(YEAR),
    "holidays": (
        f"元旦：{YEAR}-01-01 至 {YEAR}-01-03\n"
        "春节：2月6日（周六）至12日\n"
        "劳动节：5月1日至5日\n"
        "国庆节：10月1日至7日"
    ),
    "workdays": weekend_after(date(YEAR, 2, 13)).isoformat(),  # a make-up weekend day
    "source": f"国务院办公厅关于{YEAR}年部分节假日安排的通知（测试数据，非正式通知）",
}


@pytest_asyncio.fixture
async def own(migrated_database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(migrated_database_url)
    try:
        yield make_session_factory(engine)
    finally:
        await engine.dispose()


async def entries(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(CalendarYear)) or 0)


async def enter(admin: Person, values: dict[str, str]) -> httpx.Response:
    """Preview, then save what the preview shows, as a browser would."""
    await admin.get(PAGE)
    shown = await admin.post(f"{PAGE}/preview", values)
    assert shown.status_code == 200, shown.text[:3000]
    digest = DIGEST.search(shown.text)
    assert digest, "the preview offers no save"
    return await admin.post(f"{PAGE}/save", {**values, "digest": digest.group(1)})


def offline_app(sessions: async_sessionmaker[AsyncSession]) -> FastAPI:
    settings = load_settings({"CALENDAR_SUPPLEMENT": ""})
    assert settings.calendar_supplement is None
    return create_app(settings, NoTemporal(), sessions)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- done when


async def test_a_year_entered_in_the_console_unblocks_a_case_on_retry_without_restart(
    time_env: WorkflowEnvironment,  # noqa: F811
    own: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    new_case_id: str,
) -> None:
    today = date.today()  # the time-skipping server's clock starts now
    assert today.year <= YEAR, "the installed chinesecalendar lags: pick another year"
    # the case's first deadline reaches well into YEAR (any deadline does, once in YEAR)
    beyond = max((date(YEAR, 1, 15) - today).days, 1)
    policy = write_policy(tmp_path, steps__investigation_notice__deadline_working_days=beyond)
    async with case_runner(time_env, own, policy=policy, supplement=None) as runner:
        handle = await runner.start(regular_case(new_case_id, opened_on=None))
        await runner.env.sleep(timedelta(minutes=1))
        state = await runner.state(handle)
        assert state.step is not None
        assert f"缺少 {YEAR} 年的工作日历：" in state.step.blocked_reason
        assert "系统设置 → 工作日历" in state.step.blocked_reason

        settings = load_settings({"TASK_QUEUE": runner.task_queue, "POLICY_FILE": str(policy)})
        app = create_app(settings, time_env.client, own)
        name = await make_person(own, Role.ADMINISTRATOR)
        async with await sign_in(app, name, Role.ADMINISTRATOR) as admin:
            assert f'href="{PAGE}"' in await admin.get("/console/admin")  # 系统设置 links it
            listing = await admin.get(PAGE)
            assert f"<td>{YEAR}</td>" in listing and "缺失" in listing
            saved = await enter(admin, ENTRY)
            assert (saved.status_code, saved.headers["location"]) == (303, f"{PAGE}?saved={YEAR}")
            listing = await admin.get(saved.headers["location"])
            assert f"{YEAR} 年的工作日历已保存" in listing and "控制台录入" in listing
            # the same worker, asked to retry from the case's page
            case_page = await admin.get(f"/console/cases/{new_case_id}")
            assert f"/console/cases/{new_case_id}/steps/retry_blocked" in case_page
            await admin.get(f"/console/cases/{new_case_id}/steps/retry_blocked")
            retried = await admin.post(f"/console/cases/{new_case_id}/steps/retry_blocked", {})
            assert retried.status_code == 303, retried.text[:3000]

        await runner.env.sleep(timedelta(minutes=1))
        state = await runner.state(handle)
        assert state.step is not None and state.step.blocked_reason == ""
        assert state.step.deadline_at is not None and state.step.deadline_at.year == YEAR
        deadlines = [e for e in await runner.events(new_case_id) if e.kind == "deadline"]
        assert deadlines and "console calendar_years" in deadlines[-1].summary
        assert await entries(own) == 1


# --------------------------------------------------------------------------- the page


async def test_only_administrators_open_the_calendar_page(
    own: async_sessionmaker[AsyncSession],
) -> None:
    app = offline_app(own)
    for role in (Role.CLERK, Role.AUDITOR, Role.DEPARTMENT_HEAD):
        name = await make_person(own, role)
        async with await sign_in(app, name, role) as person:
            await person.get(PAGE, expect=403)
            for action in ("preview", "save", "edit"):
                response = await person.post(f"{PAGE}/{action}", ENTRY)
                assert response.status_code == 403, (role, action)
    assert await entries(own) == 0


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        ({"year": str(LAST)}, f"{LAST} 年的日历已由 chinesecalendar 软件包提供"),
        ({"holidays": "春节：2月30日"}, "放假日“春节：2月30日”不是日期"),
        ({"workdays": f"{YEAR}-03-01, {YEAR}-03-01"}, "列了不止一次"),
        ({"source": "国务院办公厅关于部分节假日安排的通知"}, f"通知原文中没有“{YEAR}年”"),
        ({"holidays": ""}, "未填写放假日"),
    ],
)
async def test_a_bad_entry_is_refused_in_chinese_and_writes_nothing(
    own: async_sessionmaker[AsyncSession], change: dict[str, str], sentence: str
) -> None:
    app = offline_app(own)
    name = await make_person(own, Role.ADMINISTRATOR)
    async with await sign_in(app, name, Role.ADMINISTRATOR) as admin:
        await admin.get(PAGE)
        for action in ("preview", "save"):
            response = await admin.post(f"{PAGE}/{action}", {**ENTRY, **change, "digest": "0"})
            assert response.status_code == 422, response.text[:2000]
            assert sentence in response.text
            assert "未保存任何内容" in response.text
            # the form comes back as typed
            assert change.get("holidays", ENTRY["holidays"]).split("\n")[0] in response.text
    assert await entries(own) == 0


async def test_only_what_was_previewed_is_saved(own: async_sessionmaker[AsyncSession]) -> None:
    app = offline_app(own)
    name = await make_person(own, Role.ADMINISTRATOR)
    async with await sign_in(app, name, Role.ADMINISTRATOR) as admin:
        await admin.get(PAGE)
        shown = await admin.post(f"{PAGE}/preview", ENTRY)
        assert shown.status_code == 200
        page = shown.text
        assert "每月工作日" in page and "尚未保存" in page
        assert f"{YEAR}-01-01" in page and "元旦" in page  # a weekday off, named
        assert "调休上班" in page and ENTRY["workdays"] in page
        digest = DIGEST.search(page)
        assert digest
        assert await entries(own) == 0  # a preview writes nothing
        # changed after the preview: sent back to preview
        changed = {**ENTRY, "holidays": ENTRY["holidays"] + "\n清明节：4月5日"}
        refused = await admin.post(f"{PAGE}/save", {**changed, "digest": digest.group(1)})
        assert refused.status_code == 409 and "请先预览" in refused.text
        # back to the form from the preview, as typed
        back = await admin.post(f"{PAGE}/edit", ENTRY)
        assert back.status_code == 200 and "春节：2月6日（周六）至12日" in back.text
        # without the form's token: refused
        forged = await admin.http.post(f"{PAGE}/save", data={**ENTRY, "digest": digest.group(1)})
        assert forged.status_code == 403
        assert await entries(own) == 0
        saved = await admin.post(f"{PAGE}/save", {**ENTRY, "digest": digest.group(1)})
        assert saved.status_code == 303
        # a correction is a second version; the form offers the newest to correct
        again = await admin.get(f"{PAGE}?year={YEAR}")
        assert "春节：2月6日（周六）至12日" in again and "第 1 版" in again
        assert (await enter(admin, changed)).status_code == 303
        listing = await admin.get(PAGE)
        assert "第 2 版" in listing and "第 1 版" in listing and name in listing
    assert await entries(own) == 2


# --------------------------------------------------------------------------- the dashboard


async def test_the_dashboard_warns_from_october_while_next_year_is_missing(
    own: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = offline_app(own)
    warning = f"尚无 {YEAR} 年的工作日历"
    link = f'href="{PAGE}?year={YEAR}"'
    admin_name = await make_person(own, Role.ADMINISTRATOR)
    clerk_name = await make_person(own, Role.CLERK)
    async with (
        await sign_in(app, admin_name, Role.ADMINISTRATOR) as admin,
        await sign_in(app, clerk_name, Role.CLERK) as clerk,
    ):
        october = date(LAST, *WARN_FROM_MONTH_DAY)
        monkeypatch.setattr(calendar_years, "today", lambda: october - timedelta(days=1))
        assert warning not in await admin.get("/console/")
        monkeypatch.setattr(calendar_years, "today", lambda: october)
        home = await admin.get("/console/")
        assert warning in home and link in home
        home = await clerk.get("/console/")
        assert warning in home and link not in home and "请提醒系统管理员" in home
        assert (await enter(admin, ENTRY)).status_code == 303
        assert warning not in await admin.get("/console/")
        assert warning not in await clerk.get("/console/")
