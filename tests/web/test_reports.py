"""The reports (报表) on a log of the test's own, written by the real recording activity with
known dates: the medians and 90th percentiles of the stays and of the waits on each role,
the overdue rates, the monthly counts (by Beijing's months), the probation outcomes; the
page with a chart per report and no English sentence; the downloads with the same figures;
the filters; the figures kept for a few minutes and computed again on demand; and the
refusal of a role without the right."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta

import pytest
from fastapi import FastAPI
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from settings import load_settings
from store import reports
from store.models import CaseEvent
from store.probation_models import Probation
from tests.api.conftest import NoTemporal
from tests.audit.conftest import SHANGHAI, log_sessions, log_url, record_all  # noqa: F401
from tests.web.console_fixtures import make_person, sign_in
from web.charts import Series, bars
from web.console import reports as reports_page
from workflows.types import CaseRow, CaseStage, CaseStatus, RecordEventInput, Role, SelectionMethod

U1, U2 = "县交通运输局", "县水利局"
REGULAR = SelectionMethod.REGULAR_APPOINTMENT.value
NOTICE, INSPECTION, VOTE = "investigation_notice", "inspection", "vote"
ALL = reports.ReportFilter()


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def reminded(role: str) -> dict[str, object]:
    """A deadline's payload whose reminder goes to ``role`` (as ``StepSchedule`` dumps it)."""
    return {"alarms": [{"kind": "reminder", "role": role}, {"kind": "escalation", "role": "x"}]}


def case(
    case_id: str,
    unit: str,
    steps: list[tuple[str, str, datetime]],
    payloads: dict[int, dict[str, object]] | None = None,
) -> list[RecordEventInput]:
    """A case's events, (kind, stage after it, when), numbered in order; ``payloads`` adds to
    a deadline's payload by its seq."""
    events = []
    for seq, (kind, stage, when) in enumerate(steps, start=1):
        payload: dict[str, object] = (
            {"step": stage, "deadline_on": "2026-12-31", **(payloads or {}).get(seq, {})}
            if kind == "deadline"
            else {}
        )
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


# A: notice 2 days, inspection 10 days (overdue), vote 22 days, closed in October; the
# notice answered 1.5 days after its deadline was set (its role by the policy: no reminder),
# the inspection 9.5 days after (its reminder names the inspection team)
A = case(
    "R-A",
    U1,
    [
        ("opened", NOTICE, at(9, 1)),
        ("deadline", NOTICE, at(9, 1, 9, 1)),
        ("input", NOTICE, at(9, 2, 21, 1)),
        ("transition", INSPECTION, at(9, 3)),
        ("deadline", INSPECTION, at(9, 3, 9, 1)),
        ("overdue", INSPECTION, at(9, 10)),
        ("escalation", INSPECTION, at(9, 12)),
        ("input", INSPECTION, at(9, 12, 21, 1)),
        ("transition", VOTE, at(9, 13)),
        ("closed", "closed", at(10, 5)),
    ],
    {5: reminded("inspection_team")},
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
        ("input", INSPECTION, at(11, 2)),  # a check: the inspection still waits, not counted
    ],
)
# D (recorded by the tests that ask): the notice's reminder names the section chief (a
# deadline set under another policy): 4 days; the inspection's role by the policy, answered
# by its second input 3.5 days after the deadline was set
D = case(
    "R-D",
    U2,
    [
        ("opened", NOTICE, at(11, 2)),
        ("deadline", NOTICE, at(11, 2, 9, 1)),
        ("input", NOTICE, at(11, 6, 9, 1)),
        ("transition", INSPECTION, at(11, 6, 9, 2)),
        ("deadline", INSPECTION, at(11, 6, 9, 3)),
        ("input", INSPECTION, at(11, 8, 9, 3)),
        ("input", INSPECTION, at(11, 9, 21, 3)),
        ("closed", "closed", at(11, 10)),
    ],
    {2: reminded("section_chief")},
)
POLICY_ROLES = {NOTICE: "clerk", INSPECTION: "inspection_team", VOTE: "committee_secretary"}


