"""Benchmark of the reports (报表): each report over the whole log (``store.reports``, what
the page ran before the summary) beside the same report over the summary (the materialized
views of migration 0016, ``store.report_summary``, what the page runs now), the page's
reports computed together as the console does, and what a refresh of the summary costs
(run by hand).

    .venv/bin/python -m bench.report_bench [--cases 100000] [--repeats 5]

On a database of its own (created, migrated, dropped at the end): the cases and their events
are made by one ``INSERT ... SELECT`` over ``generate_series`` each (every case opened, two
steps awaited and answered, two transitions; some overdue, some escalated, half closed, and
their appointees' probations; spread over two years and 20 units), the summary refreshed,
then each query is timed beside the floor, a bare ``SELECT count(*)`` over the same events
in the same run. Both sides are checked to give the same figures before they are timed.
Results go to standard output as a Markdown block for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import date
from functools import partial
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bench.driver import DATABASE_SERVER
from store import report_summary, reports
from store.db import make_engine, make_session_factory, with_database
from store.migrate import drop_database, ensure_database, upgrade_to_head
from web.console.reports import compute

HASH = "'" + "0" * 64 + "'"
SUMMARY_VIEWS = (
    "report_stays",
    "report_waits",
    "report_deadline_days",
    "report_day_counts",
    "report_stage_durations",
)

CASES_SQL = """
INSERT INTO cases (case_id, unit, post, method, stage, status, opened_on, last_seq)
SELECT 'B-' || n, 'unit' || (n % 20), 'post', (ARRAY['regular_appointment',
       'open_selection', 'competitive_appointment'])[1 + n % 3],
       CASE WHEN n % 2 = 0 THEN 'closed' ELSE 'vote' END,
       CASE WHEN n % 2 = 0 THEN 'appointed' ELSE 'active' END,
       DATE '2025-01-01' + (n % 700), 10
FROM generate_series(1, :cases) AS n
"""

PROBATIONS_SQL = """
INSERT INTO probations (probation_id, case_id, person_id, name, unit, post, starts_on, ends_on,
                        status, review_status, closed_on, last_seq)
SELECT 'P-' || n, 'B-' || n, 'p' || n, 'name', 'unit' || (n % 20), 'post',
       DATE '2025-02-10' + (n % 700), DATE '2026-02-10' + (n % 700),
       (ARRAY['formally_appointed', 'formally_appointed', 'removed', 'ended_early',
              'on_probation'])[1 + n % 5], 'pending',
       CASE WHEN n % 5 = 4 THEN NULL ELSE DATE '2026-02-10' + (n % 700) END, 3
FROM generate_series(2, :cases, 2) AS n
"""

# (seq, kind, stage, days after opening, which cases have it)
EVENTS_SQL = f"""
INSERT INTO case_events (case_id, seq, chain_index, kind, stage, occurred_at, actor_name,
                         actor_role, summary, payload, prev_hash, hash)
SELECT 'B-' || n, e.seq, e.seq, e.kind, e.stage,
       TIMESTAMPTZ '2025-01-01 09:00+08' + (n % 700) * INTERVAL '1 day'
         + (e.day + n % 5) * INTERVAL '1 day' + e.seq * INTERVAL '1 minute',
       'bench', 'system', e.kind, e.payload::jsonb, {HASH}, {HASH}
