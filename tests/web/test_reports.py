"""The reports (报表) on a log of the test's own, written by the real recording activity with
known dates: the medians and 90th percentiles of the stays, the overdue rates, the monthly
counts (by Beijing's months); the page with a chart per report and no English sentence; the
downloads with the same figures; the filters; and the refusal of a role without the right."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import AsyncIterator
from datetime import date, datetime

import pytest
from fastapi import FastAPI
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from settings import load_settings
from store import reports
from store.models import CaseEvent
from tests.api.conftest import NoTemporal
from tests.audit.conftest import SHANGHAI, log_sessions, log_url, record_all  # noqa: F401
from tests.web.console_fixtures import make_person, sign_in
from web.charts import Series, bars
from workflows.types import CaseRow, CaseStage, CaseStatus, RecordEventInput, Role, SelectionMethod

U1, U2 = "县交通运输局", "县水利局"
REGULAR = SelectionMethod.REGULAR_APPOINTMENT.value
NOTICE, INSPECTION, VOTE = "investigation_notice", "inspection", "vote"
ALL = reports.ReportFilter()


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def case(case_id: str, unit: str, steps: list[tuple[str, str, datetime]]) -> list[RecordEventInput]:
    """A case's events, (kind, stage after it, when), numbered in order."""
    events = []
    for seq, (kind, stage, when) in enumerate(steps, start=1):
        payload = {"step": stage, "deadline_on": "2026-12-31"} if kind == "deadline" else {}
        status = CaseStatus.APPOINTED if stage == "closed" else CaseStatus.ACTIVE
        events.append(
            RecordEventInput(
                case_id=case_id,
                seq=seq,
                kind=kind,
                stage=CaseStage(stage),
                occurred_at=when,
                actor_name="系统",
                actor_role=Role.SYSTEM,
                summary=f"{kind} (test)",
                payload=payload,
                case=CaseRow(
                    unit=unit,
                    post="副局长",
                    method=SelectionMethod.REGULAR_APPOINTMENT,
                    stage=CaseStage(stage),
                    status=status,
                    opened_on=steps[0][2].date(),
                ),
            )
        )
    return events


# A: notice 2 days, inspection 10 days (overdue), vote 22 days, closed in October
A = case(
    "R-A",
    U1,
    [
        ("opened", NOTICE, at(9, 1)),
        ("deadline", NOTICE, at(9, 1, 9, 1)),
        ("transition", INSPECTION, at(9, 3)),
        ("deadline", INSPECTION, at(9, 3, 9, 1)),
        ("overdue", INSPECTION, at(9, 10)),
        ("escalation", INSPECTION, at(9, 12)),
        ("transition", VOTE, at(9, 13)),
        ("closed", "closed", at(10, 5)),
    ],
)
# B: notice 4 days, inspection 4 days, still at the vote; an escalation in October
B = case(
    "R-B",
    U1,
    [
        ("opened", NOTICE, at(9, 2)),
        ("transition", INSPECTION, at(9, 6)),
        ("transition", VOTE, at(9, 10)),
        ("escalation", VOTE, at(10, 5)),
    ],
)
# C: notice 6 days, inspection overdue; escalations late on 31 Oct and just after midnight,
# Beijing time, on 1 Nov (still 31 Oct in UTC)
C = case(
    "R-C",
    U2,
    [
        ("opened", NOTICE, at(10, 1)),
        ("transition", INSPECTION, at(10, 7)),
        ("deadline", INSPECTION, at(10, 7, 9, 1)),
        ("overdue", INSPECTION, at(10, 20)),
        ("escalation", INSPECTION, at(10, 31, 23, 30)),
        ("escalation", INSPECTION, at(11, 1, 0, 30)),
    ],
)


