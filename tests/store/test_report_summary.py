"""The reports' summary (migration 0016, ``store.report_summary``) against the reports' own
SQL over the log (``store.reports``), on the same events written by the real recording
activity: every report, unfiltered and filtered, gives the same figures once the summary is
refreshed, and the figures as of the last refresh until then. Refreshes go one at a time;
the service's role may read the summary and refresh it, and nothing else may."""

from __future__ import annotations

import asyncio
import random
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store import report_summary as summary
from store import reports as live
from store.register_audit import append_register_event
from tests.audit.conftest import SHANGHAI, log_sessions, log_url, record_all  # noqa: F401
from workflows.ids import capability_retest_workflow_id
from workflows.types import (
    Actor,
    CaseRow,
    CaseStage,
    CaseStatus,
    ChainKind,
    RecordEventInput,
    Role,
    SelectionMethod,
)

UNITS = ("县交通运输局", "县水利局", "县财政局")
STAGES = (
    CaseStage.INVESTIGATION_NOTICE,
    CaseStage.INSPECTION,
    CaseStage.HIGHER_APPROVAL,
    CaseStage.VOTE,
    CaseStage.PUBLIC_NOTICE,
)
REMINDED = ("inspection_team", "section_chief", "clerk")
ROLES = {"investigation_notice": "clerk", "inspection": "inspection_team", "vote": "clerk"}


def random_case(rng: random.Random, number: int) -> list[RecordEventInput]:
    """A case's log as the workflow writes it, with random stays, waits, overdue steps,
    escalations (some near Beijing's midnight), revote rounds, deadlines that name their
    reminder's role or not, and a close or not."""
    unit = rng.choice(UNITS)
    method = rng.choice(list(SelectionMethod))
    moment = datetime(2026, rng.randint(6, 11), rng.randint(1, 28), 9, tzinfo=SHANGHAI)
    steps: list[tuple[str, CaseStage, dict[str, object]]] = []
    stages = STAGES[: rng.randint(1, len(STAGES))]
    for i, stage in enumerate(stages):
        steps.append(("opened" if i == 0 else "transition", stage, {}))
        if rng.random() < 0.8:
            step = stage.value + (f":{rng.randint(2, 3)}" if rng.random() < 0.2 else "")
            payload: dict[str, object] = {"step": step, "deadline_on": "2026-12-31"}
            if rng.random() < 0.05:
                del payload["step"]  # written by a version that did not say
            if rng.random() < 0.5:
                payload["alarms"] = [{"kind": "reminder", "role": rng.choice(REMINDED)}]
            steps.append(("deadline", stage, payload))
            if rng.random() < 0.4:
                steps.append(("overdue", stage, {}))
            for _ in range(rng.randint(0, 2)):
                steps.append(("escalation", stage, {}))
            for _ in range(rng.randint(0, 2)):
                steps.append(("input", stage, {}))
    if rng.random() < 0.5:
        steps.append(("closed", CaseStage.CLOSED, {}))
    events: list[RecordEventInput] = []
    for seq, (kind, stage, payload) in enumerate(steps, start=1):
        moment += timedelta(hours=rng.randint(1, 200), minutes=rng.randint(0, 59))
        status = CaseStatus.APPOINTED if stage is CaseStage.CLOSED else CaseStatus.ACTIVE
        events.append(
            RecordEventInput(
                case_id=f"S-{number}",
                seq=seq,
                kind=kind,
                stage=stage,
                occurred_at=moment,
                actor_name="系统",
                actor_role=Role.SYSTEM,
                summary=f"{kind} (test)",
                payload=payload,
                case=CaseRow(
                    unit=unit,
                    post="副局长",
                    method=method,
                    stage=stage,
                    status=status,
                    opened_on=events[0].occurred_at.date() if events else moment.date(),
                ),
            )
        )
    return events


def other_chain(rng: random.Random, number: int) -> list[RecordEventInput]:
    """An audit chain that is not an appointment case (a capability retest's), whose events
    are of the cases' own kinds, in a unit of its own: the reports must count none of them."""
    chain_id = capability_retest_workflow_id("2026", f"p{number}")
    return [
        e.model_copy(
            update={
                "case_id": chain_id,
                "case": e.case.model_copy(
                    update={"chain": ChainKind.CAPABILITY_RETEST, "unit": OTHER_UNIT}
                ),
            }
        )
        for e in random_case(rng, number)
    ]


