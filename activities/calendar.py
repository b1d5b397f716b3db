"""The working-day calendar, read fresh for every call, and the activities that use it.

Three sources, one per year, in this order (``workflows.rules.calendar_years.decide_origins``):

1. the ``chinesecalendar`` package, for every year it knows: a newer release replaces an
   administrator's entry by itself, and where the two disagree the days that differ are kept
   (``store.calendar_models.record_diff``, shown on the console's calendar page);
2. the years administrators entered in the console (the newest version of each, from
   PostgreSQL: one small query per call);
3. the supplement file (``CALENDAR_SUPPLEMENT``), for years neither of the above has; its
   format is documented in ``policy/calendar-supplement.example.yaml``::

    years:
      2027:
        source: "国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕N号）"
        holidays: [2027-01-01, 2027-02-06, ...]
        workdays: [2027-02-14, ...]   # make-up working weekends (调休上班日)

Both the database and the file are read on every call: a year added for a blocked case is
seen at the next retry, without restarting workers. Each result names the data that produced
it (package version, the console's entries by row, the supplement file and its digest).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import chinese_calendar
import yaml
from chinese_calendar import constants as chinese_calendar_data
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.policy import policy_for_activity
from audit.driver import ActivityConnections
from store.calendar_models import StoredYear, newest_years, record_diff
from workflows.rules.calendar_years import (
    KnownCalendar,
    Origin,
    decide_origins,
    differences,
    year_days,
)
from workflows.rules.calendar_years import check_days as check_year_days
from workflows.rules.working_days import (
    CalendarYearMissing,
    WorkingDayCalendar,
    at_hour,
    end_of_day,
)
from workflows.types import (
    Alarm,
    ScheduleStepInput,
    StepSchedule,
    WorkingDaysEndsInput,
    WorkingDaysEndsResult,
    WorkingDaysInput,
    WorkingDaysResult,
)

log = logging.getLogger(__name__)

_ENTRY_KEYS = frozenset({"source", "holidays", "workdays"})


class _Loader(yaml.SafeLoader):
    """Reads dates as text, so that a bad one is reported with its entry, not by PyYAML."""


def _timestamp_as_text(loader: _Loader, node: yaml.Node) -> str:
    assert isinstance(node, yaml.ScalarNode)
    return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


class CalendarSupplementError(ValueError):
    """The supplement file cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class SupplementYear:
    source: str  # the State Council notice the dates were copied from
    holidays: frozenset[date]
    workdays: frozenset[date]


@cache  # the installed release, looked up once per process (a lookup reads the disk)
def package_version() -> str:
    try:
        return version("chinesecalendar")
    except PackageNotFoundError:
        return str(getattr(chinese_calendar, "__version__", "unknown"))


@cache
def _package_data() -> tuple[frozenset[date], frozenset[date], frozenset[int]]:
    holidays = frozenset(chinese_calendar_data.holidays)
    workdays = frozenset(chinese_calendar_data.workdays)
    known = {d.year for d in holidays | workdays}
    return holidays, workdays, frozenset(range(min(known), max(known) + 1))


@cache
def package_calendar() -> KnownCalendar:
    """The years the package knows, and the figures its history sets for the warnings."""
    holidays, workdays, _ = _package_data()
    return KnownCalendar.of(holidays, workdays)


def _fail(name: str, where: str, problem: str) -> CalendarSupplementError:
    return CalendarSupplementError(f"日历补充文件 {name}：{where}：{problem}")


def _parse_date(value: Any, year: int, name: str, where: str) -> date:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise _fail(name, where, f"“{value}”不是日期（应写作 YYYY-MM-DD）") from None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise _fail(name, where, f"“{value}”不是日期（应写作 YYYY-MM-DD）")
    return value


