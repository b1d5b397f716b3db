"""Probation events are in the audit trail like a case's: hash-chained per probation, written
once however often retried, covered by the signed checkpoints, and every way of changing them
behind the application's back is detected and located (the probation and the event).

The tampering is done as a superuser with the triggers off, the only way past them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.probation_records import ProbationRecordActivities
from audit.chain import GENESIS, PROBATION_CHAIN, event_hash
from audit.checkpoints import (
    CHECKPOINT_VERSION,
    CheckpointRefused,
    create_checkpoint,
    current_heads,
    latest_checkpoints,
    statement,
)
from audit.merkle import leaf_name, merkle_root
from audit.queries import probation_chain
from audit.verify import Fault
from tests.audit.conftest import (
    Keys,
    check,
    fetch,
    insert_forged,
    insert_statement,
    old_checkpoint,
    probation_story,
    recompute_chain,
    record_all,
    record_probation,
    seq_at,
    sign,
    started_probation,
    story,
    tamper,
)
from workflows.probation_types import probation_workflow_id

CASES = ("A-1", "B-2")
P_A = probation_workflow_id("A-1", "p1")
P_B = probation_workflow_id("B-2", "p1")


def located(faults: list[Fault]) -> list[tuple[str, str | None, str | None, int | None]]:
    return [(f.kind, f.case_id, f.probation_id, f.chain_index) for f in faults]


@pytest.fixture
async def signed_log(
    log_url: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> str:
    """Two appointed cases, a probation each of five events; a checkpoint after the first two
    events of each probation, another at the end."""
    for case_id in CASES:
        await record_all(log_sessions, [*story(case_id), started_probation(case_id, "p1")])
        await record_probation(log_sessions, probation_story(case_id)[:2])
    await sign(log_sessions, keys)
    for case_id in CASES:
        await record_probation(log_sessions, probation_story(case_id)[2:])
    await sign(log_sessions, keys)
    return log_url


# --------------------------------------------------------------------------- recording


async def chain_of(
    sessions: async_sessionmaker[AsyncSession], probation_id: str
) -> list[tuple[int, int]]:
    async with sessions() as session:
        links = await probation_chain(session, probation_id)
    return [(e.link.fields.chain_index, e.link.fields.seq) for e in links]


async def test_retries_one_after_another_write_once(
    session_factory: async_sessionmaker[AsyncSession], new_case_id: str
) -> None:
    record = ProbationRecordActivities(session_factory).record_probation_event
    first, second = probation_story(new_case_id)[:2]
    assert [await record(first) for _ in range(4)] == [True, False, False, False]
    assert await record(second)
    assert not await record(first)  # a late retry of an older event
    pid = probation_workflow_id(new_case_id, "p1")
    assert await chain_of(session_factory, pid) == [(1, 1), (2, 2)]


async def test_retries_running_at_once_write_once_and_leave_no_gaps(
    session_factory: async_sessionmaker[AsyncSession], database_url: str, new_case_id: str
) -> None:
    record = ProbationRecordActivities(session_factory).record_probation_event
    events = [e for person in ("p1", "p2") for e in probation_story(new_case_id, person)]
    # every event of two probations five times, all at once, in random order
    attempts = random.Random(7).sample(events * 5, k=len(events) * 5)

    results = await asyncio.gather(*(record(e) for e in attempts))

    assert results.count(True) == len(events)
    for person in ("p1", "p2"):
        chain = await chain_of(session_factory, probation_workflow_id(new_case_id, person))
        assert [index for index, _ in chain] == [1, 2, 3, 4, 5]
        assert sorted(seq for _, seq in chain) == [1, 2, 3, 4, 5]
    [row] = await fetch(
        database_url,
        "SELECT count(*) AS n FROM probation_events WHERE probation_id LIKE $1",
        f"probation:{new_case_id}:%",
    )
    assert row["n"] == len(events)


async def test_the_stored_hash_is_the_recipe_applied_to_the_stored_event(
    session_factory: async_sessionmaker[AsyncSession], database_url: str, new_case_id: str
) -> None:
    events = probation_story(new_case_id)
    # a payload whose JSON could be spelled several ways: key order, floats, non-ASCII text
    events[3] = events[3].model_copy(
        update={"payload": {"z": 1.5, "a": [3, 2.0, "考核"], "n": 10**15}}
    )
    await record_probation(session_factory, events)
    pid = probation_workflow_id(new_case_id, "p1")
    rows = await fetch(
        database_url,
        "SELECT * FROM probation_events WHERE probation_id = $1 ORDER BY chain_index",
        pid,
    )
    assert [row["chain_index"] for row in rows] == [1, 2, 3, 4, 5]
    prev = GENESIS
    for row in rows:
        fields = PROBATION_CHAIN.fields_of(dict(row), payload=json.loads(row["payload"]))
        assert row["prev_hash"] == prev
        assert row["hash"] == event_hash(prev, fields)
        prev = row["hash"]
    # the canonical JSON names the probation, and has no stage
    body = json.loads(fields.canonical())
    assert body["probation_id"] == pid and "stage" not in body and "case_id" not in body


# --------------------------------------------------------------------------- checkpoints


async def test_a_clean_log_verifies_with_the_probations(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    report = await check(log_sessions, keys, checkpoints=None)
    assert report.ok, report.faults
    assert (report.cases, report.probations, report.events) == (2, 2, 2 * 9 + 2 * 5)
    async with log_sessions() as session:
        [newest, _] = await latest_checkpoints(session, None)
    assert newest.version == CHECKPOINT_VERSION
    assert {p: index for p, (index, _) in newest.probation_heads.items()} == {P_A: 5, P_B: 5}
    assert newest.event_count == 28  # every event of every chain


async def test_one_case_and_its_probations_can_be_verified_alone(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    await tamper(signed_log, f"DELETE FROM probation_events WHERE probation_id = '{P_B}'")
    only_a = await check(log_sessions, keys, checkpoints=None, case_id="A-1")
    assert only_a.ok and (only_a.cases, only_a.probations) == (1, 1)
    only_b = await check(log_sessions, keys, case_id="B-2")
    assert located(only_b.faults) == [("vanished", None, P_B, 1)]


def test_a_case_and_a_probation_can_never_share_a_leaf() -> None:
    # whatever the ids: a case named like a probation, and the other way round
    heads = {"case/x": (1, "a" * 64), "probation/x": (1, "a" * 64)}
    assert leaf_name("case", "x", 2) != leaf_name("probation", "x", 2)
    assert leaf_name("case", "probation/x", 2) != leaf_name("probation", "x", 2)
    digest = hashlib.sha256(f"probation/x:1:{'a' * 64}".encode()).digest()
    other = hashlib.sha256(f"case/x:1:{'a' * 64}".encode()).digest()
    assert merkle_root(heads) == hashlib.sha256(other + digest).hexdigest()
    with pytest.raises(ValueError, match="cases only"):
        leaf_name("probation", "x", 1)


def test_the_version_is_in_the_signed_statement() -> None:
    at = datetime(2026, 9, 1, 1, 2, 3, tzinfo=UTC)
    assert statement(at, 42, "k1", "ab", version=2).startswith(
        b"cadre-appointments audit checkpoint v2\n{"
    )
    assert statement(at, 42, "k1", "ab", version=1) != statement(at, 42, "k1", "ab", version=2)


async def sign_old_checkpoint(
    url: str, sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    """A checkpoint as signed before probations were chained (version 1)."""
    values = await old_checkpoint(sessions, keys, datetime(2026, 9, 30, 8, 0, tzinfo=UTC))
    async with sessions() as session:  # the leaves of version 1: the bare case ids
        assert values["merkle_root"] == merkle_root(await current_heads(session))
    await tamper(url, insert_statement("audit_checkpoints", {**values, "version": 1}))


async def test_an_old_checkpoint_still_verifies_and_still_guards_the_cases(
    log_url: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    await record_all(log_sessions, [*story("O-1"), started_probation("O-1", "p1")])
    await record_probation(log_sessions, probation_story("O-1"))
    await sign_old_checkpoint(log_url, log_sessions, keys)

    report = await check(log_sessions, keys)
    assert report.ok, report.faults
    assert (report.checkpoints, report.cases, report.probations) == ([1], 1, 1)

    # a version 1 checkpoint still catches a cut tail of a case; it says nothing of probations
    await tamper(log_url, "DELETE FROM case_events WHERE case_id = 'O-1' AND chain_index = 9")
    report = await check(log_sessions, keys)
    assert located(report.faults) == [("truncated", "O-1", None, 9)]
    async with log_sessions() as session:  # and the next (version 2) checkpoint is refused
        with pytest.raises(CheckpointRefused, match="案件 O-1：检查点 #1 所签的第 9 条记录"):
            await create_checkpoint(session, keys.private)


async def test_an_old_checkpoint_then_a_new_one(
    log_url: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    await record_all(log_sessions, story("O-2"))
    await sign_old_checkpoint(log_url, log_sessions, keys)
    await record_probation(log_sessions, probation_story("O-2"))
    async with log_sessions() as session:
        new = await create_checkpoint(session, keys.private)
    assert new.version == CHECKPOINT_VERSION and set(new.probation_heads) == {
        probation_workflow_id("O-2", "p1")
    }
    report = await check(log_sessions, keys, checkpoints=None)
    assert report.ok, report.faults
    assert report.checkpoints == [2, 1]


async def test_an_old_checkpoint_passed_off_as_new_fails(
    log_url: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    await record_all(log_sessions, story("O-3"))
    await sign_old_checkpoint(log_url, log_sessions, keys)
    await tamper(log_url, "UPDATE audit_checkpoints SET version = 2")
    report = await check(log_sessions, keys)
    # its statement is no longer the one signed: it vouches for nothing, its heads unread
    assert [(f.kind, f.checkpoint) for f in report.faults] == [("checkpoint", 1)]
    assert "签名与其声明不符" in report.faults[0].message
    assert report.checkpoints == []


# --------------------------------------------------------------------------- tampering


async def test_an_edited_probation_event_is_found_where_it_was_edited(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    await tamper(
        signed_log,
        "UPDATE probation_events SET payload = jsonb_set(payload, '{outcome}', '\"not_competent\"')"
        f" WHERE probation_id = '{P_B}' AND chain_index = 4",
    )
    report = await check(log_sessions, keys)
    assert located(report.faults) == [("edited", None, P_B, 4)]
    assert report.faults[0].seq == await seq_at(signed_log, PROBATION_CHAIN, P_B, 4)
    assert f"试用期 {P_B}：第 4 条记录（序号 4，review）与其哈希值不符" in (
        report.faults[0].message
    )


async def test_a_deleted_probation_event_is_found_by_the_gap(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    await tamper(
        signed_log, f"DELETE FROM probation_events WHERE probation_id = '{P_A}' AND chain_index = 2"
    )
    report = await check(log_sessions, keys)
    assert located(report.faults) == [("missing", None, P_A, 2)]
    assert "链上第 2 条记录被删除" in report.faults[0].message


async def test_an_inserted_probation_event_is_found_by_the_broken_link(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    await insert_forged(
        signed_log, PROBATION_CHAIN, P_A, 3, kind="review", actor_name="某人", summary="补录的考核"
    )
    report = await check(log_sessions, keys)
    first = report.first_fault_per_probation()
    assert set(first) == {P_A} and not report.first_fault_per_case()
    assert (first[P_A].kind, first[P_A].chain_index) == ("broken_link", 4)
    assert "插入" in first[P_A].message


async def test_a_truncated_probation_is_found_against_the_checkpoint(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    await tamper(
        signed_log,
        f"DELETE FROM probation_events WHERE probation_id = '{P_A}' AND chain_index >= 4",
    )
    report = await check(log_sessions, keys)
    assert located(report.faults) == [("truncated", None, P_A, 4)]
    assert f"试用期 {P_A}：链止于第 3 条记录" in report.faults[0].message
    assert "末尾的第 4 至 5 条被删除了" in report.faults[0].message
    async with log_sessions() as session:
        with pytest.raises(CheckpointRefused) as refused:
            await create_checkpoint(session, keys.private)
    assert refused.value.problems == [f"试用期 {P_A}：检查点 #2 所签的第 5 条记录已不存在"]


async def test_a_recomputed_probation_chain_is_found_against_the_signed_heads(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    # Change the review (event 4) and recompute every hash from there on: whole again.
    await recompute_chain(signed_log, PROBATION_CHAIN, P_B, 4)

    assert (await check(log_sessions, keys, checkpoints=None, case_id="A-1")).ok
    report = await check(log_sessions, keys, checkpoints=None)
    assert located(report.faults) == [("rewritten", None, P_B, 5)]
    # the older checkpoint still vouches for events 1-2: the change lies after them
    assert (
        "链在第 5 条或其之前被改写过，在第 2 条（仍有检查点为其作证）之后"
        in report.faults[0].message
    )
    async with log_sessions() as session:
        with pytest.raises(
            CheckpointRefused,
            match=f"试用期 {P_B}：检查点 #2 所签的第 5 条记录已被改动",
        ):
            await create_checkpoint(session, keys.private)


async def test_a_vanished_probation_is_found(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    await tamper(signed_log, f"DELETE FROM probation_events WHERE probation_id = '{P_A}'")
    report = await check(log_sessions, keys)
    assert located(report.faults) == [("vanished", None, P_A, 1)]
    assert f"试用期 {P_A}：" in report.faults[0].message
    assert "的检查点 #2 签了它的" in report.faults[0].message


async def test_a_probation_head_removed_from_a_checkpoint_is_found(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    await tamper(
        signed_log,
        f"UPDATE audit_checkpoints SET probation_heads = probation_heads - '{P_A}' "
        "WHERE id = (SELECT max(id) FROM audit_checkpoints)",
    )
    report = await check(log_sessions, keys)
    assert [f.kind for f in report.faults] == ["checkpoint", "checkpoint"]
    assert "推不出它的默克尔根" in report.faults[0].message
    assert "其链头合计 23 条记录" in report.faults[1].message