def probation(pid: str, unit: str, status: str, ends: date, closed: date | None) -> Probation:
    return Probation(
        probation_id=pid,
        case_id=f"case-{pid}",
        person_id=pid,
        name=f"姓名{pid}",
        unit=unit,
        post="副局长",
        starts_on=ends.replace(year=ends.year - 1),
        ends_on=ends,
        status=status,
        review_status="pending",
        closed_on=closed,
        last_seq=1,
    )


def probations() -> list[Probation]:
    return [
        probation("P1", U1, "formally_appointed", date(2026, 9, 30), date(2026, 9, 30)),
        probation("P2", U1, "formally_appointed", date(2026, 10, 15), date(2026, 10, 16)),
        probation("P3", U1, "removed", date(2026, 1, 10), date(2025, 12, 1)),
        probation("P4", U2, "on_probation", date(2027, 3, 1), None),
        probation("P5", U2, "ended_early", date(2027, 1, 5), date(2026, 5, 5)),
    ]


@pytest.fixture
async def app(log_sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[FastAPI]:  # noqa: F811
    for events in (A, B, C):
        await record_all(log_sessions, events)
    async with log_sessions() as s, s.begin():
        s.add_all(probations())
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
        both = await reports.stage_durations_both(s, ALL)
        waits = await reports.role_waits(s, ALL, POLICY_ROLES)
        outcomes = await reports.probation_outcomes(s, ALL)
    assert recorded == len(A) + len(B) + len(C)
    # the page's one-pass query gives the same figures as the two
    assert both == {"method": by_method, "unit": by_unit}
    # C's inspection still waits (its input is not followed by another step): not counted
    assert [(w.role, w.steps, w.median_days, w.p90_days) for w in waits] == [
        ("clerk", 1, 1.5, 1.5),
        ("inspection_team", 1, 9.5, 9.5),
    ]
    assert [(o.year, o.unit, o.status, o.count) for o in outcomes] == [
        (2025, U1, "removed", 1),
        (2026, U1, "formally_appointed", 2),
        (2026, U2, "ended_early", 1),
        (2027, U2, "on_probation", 1),  # still running: the year its term ends
    ]
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
        assert [(o.year, o.status) for o in await reports.probation_outcomes(s, u2)] == [
            (2026, "ended_early"),
            (2027, "on_probation"),
        ]
        assert await reports.probation_outcomes(s, october) == [
            reports.ProbationOutcome(2026, U1, "formally_appointed", 1)  # closed 16 Oct
        ]
        # waits by the day their deadline was set: A's inspection deadline is in September
        assert await reports.role_waits(s, october, POLICY_ROLES) == []
    with pytest.raises(ValueError, match="起始日"):
        reports.ReportFilter(date(2026, 10, 2), date(2026, 10, 1))


async def test_waits_by_the_role_the_deadline_names(
    app: FastAPI,
    log_sessions: async_sessionmaker[AsyncSession],  # noqa: F811
) -> None:
    await record_all(log_sessions, D)
    async with log_sessions() as s:
        waits = await reports.role_waits(s, ALL, POLICY_ROLES)
        d_only = await reports.role_waits(s, reports.ReportFilter(date(2026, 11, 1)), {})
    # inspection: A 9.5 (its reminder), D 3.5 (the policy) → 6.5 and 3.5 + 0.9·6
    assert {(w.role, w.steps, w.median_days, round(w.p90_days, 4)) for w in waits} == {
        ("clerk", 1, 1.5, 1.5),
        ("inspection_team", 2, 6.5, 8.9),
        ("section_chief", 1, 4.0, 4.0),
    }
    # without a policy a deadline without reminders names no role
    assert {(w.role, w.steps, w.median_days) for w in d_only} == {
        ("", 1, 3.5),
        ("section_chief", 1, 4.0),
    }


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
        assert page.count("<svg") == 8
        assert page.count("<rect") > 6  # bars with real data, not only the "no data" line
        text = visible_text(page)
        assert not ENGLISH.findall(text), ENGLISH.findall(text)
        for word in (
            "各环节用时（按选任方式）",
            "逾期率（按单位）",
            "每月立案与结案数",
            "报表",
            "事项等待时长（按责任角色）",
            "试用期结果（按年度、单位）",
            "数据截至",
        ):
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

        # the waits, roles named by the glossary, the policy's for a deadline without one
        response = await head.http.get("/console/reports/waits-by-role.csv")
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows == [
            ["责任角色", "事项数", "中位数（天）", "第90百分位（天）"],
            ["干部科工作人员", "1", "1.5", "1.5"],
            ["考察组成员", "1", "9.5", "9.5"],
        ]
        response = await head.http.get("/console/reports/probation-outcomes.xlsx")
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
        values = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert values == [
            ["年度", "单位", "试用中", "正式任职", "免去试任职务", "提前结束试用期", "合计"],
            [2025, U1, 0, 0, 1, 0, 1],
            [2026, U1, 0, 2, 0, 0, 2],
            [2026, U2, 0, 0, 0, 1, 1],
            [2027, U2, 1, 0, 0, 0, 1],
        ]

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


# E (recorded by the test that asks): the notice waits 2 days on the committee's secretary
E = case(
    "R-E",
    U1,
    [
        ("opened", NOTICE, at(11, 3)),
        ("deadline", NOTICE, at(11, 3, 9, 1)),
        ("input", NOTICE, at(11, 5, 9, 1)),
        ("transition", INSPECTION, at(11, 5, 10)),
    ],
    {2: reminded("committee_secretary")},
)


def joined(page: str) -> str:
    return " ".join(visible_text(page).split())


async def test_figures_as_of_the_summary_refreshed_when_old_or_on_demand(
    app: FastAPI,
    log_sessions: async_sessionmaker[AsyncSession],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = await make_person(log_sessions, Role.DEPARTMENT_HEAD)
    async with await sign_in(app, name, Role.DEPARTMENT_HEAD) as head:
        # the first view finds the summary never refreshed: refreshes it, and waits
        before = visible_text(await head.get("/console/reports"))
        assert "考察组成员 1 9.5 9.5" in " ".join(before.split())
        await record_all(log_sessions, D)  # D's two waits, its case, its stays
        kept = visible_text(await head.get("/console/reports"))
        assert kept == before  # younger than the policy's minutes: as it was, same 数据截至
        response = await head.http.get("/console/reports/waits-by-role.csv")
        assert "科长" not in response.content.decode("utf-8-sig")  # as the page showed
        # every filter reads the same summary
        assert "科长 1 4.0 4.0" not in joined(await head.get(f"/console/reports?unit={U2}"))
        page = await head.get("/console/reports")
        assert "/console/reports?fresh=1" in page  # the link to refresh it now
        again = joined(await head.get("/console/reports?fresh=1"))
        assert "考察组成员 2 6.5 8.9" in again and "科长 1 4.0 4.0" in again
        assert "正在更新" not in again
        response = await head.http.get("/console/reports/waits-by-role.csv")
        assert "科长,1,4.0,4.0" in response.content.decode("utf-8-sig")
        assert "科长 1 4.0 4.0" in joined(await head.get(f"/console/reports?unit={U2}"))

        # older than the policy allows (5 minutes): a view shows it as it stands and has it
        # refreshed in the background
        await record_all(log_sessions, E)
        later = datetime.now(SHANGHAI) + timedelta(minutes=5)
        monkeypatch.setattr(reports_page, "_now", lambda: later)
        stale = joined(await head.get("/console/reports"))
        assert "正在更新" in stale and "1 2.0 2.0" not in stale
        await app.state.report_refresh
        monkeypatch.undo()
        fresh = joined(await head.get("/console/reports"))
        assert "正在更新" not in fresh and "1 2.0 2.0" in fresh


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
        await clerk.get("/console/reports/waits-by-role.csv", expect=403)
        await clerk.get("/console/reports/probation-outcomes.xlsx", expect=403)


def test_a_chart_escapes_its_words_and_says_when_empty() -> None:
    drawn = bars("<标题>", ["甲&乙"], [Series("值", [2.0])], suffix="天", empty="没有数据")
    assert "<标题>" not in drawn and "&lt;标题&gt;" in drawn and "甲&amp;乙" in drawn
    assert "2天" in drawn
    assert "没有数据" in bars("空", [], [], empty="没有数据")
