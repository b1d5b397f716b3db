"""The reports page (报表): each report a table and its chart, for a period and a unit, and
each table downloadable as CSV or ``.xlsx`` with the same figures and Chinese headers.

The figures come from the reports' summary (``store.report_summary``: the stays, waits and
awaited steps precomputed in materialized views; probation outcomes from their listing, as
``store.reports`` counts them); this module names them (the glossary's words for stages,
methods, steps, roles and probation outcomes) and lays them out. GETs only; the one thing a
view may write is the summary, brought up to date.

Over the whole log at 100k cases the reports take seconds (``bench/RESULTS.md``); over the
summary, milliseconds. The page says how recent the summary is (数据截至). A view that finds
it older than the policy's ``report_summary_minutes`` has it refreshed in the background
(one refresh at a time, whichever process asks) and shows it as it stands; "立即更新"
(``fresh=1``) refreshes it and waits, and so does the first view of a summary never
refreshed. Every filter and every download reads the same summary, so a download gives the
figures the page showed unless the summary was refreshed in between.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from activities.policy import read_policy
from api.deps import ServicesDep
from api.permissions import READ_REPORTS
from sheets.xlsx import CONTENT_TYPE as XLSX_TYPE
from store import report_summary as summary
from store import reports as figures
from web.charts import Series, bars
from web.console.auth import Console, PageRefused, require
from web.console.common import day, page
from workflows.glossary import EVENT_KINDS, FIELDS, PROBATION_STATUSES, awaited, zh, zh_recorded
from workflows.policy import Policy, PolicyError
from workflows.types import CaseStage, Line, SelectionMethod

router = APIRouter(prefix="/reports")

Cell = str | int | float
DAYS = "天"
EMPTY = "所选范围内没有数据。"
NO_ROLE = "（未注明）"
BEIJING = ZoneInfo(figures.BEIJING)
NEVER = datetime.min.replace(tzinfo=UTC)
log = logging.getLogger(__name__)
MEDIAN, P90 = "中位数（天）", "第90百分位（天）"


@dataclass(frozen=True)
class Report:
    name: str  # in the download's address
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    chart: Markup


def _method(value: str) -> str:
    try:
        return zh(SelectionMethod(value))
    except ValueError:
        return value  # written by another version: shown as recorded


def _stage_order(stage: str) -> int:
    order = [s.value for s in CaseStage]
    return order.index(stage) if stage in order else len(order)


def _durations(name: str, title: str, by: str, rows: Sequence[figures.StageDuration]) -> Report:
    ordered = sorted(rows, key=lambda r: (r.group, _stage_order(r.stage)))
    name_of: Callable[[str], str] = _method if by == "method" else str
    labels = [f"{name_of(r.group)} · {zh_recorded(r.stage)}" for r in ordered]
    return Report(
        name,
        title,
        (FIELDS["method"] if by == "method" else FIELDS["unit"], "环节", "次数", MEDIAN, P90),
        [
            (
                name_of(r.group),
                zh_recorded(r.stage),
                r.stays,
                round(r.median_days, 2),
                round(r.p90_days, 2),
            )
            for r in ordered
        ],
        bars(
            title,
            labels,
            [
                Series("中位数", [r.median_days for r in ordered]),
                Series("第90百分位", [r.p90_days for r in ordered]),
            ],
            suffix=DAYS,
            empty=EMPTY,
        ),
    )


def _overdue(name: str, title: str, by: str, rows: Sequence[figures.OverdueRate]) -> Report:
    def label(group: str) -> str:
        return awaited(group)[0] if by == "step" else group

    percent = [round(100 * r.rate, 1) for r in rows]
    return Report(
        name,
        title,
        (FIELDS["unit"] if by == "unit" else "事项", "设定期限数", "逾期数", "逾期率（%）"),
        [(label(r.group), r.awaited, r.overdue, p) for r, p in zip(rows, percent, strict=True)],
        bars(
            title,
            [label(r.group) for r in rows],
            [Series("逾期率", percent)],
            suffix="%",
            empty=EMPTY,
        ),
    )


def _monthly(
    name: str, title: str, kinds: Sequence[str], rows: Sequence[figures.MonthCount]
) -> Report:
    months = [f"{m.month:%Y-%m}" for m in rows]
    words = [EVENT_KINDS[k] for k in kinds]
    return Report(
        name,
        title,
        ("月份", *(f"{w}数" for w in words)),
        [(month, *m.counts) for month, m in zip(months, rows, strict=True)],
        bars(
            title,
            months,
            [Series(w, [m.counts[i] for m in rows]) for i, w in enumerate(words)],
            empty=EMPTY,
        ),
    )


def _role_waits(rows: Sequence[figures.RoleWait]) -> Report:
    title = "事项等待时长（按责任角色）"
    names = [zh_recorded(r.role) if r.role else NO_ROLE for r in rows]
    return Report(
        "waits-by-role",
        title,
        ("责任角色", "事项数", MEDIAN, P90),
        [
            (n, r.steps, round(r.median_days, 2), round(r.p90_days, 2))
            for n, r in zip(names, rows, strict=True)
        ],
        bars(
            title,
            names,
            [
                Series("中位数", [r.median_days for r in rows]),
                Series("第90百分位", [r.p90_days for r in rows]),
            ],
            suffix=DAYS,
            empty=EMPTY,
        ),
    )


def _probations(rows: Sequence[figures.ProbationOutcome]) -> Report:
    title = "试用期结果（按年度、单位）"
    known = [s.value for s in PROBATION_STATUSES]
    statuses = known + sorted({r.status for r in rows} - set(known))  # others as recorded
    table: dict[tuple[int, str], dict[str, int]] = {}
    for r in rows:
        table.setdefault((r.year, r.unit), {})[r.status] = r.count
    keys = sorted(table)
    words = [zh_recorded(s) for s in statuses]
    return Report(
        "probation-outcomes",
        title,
        ("年度", FIELDS["unit"], *words, "合计"),
        [
            (year, unit, *(table[(year, unit)].get(s, 0) for s in statuses), sum(counts.values()))
            for (year, unit), counts in ((k, table[k]) for k in keys)
        ],
        bars(
            title,
            [f"{year} · {unit}" for year, unit in keys],
            [
                Series(w, [table[k].get(s, 0) for k in keys])
                for s, w in zip(statuses, words, strict=True)
                if any(s in table[k] for k in keys)  # no bar for an outcome nobody had
            ],
            empty=EMPTY,
        ),
    )


Builder = Callable[[AsyncSession, figures.ReportFilter, Mapping[str, str]], Awaitable[list[Report]]]


async def _durations_both(
    s: AsyncSession, f: figures.ReportFilter, roles: Mapping[str, str]
) -> list[Report]:
    rows = await summary.stage_durations_both(s, f)
    return [
        _durations("durations-by-method", "各环节用时（按选任方式）", "method", rows["method"]),
        _durations("durations-by-unit", "各环节用时（按单位）", "unit", rows["unit"]),
    ]


async def _waits(
    s: AsyncSession, f: figures.ReportFilter, roles: Mapping[str, str]
) -> list[Report]:
    return [_role_waits(await summary.role_waits(s, f, roles))]


async def _overdue_by_unit(
    s: AsyncSession, f: figures.ReportFilter, roles: Mapping[str, str]
) -> list[Report]:
    rows = await summary.overdue_rates(s, f, "unit")
    return [_overdue("overdue-by-unit", "逾期率（按单位）", "unit", rows)]


async def _overdue_by_step(
    s: AsyncSession, f: figures.ReportFilter, roles: Mapping[str, str]
) -> list[Report]:
    rows = await summary.overdue_rates(s, f, "step")
    return [_overdue("overdue-by-step", "逾期率（按事项）", "step", rows)]


async def _escalations(
    s: AsyncSession, f: figures.ReportFilter, roles: Mapping[str, str]
) -> list[Report]:
    rows = await summary.escalations_per_month(s, f)
    return [_monthly("escalations", "每月督办次数", ("escalation",), rows)]


async def _opened_closed(
    s: AsyncSession, f: figures.ReportFilter, roles: Mapping[str, str]
) -> list[Report]:
    rows = await summary.opened_closed_per_month(s, f)
    return [_monthly("opened-closed", "每月立案与结案数", ("opened", "closed"), rows)]


async def _probation_outcomes(
    s: AsyncSession, f: figures.ReportFilter, roles: Mapping[str, str]
) -> list[Report]:
    return [_probations(await figures.probation_outcomes(s, f))]


# the page's reports, in its order, and the names of their downloads
BUILDERS: tuple[Builder, ...] = (
    _durations_both,
    _waits,
    _overdue_by_unit,
    _overdue_by_step,
    _escalations,
    _opened_closed,
    _probation_outcomes,
)
NAMES = (
    "durations-by-method",
    "durations-by-unit",
    "waits-by-role",
    "overdue-by-unit",
    "overdue-by-step",
    "escalations",
    "opened-closed",
    "probation-outcomes",
)
FORMATS = ("csv", "xlsx")


Filter = Annotated[Line, Query(max_length=200)]


def _filter(from_text: str, to_text: str, unit: str) -> figures.ReportFilter:
    try:
        return figures.ReportFilter(day(from_text), day(to_text), unit.strip() or None)
    except ValueError as exc:
        raise PageRefused(422, str(exc)) from None


@dataclass(frozen=True)
class Computed:
    at: datetime  # what the figures count: the log as of this moment, Beijing time
    reports: list[Report]
    max_age: timedelta  # how old the policy lets the summary be before a view refreshes it
    refreshing: bool = False  # the summary is being brought up to date in the background

    def named(self, name: str) -> Report:
        return next(r for r in self.reports if r.name == name)


@dataclass(frozen=True)
class PolicyParts:
    roles: dict[str, str]  # each step's responsible role, for deadlines without reminders
    max_age: timedelta  # how old the summary may be before a view refreshes it


def _policy_parts(parts: ServicesDep) -> PolicyParts:
    """What the reports take from the policy file in force; if it cannot be read, no roles
    and the policy's default age."""
    try:
        policy = read_policy(parts.settings.policy_file).policy
    except PolicyError:
        default = Policy.model_fields["report_summary_minutes"].default
        return PolicyParts({}, timedelta(minutes=default))
    return PolicyParts(
        {name: timing.responsible_role.value for name, timing in policy.steps.items()},
        timedelta(minutes=policy.report_summary_minutes),
    )