def _parse_dates(entry: dict[str, Any], key: str, year: int, name: str) -> list[date]:
    values = entry.get(key, [])
    if not isinstance(values, list):
        raise _fail(name, f"years.{year}.{key}", "应为日期的列表")
    return [_parse_date(v, year, name, f"years.{year}.{key}[{i}]") for i, v in enumerate(values)]


def _parse_year(key: Any, entry: Any, name: str) -> tuple[int, SupplementYear]:
    if isinstance(key, bool) or not (isinstance(key, int) or str(key).isdigit()):
        raise _fail(name, f"years.{key}", "年份应为数字，如 2027")
    year = int(key)
    if not isinstance(entry, dict):
        raise _fail(name, f"years.{year}", "应包含 source、holidays、workdays 三项")
    unknown = sorted(str(k) for k in entry if k not in _ENTRY_KEYS)
    if unknown:
        raise _fail(name, f"years.{year}", f"未知的项 {'、'.join(unknown)}")
    source = entry.get("source")
    if not isinstance(source, str) or not source.strip():
        raise _fail(name, f"years.{year}.source", "须写明该年国务院办公厅通知的标题和文号")
    holidays = _parse_dates(entry, "holidays", year, name)
    workdays = _parse_dates(entry, "workdays", year, name)
    problems = check_year_days(year, holidays, workdays)
    if problems:
        raise _fail(name, f"years.{year}", "；".join(problems))
    return year, SupplementYear(source.strip(), frozenset(holidays), frozenset(workdays))


def parse_supplement(text: str, name: str) -> dict[int, SupplementYear]:
    """The years of a supplement file's text; ``name`` identifies the file in errors."""
    try:
        data = yaml.load(text, Loader=_Loader)  # safe: _Loader is a SafeLoader
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)  # PyYAML's own words are English
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列有误" if mark else "格式有误"
        raise CalendarSupplementError(f"日历补充文件 {name} 不是有效的 YAML：{where}") from e
    if data is None:
        return {}
    if not isinstance(data, dict) or set(data) - {"years"}:
        raise CalendarSupplementError(f"日历补充文件 {name} 的顶层应只有一项 years")
    years = data.get("years") or {}
    if not isinstance(years, dict):
        raise _fail(name, "years", "应按年份列出各年的 holidays 和 workdays")
    return dict(_parse_year(k, v, name) for k, v in years.items())


# The file is read on every call, but parsed only when its text changed: parsing YAML was a
# tenth of the worker's CPU under load (bench/RESULTS.md). The years are frozen; the mapping is
# only read.
_parsed_supplement = lru_cache(maxsize=4)(parse_supplement)


def build_calendar(
    supplement_text: str | None,
    supplement_name: str = "",
    console: Mapping[int, StoredYear] | None = None,
) -> WorkingDayCalendar:
    """The package's data, with the console's years and then the supplement's (if any) for
    the years the package does not know (see ``decide_origins``)."""
    holidays, workdays, package_years = _package_data()
    console = console or {}
    extra = (
        _parsed_supplement(supplement_text, supplement_name) if supplement_text is not None else {}
    )
    origins = decide_origins(package_years, console, extra)
    from_console = sorted(y for y, o in origins.items() if o is Origin.CONSOLE)
    from_file = sorted(y for y, o in origins.items() if o is Origin.FILE)
    added = [(console[y].days.holidays, console[y].days.workdays) for y in from_console]
    added += [(extra[y].holidays, extra[y].workdays) for y in from_file]
    source = f"chinesecalendar {package_version()}"
    if from_console:
        listed = ", ".join(f"{y} v{console[y].version} #{console[y].id}" for y in from_console)
        source += f"; console calendar_years ({listed})"
    if from_file:
        assert supplement_text is not None
        digest = hashlib.sha256(supplement_text.encode("utf-8")).hexdigest()[:12]
        listed = ", ".join(str(y) for y in from_file)
        source += f"; supplement {supplement_name} sha256:{digest} (years {listed})"
    return WorkingDayCalendar(
        holidays.union(*(h for h, _ in added)),
        workdays.union(*(w for _, w in added)),
        frozenset(origins),
        source,
    )


