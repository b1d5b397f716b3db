"""The calendar years administrators enter in the console (工作日历录入), and the differences
found when the package later brings the same year.

``calendar_years`` is append-only: each save is a new version of its year (1, 2, ...), with
the notice's text as pasted, the days as typed and as read, and who saved it when; the
newest version of a year is the one used. ``calendar_year_diffs`` keeps, once per entry and
package release, the days on which a release of ``chinesecalendar`` that knows the year
disagrees with the entry it replaced. Migration 0011 creates both; the service may insert
and read them, never change or remove a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Integer,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, distinct_on, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from store.models import Base
from workflows.rules.calendar_years import CalendarEntry, YearDays, YearDiff


class CalendarYear(Base):
    __tablename__ = "calendar_years"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    holidays: Mapped[list[date]] = mapped_column(ARRAY(Date))
    workdays: Mapped[list[date]] = mapped_column(ARRAY(Date))
    holidays_text: Mapped[str] = mapped_column(Text)  # as typed, with the holidays' names
    workdays_text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)  # the notice's text as pasted
    entered_by: Mapped[str] = mapped_column(Text)
    entered_role: Mapped[str] = mapped_column(Text)
    entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (UniqueConstraint("year", "version", name="uq_calendar_years_year_version"),)


class CalendarYearDiff(Base):
    __tablename__ = "calendar_year_diffs"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("calendar_years.id", name="fk_calendar_year_diffs_entry_id_calendar_years"),
    )
    year: Mapped[int] = mapped_column(Integer)
    package_version: Mapped[str] = mapped_column(Text)
    holidays_only_entry: Mapped[list[date]] = mapped_column(ARRAY(Date))
    holidays_only_package: Mapped[list[date]] = mapped_column(ARRAY(Date))
    workdays_only_entry: Mapped[list[date]] = mapped_column(ARRAY(Date))
    workdays_only_package: Mapped[list[date]] = mapped_column(ARRAY(Date))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (
        UniqueConstraint(
            "entry_id", "package_version", name="uq_calendar_year_diffs_entry_id_package_version"
        ),
    )


@dataclass(frozen=True)
class StoredYear:
    """One saved version of a year."""

    id: int
    year: int
    version: int
    days: YearDays
    holidays_text: str
    workdays_text: str
    source: str
    entered_by: str
    entered_role: str
    entered_at: datetime


@dataclass(frozen=True)
class StoredDiff:
    entry_id: int
    year: int
    version: int  # of the entry
    package_version: str
    diff: YearDiff
    recorded_at: datetime


class SavedMeanwhile(Exception):
    """Someone saved the same year at the same moment; nothing was written."""


def _stored(row: CalendarYear) -> StoredYear:
    return StoredYear(
        row.id,
        row.year,
        row.version,
        YearDays(frozenset(row.holidays), frozenset(row.workdays)),
        row.holidays_text,
        row.workdays_text,
        row.source,
        row.entered_by,
        row.entered_role,
        row.entered_at,
    )


async def newest_years(session: AsyncSession) -> dict[int, StoredYear]:
    """The newest version of every year entered: what the calendar uses. One small query
    (a year has a row per save, a few a year)."""
    rows = await session.scalars(
        select(CalendarYear)
        .ext(distinct_on(CalendarYear.year))
        .order_by(CalendarYear.year, CalendarYear.version.desc())
    )
    return {row.year: _stored(row) for row in rows}


async def every_version(session: AsyncSession) -> list[StoredYear]:
    """Every saved version, newest year and newest version first."""
    rows = await session.scalars(
        select(CalendarYear).order_by(CalendarYear.year.desc(), CalendarYear.version.desc())
    )
    return [_stored(row) for row in rows]


async def save_year(
    session: AsyncSession,
    entry: CalendarEntry,
    holidays_text: str,
    workdays_text: str,
    entered_by: str,
    entered_role: str,
) -> StoredYear:
    """Add the entry as the year's next version and commit; ``SavedMeanwhile`` if another
    save of the same year took that number first."""
    newest = await session.scalar(
        select(func.max(CalendarYear.version)).where(CalendarYear.year == entry.year)
    )
    row = CalendarYear(
        year=entry.year,
        version=(newest or 0) + 1,
        holidays=sorted(entry.days.holidays),
        workdays=sorted(entry.days.workdays),
        holidays_text=holidays_text,
        workdays_text=workdays_text,
        source=entry.source,
        entered_by=entered_by,
        entered_role=entered_role,
    )
    session.add(row)
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise SavedMeanwhile(entry.year) from exc
    await session.refresh(row)
    return _stored(row)


async def record_diff(
    session: AsyncSession, entry: StoredYear, package_version: str, diff: YearDiff
) -> None:
    """Keep the difference between an entry and the package release that replaced it (once
    per entry and release; a second call changes nothing). Commits."""
    await session.execute(
        insert(CalendarYearDiff)
        .values(
            entry_id=entry.id,
            year=entry.year,
            package_version=package_version,
            holidays_only_entry=list(diff.holidays_only_entry),
            holidays_only_package=list(diff.holidays_only_package),
            workdays_only_entry=list(diff.workdays_only_entry),
            workdays_only_package=list(diff.workdays_only_package),
        )
        .on_conflict_do_nothing(constraint="uq_calendar_year_diffs_entry_id_package_version")
    )
    await session.commit()


async def recorded_diffs(session: AsyncSession) -> list[StoredDiff]:
    rows = await session.execute(
        select(CalendarYearDiff, CalendarYear.version)
        .join(CalendarYear, CalendarYear.id == CalendarYearDiff.entry_id)
        .order_by(CalendarYearDiff.year.desc(), CalendarYearDiff.id.desc())
    )
    return [
        StoredDiff(
            d.entry_id,
            d.year,
            version,
            d.package_version,
            YearDiff(
                tuple(d.holidays_only_entry),
                tuple(d.holidays_only_package),
                tuple(d.workdays_only_entry),
                tuple(d.workdays_only_package),
            ),
            d.recorded_at,
        )
        for d, version in rows
    ]