FROM generate_series(1, :cases) AS n
CROSS JOIN (VALUES
  (1, 'opened', 'investigation_notice', 0, 1, '{{}}'),
  (2, 'deadline', 'investigation_notice', 0, 1, '{{"step": "investigation_notice"}}'),
  (3, 'input', 'investigation_notice', 2, 1, '{{}}'),
  (4, 'transition', 'inspection', 3, 1, '{{}}'),
  (5, 'deadline', 'inspection', 3, 1,
   '{{"step": "inspection", "alarms": [{{"kind": "reminder", "role": "inspection_team"}}]}}'),
  (6, 'overdue', 'inspection', 20, 5, '{{}}'),
  (7, 'escalation', 'inspection', 22, 7, '{{}}'),
  (8, 'input', 'inspection', 24, 1, '{{}}'),
  (9, 'transition', 'vote', 25, 1, '{{}}'),
  (10, 'closed', 'closed', 40, 2, '{{}}')
) AS e(seq, kind, stage, day, every, payload)
WHERE n % e.every = 0
"""


async def timed(call: Callable[[], Awaitable[object]], repeats: int) -> float:
    """The median of ``repeats`` runs, in milliseconds (after one warm-up)."""
    await call()
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        await call()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


Query = Callable[[AsyncSession], Awaitable[object]]


def report_rows(source: Any, f: reports.ReportFilter, roles: dict[str, str]) -> dict[str, Query]:
    """Each report's query through ``source`` (``store.reports`` or ``store.report_summary``,
    which share their names), by the row it gets in the table."""
    return {
        "1. stage durations by method (median, p90)": lambda s: source.stage_durations(
            s, f, "method"
        ),
        "1. stage durations by unit (median, p90)": lambda s: source.stage_durations(s, f, "unit"),
        "1. stage durations, both groupings in one pass (the page's)": lambda s: (
            source.stage_durations_both(s, f)
        ),
        "2. overdue rate by unit": lambda s: source.overdue_rates(s, f, "unit"),
        "2. overdue rate by step": lambda s: source.overdue_rates(s, f, "step"),
        "3. escalations per month": lambda s: source.escalations_per_month(s, f),
        "4. opened and closed per month": lambda s: source.opened_closed_per_month(s, f),
        "5. time waiting on each role (median, p90)": lambda s: source.role_waits(s, f, roles),
    }


async def main(args: argparse.Namespace) -> None:
    name = f"appointments_report_bench_{os.getpid()}"
    await ensure_database(DATABASE_SERVER, name)
    url = with_database(DATABASE_SERVER, name)
    engine = make_engine(url)
    try:
        await upgrade_to_head(url)
        started = time.perf_counter()
        async with engine.begin() as conn:
            await conn.execute(text(CASES_SQL), {"cases": args.cases})
            await conn.execute(text(EVENTS_SQL), {"cases": args.cases})
            await conn.execute(text(PROBATIONS_SQL), {"cases": args.cases})
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE cases"))
            await conn.execute(text("VACUUM ANALYZE case_events"))
            await conn.execute(text("VACUUM ANALYZE probations"))
            events = (await conn.execute(text("SELECT count(*) FROM case_events"))).scalar_one()
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        await report_summary.refresh(engine, wait=True)  # the first: the views were empty
        first_refresh = (time.perf_counter() - started) * 1000
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            for view in SUMMARY_VIEWS:
                await conn.execute(text(f"VACUUM ANALYZE {view}"))
            summary_rows = {
                view: (await conn.execute(text(f"SELECT count(*) FROM {view}"))).scalar_one()
                for view in SUMMARY_VIEWS
            }
        sessions = make_session_factory(engine)
        f = reports.ReportFilter()
        one_unit_year = reports.ReportFilter(date(2025, 1, 1), date(2025, 12, 31), "unit3")
        roles = {"investigation_notice": "clerk", "inspection": "inspection_team"}

        def run(query: Query) -> Callable[[], Awaitable[object]]:
            async def call() -> object:
                async with sessions() as s:
                    return await query(s)

            return call

        async def floor(s: AsyncSession) -> object:
            return (await s.execute(text("SELECT count(*) FROM case_events"))).scalar_one()

        async def page_before(page_filter: reports.ReportFilter) -> object:
            """The page as it was computed before the summary: every report over the log,
            a session each, at once."""
            queries = [
                query
                for label, query in report_rows(reports, page_filter, roles).items()
                if not label.startswith("1. stage durations by")  # the page's: in one pass
            ]
            queries.append(lambda s: reports.probation_outcomes(s, page_filter))
            return await asyncio.gather(*(run(q)() for q in queries))

        print(f"- setup: {args.cases:,} cases, {events:,} events in {loaded:.0f} s")
        print("- summary rows: " + ", ".join(f"{v} {n:,}" for v, n in summary_rows.items()))
        print(f"- load average at the start: {os.getloadavg()[0]:.2f}")
        floor_ms = await timed(run(floor), args.repeats)
        print("\n| query | before (ms) | × floor | after (ms) | × floor |")
        print("|---|---:|---:|---:|---:|")
        print(f"| floor: `SELECT count(*) FROM case_events` | {floor_ms:,.0f} | 1.0 | | |")
        cases = [("", f), (", one unit, one year", one_unit_year)]
        for suffix, row_filter in cases:
            before = report_rows(reports, row_filter, roles)
            after = report_rows(report_summary, row_filter, roles)
            for label, query in before.items():
                if suffix and not label.startswith(("1. stage durations by unit", "5.")):
                    continue
                async with sessions() as s:
                    same = await query(s) == await after[label](s)
                assert same, f"{label}{suffix}: the summary's figures differ from the log's"
                old = await timed(run(query), args.repeats)
                new = await timed(run(after[label]), args.repeats)
                print(
                    f"| {label}{suffix} | {old:,.0f} | {old / floor_ms:.1f} "
                    f"| {new:,.1f} | {new / floor_ms:.2f} |",
                    flush=True,
                )
        for label, page_filter in (
            ("**page: every report at once, unfiltered**", f),
            ("page: every report at once, one unit, one year", one_unit_year),
        ):
            old = await timed(partial(page_before, page_filter), args.repeats)
            new = await timed(partial(compute, sessions, page_filter, roles), args.repeats)
            print(
                f"| {label} | {old:,.0f} | {old / floor_ms:.1f} | {new:,.1f} "
                f"| {new / floor_ms:.2f} |",
                flush=True,
            )
        refresh_ms = await timed(
            partial(report_summary.refresh, engine, wait=True), max(1, args.repeats // 2)
        )
        print(
            f"| refresh of the summary (CONCURRENTLY; the first, of empty views: "
            f"{first_refresh:,.0f}) | | | {refresh_ms:,.0f} | {refresh_ms / floor_ms:.1f} |"
        )
    finally:
        await engine.dispose()
        await drop_database(DATABASE_SERVER, name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    asyncio.run(main(parser.parse_args()))
