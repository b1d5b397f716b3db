"""The administrators' calendar page (系统设置 → 工作日历): which source gives each year's
working days, a form to enter a year from the State Council's notice, its preview, and the
saved versions with who saved them and when.

An entry goes in two steps: the form is checked (``workflows.rules.calendar_years``) and
previewed, and only what was previewed can be saved (the preview carries the digest of its
content; a save whose content differs is sent back to preview). A save adds a version of the
year (``store.calendar_models``); the workers read it on their next calendar call, so a case
blocked on that year moves on at its next ``retry``. Only the roles the permission table gives
``ENTER_CALENDAR_YEAR`` open these pages.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from activities.calendar import (
    CalendarSupplementError,
    build_calendar,
    console_years,
    load_calendar,
    package_calendar,
    package_version,
    parse_supplement,
    read_supplement,
)
from api.deps import Services, ServicesDep
from api.permissions import ENTER_CALENDAR_YEAR
from store.calendar_models import (
    SavedMeanwhile,
    StoredYear,
    every_version,
    recorded_diffs,
    save_year,
)
from store.console_models import SignedIn
from web.console.auth import Console, form_of, may, require
from web.console.common import page
from web.templating import beijing_today
from workflows.rules.calendar_years import (
    ORIGIN_NAMES,
    CalendarEntry,
    CalendarEntryRefused,
    Origin,
    check_entry,
    decide_origins,
    missing_next_year,
    preview,
)

router = APIRouter(prefix="/admin/calendar")

PAGE = "/console/admin/calendar"
FIELDS = ("year", "holidays", "workdays", "source")


def today() -> date:
    """Beijing's today (a test sets another)."""
    return beijing_today()


@dataclass(frozen=True)
class YearRow:
    year: int
    origin: str  # who gives the year, in words; "" when nobody does
    note: str


async def _file_years(parts: Services) -> tuple[dict[int, str], str]:
    """The supplement file's years with their sources, or the problem reading it."""
    try:
        text, name = await asyncio.to_thread(read_supplement, parts.settings.calendar_supplement)
        if text is None:
            return {}, ""
        return {y: e.source for y, e in parse_supplement(text, name).items()}, ""
    except CalendarSupplementError as exc:
        return {}, str(exc)


async def covered_years(parts: Services) -> frozenset[int]:
    """Every year the calendar has data for, as the workers see it now."""
    console = await console_years(parts.sessions)
    try:
        cal = await asyncio.to_thread(load_calendar, parts.settings.calendar_supplement, console)
    except CalendarSupplementError:  # the file cannot be read: the years without it
        cal = build_calendar(None, "", console)
    return cal.years


@dataclass(frozen=True)
class MissingYear:
    """The dashboard's warning: next year's calendar is missing."""

    year: int
    may_enter: bool  # the person may enter it (else they are told to ask who may)


async def next_year_missing(parts: Services, user: SignedIn) -> MissingYear | None:
    """The next year, when its calendar is missing and the dashboard should say so."""
    now = today()
    if missing_next_year(now, ()) is None:  # not yet the season: no query
        return None
    year = missing_next_year(now, await covered_years(parts))
    return None if year is None else MissingYear(year, may(user, ENTER_CALENDAR_YEAR))


def _rows(newest: dict[int, StoredYear], file_years: dict[int, str], now: date) -> list[YearRow]:
    known = package_calendar().years
    origins = decide_origins(known, newest, file_years)
    shown = sorted({now.year, now.year + 1} | set(newest) | set(file_years), reverse=True)
    rows = []
    for year in shown:
        origin = origins.get(year)
        entry = newest.get(year)
        if origin is Origin.PACKAGE:
            note = f"chinesecalendar {package_version()}"
            if entry is not None:
                note += f"；控制台录入的第 {entry.version} 版已不再使用"
        elif origin is Origin.CONSOLE:
            assert entry is not None
            note = f"第 {entry.version} 版，{entry.entered_by} 录入"
            if year in file_years:
                note += "；日历补充文件中的该年不再使用"
        elif origin is Origin.FILE:
            note = file_years[year]
        else:
            note = "缺失：落在该年的期限无法计算，案件将受阻"
        rows.append(YearRow(year, ORIGIN_NAMES[origin] if origin else "", note))
    return rows


