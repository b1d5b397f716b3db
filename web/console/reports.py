"""The reports page (报表): each report a table and its chart, for a period and a unit, and
each table downloadable as CSV or ``.xlsx`` with the same figures and Chinese headers.

The figures come from ``store.reports``; this module names them (the glossary's words for
stages, methods and steps) and lays them out. Reads only: plain GETs.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import ServicesDep
from api.permissions import READ_REPORTS
from sheets.xlsx import CONTENT_TYPE as XLSX_TYPE
from store import reports as figures
from web.charts import Series, bars
from web.console.auth import Console, PageRefused, require
from web.console.common import day, page
from workflows.glossary import EVENT_KINDS, FIELDS, awaited, zh, zh_recorded
from workflows.types import CaseStage, Line, SelectionMethod

router = APIRouter(prefix="/reports")

Cell = str | int | float
DAYS = "天"
EMPTY = "所选范围内没有数据。"


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
    median, p90 = "中位数（天）", "第90百分位（天）"
    return Report(
        name,
        title,
        (FIELDS["method"] if by == "method" else FIELDS["unit"], "环节", "次数", median, p90),
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


Builder = Callable[[AsyncSession, figures.ReportFilter], Awaitable[Report]]


async def _by_method(s: AsyncSession, f: figures.ReportFilter) -> Report:
    rows = await figures.stage_durations(s, f, "method")
    return _durations("durations-by-method", "各环节用时（按选任方式）", "method", rows)


async def _by_unit(s: AsyncSession, f: figures.ReportFilter) -> Report:
    rows = await figures.stage_durations(s, f, "unit")
    return _durations("durations-by-unit", "各环节用时（按单位）", "unit", rows)


async def _overdue_by_unit(s: AsyncSession, f: figures.ReportFilter) -> Report:
    rows = await figures.overdue_rates(s, f, "unit")
    return _overdue("overdue-by-unit", "逾期率（按单位）", "unit", rows)


async def _overdue_by_step(s: AsyncSession, f: figures.ReportFilter) -> Report:
    rows = await figures.overdue_rates(s, f, "step")
    return _overdue("overdue-by-step", "逾期率（按事项）", "step", rows)


async def _escalations(s: AsyncSession, f: figures.ReportFilter) -> Report:
    rows = await figures.escalations_per_month(s, f)
    return _monthly("escalations", "每月督办次数", ("escalation",), rows)


async def _opened_closed(s: AsyncSession, f: figures.ReportFilter) -> Report:
    rows = await figures.opened_closed_per_month(s, f)
    return _monthly("opened-closed", "每月立案与结案数", ("opened", "closed"), rows)


# the reports by the name in their download's address, in the order of the page
BUILDERS: dict[str, Builder] = {
    "durations-by-method": _by_method,
    "durations-by-unit": _by_unit,
    "overdue-by-unit": _overdue_by_unit,
    "overdue-by-step": _overdue_by_step,
    "escalations": _escalations,
    "opened-closed": _opened_closed,
}
FORMATS = ("csv", "xlsx")


Filter = Annotated[Line, Query(max_length=200)]


def _filter(from_text: str, to_text: str, unit: str) -> figures.ReportFilter:
    try:
        return figures.ReportFilter(day(from_text), day(to_text), unit.strip() or None)
    except ValueError as exc:
        raise PageRefused(422, str(exc)) from None


@router.get("", response_class=HTMLResponse)
async def show(
    request: Request,
    user: Console,
    parts: ServicesDep,
    unit: Filter = "",
    from_text: Annotated[str, Query(alias="from", max_length=10)] = "",
    to_text: Annotated[str, Query(alias="to", max_length=10)] = "",
) -> Response:
    require(user, READ_REPORTS)
    f = _filter(from_text, to_text, unit)
    async with parts.sessions() as s:
        found = [await make(s, f) for make in BUILDERS.values()]
    query = request.url.query
    return page(
        request,
        user,
        "console_reports.html",
        reports=found,
        unit=unit,
        date_from=f.date_from,
        date_to=f.date_to,
        query=f"?{query}" if query else "",
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
    user: Console,
    parts: ServicesDep,
    name: str,
    fmt: str,
    unit: Filter = "",
    from_text: Annotated[str, Query(alias="from", max_length=10)] = "",
    to_text: Annotated[str, Query(alias="to", max_length=10)] = "",
) -> Response:
    require(user, READ_REPORTS)
    make = BUILDERS.get(name)
    if make is None or fmt not in FORMATS:
        raise PageRefused(404, f"没有“{name}.{fmt}”这份报表（可下载 CSV 或 xlsx）。")
    f = _filter(from_text, to_text, unit)
    async with parts.sessions() as s:
        report = await make(s, f)
    data, media = (
        (_csv(report), "text/csv; charset=utf-8") if fmt == "csv" else (_xlsx(report), XLSX_TYPE)
    )
    filename = quote(f"{report.title}.{fmt}")
    return Response(
        data,
        media_type=media,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"},
    )