def read_supplement(supplement_path: Path | None) -> tuple[str | None, str]:
    """The supplement's text (None when none is configured) and its name.

    A configured path that does not exist is an error rather than "no supplement": a typo
    in the setting would otherwise hide the year an administrator thinks was added.
    """
    if supplement_path is None:
        return None, ""
    try:
        return supplement_path.read_text(encoding="utf-8"), supplement_path.name
    except OSError as e:
        raise CalendarSupplementError(
            f"日历补充文件 {supplement_path} 无法读取：{e.strerror or e}"
        ) from e


def load_calendar(
    supplement_path: Path | None, console: Mapping[int, StoredYear] | None = None
) -> WorkingDayCalendar:
    """Read the supplement (when configured) and build the calendar."""
    text, name = read_supplement(supplement_path)
    return build_calendar(text, name, console)


async def console_years(
    sessions: async_sessionmaker[AsyncSession], noted: set[tuple[int, str]] | None = None
) -> dict[int, StoredYear]:
    """The newest entry of every year administrators entered. An entry for a year the package
    now knows is not used; where the two disagree, the difference is kept once per entry and
    release (``noted`` remembers those already kept, to skip the write)."""
    async with sessions() as session:
        stored = await newest_years(session)
        holidays, workdays, package_years = _package_data()
        release = package_version()
        for year, entry in stored.items():
            if year not in package_years or (entry.id, release) in (noted or set()):
                continue
            diff = differences(entry.days, year_days(holidays, workdays, year))
            if not diff.empty:
                await record_diff(session, entry, release, diff)
                log.warning(
                    "calendar year %s: chinesecalendar %s differs from console entry #%s",
                    year,
                    release,
                    entry.id,
                )
            if noted is not None:
                noted.add((entry.id, release))
    return stored


# Whether the console's years changed since a worker read them: the table is append-only, so
# every save adds a row (a save committed late, under an older id, still changes the count).
_CONSOLE_STAMP = "SELECT count(*), coalesce(max(id), 0) FROM calendar_years"


