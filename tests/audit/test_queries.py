"""Auditors' queries: a timeline, searches by each filter with keyset pages, a case as of a
date."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audit.queries import Cursor, Search, as_of, search, timeline
from tests.audit.conftest import SHANGHAI, T0, record_all, story


@pytest.fixture
async def three_cases(
    log_url: str, log_sessions: async_sessionmaker[AsyncSession]
) -> async_sessionmaker[AsyncSession]:
    """Q-1 and Q-2 of one unit, Q-3 of another a month later; p1 is in Q-1 and Q-3."""
    await record_all(log_sessions, story("Q-1", people=("p1", "p2")))
    await record_all(log_sessions, story("Q-2", people=("p3", "p4"), start=T0 + timedelta(hours=1)))
    await record_all(
        log_sessions,
        story("Q-3", unit="县财政局", people=("p1", "p5"), start=T0 + timedelta(days=30)),
    )
    return log_sessions


async def find(sessions: async_sessionmaker[AsyncSession], **filters: Any) -> list[tuple[str, int]]:
    """Every matching event, page by page (pages of 3), as (case_id, seq)."""
    found: list[tuple[str, int]] = []
    after = None
    async with sessions() as session:
        while True:
            page = await search(session, Search(**filters), page_size=3, after=after)
            found += [(e.case_id, e.seq) for e in page.events]
            if page.next is None:
                return found
            after = Cursor.parse(str(page.next))  # as the command line passes it on


async def test_timeline_is_the_whole_case_in_order(
    three_cases: async_sessionmaker[AsyncSession],
) -> None:
    async with three_cases() as session:
        events = await timeline(session, "Q-2")
        assert await timeline(session, "nobody") == []
    assert [e.seq for e in events] == list(range(1, 9))
    assert [e.chain_index for e in events] == list(range(1, 9))
    assert events[0].kind == "opened" and events[0].actor_name == "王科员"
    assert all(len(e.hash) == 64 for e in events)


async def test_search_by_person_finds_them_at_any_depth(
    three_cases: async_sessionmaker[AsyncSession],
) -> None:
    # p1: a candidate of Q-1 and Q-3 (opened), checked (seq 5), proposed (seq 7)
    assert await find(three_cases, person="p1") == [
        ("Q-1", 1),
        ("Q-1", 5),
        ("Q-1", 7),
        ("Q-3", 1),
        ("Q-3", 5),
        ("Q-3", 7),
    ]
    assert await find(three_cases, person="p4") == [("Q-2", 1)]
    assert await find(three_cases, person="nobody") == []


async def test_search_by_actor_unit_stage_and_kind(
    three_cases: async_sessionmaker[AsyncSession],
) -> None:
    assert await find(three_cases, actor="考察组 李组长", unit="县财政局") == [
        ("Q-3", 5),
        ("Q-3", 7),
    ]
    assert await find(three_cases, unit="县财政局") == [("Q-3", s) for s in range(1, 9)]
    assert await find(three_cases, kind="transition", stage="vote") == [
        ("Q-1", 8),
        ("Q-2", 8),
        ("Q-3", 8),
    ]
    assert await find(three_cases, kind="deadline") == [("Q-1", 2), ("Q-2", 2), ("Q-3", 2)]


async def test_search_by_date_range_in_beijing_days(
    three_cases: async_sessionmaker[AsyncSession],
) -> None:
    # events are one a day from 2026-09-01 09:30 and 10:30; Q-3 a month later
    assert await find(three_cases, date_from=date(2026, 9, 3), date_to=date(2026, 9, 4)) == [
        ("Q-1", 3),
        ("Q-2", 3),
        ("Q-1", 4),
        ("Q-2", 4),
    ]
    assert await find(three_cases, date_from=date(2026, 10, 1), kind="opened") == [("Q-3", 1)]
    with pytest.raises(ValueError, match="日期范围为空"):
        await find(three_cases, date_from=date(2026, 9, 5), date_to=date(2026, 9, 4))


async def test_pages_cover_everything_once_in_order(
    three_cases: async_sessionmaker[AsyncSession],
) -> None:
    found = await find(three_cases)
    assert len(found) == len(set(found)) == 24
    async with three_cases() as session:
        first = await search(session, Search(), page_size=5)
        second = await search(session, Search(), page_size=5, after=first.next)
        everything = await search(session, Search(), page_size=24)
    instants = [(e.occurred_at, e.id) for e in everything.events]
    assert instants == sorted(instants)
    assert [e.id for e in first.events + second.events] == [e.id for e in everything.events[:10]]
    assert everything.next is None


def test_a_malformed_cursor_is_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="不是翻页标记"):
        Cursor.parse("2026-09-01~x")
    at = datetime(2026, 9, 1, 1, 30, tzinfo=SHANGHAI)
    assert Cursor.parse(str(Cursor(at, 42))) == Cursor(at, 42)


async def test_as_of_a_date_between_two_transitions(
    three_cases: async_sessionmaker[AsyncSession],
) -> None:
    async with three_cases() as session:
        # Q-1, by the days of its acts (audit.act_dates): to inspection on 09-03, the day of
        # the notice that brought it there (seq 3, 4), to the vote on 09-07, the day of the
        # conclusion (seq 7, 8)
        before = await as_of(session, "Q-1", date(2026, 9, 2))
        between = await as_of(session, "Q-1", date(2026, 9, 6))
        after = await as_of(session, "Q-1", date(2026, 9, 8))
        not_yet = await as_of(session, "Q-3", date(2026, 9, 6))
    assert before.standing is not None and before.standing.stage == "investigation_notice"
    assert between.standing is not None
    assert (between.standing.stage, between.standing.status) == ("inspection", "active")
    assert [e.seq for e in between.events] == [1, 2, 3, 4, 5, 6]
    assert between.standing.policy_version == "2026.1"
    assert between.standing.unit == "县生态环境局"
    assert between.standing.last_deadline is not None
    assert between.standing.last_deadline.payload["calendar_source"].startswith("chinese_calendar")
    assert between.until == datetime(2026, 9, 7, tzinfo=SHANGHAI)
    assert after.standing is not None and after.standing.stage == "vote"
    assert not_yet.standing is None and not_yet.events == []
