"""The reports (报表) read from their summary: the materialized views of migration
0016_report_summary, which hold the stays, waits, awaited steps and daily counts that
``store.reports`` cuts out of the whole log, and when they were last refreshed.

The figures here are those of ``store.reports`` (same meanings, filters and return types) as
of the views' last refresh (``as_of``); a refreshed summary gives exactly what the log gives
(``tests/store/test_report_summary.py``). Probation outcomes come from the listing
(``probations``) as they do there, and are not summarised: one small table, no window.

``refresh`` brings the views up to date, one caller at a time (an advisory lock): a caller
that need not wait gives up when another is refreshing; one that waits takes the refresh
that finished while it waited, if it finished after the moment it asks for. Recording an
event never touches the views.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    TIMESTAMP,
    Date,
    DateTime,
    Integer,
    Numeric,
    Select,
    Text,
    case,
    cast,
    column,
    func,
    literal,
    select,
    table,
    text,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from store.reports import (
    Grouping,
    MonthCount,
    OverdueRate,
    ReportFilter,
    RoleWait,
    StageDuration,
)

# ``days`` are stored as double precision (the values ``percentile_cont`` orders) but typed
# here as the log's SQL types them (numeric: SQLAlchemy's Numeric reads the percentiles to its
# decimal scale), so the figures come back the same
STAYS = table(
    "report_stays",
    column("case_id", Text),
    column("method", Text),
    column("unit", Text),
    column("stage", Text),
    column("entered_at", DateTime(timezone=True)),
    column("days", Numeric),
)
WAITS = table(
    "report_waits",
    column("unit", Text),
    column("step", Text),
    column("reminded", Text),
    column("set_at", DateTime(timezone=True)),
    column("days", Numeric),
)
DEADLINE_DAYS = table(
    "report_deadline_days",
    column("day", Date),
    column("unit", Text),
    column("step", Text),
    column("awaited", Integer),
    column("overdue", Integer),
)
DAY_COUNTS = table(
    "report_day_counts",
    column("day", Date),
    column("unit", Text),
    column("kind", Text),
    column("events", Integer),
)
DURATIONS = table(
    "report_stage_durations",
    column("grouping", Text),
    column("group", Text),
    column("stage", Text),
    column("stays", Integer),
    # read as ``store.reports`` reads its percentiles (typed by the numeric days they order:
    # SQLAlchemy's Numeric, rounded to its decimal scale), so the figures are the same
    column("median_days", Numeric),
    column("p90_days", Numeric),
)
COUNTED_KINDS = frozenset({"opened", "closed", "escalation"})  # those report_day_counts keeps
AS_OF_VIEW = "report_summary_as_of"
# one refresh at a time, whichever process asks (the key is this text's hash)
LOCK = "hashtext('report_summary_refresh')"


def _unit(unit_column: Any, f: ReportFilter) -> list[Any]:
    return [] if f.unit is None else [unit_column == f.unit]


def _percentiles(days: Any) -> tuple[Any, Any]:
    return (
        func.percentile_cont(0.5).within_group(days),
        func.percentile_cont(0.9).within_group(days),
    )


def _whole(f: ReportFilter) -> bool:
    return f == ReportFilter()


def _whole_durations(by: Grouping) -> Select[Any]:
    d = DURATIONS.c
    return (
        select(d.group, d.stage, d.stays, d.median_days, d.p90_days)
        .where(d.grouping == by)
        .order_by(d.group, d.stage)
    )


def stage_durations_query(f: ReportFilter, by: Grouping) -> Select[Any]:
    if _whole(f):
        return _whole_durations(by)
    s = STAYS.c
    group = s.method if by == "method" else s.unit
    return (
        select(group, s.stage, func.count(), *_percentiles(s.days))
        .where(*_unit(s.unit, f), *f.period(s.entered_at))
        .group_by(group, s.stage)
        .order_by(group, s.stage)
    )


async def stage_durations(
    session: AsyncSession, f: ReportFilter, by: Grouping
) -> list[StageDuration]:
    rows = await session.execute(stage_durations_query(f, by))
    return [StageDuration(g, st, n, float(m), float(p)) for g, st, n, m, p in rows]


async def stage_durations_both(
    session: AsyncSession, f: ReportFilter
) -> dict[Grouping, list[StageDuration]]:
    """By method and by unit in one pass (``GROUPING SETS``), as ``store.reports`` does;
    unfiltered, as the summary keeps them."""
    if _whole(f):
        return {by: await stage_durations(session, f, by) for by in ("method", "unit")}
    s = STAYS.c
    query = (
        select(
            func.grouping(s.method),
            s.method,
            s.unit,
            s.stage,
            func.count(),
            *_percentiles(s.days),
        )
        .where(*_unit(s.unit, f), *f.period(s.entered_at))
        .group_by(func.grouping_sets(tuple_(s.method, s.stage), tuple_(s.unit, s.stage)))
    )
    found: dict[Grouping, list[StageDuration]] = {"method": [], "unit": []}
    for by_unit, method, unit, stage, n, m, p in await session.execute(query):
        by: Grouping = "unit" if by_unit else "method"
        found[by].append(StageDuration(unit if by_unit else method, stage, n, float(m), float(p)))
    for rows in found.values():
        rows.sort(key=lambda r: (r.group, r.stage))
    return found


def role_waits_query(f: ReportFilter, roles: Mapping[str, str]) -> Select[Any]:
    w = WAITS.c
    by_policy = case(dict(roles), value=w.step, else_="") if roles else literal("")
    role = func.coalesce(w.reminded, by_policy)
    return (
        select(role, func.count(), *_percentiles(w.days))
        .where(*_unit(w.unit, f), *f.period(w.set_at))
        .group_by(role)
        .order_by(role)
    )


async def role_waits(
    session: AsyncSession, f: ReportFilter, roles: Mapping[str, str]
) -> list[RoleWait]:
    rows = await session.execute(role_waits_query(f, roles))
    return [RoleWait(r, n, float(m), float(p)) for r, n, m, p in rows]


def overdue_rates_query(f: ReportFilter, by: Literal["unit", "step"]) -> Select[Any]:
    d = DEADLINE_DAYS.c
    group = d.unit if by == "unit" else d.step
    return (
        select(group, func.sum(d.awaited), func.sum(d.overdue))
        .where(*_unit(d.unit, f), *f.days(d.day))
        .group_by(group)
        .order_by(group)
    )


async def overdue_rates(
    session: AsyncSession, f: ReportFilter, by: Literal["unit", "step"]
) -> list[OverdueRate]:
    rows = await session.execute(overdue_rates_query(f, by))
    return [OverdueRate(g, int(n), int(o)) for g, n, o in rows]


def monthly_query(f: ReportFilter, kinds: Sequence[str]) -> Select[Any]:
    unknown = set(kinds) - COUNTED_KINDS
    if unknown:
        raise ValueError(f"报表汇总不按月统计这些记录：{'、'.join(sorted(unknown))}")
    c = DAY_COUNTS.c
    month = func.date_trunc("month", cast(c.day, TIMESTAMP))
    return (
        select(
            month,
            *(func.coalesce(func.sum(c.events).filter(c.kind == k), 0) for k in kinds),
        )
        .where(c.kind.in_(kinds), *_unit(c.unit, f), *f.days(c.day))
        .group_by(month)
        .order_by(month)
    )


async def monthly_counts(
    session: AsyncSession, f: ReportFilter, kinds: Sequence[str]
) -> list[MonthCount]:
    rows = (await session.execute(monthly_query(f, kinds))).all()
    return [MonthCount(row[0].date(), tuple(int(n) for n in row[1:])) for row in rows]


async def escalations_per_month(session: AsyncSession, f: ReportFilter) -> list[MonthCount]:
    return await monthly_counts(session, f, ("escalation",))


async def opened_closed_per_month(session: AsyncSession, f: ReportFilter) -> list[MonthCount]:
    return await monthly_counts(session, f, ("opened", "closed"))


_POPULATED = text(
    "SELECT ispopulated FROM pg_matviews "
    f"WHERE schemaname = current_schema() AND matviewname = '{AS_OF_VIEW}'"
)


async def as_of(db: AsyncSession | AsyncConnection) -> datetime | None:
    """When the summary was last refreshed; None if it never was (it holds nothing yet)."""
    if not await db.scalar(_POPULATED):
        return None
    found: datetime | None = await db.scalar(text(f"SELECT refreshed_at FROM {AS_OF_VIEW}"))
    return found


async def refresh(
    engine: AsyncEngine, *, wait: bool, unless_since: datetime | None = None
) -> datetime | None:
    """Refresh the summary unless another caller is doing it: then, ``wait`` False, give up
    at once (None); ``wait`` True, wait for it. Either way no refresh when the summary was
    refreshed at or after ``unless_since``. Returns when the summary stands refreshed."""
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        if wait:
            await conn.execute(text(f"SELECT pg_advisory_lock({LOCK})"))
        elif not await conn.scalar(text(f"SELECT pg_try_advisory_lock({LOCK})")):
            return None
        try:
            current = await as_of(conn)
            if current is not None and unless_since is not None and current >= unless_since:
                return current
            await conn.commit()  # the lock's and the check's (autocommit: nothing to commit)
            # one snapshot for every view and the as-of row: figures of one moment
            await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                refreshed: datetime = await conn.scalar(text("SELECT report_summary_refresh()"))
            return refreshed
        finally:
            await conn.rollback()  # nothing left open, whatever went wrong
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f"SELECT pg_advisory_unlock({LOCK})"))


__all__ = [
    "COUNTED_KINDS",
    "as_of",
    "escalations_per_month",
    "opened_closed_per_month",
    "overdue_rates",
    "refresh",
    "role_waits",
    "stage_durations",
    "stage_durations_both",
]
