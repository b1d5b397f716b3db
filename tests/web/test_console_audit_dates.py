"""The auditors' case pages read as the case happened: a case's timeline in the order of its
hash chain (each row's previous hash is the hash of the row above it, however late an event
was recorded), and "a case as of a day" by the days its acts happened, with the moment each
was typed in beside it. On a log of the test's own, written by the real recording activity."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from audit.act_dates import act_days
from audit.chain import GENESIS
from audit.queries import as_of
from settings import load_settings
from tests.api.conftest import NoTemporal
from tests.audit.conftest import SHANGHAI, log_sessions, log_url, record_all, story  # noqa: F401
from tests.web.console_fixtures import make_person, sign_in
from workflows.glossary_dates import deadline_text, full_day_text, moment_text
from workflows.types import RecordEventInput, Role

ROW = re.compile(r"<tr>(.*?)</tr>", re.S)
CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)
HASHES = re.compile(
    r'<td class="hash" title="([0-9a-f]{64})">.*?<td class="hash prev" title="([0-9a-f]{64})">'
)
TYPED_IN = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)  # a case brought in two months late


def body_rows(table: str) -> list[list[str]]:
    """The cells of each row of the table's body (the heading's row has none)."""
    return [cells for r in ROW.findall(table) if (cells := CELL.findall(r))]


@pytest.fixture
async def app(log_sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[FastAPI]:  # noqa: F811
    yield create_app(load_settings({}), NoTemporal(), log_sessions)  # type: ignore[arg-type]


def brought_in_late(case_id: str) -> list[RecordEventInput]:
    """``story``'s case opened on 2026-09-01 with its acts dated 09-03 to 09-07, all typed in
    on 2026-11-02, as the workflow records them: a transition at the same instant as the act
    that brought it about."""
    events = story(case_id)
    opened = events[0].payload | {"case": events[0].payload["case"] | {"opened_on": "2026-09-01"}}
    instants = [0, 1, 2, 2, 3, 4, 5, 5]  # minutes after TYPED_IN; 3→4 and 7→8 are one moment
    return [
        e.model_copy(
            update={
                "occurred_at": TYPED_IN + timedelta(minutes=m),
                **({"payload": opened} if e.kind == "opened" else {}),
            }
        )
        for e, m in zip(events, instants, strict=True)
    ]


async def test_the_timeline_is_shown_in_chain_order(
    app: FastAPI,
    log_sessions: async_sessionmaker[AsyncSession],  # noqa: F811
) -> None:
    events = story("O-1")
    # retried activities: the workflow's 3rd and 5th events reached the log after later ones
    late = [events[i] for i in (0, 1, 3, 2, 5, 4, 6, 7)]
    await record_all(log_sessions, late)
    name = await make_person(log_sessions, Role.AUDITOR)
    async with await sign_in(app, name, Role.AUDITOR) as auditor:
        page = await auditor.get("/console/audit/cases/O-1")
    table = page[page.index('<table class="timeline chain">') :]
    rows = body_rows(table)
    links = HASHES.findall(table)
    assert len(rows) == len(links) == 8
    assert [int(r[0]) for r in rows] == list(range(1, 9))  # the chain's own numbering
    assert [int(r[1]) for r in rows] == [e.seq for e in late]  # the workflow's: not in order
    above = GENESIS
    for own, previous in links:
        assert previous == above, "a row's previous hash is not the hash of the row above it"
        above = own


def test_a_day_is_the_day_the_act_happened() -> None:
    days = act_days(brought_in_late("D-0"))
    assert days == [
        date(2026, 9, 1),  # opened on its own date
        date(2026, 9, 1),  # the deadline set at opening
        date(2026, 9, 3),  # the investigation notice
        date(2026, 9, 3),  # the transition it brought about
        date(2026, 9, 5),  # a check
        date(2026, 9, 6),  # a reminder typed in late: the day it fell due
        date(2026, 9, 7),  # the conclusion
        date(2026, 9, 7),  # to the vote
    ]


async def test_a_case_brought_in_late_is_open_on_its_own_opening_day(
    app: FastAPI,
    log_sessions: async_sessionmaker[AsyncSession],  # noqa: F811
) -> None:
    await record_all(log_sessions, brought_in_late("D-1"))
    async with log_sessions() as s:
        views = {d: await as_of(s, "D-1", date(2026, 9, d)) for d in (1, 3, 6, 7)}
        before = await as_of(s, "D-1", date(2026, 8, 31))
    assert before.standing is None and before.events == []
    stages = {d: v.standing.stage if v.standing else None for d, v in views.items()}
    assert stages == {1: "investigation_notice", 3: "inspection", 6: "inspection", 7: "vote"}
    assert [e.seq for e in views[6].events] == [1, 2, 3, 4, 5, 6]
    assert views[7].acted_on[8] == date(2026, 9, 7)

    name = await make_person(log_sessions, Role.AUDITOR)
    async with await sign_in(app, name, Role.AUDITOR) as auditor:
        page = html.unescape(await auditor.get("/console/audit/cases/D-1/as-of?on=2026-09-01"))
    assert "尚未立案" not in page
    assert f"截至 {full_day_text(date(2026, 9, 1))}日终" in page
    table = page[page.index('<table class="timeline as-of">') :]
    first = body_rows(table)[0]
    # the day the act happened, and beside it the moment it was typed in
    assert first[:3] == ["1", "2026-09-01", moment_text(TYPED_IN)]


def test_dates_as_people_say_them() -> None:
    end_of_dec_10 = datetime(2026, 12, 11, tzinfo=SHANGHAI)
    assert deadline_text(end_of_dec_10, 2026) == "12-10 日终"
    assert deadline_text(end_of_dec_10, 2027) == "2026-12-10 日终"
    assert deadline_text(end_of_dec_10.astimezone(tz=None), 2026) == "12-10 日终"
    assert deadline_text(date(2026, 12, 10), 2026) == "12-10 日终"
    assert deadline_text(datetime(2026, 12, 10, 17, 0, tzinfo=SHANGHAI)) == "2026-12-10 17:00"
    assert deadline_text(None) == "—"
    assert full_day_text(date(2026, 12, 10)) == "2026年12月10日"
    # a moment in UTC is shown in Beijing time
    assert moment_text(datetime.fromisoformat("2026-12-10T16:30:00+00:00")) == "2026-12-11 00:30"
