"""The figures of the reports (报表), each one aggregate query over the audit log
(``case_events``) joined to the listing (``cases``) for a case's method and unit.

- a stage's stay runs from the event that entered it (``opened`` or ``transition``) to the
  next event that changed where the case stands (``lead()`` over the case's events in the
  workflow's order, ``seq``); a stay not yet ended counts for nothing;
- an awaited step is a ``deadline`` event; it went overdue when the next deadline-or-overdue
  event of its case is an ``overdue`` one (the workflow records one per step and deadline);
- a step waits on its responsible role from its ``deadline`` event until the last ``input``
  event before the case's next ``deadline``, ``transition`` or ``closed`` event (the answer a
  person recorded: the workflow records the next step or stage right after it); a wait not
  yet ended, or ended with no one's input (a period that ran out), counts for nothing. The
  role is the one the deadline's own reminders were addressed to (the responsible role of
  the policy in force when the deadline was set, kept in the payload); a step without
  reminders falls back to the responsible role the caller's policy gives the step;
- a probation's outcome is its listing status (``probations``), counted in the year it was
  closed, or, still running, the year its term ends;
- months, like days, are Beijing's (Asia/Shanghai).

The filter's period selects stays by the day they began, awaited steps by the day their
deadline was set, counted events by their own day and probations by the day of their
outcome; its unit selects the unit's cases and probations. Cases are appointment cases
(``cases.chain``): the audit chains that are not are never counted.
Rows come back with stages, methods and steps as stored (plain text): naming them is the
reader's job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    case,
    extract,
    func,
    literal,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import JSONB, JSONPATH
from sqlalchemy.ext.asyncio import AsyncSession

from audit.queries import STANDING_KINDS, start_of_day
from store.models import Case, CaseEvent
from store.probation_models import Probation
from workflows.types import ChainKind

SECONDS_PER_DAY = 86400
BEIJING = "Asia/Shanghai"  # the zone the department counts its days and months in
Grouping = Literal["method", "unit"]


@dataclass(frozen=True)
class ReportFilter:
    date_from: date | None = None  # from the start of this day
    date_to: date | None = None  # to the end of this day
    unit: str | None = None

    def __post_init__(self) -> None:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"日期范围为空：起始日 {self.date_from} 晚于截止日 {self.date_to}")

    def period(self, moment: Any) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.date_from is not None:
            found.append(moment >= start_of_day(self.date_from))
        if self.date_to is not None:
            found.append(moment < start_of_day(self.date_to + timedelta(days=1)))
        return found

    def cases(self) -> list[ColumnElement[bool]]:
        """The events of appointment cases only (``cases.chain``), of the unit's when given
        (pushed inside the windows: each window is per case, so leaving other cases out
        changes no row of the others)."""
        counted = select(Case.case_id).where(Case.chain == ChainKind.APPOINTMENT.value)
        if self.unit is not None:
            counted = counted.where(Case.unit == self.unit)
        return [CaseEvent.case_id.in_(counted)]

    def days(self, day: Any) -> list[ColumnElement[bool]]:
        """The period for a column of days (not moments)."""
        found: list[ColumnElement[bool]] = []
        if self.date_from is not None:
            found.append(day >= self.date_from)
        if self.date_to is not None:
            found.append(day <= self.date_to)
        return found


@dataclass(frozen=True)
class StageDuration:
    group: str  # the method or the unit
    stage: str
    stays: int
    median_days: float
    p90_days: float


@dataclass(frozen=True)
class RoleWait:
    role: str  # "" when neither the deadline nor the policy names one
    steps: int
    median_days: float
    p90_days: float


@dataclass(frozen=True)
class ProbationOutcome:
    year: int
    unit: str
    status: str
    count: int


@dataclass(frozen=True)
class OverdueRate:
    group: str  # the unit or the step
    awaited: int
    overdue: int

    @property
    def rate(self) -> float:
        return self.overdue / self.awaited if self.awaited else 0.0


@dataclass(frozen=True)
class MonthCount:
    month: date  # the first day of the month
    counts: tuple[int, ...]  # in the order of the kinds asked


def _stays(f: ReportFilter) -> Any:
    return (
        select(
            CaseEvent.case_id,
            CaseEvent.stage,
            CaseEvent.occurred_at.label("entered_at"),
            func.lead(CaseEvent.occurred_at)
            .over(partition_by=CaseEvent.case_id, order_by=CaseEvent.seq)
            .label("left_at"),
        )
        .where(CaseEvent.kind.in_(STANDING_KINDS), *f.cases())
        .cte("stays")
    )


def stage_durations_query(f: ReportFilter, by: Grouping) -> Select[Any]:
    stays = _stays(f)
    days = extract("epoch", stays.c.left_at - stays.c.entered_at) / SECONDS_PER_DAY
    group = Case.method if by == "method" else Case.unit
    return (
        select(
            group,
            stays.c.stage,
            func.count(),
            func.percentile_cont(0.5).within_group(days),
            func.percentile_cont(0.9).within_group(days),
        )
        .join(Case, Case.case_id == stays.c.case_id)
        .where(stays.c.left_at.is_not(None), *f.period(stays.c.entered_at))
        .group_by(group, stays.c.stage)
        .order_by(group, stays.c.stage)
    )


async def stage_durations(
    session: AsyncSession, f: ReportFilter, by: Grouping
) -> list[StageDuration]:
    """Median and 90th percentile of the stays in each stage, in days, by method or unit."""
    rows = await session.execute(stage_durations_query(f, by))
    return [StageDuration(g, s, n, float(m), float(p)) for g, s, n, m, p in rows]


async def stage_durations_both(
    session: AsyncSession, f: ReportFilter
) -> dict[Grouping, list[StageDuration]]:
    """``stage_durations`` by method and by unit in one pass over the stays (``GROUPING
    SETS``): the window, the costly part, runs once; ``grouping(method)`` is 1 on the rows
    grouped by unit."""
    stays = _stays(f)
    days = extract("epoch", stays.c.left_at - stays.c.entered_at) / SECONDS_PER_DAY
    query = (
        select(
            func.grouping(Case.method),
            Case.method,
            Case.unit,
            stays.c.stage,
            func.count(),
            func.percentile_cont(0.5).within_group(days),
            func.percentile_cont(0.9).within_group(days),
        )
        .join(Case, Case.case_id == stays.c.case_id)
        .where(stays.c.left_at.is_not(None), *f.period(stays.c.entered_at))
        .group_by(
            func.grouping_sets(tuple_(Case.method, stays.c.stage), tuple_(Case.unit, stays.c.stage))
        )
    )
    found: dict[Grouping, list[StageDuration]] = {"method": [], "unit": []}
    for by_unit, method, unit, stage, n, m, p in await session.execute(query):
        by: Grouping = "unit" if by_unit else "method"
        found[by].append(StageDuration(unit if by_unit else method, stage, n, float(m), float(p)))
    for rows in found.values():
        rows.sort(key=lambda r: (r.group, r.stage))
    return found


WAIT_KINDS = ("deadline", "transition", "closed", "input")
FIRST_REMINDER = '$.alarms[*] ? (@.kind == "reminder")'


def role_waits_query(f: ReportFilter, roles: Mapping[str, str]) -> Select[Any]:
    # a step's key may carry a round after ":" (a revote); the policy names the step before it
    step = func.split_part(CaseEvent.payload["step"].astext, ":", 1)
    reminded = func.jsonb_path_query_first(
        CaseEvent.payload, literal(FIRST_REMINDER, JSONPATH), type_=JSONB
    )["role"].astext
    by_policy = case(dict(roles), value=step, else_="") if roles else literal("")
    is_input = CaseEvent.kind == "input"
    marks = (
        select(
            CaseEvent.case_id,
            CaseEvent.kind,
            CaseEvent.occurred_at,
            case((CaseEvent.kind == "deadline", func.coalesce(reminded, by_policy))).label("role"),
            # every event but an input opens a span: a deadline and the inputs after it
            func.sum(case((is_input, 0), else_=1).cast(Integer))
            .over(partition_by=CaseEvent.case_id, order_by=CaseEvent.seq)
            .label("span"),
        )
        .where(CaseEvent.kind.in_(WAIT_KINDS), *f.cases())
        .cte("marks")
    )
    spans = (
        select(
            marks.c.span,
            func.min(marks.c.occurred_at).filter(marks.c.kind == "deadline").label("set_at"),
            func.max(marks.c.occurred_at).filter(marks.c.kind == "input").label("answered_at"),
            func.max(marks.c.role).label("role"),
            # a span with another after it is over; the newest may still be waiting
            func.max(marks.c.span).over(partition_by=marks.c.case_id).label("last"),
        )
        .group_by(marks.c.case_id, marks.c.span)
        .cte("spans")
    )
    days = extract("epoch", spans.c.answered_at - spans.c.set_at) / SECONDS_PER_DAY
    return (
        select(
            spans.c.role,
            func.count(),
            func.percentile_cont(0.5).within_group(days),
            func.percentile_cont(0.9).within_group(days),
        )
        .where(
            spans.c.set_at.is_not(None),
            spans.c.answered_at.is_not(None),
            spans.c.span < spans.c.last,
            *f.period(spans.c.set_at),
        )
        .group_by(spans.c.role)
        .order_by(spans.c.role)
    )


async def role_waits(
    session: AsyncSession, f: ReportFilter, roles: Mapping[str, str]
) -> list[RoleWait]:
    """Median and 90th percentile, in days, of how long an awaited step waited on its
    responsible role; ``roles`` gives a step's role by its policy name, for deadlines that
    do not say it."""
    rows = await session.execute(role_waits_query(f, roles))
    return [RoleWait(r, n, float(m), float(p)) for r, n, m, p in rows]


def probation_outcomes_query(f: ReportFilter) -> Select[Any]:
    outcome_on = func.coalesce(Probation.closed_on, Probation.ends_on)
    year: Any = extract("year", outcome_on).cast(Integer)
    unit = [Probation.unit == f.unit] if f.unit is not None else []
    return (
        select(year, Probation.unit, Probation.status, func.count())
        .where(*unit, *f.days(outcome_on))
        .group_by(year, Probation.unit, Probation.status)
        .order_by(year, Probation.unit, Probation.status)
    )


async def probation_outcomes(session: AsyncSession, f: ReportFilter) -> list[ProbationOutcome]:
    """How many probations ended each way (or still run), by year and unit."""
    rows = await session.execute(probation_outcomes_query(f))
    return [ProbationOutcome(int(y), u, s, n) for y, u, s, n in rows]


def overdue_rates_query(f: ReportFilter, by: Literal["unit", "step"]) -> Select[Any]:
    marks = (
        select(
            CaseEvent.case_id,
            CaseEvent.kind,
            CaseEvent.occurred_at,
            # a step's key may carry a round after ":" (a revote); the step is before it
            func.split_part(CaseEvent.payload["step"].astext, ":", 1).label("step"),
            func.lead(CaseEvent.kind)
            .over(partition_by=CaseEvent.case_id, order_by=CaseEvent.seq)
            .label("next_kind"),
        )
        .where(CaseEvent.kind.in_(("deadline", "overdue")), *f.cases())
        .cte("marks")
    )
    group = Case.unit if by == "unit" else marks.c.step
    return (
        select(
            group,
            func.count(),
            func.count().filter(marks.c.next_kind == "overdue"),
        )
        .join(Case, Case.case_id == marks.c.case_id)
        .where(marks.c.kind == "deadline", *f.period(marks.c.occurred_at))
        .group_by(group)
        .order_by(group)
    )


async def overdue_rates(
    session: AsyncSession, f: ReportFilter, by: Literal["unit", "step"]
) -> list[OverdueRate]:
    """Of the steps awaited (a deadline set), how many went overdue, by unit or by step."""
    rows = await session.execute(overdue_rates_query(f, by))
    return [OverdueRate(g, n, o) for g, n, o in rows]


def monthly_query(f: ReportFilter, kinds: Sequence[str]) -> Select[Any]:
    month = func.date_trunc("month", func.timezone(BEIJING, CaseEvent.occurred_at))
    return (
        select(month, *(func.count().filter(CaseEvent.kind == k) for k in kinds))
        .where(CaseEvent.kind.in_(kinds), *f.cases(), *f.period(CaseEvent.occurred_at))
        .group_by(month)
        .order_by(month)
    )


async def monthly_counts(
    session: AsyncSession, f: ReportFilter, kinds: Sequence[str]
) -> list[MonthCount]:
    """How many events of each kind each month (Beijing time); months without any left out."""
    rows = (await session.execute(monthly_query(f, kinds))).all()
    return [MonthCount(row[0].date(), tuple(int(n) for n in row[1:])) for row in rows]


async def escalations_per_month(session: AsyncSession, f: ReportFilter) -> list[MonthCount]:
    return await monthly_counts(session, f, ("escalation",))


async def opened_closed_per_month(session: AsyncSession, f: ReportFilter) -> list[MonthCount]:
    return await monthly_counts(session, f, ("opened", "closed"))
