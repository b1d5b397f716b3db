"""However often and however concurrently an event is recorded, it is in the log once, and
each case's chain stays numbered 1..n without gaps or forks."""

from __future__ import annotations

import asyncio
import random

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.records import RecordActivities
from audit.chain import GENESIS, ChainFields, event_hash, person_ids
from audit.queries import timeline
from audit.verify import verify_log
from tests.audit.conftest import Keys, story


async def chain_of(
    sessions: async_sessionmaker[AsyncSession], case_id: str
) -> list[tuple[int, int]]:
    async with sessions() as session:
        events = await timeline(session, case_id)
    return sorted((e.chain_index, e.seq) for e in events)


async def test_retries_one_after_another_write_once(
    session_factory: async_sessionmaker[AsyncSession], new_case_id: str
) -> None:
    records = RecordActivities(session_factory)
    first, second = story(new_case_id)[:2]
    assert [await records.record_event(first) for _ in range(4)] == [True, False, False, False]
    assert await records.record_event(second)
    assert not await records.record_event(first)  # a late retry of an older event
    assert await chain_of(session_factory, new_case_id) == [(1, 1), (2, 2)]


async def test_retries_running_at_once_write_once_and_leave_no_gaps(
    session_factory: async_sessionmaker[AsyncSession], new_case_id: str, keys: Keys
) -> None:
    records = RecordActivities(session_factory)
    events = story(new_case_id)
    # every event five times, all at once, in random order
    attempts = random.Random(4).sample(events * 5, k=len(events) * 5)

    results = await asyncio.gather(*(records.record_event(e) for e in attempts))

    assert results.count(True) == len(events)
    chain = await chain_of(session_factory, new_case_id)
    assert [index for index, _ in chain] == list(range(1, len(events) + 1))
    assert sorted(seq for _, seq in chain) == [e.seq for e in events]
    async with session_factory() as session:
        report = await verify_log(session, keys.public, case_id=new_case_id)
    assert report.ok, report.faults
    assert report.events == len(events)


async def test_concurrent_cases_each_keep_their_own_chain(
    session_factory: async_sessionmaker[AsyncSession], new_case_id: str, keys: Keys
) -> None:
    records = RecordActivities(session_factory)
    case_ids = [f"{new_case_id}-{n}" for n in range(4)]
    attempts = [e for c in case_ids for e in story(c)] * 2
    random.Random(9).shuffle(attempts)

    await asyncio.gather(*(records.record_event(e) for e in attempts))

    for case_id in case_ids:
        assert [i for i, _ in await chain_of(session_factory, case_id)] == list(range(1, 9))
        async with session_factory() as session:
            assert (await verify_log(session, keys.public, case_id=case_id)).ok


async def test_the_stored_hash_is_the_recipe_applied_to_the_stored_event(
    session_factory: async_sessionmaker[AsyncSession], new_case_id: str
) -> None:
    events = story(new_case_id)
    # payloads whose JSON could be spelled several ways: key order, floats, non-ASCII text
    events[4] = events[4].model_copy(
        update={"payload": {"z": 1.5, "a": [3, 2.0, "考察"], "person_id": "p1", "n": 10**15}}
    )
    records = RecordActivities(session_factory)
    for e in events:
        await records.record_event(e)
    async with session_factory() as session:
        stored = sorted(await timeline(session, new_case_id), key=lambda e: e.chain_index)
    prev = GENESIS
    for row in stored:
        fields = ChainFields(
            row.case_id,
            row.seq,
            row.chain_index,
            row.kind,
            row.stage,
            row.occurred_at,
            row.actor_name,
            row.actor_role,
            row.summary,
            row.payload,
        )
        assert row.prev_hash == prev
        assert row.hash == event_hash(prev, fields)
        assert list(row.person_ids) == person_ids(row.payload)
        prev = row.hash
    assert stored[0].person_ids == ("p1", "p2")  # the candidates of the opened case
    assert stored[6].person_ids == ("p1",)  # "proposed"
