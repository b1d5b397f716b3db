"""The working-day calendar, read fresh for every call, and the activities that use it.

Data comes from the ``chinesecalendar`` package (the years it knows) merged with an
administrator's supplement file for years the package does not know yet::

    years:
      2027:
        source: "国务院办公厅关于2027年部分节假日安排的通知 (国办发明电〔2026〕N号)"
        holidays: [2027-01-01, 2027-02-06, ...]
        workdays: [2027-02-14, ...]   # make-up working weekends (调休)

A year in the supplement replaces whatever the package says about it, so an administrator
can also correct a year. The file is read on every call: a supplement added for a blocked
case is seen at the next retry, without restarting workers. Each result names the data
that produced it (package version, supplement file and its digest).
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import chinese_calendar
import yaml
from chinese_calendar import constants as chinese_calendar_data
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.policy import policy_for_activity
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
    WorkingDaysInput,
    WorkingDaysResult,
)

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


def _package_version() -> str:
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


def _fail(name: str, where: str, problem: str) -> CalendarSupplementError:
    return CalendarSupplementError(f"calendar supplement {name}: {where}: {problem}")


def _parse_date(value: Any, year: int, name: str, where: str) -> date:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise _fail(name, where, f"{value!r} is not a date (write YYYY-MM-DD)") from None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise _fail(name, where, f"{value!r} is not a date (write YYYY-MM-DD)")
    if value.year != year:
        raise _fail(name, where, f"{value.isoformat()} is not in {year}")
    return value


def _parse_dates(entry: dict[str, Any], key: str, year: int, name: str) -> frozenset[date]:
    values = entry.get(key, [])
    if not isinstance(values, list):
        raise _fail(name, f"years.{year}.{key}", "must be a list of dates")
    return frozenset(
        _parse_date(v, year, name, f"years.{year}.{key}[{i}]") for i, v in enumerate(values)
    )


def _parse_year(key: Any, entry: Any, name: str) -> tuple[int, SupplementYear]:
    if isinstance(key, bool) or not (isinstance(key, int) or str(key).isdigit()):
        raise _fail(name, f"years.{key}", "a year must be a number such as 2027")
    year = int(key)
    if not isinstance(entry, dict):
        raise _fail(name, f"years.{year}", "must be a mapping with source, holidays, workdays")
    unknown = sorted(str(k) for k in entry if k not in _ENTRY_KEYS)
    if unknown:
        raise _fail(name, f"years.{year}", f"unknown key {', '.join(unknown)}")
    source = entry.get("source")
    if not isinstance(source, str) or not source.strip():
        raise _fail(name, f"years.{year}.source", "name the State Council notice of that year")
    holidays = _parse_dates(entry, "holidays", year, name)
    workdays = _parse_dates(entry, "workdays", year, name)
    for d in sorted(workdays):
        if d.weekday() < 5:
            raise _fail(
                name,
                f"years.{year}.workdays",
                f"{d.isoformat()} is a {d:%A}, already a working day; only weekend days are "
                "make-up working days",
            )
    both = sorted(holidays & workdays)
    if both:
        raise _fail(name, f"years.{year}", f"{both[0].isoformat()} is both a holiday and a workday")
    return year, SupplementYear(source.strip(), holidays, workdays)


def parse_supplement(text: str, name: str) -> dict[int, SupplementYear]:
    """The years of a supplement file's text; ``name`` identifies the file in errors."""
    try:
        data = yaml.load(text, Loader=_Loader)  # safe: _Loader is a SafeLoader
    except yaml.YAMLError as e:
        raise CalendarSupplementError(f"calendar supplement {name} is not valid YAML: {e}") from e
    if data is None:
        return {}
    if not isinstance(data, dict) or set(data) - {"years"}:
        raise CalendarSupplementError(
            f"calendar supplement {name} must hold one top-level key, years"
        )
    years = data.get("years") or {}
    if not isinstance(years, dict):
        raise _fail(name, "years", "must map each year to its holidays and workdays")
    return dict(_parse_year(k, v, name) for k, v in years.items())


def build_calendar(supplement_text: str | None, supplement_name: str = "") -> WorkingDayCalendar:
    """The package's data, with the years of the supplement (if any) laid over it."""
    holidays, workdays, years = _package_data()
    source = f"chinesecalendar {_package_version()}"
    if supplement_text is None:
        return WorkingDayCalendar(holidays, workdays, years, source)
    extra = parse_supplement(supplement_text, supplement_name)
    if not extra:
        return WorkingDayCalendar(holidays, workdays, years, source)
    replaced = set(extra)
    holidays = frozenset(d for d in holidays if d.year not in replaced).union(
        *(y.holidays for y in extra.values())
    )
    workdays = frozenset(d for d in workdays if d.year not in replaced).union(
        *(y.workdays for y in extra.values())
    )
    digest = hashlib.sha256(supplement_text.encode("utf-8")).hexdigest()[:12]
    listed = ", ".join(str(y) for y in sorted(extra))
    source += f"; supplement {supplement_name} sha256:{digest} (years {listed})"
    return WorkingDayCalendar(holidays, workdays, years | replaced, source)


def load_calendar(supplement_path: Path | None) -> WorkingDayCalendar:
    """Read the supplement (when configured) and build the calendar.

    A configured path that does not exist is an error rather than "no supplement": a typo
    in the setting would otherwise hide the year an administrator thinks was added.
    """
    if supplement_path is None:
        return build_calendar(None)
    try:
        text = supplement_path.read_text(encoding="utf-8")
    except OSError as e:
        raise CalendarSupplementError(
            f"calendar supplement {supplement_path} cannot be read: {e.strerror or e}"
        ) from e
    return build_calendar(text, supplement_path.name)


class CalendarActivities:
    """Deadlines and periods in working days; the only place the calendar is read."""

    def __init__(self, supplement_path: Path | None, policy_path: Path | None = None) -> None:
        self._supplement_path = supplement_path
        # only for a request whose timing does not carry its hour (see _reminder_hour)
        self._policy_path = policy_path

    async def _calendar(self) -> WorkingDayCalendar:
        try:
            return await asyncio.to_thread(load_calendar, self._supplement_path)
        except CalendarSupplementError as e:
            raise ApplicationError(
                str(e), type="CalendarSupplementInvalid", non_retryable=True
            ) from e

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