async def compute(
    sessions: async_sessionmaker[AsyncSession], f: figures.ReportFilter, roles: Mapping[str, str]
) -> list[Report]:
    """Every report of the page from the summary, one after another in one session: each
    takes milliseconds but the waits (``bench/RESULTS.md``), less than a session each would
    cost in connections."""
    async with sessions() as s:
        return [r for make in BUILDERS for r in await make(s, f, roles)]


def _now() -> datetime:
    return datetime.now(UTC)


def _engine(parts: ServicesDep) -> AsyncEngine:
    engine: AsyncEngine = parts.sessions.kw["bind"]
    return engine


def _logged(task: asyncio.Task[datetime | None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("报表汇总更新失败", exc_info=task.exception())


def _refresh_behind(request: Request, parts: ServicesDep) -> None:
    """Refresh the summary in the background, unless this process is doing it already (and
    another process's refresh makes this one give up at once)."""
    running: asyncio.Task[datetime | None] | None = getattr(
        request.app.state, "report_refresh", None
    )
    if running is None or running.done():
        task = asyncio.create_task(summary.refresh(_engine(parts), wait=False))
        task.add_done_callback(_logged)
        request.app.state.report_refresh = task


async def _computed(
    request: Request, parts: ServicesDep, f: figures.ReportFilter, fresh: bool
) -> Computed:
    """The page's reports for ``f`` from the summary: refreshed first if it never was or if
    asked (``fresh``); refreshed in the background if older than the policy allows."""
    asked = _now()
    policy = await asyncio.to_thread(_policy_parts, parts)
    async with parts.sessions() as s:
        at = await summary.as_of(s)
    refreshing = False
    if at is None or fresh:
        # never refreshed: any refresh will do; asked for: one that began after the asking
        at = await summary.refresh(
            _engine(parts), wait=True, unless_since=asked if fresh else NEVER
        )
    elif asked - at >= policy.max_age:
        _refresh_behind(request, parts)
        refreshing = True
    assert at is not None  # refresh(wait=True) always answers
    reports = await compute(parts.sessions, f, policy.roles)
    return Computed(at.astimezone(BEIJING), reports, policy.max_age, refreshing)


def _without_fresh(request: Request) -> str:
    query = "&".join(
        f"{quote(k)}={quote(v)}" for k, v in request.query_params.multi_items() if k != "fresh"
    )
    return f"?{query}" if query else ""


@router.get("", response_class=HTMLResponse)
async def show(
    request: Request,
    user: Console,
    parts: ServicesDep,
    unit: Filter = "",
    from_text: Annotated[str, Query(alias="from", max_length=10)] = "",
    to_text: Annotated[str, Query(alias="to", max_length=10)] = "",
    fresh: Annotated[str, Query(max_length=1)] = "",
) -> Response:
    require(user, READ_REPORTS)
    f = _filter(from_text, to_text, unit)
    computed = await _computed(request, parts, f, fresh == "1")
    query = _without_fresh(request)
    return page(
        request,
        user,
        "console_reports.html",
        reports=computed.reports,
        computed_at=computed.at,
        refreshing=computed.refreshing,
        summary_minutes=int(computed.max_age.total_seconds() // 60),
        unit=unit,
        date_from=f.date_from,
        date_to=f.date_to,
        query=query,
        again=f"{query}&fresh=1" if query else "?fresh=1",
    )


def _csv(report: Report) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(report.headers)
    writer.writerows(report.rows)
    # with a byte-order mark, as Excel needs to read UTF-8 Chinese
    return out.getvalue().encode("utf-8-sig")


def _xlsx(report: Report) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = report.title[:31]  # a worksheet's title is at most 31 characters
    sheet.append(list(report.headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in report.rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@router.get("/{name}.{fmt}")
async def download(
    request: Request,
    user: Console,
    parts: ServicesDep,
    name: str,
    fmt: str,
    unit: Filter = "",
    from_text: Annotated[str, Query(alias="from", max_length=10)] = "",
    to_text: Annotated[str, Query(alias="to", max_length=10)] = "",
) -> Response:
    require(user, READ_REPORTS)
    if name not in NAMES or fmt not in FORMATS:
        raise PageRefused(404, f"没有“{name}.{fmt}”这份报表（可下载 CSV 或 xlsx）。")
    f = _filter(from_text, to_text, unit)
    report = (await _computed(request, parts, f, fresh=False)).named(name)
    data, media = (
        (_csv(report), "text/csv; charset=utf-8") if fmt == "csv" else (_xlsx(report), XLSX_TYPE)
    )
    filename = quote(f"{report.title}.{fmt}")
    return Response(
        data,
        media_type=media,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"},
    )
