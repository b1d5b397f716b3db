"""The calendar activity with the years administrators entered, on a database of the test's
own (what is saved here must not change other tests' calendars): the newest entry is used at
the next call, after the package and before the file; a package year replaces an entry, and a
disagreement is kept once; the service's role may add entries, never change one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from chinese_calendar import constants as package
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError

from activities.calendar import CalendarActivities, console_years, load_calendar
from audit import APP_ROLE
from store.calendar_models import (
    CalendarYear,
    CalendarYearDiff,
    every_version,
    recorded_diffs,
    save_year,
)
from store.db import make_engine, make_session_factory, to_libpq_url
from workflows.rules.calendar_years import CalendarEntry, TypedDay
from workflows.types import WorkingDaysInput

LAST = max(d.year for d in package.holidays)
YEAR = LAST + 1  # a year the package does not know


def entry(year: int, holidays: list[date], workdays: tuple[date, ...] = ()) -> CalendarEntry:
    return CalendarEntry(
        year,
        tuple(TypedDay(d, "") for d in holidays),
        tuple(TypedDay(d, "") for d in workdays),
        f"国务院办公厅关于{year}年部分节假日安排的通知（测试数据）",
    )


async def save(sessions: async_sessionmaker[AsyncSession], e: CalendarEntry) -> int:
    async with sessions() as s:
        return (await save_year(s, e, "", "", "管理员甲", "administrator")).id


@pytest_asyncio.fixture(loop_scope="session")
async def sessions(migrated_database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(migrated_database_url)
    try:
        yield make_session_factory(engine)
    finally:
        await engine.dispose()


def first_monday(year: int, month: int) -> date:
    d = date(year, month, 1)
    while d.weekday() != 0:
        d = d.replace(day=d.day + 1)
    return d


async def test_an_entry_is_used_at_the_next_call_without_restart(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    activities = CalendarActivities(None, sessions=sessions)
    monday = first_monday(YEAR, 3)
    request = WorkingDaysInput(start_on=monday, working_days=1)
    with pytest.raises(ApplicationError) as e:
        await activities.working_days_end(request)
    assert e.value.type == "CalendarYearMissing"
    row = await save(sessions, entry(YEAR, [monday]))
    result = await activities.working_days_end(request)
    assert result.end_on == date(YEAR, 3, monday.day + 1)  # the Monday is a holiday
    assert result.calendar_source == (
        f"chinesecalendar 1.11.0; console calendar_years ({YEAR} v1 #{row})"
    )
    # a second save is a new version, the newest is used, the first is kept
    second = await save(sessions, entry(YEAR, [monday.replace(day=monday.day + 1)]))
    result = await activities.working_days_end(request)
    assert result.end_on == monday
    assert f"{YEAR} v2 #{second}" in result.calendar_source
    async with sessions() as s:
        versions = [(v.year, v.version, v.entered_by) for v in await every_version(s)]
    assert versions == [(YEAR, 2, "管理员甲"), (YEAR, 1, "管理员甲")]


async def test_a_save_committed_after_a_newer_one_is_still_seen(
    sessions: async_sessionmaker[AsyncSession], migrated_database_url: str
) -> None:
    """The worker reads the console's years again only when a save changed them; a save that
    took its id first and committed last (an older id under a newer one) changes them too."""
    activities = CalendarActivities(None, sessions=sessions)
    early, late = YEAR + 2, YEAR + 3
    slow = await asyncpg.connect(to_libpq_url(migrated_database_url))
    try:
        async with slow.transaction():
            older_id = await slow.fetchval(
                "INSERT INTO calendar_years (year, version, holidays, workdays, holidays_text,"
                " workdays_text, source, entered_by, entered_role)"
                " VALUES ($1, 1, $2, '{}', '', '', $3, '管理员乙', 'administrator') RETURNING id",
                early,
                [first_monday(early, 3)],
                f"国务院办公厅关于{early}年部分节假日安排的通知（测试数据）",
            )
            newer_id = await save(sessions, entry(late, [first_monday(late, 3)]))
            assert older_id < newer_id
            seen = await activities.working_days_end(
                WorkingDaysInput(start_on=first_monday(late, 3), working_days=1)
            )
            assert f"{late} v1 #{newer_id}" in seen.calendar_source
            with pytest.raises(ApplicationError) as e:
                await activities.working_days_end(
                    WorkingDaysInput(start_on=first_monday(early, 3), working_days=1)
                )
            assert e.value.type == "CalendarYearMissing"
    finally:
        await slow.close()
    monday = first_monday(early, 3)
    result = await activities.working_days_end(WorkingDaysInput(start_on=monday, working_days=1))
    assert result.end_on == monday + timedelta(days=1)  # the Monday is a holiday
    assert f"{early} v1 #{older_id}" in result.calendar_source


async def test_the_console_comes_before_the_file_and_the_file_fills_the_rest(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    file = tmp_path / "supplement.yaml"
    file.write_text(
        "years:\n"
        f"  {YEAR}: {{source: file, holidays: [{YEAR}-01-04], workdays: []}}\n"
        f"  {YEAR + 1}: {{source: file, holidays: [{YEAR + 1}-01-03], workdays: []}}\n",
        "utf-8",
    )
    await save(sessions, entry(YEAR, [date(YEAR, 1, 1)]))
    cal = load_calendar(file, await console_years(sessions))
    assert date(YEAR, 1, 1) in cal.holidays and date(YEAR, 1, 4) not in cal.holidays
    assert date(YEAR + 1, 1, 3) in cal.holidays
    assert {YEAR, YEAR + 1} <= cal.years
    assert f"(years {YEAR + 1})" in cal.source and "console calendar_years" in cal.source


async def test_a_package_year_replaces_an_entry_and_a_disagreement_is_kept_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """As when a newer chinesecalendar brings a year an administrator had entered (here: an
    entry for the package's last year, saved as the console would have before the release)."""
    real = sorted(d for d in package.holidays if d.year == LAST)
    wrong = [*real[1:], first_monday(LAST, 3)]  # one holiday missed, one day invented
    row = await save(sessions, entry(LAST, wrong))
    noted: set[tuple[int, str]] = set()
    for _ in range(3):
        cal = load_calendar(None, await console_years(sessions, noted))
        assert real[0] in cal.holidays and first_monday(LAST, 3) not in cal.holidays
        assert cal.source == "chinesecalendar 1.11.0"
    async with sessions() as s:
        diffs = [d for d in await recorded_diffs(s) if d.entry_id == row]
        count = await s.scalar(select(func.count()).select_from(CalendarYearDiff))
    assert count == 1 and len(diffs) == 1
    assert diffs[0].package_version == "1.11.0"
    assert diffs[0].diff.holidays_only_package == (real[0],)
    assert diffs[0].diff.holidays_only_entry == (first_monday(LAST, 3),)
    # an entry that agrees with the package leaves no difference
    workdays = tuple(sorted(d for d in package.workdays if d.year == LAST))
    await save(sessions, entry(LAST, real, workdays))
    await console_years(sessions)
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(CalendarYearDiff)) == 1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE calendar_years SET source = 'x'",
        "DELETE FROM calendar_years",
        "TRUNCATE calendar_years",
        "UPDATE calendar_year_diffs SET package_version = 'x'",
        "DELETE FROM calendar_year_diffs",
    ],
)
async def test_the_service_may_add_an_entry_but_never_change_one(
    migrated_database_url: str, statement: str
) -> None:
    conn = await asyncpg.connect(to_libpq_url(migrated_database_url))
    try:
        async with conn.transaction():
            await conn.execute(f"SET LOCAL ROLE {APP_ROLE}")
            await conn.execute(
                "INSERT INTO calendar_years (year, version, holidays, workdays, holidays_text,"
                " workdays_text, source, entered_by, entered_role) VALUES"
                f" ({YEAR}, 1, ARRAY['{YEAR}-01-01']::date[], '{{}}', '', '', 's', 'a',"
                " 'administrator')"
            )
            assert await conn.fetchval("SELECT count(*) FROM calendar_years") == 1
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                await conn.execute(statement)
    finally:
        await conn.close()


async def test_a_version_number_is_taken_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await save(sessions, entry(YEAR, [date(YEAR, 1, 1)]))
    async with sessions() as s:
        s.add(
            CalendarYear(
                year=YEAR,
                version=1,
                holidays=[],
                workdays=[],
                holidays_text="",
                workdays_text="",
                source="",
                entered_by="b",
                entered_role="administrator",
            )
        )
        with pytest.raises(Exception, match="uq_calendar_years_year_version"):
            await s.commit()