async def record_the_register(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s:
        for kind in ("opened", "escalation", "closed"):  # as if it wrote the cases' kinds
            await append_register_event(s, Actor(name="李科员", role=Role.CLERK), kind, kind, {})
        await s.commit()


OTHER_UNIT = "组织部"
FILTERS = (
    live.ReportFilter(),
    live.ReportFilter(unit=UNITS[0]),
    live.ReportFilter(date(2026, 8, 1), date(2026, 9, 30)),
    live.ReportFilter(date(2026, 7, 15), None, UNITS[1]),
    live.ReportFilter(None, date(2026, 10, 31)),
    live.ReportFilter(unit="没有这个单位"),
    live.ReportFilter(unit=OTHER_UNIT),
)


async def every_report(
    s: AsyncSession, source: object, f: live.ReportFilter, roles: dict[str, str]
) -> dict[str, object]:
    """Every figure of the page from ``source`` (either module): they share the names."""
    return {
        "by method": await source.stage_durations(s, f, "method"),  # type: ignore[attr-defined]
        "by unit": await source.stage_durations(s, f, "unit"),  # type: ignore[attr-defined]
        "both": await source.stage_durations_both(s, f),  # type: ignore[attr-defined]
        "waits": await source.role_waits(s, f, roles),  # type: ignore[attr-defined]
        "overdue by unit": await source.overdue_rates(s, f, "unit"),  # type: ignore[attr-defined]
        "overdue by step": await source.overdue_rates(s, f, "step"),  # type: ignore[attr-defined]
        "escalations": await source.escalations_per_month(s, f),  # type: ignore[attr-defined]
        "opened, closed": await source.opened_closed_per_month(s, f),  # type: ignore[attr-defined]
    }


def rows_of(figures: dict[str, object]) -> list[object]:
    """Every row of every report of the page (those grouped both ways, each way's)."""
    found: list[object] = []
    for value in figures.values():
        parts = value.values() if isinstance(value, dict) else [value]
        for rows in parts:
            assert isinstance(rows, list)
            found += rows
    return found


async def refresh(sessions: async_sessionmaker[AsyncSession]) -> datetime:
    engine = sessions.kw["bind"]
    refreshed = await summary.refresh(engine, wait=True)
    assert refreshed is not None
    return refreshed


async def test_the_summary_gives_the_logs_figures(
    log_sessions: async_sessionmaker[AsyncSession],  # noqa: F811
) -> None:
    rng = random.Random(2026)
    cases = [random_case(rng, n) for n in range(40)]
    for events in cases[:30]:
        await record_all(log_sessions, events)
    # chains that are not appointment cases, present in the log and the listing
    for n in range(100, 106):
        await record_all(log_sessions, other_chain(rng, n))
    await record_the_register(log_sessions)
    async with log_sessions() as s:
        assert await summary.as_of(s) is None  # never refreshed: it holds nothing yet
    first = await refresh(log_sessions)
    for events in cases[30:]:
        await record_all(log_sessions, events)  # after the refresh: not in the summary yet
    async with log_sessions() as s:
        assert await summary.as_of(s) == first
        kept = await every_report(s, summary, live.ReportFilter(), ROLES)
        now = await every_report(s, live, live.ReportFilter(), ROLES)
    assert kept != now  # the ten later cases are not counted until the next refresh
    assert await refresh(log_sessions) > first
    async with log_sessions() as s:
        checked = 0
        for f in FILTERS:
            for roles in (ROLES, {}):
                expected = await every_report(s, live, f, roles)
                assert await every_report(s, summary, f, roles) == expected, (f, roles)
                checked += sum(bool(v) for v in expected.values())
    assert checked > 60  # the reports had rows to compare, not only empty lists
    async with log_sessions() as s:
        # neither the retests nor the register is counted, by either source
        for source in (live, summary):
            figures = await every_report(s, source, live.ReportFilter(), ROLES)
            assert OTHER_UNIT not in {getattr(r, "group", None) for r in rows_of(figures)}
            unit_only = await every_report(s, source, live.ReportFilter(unit=OTHER_UNIT), ROLES)
            assert rows_of(unit_only) == []
        opened = sum(m.counts[0] for m in await live.opened_closed_per_month(s, FILTERS[0]))
    assert opened == 40  # the cases' own, not the retests' nor the register's
    async with log_sessions() as s:
        # a deadline that names no step is counted under none, as the log's SQL counts it
        assert None in {r.group for r in await summary.overdue_rates(s, FILTERS[0], "step")}
    # the monthly counts of the summary are of the kinds it keeps, and say so of others
    with pytest.raises(ValueError, match="不按月统计"):
        summary.monthly_query(live.ReportFilter(), ("input",))


async def test_refreshes_go_one_at_a_time(
    log_sessions: async_sessionmaker[AsyncSession],  # noqa: F811
) -> None:
    engine = log_sessions.kw["bind"]
    first = await refresh(log_sessions)
    async with engine.connect() as other:
        await other.execute(text(f"SELECT pg_advisory_lock({summary.LOCK})"))
        # another caller is refreshing: one that need not wait gives up at once
        assert await summary.refresh(engine, wait=False) is None
        waiting = asyncio.create_task(summary.refresh(engine, wait=True, unless_since=first))
        await asyncio.sleep(0.3)
        assert not waiting.done()  # it waits for the lock
        await other.execute(text(f"SELECT pg_advisory_unlock({summary.LOCK})"))
        await other.commit()
    # refreshed at ``first``, as it asked: no second refresh
    assert await waiting == first
    later = await summary.refresh(engine, wait=False)
    assert later is not None and later > first


async def test_only_the_service_role_reads_and_refreshes_the_summary(
    log_url: str,  # noqa: F811
    log_sessions: async_sessionmaker[AsyncSession],  # noqa: F811
) -> None:
    views = (
        "report_stays",
        "report_waits",
        "report_deadline_days",
        "report_day_counts",
        "report_stage_durations",
    )
    async with log_sessions() as s:
        for view in (*views, "report_summary_as_of"):
            for role, privilege, expected in (
                ("appointments_app", "SELECT", True),
                ("appointments_app", "INSERT", False),
                ("appointments_app", "DELETE", False),
            ):
                granted = await s.scalar(
                    text("SELECT has_table_privilege(:r, :t, :p)"),
                    {"r": role, "t": view, "p": privilege},
                )
                assert granted is expected, (view, role, privilege)
        may_refresh = text(
            "SELECT has_function_privilege(:r, 'report_summary_refresh()', 'EXECUTE')"
        )
        assert await s.scalar(may_refresh, {"r": "appointments_app"}) is True
        assert await s.scalar(may_refresh, {"r": "pg_monitor"}) is False  # not PUBLIC's
        # the service's role refreshes as the views' owner
        await s.execute(text("SET LOCAL ROLE appointments_app"))
        refreshed = await s.scalar(text("SELECT report_summary_refresh()"))
        assert refreshed is not None
        assert await s.scalar(text("SELECT count(*) FROM report_stays")) == 0