async def _calendar_page(
    request: Request,
    user: SignedIn,
    parts: Services,
    values: dict[str, str],
    *,
    problems: list[str] | None = None,
    flash: str = "",
    status_code: int = 200,
) -> Response:
    newest = await console_years(parts.sessions)  # also keeps any new difference
    async with parts.sessions() as s:
        versions = await every_version(s)
        diffs = await recorded_diffs(s)
    file_years, file_problem = await _file_years(parts)
    return page(
        request,
        user,
        "console_calendar.html",
        status_code=status_code,
        rows=_rows(newest, file_years, today()),
        versions=versions,
        diffs=diffs,
        file_name=parts.settings.calendar_supplement.name
        if parts.settings.calendar_supplement
        else "",
        file_problem=file_problem,
        values=values,
        problems=problems or [],
        flash=flash,
    )


def _values(form: dict[str, str]) -> dict[str, str]:
    return {name: form.get(name, "") for name in FIELDS}


def _digest(entry: CalendarEntry) -> str:
    """What the preview showed: the year, its days and the notice's text."""
    days = entry.days
    text = "\n".join(
        [
            str(entry.year),
            ",".join(d.isoformat() for d in sorted(days.holidays)),
            ",".join(d.isoformat() for d in sorted(days.workdays)),
            entry.source,
        ]
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check(values: dict[str, str]) -> CalendarEntry:
    return check_entry(
        values["year"],
        values["holidays"],
        values["workdays"],
        values["source"],
        package_calendar(),
        today(),
    )


@router.get("", response_class=HTMLResponse)
async def calendar_page(
    request: Request,
    user: Console,
    parts: ServicesDep,
    year: Annotated[int | None, Query(ge=1900, le=2999)] = None,
    saved: Annotated[int | None, Query(ge=1900, le=2999)] = None,
) -> Response:
    """The years and their sources; the form, filled with the newest entry of ``year`` (to
    correct it) or empty for the next year."""
    require(user, ENTER_CALENDAR_YEAR)
    values = {name: "" for name in FIELDS}
    values["year"] = str(year or today().year + 1)
    if year is not None:
        async with parts.sessions() as s:
            found = [v for v in await every_version(s) if v.year == year]
        if found:
            newest = found[0]
            values.update(
                holidays=newest.holidays_text, workdays=newest.workdays_text, source=newest.source
            )
    flash = f"{saved} 年的工作日历已保存，即时生效" if saved else ""
    return await _calendar_page(request, user, parts, values, flash=flash)


@router.post("/preview", response_class=HTMLResponse)
async def preview_entry(request: Request, user: Console, parts: ServicesDep) -> Response:
    """The entry checked, and the working days it yields; nothing is written."""
    require(user, ENTER_CALENDAR_YEAR)
    values = _values(await form_of(request, user))
    try:
        entry = _check(values)
    except CalendarEntryRefused as exc:
        return await _calendar_page(
            request, user, parts, values, problems=exc.problems, status_code=422
        )
    return page(
        request,
        user,
        "console_calendar_preview.html",
        entry=entry,
        shown=preview(entry, package_calendar()),
        values=values,
        digest=_digest(entry),
    )


@router.post("/save")
async def save_entry(request: Request, user: Console, parts: ServicesDep) -> Response:
    """Save what was previewed as the year's next version."""
    require(user, ENTER_CALENDAR_YEAR)
    form = await form_of(request, user)
    values = _values(form)
    try:
        entry = _check(values)
    except CalendarEntryRefused as exc:
        return await _calendar_page(
            request, user, parts, values, problems=exc.problems, status_code=422
        )
    if form.get("digest", "") != _digest(entry):
        return await _calendar_page(
            request,
            user,
            parts,
            values,
            problems=["保存的内容与预览的不一致：请先预览，核对无误后再保存"],
            status_code=409,
        )
    try:
        async with parts.sessions() as s:
            await save_year(
                s,
                entry,
                values["holidays"],
                values["workdays"],
                user.caller.name,
                user.caller.role.value,
            )
    except SavedMeanwhile:
        return await _calendar_page(
            request,
            user,
            parts,
            values,
            problems=[f"{entry.year} 年刚刚被他人保存了新版本：请刷新页面，核对后重新预览保存"],
            status_code=409,
        )
    return RedirectResponse(f"{PAGE}?saved={entry.year}", status_code=303)


@router.post("/edit", response_class=HTMLResponse)
async def edit_entry(request: Request, user: Console, parts: ServicesDep) -> Response:
    """Back from the preview to the form, as typed; nothing is written."""
    require(user, ENTER_CALENDAR_YEAR)
    values = _values(await form_of(request, user))
    return await _calendar_page(request, user, parts, values)