class CalendarActivities:
    """Deadlines and periods in working days; the only place the calendar is read."""

    def __init__(
        self,
        supplement_path: Path | None,
        policy_path: Path | None = None,
        sessions: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self._supplement_path = supplement_path
        # only for a request whose timing does not carry its hour (see _reminder_hour)
        self._policy_path = policy_path
        # the console's years; None: a worker without a database (the file and the package)
        self._sessions = sessions
        self._connections = ActivityConnections(sessions) if sessions is not None else None
        self._noted: set[tuple[int, str]] = set()
        # the console's years as last read, under the stamp they were read at
        self._console: tuple[tuple[int, int], dict[int, StoredYear]] | None = None
        # the calendar last built, under the supplement's text and the console entries' ids
        self._built: tuple[tuple[str | None, tuple[int, ...]], WorkingDayCalendar] | None = None

    async def _calendar(self) -> WorkingDayCalendar:
        console = await self._console_years()
        try:
            return await asyncio.to_thread(self._build, console)
        except CalendarSupplementError as e:
            raise ApplicationError(
                str(e), type="CalendarSupplementInvalid", non_retryable=True
            ) from e

    async def _console_years(self) -> dict[int, StoredYear]:
        """The console's years, read again only when a year was saved since the last read."""
        if self._sessions is None or self._connections is None:
            return {}
        async with self._connections.connection() as driver:
            stamp = await driver.fetchrow(_CONSOLE_STAMP)
        assert stamp is not None
        seen = (int(stamp[0]), int(stamp[1]))
        if self._console is None or self._console[0] != seen:
            self._console = (seen, await console_years(self._sessions, self._noted))
        return self._console[1]

    def _build(self, console: Mapping[int, StoredYear]) -> WorkingDayCalendar:
        """The calendar of the supplement as the file says now and ``console``; built again
        only when either changed (the file is read each time)."""
        text, name = read_supplement(self._supplement_path)
        key = (text, tuple(sorted(entry.id for entry in console.values())))
        built = self._built
        if built is None or built[0] != key:
            built = self._built = (key, build_calendar(text, name, console))
        return built[1]

    @activity.defn
    async def schedule_step(self, input: ScheduleStepInput) -> StepSchedule:
        """The deadline of a step starting on ``start_on``, with its reminders and escalations."""
        cal = await self._calendar()
        hour = await self._reminder_hour(input)
        try:
            return self._schedule(cal, input, hour)
        except CalendarYearMissing as e:
            raise _year_missing(e) from e

    async def _reminder_hour(self, input: ScheduleStepInput) -> int:
        """The hour the step's alarms go out: the one its timing carries (the case's policy).

        A request scheduled before timings carried their hour, and run by this worker, takes
        the hour of the policy file as it is now: the nearest to the case's own policy there
        is, and never a figure of the code's.
        """
        if input.timing.reminder_hour is not None:
            return input.timing.reminder_hour
        path = self._policy_path
        if path is None:
            raise ApplicationError(
                f"the timing of step {input.step} of {input.case_id} names no reminder_hour, "
                "and this worker has no policy file to take it from",
                type="ReminderHourMissing",
                non_retryable=True,
            )
        return (await policy_for_activity(path)).policy.reminder_hour

    @activity.defn
    async def working_days_end(self, input: WorkingDaysInput) -> WorkingDaysResult:
        """The last day of a period of working days beginning on ``start_on``."""
        cal = await self._calendar()
        try:
            end_on = cal.period_end(input.start_on, input.working_days)
        except CalendarYearMissing as e:
            raise _year_missing(e) from e
        return WorkingDaysResult(
            end_on=end_on, end_at=end_of_day(end_on), calendar_source=cal.source
        )

    @activity.defn
    async def working_days_ends(self, input: WorkingDaysEndsInput) -> WorkingDaysEndsResult:
        """The last days of several periods of working days beginning on ``start_on``, from
        one read of the calendar (a notice's earliest and latest day, say)."""
        cal = await self._calendar()
        try:
            ends_on = [cal.period_end(input.start_on, days) for days in input.working_days]
        except CalendarYearMissing as e:
            raise _year_missing(e) from e
        return WorkingDaysEndsResult(ends_on=ends_on, calendar_source=cal.source)

    def _schedule(
        self, cal: WorkingDayCalendar, input: ScheduleStepInput, hour: int
    ) -> StepSchedule:
        timing = input.timing
        deadline_on = cal.add_working_days(input.start_on, timing.deadline_working_days)
        alarms = [
            Alarm(
                kind="reminder",
                at=at_hour(cal.working_days_before(deadline_on, k), hour),
                role=timing.responsible_role,
            )
            for k in timing.reminders_working_days_before
        ]
        alarms += [
            Alarm(
                kind="escalation",
                at=at_hour(cal.add_working_days(deadline_on, rung.working_days_after), hour),
                role=rung.role,
                rung=number,
            )
            for number, rung in enumerate(timing.escalation, start=1)
        ]
        # Reminders before escalations at the same instant; rungs in ladder order.
        alarms.sort(key=lambda a: (a.at, a.kind != "reminder", a.rung))
        return StepSchedule(
            step=input.step,
            deadline_on=deadline_on,
            deadline_at=end_of_day(deadline_on),
            alarms=alarms,
            calendar_source=cal.source,
        )


def _year_missing(e: CalendarYearMissing) -> ApplicationError:
    # Non-retryable: retrying cannot help until an administrator adds the year, and the
    # workflow must show the case as blocked with this message meanwhile.
    return ApplicationError(
        e.message, {"year": e.year}, type="CalendarYearMissing", non_retryable=True
    )