@pytest.fixture
async def app(log_sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[FastAPI]:  # noqa: F811
    for events in (A, B, C):
        await record_all(log_sessions, events)
    yield create_app(load_settings({}), NoTemporal(), log_sessions)  # type: ignore[arg-type]


def stays(rows: list[reports.StageDuration]) -> dict[tuple[str, str], tuple[int, float, float]]:
    return {
        (r.group, r.stage): (r.stays, round(r.median_days, 4), round(r.p90_days, 4)) for r in rows
    }


async def test_the_figures(app: FastAPI, log_sessions: async_sessionmaker[AsyncSession]) -> None:  # noqa: F811
    async with log_sessions() as s:
        recorded = len((await s.scalars(select(CaseEvent.id))).all())
        by_method = await reports.stage_durations(s, ALL, "method")
        by_unit = await reports.stage_durations(s, ALL, "unit")
        overdue_units = await reports.overdue_rates(s, ALL, "unit")
        overdue_steps = await reports.overdue_rates(s, ALL, "step")
        escalations = await reports.escalations_per_month(s, ALL)
        opened_closed = await reports.opened_closed_per_month(s, ALL)
    assert recorded == len(A) + len(B) + len(C)
    # percentile_cont: [2, 4, 6] → 4 and 4 + 0.8·2; [4, 10] → 7 and 4 + 0.9·6
    assert stays(by_method) == {
        (REGULAR, NOTICE): (3, 4.0, 5.6),
        (REGULAR, INSPECTION): (2, 7.0, 9.4),
        (REGULAR, VOTE): (1, 22.0, 22.0),
    }
    assert stays(by_unit) == {
        (U1, NOTICE): (2, 3.0, 3.8),
        (U1, INSPECTION): (2, 7.0, 9.4),
        (U1, VOTE): (1, 22.0, 22.0),
        (U2, NOTICE): (1, 6.0, 6.0),
    }
    assert {(r.group, r.awaited, r.overdue) for r in overdue_units} == {(U1, 2, 1), (U2, 1, 1)}
    assert {r.group: r.rate for r in overdue_units} == {U1: 0.5, U2: 1.0}
    assert {(r.group, r.awaited, r.overdue) for r in overdue_steps} == {
        (NOTICE, 1, 0),
        (INSPECTION, 2, 2),
    }
    assert [(m.month, m.counts) for m in escalations] == [
        (date(2026, 9, 1), (1,)),
        (date(2026, 10, 1), (2,)),
        (date(2026, 11, 1), (1,)),  # 00:30 on 1 Nov in Beijing
    ]
    assert [(m.month, m.counts) for m in opened_closed] == [
        (date(2026, 9, 1), (2, 0)),
        (date(2026, 10, 1), (1, 1)),
    ]


async def test_the_filters(app: FastAPI, log_sessions: async_sessionmaker[AsyncSession]) -> None:  # noqa: F811
    u2 = reports.ReportFilter(unit=U2)
    october = reports.ReportFilter(date(2026, 10, 1), date(2026, 10, 31))
    async with log_sessions() as s:
        assert stays(await reports.stage_durations(s, u2, "method")) == {
            (REGULAR, NOTICE): (1, 6.0, 6.0)
        }
        assert [(m.month, m.counts) for m in await reports.opened_closed_per_month(s, u2)] == [
            (date(2026, 10, 1), (1, 0))
        ]
        assert [r.group for r in await reports.overdue_rates(s, u2, "unit")] == [U2]
        # stays by the day they began: only C's notice began in October
        assert stays(await reports.stage_durations(s, october, "unit")) == {
            (U2, NOTICE): (1, 6.0, 6.0)
        }
        assert [(m.month, m.counts) for m in await reports.escalations_per_month(s, october)] == [
            (date(2026, 10, 1), (2,))
        ]
    with pytest.raises(ValueError, match="起始日"):
        reports.ReportFilter(date(2026, 10, 2), date(2026, 10, 1))


TAG = re.compile(r"<[^>]+>")
ENGLISH = re.compile(r"[A-Za-z]{2,}(?:\s+[A-Za-z]{2,}){2,}")


def visible_text(page: str) -> str:
    body = page[page.index("<body") :]
    return html.unescape(TAG.sub(" ", body))


async def test_the_page_and_its_downloads(
    app: FastAPI,
    log_sessions: async_sessionmaker[AsyncSession],  # noqa: F811
) -> None:
    name = await make_person(log_sessions, Role.DEPARTMENT_HEAD)
    async with await sign_in(app, name, Role.DEPARTMENT_HEAD) as head:
        page = await head.get("/console/reports")
        assert page.count("<svg") == 6
        assert page.count("<rect") > 6  # bars with real data, not only the "no data" line
        text = visible_text(page)
        assert not ENGLISH.findall(text), ENGLISH.findall(text)
        for word in ("各环节用时（按选任方式）", "逾期率（按单位）", "每月立案与结案数", "报表"):
            assert word in text
        assert "/console/reports" in page  # the nav link

        response = await head.http.get("/console/reports/durations-by-unit.csv")
        assert response.status_code == 200
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows[0] == ["单位", "环节", "次数", "中位数（天）", "第90百分位（天）"]
        figures = {(r[0], r[2], r[3], r[4]) for r in rows[1:]}
        assert (U1, "2", "3.0", "3.8") in figures and (U2, "1", "6.0", "6.0") in figures
        assert len(rows) == 5

        response = await head.http.get("/console/reports/overdue-by-unit.xlsx")
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
        values = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert values[0] == ["单位", "设定期限数", "逾期数", "逾期率（%）"]
        assert sorted(values[1:]) == [[U1, 2, 1, 50.0], [U2, 1, 1, 100.0]]

        # the filters reach the downloads
        response = await head.http.get(
            "/console/reports/opened-closed.csv", params={"unit": U2, "to": "2026-12-31"}
        )
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows == [["月份", "立案数", "结案数"], ["2026-10", "1", "0"]]
        filtered = await head.get(f"/console/reports?unit={U2}&from=2026-10-01&to=2026-10-31")
        assert U1 not in visible_text(filtered).replace(f"单位 {U1}", "")

        # bad input: a clear refusal in Chinese
        refused = await head.get("/console/reports?from=2026-10-02&to=2026-10-01", expect=422)
        assert "起始日" in refused
        refused = await head.get("/console/reports?from=2026-13-01", expect=422)
        assert "不是日期" in refused
        await head.get("/console/reports/nothing.csv", expect=404)
        await head.get("/console/reports/escalations.pdf", expect=404)


async def test_a_clerk_may_not_read_reports(
    app: FastAPI,
    log_sessions: async_sessionmaker[AsyncSession],  # noqa: F811
) -> None:
    name = await make_person(log_sessions, Role.CLERK)
    async with await sign_in(app, name, Role.CLERK) as clerk:
        home = await clerk.get("/console/")
        assert "/console/reports" not in home
        await clerk.get("/console/reports", expect=403)
        await clerk.get("/console/reports/escalations.csv", expect=403)


def test_a_chart_escapes_its_words_and_says_when_empty() -> None:
    drawn = bars("<标题>", ["甲&乙"], [Series("值", [2.0])], suffix="天", empty="没有数据")
    assert "<标题>" not in drawn and "&lt;标题&gt;" in drawn and "甲&amp;乙" in drawn
    assert "2天" in drawn
    assert "没有数据" in bars("空", [], [], empty="没有数据")
