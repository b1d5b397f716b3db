"""Each way of changing history behind the application's back is detected and located.

The log is written by the real recording activity; the tampering is done as a superuser with
the triggers off (``session_replication_role = replica``), the only way past them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audit.chain import CASE_CHAIN
from audit.checkpoints import CheckpointRefused, create_checkpoint
from tests.audit.conftest import (
    Keys,
    check,
    fetch,
    forge_checkpoint,
    insert_forged,
    insert_statement,
    old_checkpoint,
    recompute_chain,
    record_all,
    seq_at,
    sign,
    story,
    tamper,
)

CASES = ("A-1", "B-2", "C-3")


@pytest.fixture
async def signed_log(
    log_url: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> str:
    """Three cases of eight events; a checkpoint after the first three of each, another at
    the end."""
    stories = {c: story(c) for c in CASES}
    for case_id in CASES:
        await record_all(log_sessions, stories[case_id][:3])
    await sign(log_sessions, keys)
    for case_id in CASES:
        await record_all(log_sessions, stories[case_id][3:])
    await sign(log_sessions, keys)
    return log_url


async def test_a_clean_log_verifies(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    report = await check(log_sessions, keys, checkpoints=None)
    assert report.ok, report.faults
    assert (report.cases, report.events, len(report.checkpoints)) == (3, 24, 2)


async def test_an_edited_event_is_found_where_it_was_edited(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    await tamper(
        signed_log,
        "UPDATE case_events SET summary = summary || '（已改）' "
        "WHERE case_id = 'B-2' AND chain_index = 5",
    )
    report = await check(log_sessions, keys)
    assert [(f.kind, f.case_id, f.chain_index, f.seq) for f in report.faults] == [
        ("edited", "B-2", 5, await seq_at(signed_log, CASE_CHAIN, "B-2", 5))
    ]
    assert "案件 B-2：第 5 条记录" in report.faults[0].message


async def test_an_edited_payload_is_found_too(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    # a secret-ballot tally, a finding: the payload is covered like every other field
    await tamper(
        signed_log,
        """UPDATE case_events SET payload = jsonb_set(payload, '{finding}', '"有问题"')
           WHERE case_id = 'A-1' AND chain_index = 5""",
    )
    report = await check(log_sessions, keys)
    assert [(f.kind, f.case_id, f.chain_index) for f in report.faults] == [("edited", "A-1", 5)]


async def test_a_deleted_event_is_found_by_the_gap(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    await tamper(signed_log, "DELETE FROM case_events WHERE case_id = 'C-3' AND chain_index = 4")
    report = await check(log_sessions, keys)
    assert [(f.kind, f.case_id, f.chain_index) for f in report.faults] == [("missing", "C-3", 4)]
    assert "链上第 4 条记录被删除" in report.faults[0].message


async def test_an_inserted_event_is_found_by_the_broken_link(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    # Make room after event 2 and insert a well-formed event there, linked to event 2.
    await insert_forged(
        signed_log,
        CASE_CHAIN,
        "B-2",
        3,
        kind="input",
        actor_name="某人",
        summary="补录的材料",
        payload={"person_id": "p9"},
    )
    report = await check(log_sessions, keys)
    first = report.first_fault_per_case()
    assert set(first) == {"B-2"}
    assert (first["B-2"].kind, first["B-2"].chain_index) == ("broken_link", 4)
    assert "插入" in first["B-2"].message


async def test_a_truncated_tail_is_found_against_the_checkpoint(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    await tamper(signed_log, "DELETE FROM case_events WHERE case_id = 'A-1' AND chain_index >= 7")
    report = await check(log_sessions, keys)
    assert [(f.kind, f.case_id, f.chain_index) for f in report.faults] == [("truncated", "A-1", 7)]
    assert "末尾的第 7 至 8 条被删除了" in report.faults[0].message


async def test_no_checkpoint_is_signed_over_a_cut_tail(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    await tamper(signed_log, "DELETE FROM case_events WHERE case_id = 'A-1' AND chain_index >= 7")
    async with log_sessions() as session:
        with pytest.raises(CheckpointRefused) as refused:
            await create_checkpoint(session, keys.private)
    assert refused.value.problems == ["案件 A-1：检查点 #2 所签的第 8 条记录已不存在"]
    [row] = await fetch(signed_log, "SELECT count(*) AS n FROM audit_checkpoints")
    assert row["n"] == 2


async def test_a_recomputed_chain_is_found_against_the_signed_heads(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    # Change event 5 and recompute every hash from there on: the chain is whole again.
    await recompute_chain(signed_log, CASE_CHAIN, "C-3", 5)

    assert (await check(log_sessions, keys, checkpoints=None, case_id="A-1")).ok
    report = await check(log_sessions, keys, checkpoints=None)
    assert [(f.kind, f.case_id, f.chain_index) for f in report.faults] == [("rewritten", "C-3", 8)]
    # the older checkpoint still vouches for events 1-3: the change lies after them
    assert (
        "链在第 8 条或其之前被改写过，在第 3 条（仍有检查点为其作证）之后"
        in report.faults[0].message
    )
    async with log_sessions() as session:  # and the next checkpoint will not launder it
        with pytest.raises(
            CheckpointRefused, match="案件 C-3：检查点 #2 所签的第 8 条记录已被改动"
        ):
            await create_checkpoint(session, keys.private)


async def test_a_vanished_case_is_found(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    await tamper(signed_log, "DELETE FROM case_events WHERE case_id = 'A-1'")
    report = await check(log_sessions, keys)
    assert [(f.kind, f.case_id) for f in report.faults] == [("vanished", "A-1")]


async def test_an_altered_checkpoint_is_found(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    await tamper(
        signed_log,
        "UPDATE audit_checkpoints SET case_heads = case_heads - 'B-2' "
        "WHERE id = (SELECT max(id) FROM audit_checkpoints)",
    )
    report = await check(log_sessions, keys)
    assert [f.kind for f in report.faults] == ["checkpoint", "checkpoint"]
    assert "推不出它的默克尔根" in report.faults[0].message
    assert "其链头合计 16 条记录" in report.faults[1].message


async def test_a_checkpoint_of_another_key_is_refused(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], other_keys: Keys
) -> None:
    report = await check(log_sessions, other_keys)
    assert [(f.kind, f.checkpoint) for f in report.faults] == [
        ("checkpoint_foreign_key", 1),
        ("checkpoint_foreign_key", 2),
    ]
    assert "不在公钥环中" in report.faults[0].message
    assert report.checkpoints == []  # none of them vouches for anything


# --------------------------------------------------------------------------- the checkpoints


async def test_a_forged_checkpoint_on_a_rewritten_log_is_found_and_not_signed_over(
    signed_log: str,
    log_sessions: async_sessionmaker[AsyncSession],
    keys: Keys,
    other_keys: Keys,
) -> None:
    """Attack (a): cut a chain short and recompute another, then insert a checkpoint over the
    tampered heads, numbered and linked as the next of the chain, signed with a key of one's
    own. The next checkpoint used to sign over it and the default verification to see
    nothing; now both name the forged checkpoint, and the log is compared with the newest
    checkpoint the service did sign."""
    await tamper(signed_log, "DELETE FROM case_events WHERE case_id = 'A-1' AND chain_index >= 7")
    await recompute_chain(signed_log, CASE_CHAIN, "C-3", 5)
    forged = await forge_checkpoint(signed_log, log_sessions, other_keys)
    assert forged == 3

    async with log_sessions() as session:
        with pytest.raises(CheckpointRefused) as refused:
            await create_checkpoint(session, keys.private)
    assert len(refused.value.problems) == 1
    assert "检查点 #3" in refused.value.problems[0] and "外来密钥" in refused.value.problems[0]
    [row] = await fetch(signed_log, "SELECT count(*) AS n FROM audit_checkpoints")
    assert row["n"] == 3  # nothing signed on top of it

    report = await check(log_sessions, keys)  # the default: the newest checkpoint that passes
    assert [(f.kind, f.checkpoint, f.case_id, f.chain_index) for f in report.faults] == [
        ("checkpoint_foreign_key", 3, None, None),
        ("truncated", None, "A-1", 7),
        ("rewritten", None, "C-3", 8),
    ]
    assert report.checkpoints == [2]


async def test_a_removed_checkpoint_is_found_by_the_next_ones_link(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    await sign(log_sessions, keys)  # #3, linked to #2
    await tamper(signed_log, "DELETE FROM audit_checkpoints WHERE id = 2")
    report = await check(log_sessions, keys)
    assert [(f.kind, f.checkpoint) for f in report.faults] == [("checkpoint_missing", 2)]
    assert "#3" in report.faults[0].message
    async with log_sessions() as session:
        with pytest.raises(CheckpointRefused, match="检查点 #2 缺失"):
            await create_checkpoint(session, keys.private)


async def test_an_altered_checkpoint_statement_breaks_the_next_link(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    await tamper(
        signed_log,
        "UPDATE audit_checkpoints SET created_at = created_at - interval '1 hour' WHERE id = 1",
    )
    report = await check(log_sessions, keys)
    assert [(f.kind, f.checkpoint) for f in report.faults] == [
        ("checkpoint", 1),
        ("checkpoint_link", 1),
    ]
    assert "签名与其声明不符" in report.faults[0].message
    assert "被替换或篡改" in report.faults[1].message
    assert report.checkpoints == [2]  # #2 itself is still the service's


async def test_an_older_version_inserted_after_a_linked_one_is_found(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    # even signed with the service's key (an old statement replayed, say): versions only rise
    values = await old_checkpoint(log_sessions, keys, datetime.now(UTC))
    await tamper(
        signed_log, insert_statement("audit_checkpoints", {**values, "id": 3, "version": 1})
    )
    report = await check(log_sessions, keys)
    assert [(f.kind, f.checkpoint) for f in report.faults] == [("checkpoint_link", 3)]
    assert "它是插入的" in report.faults[0].message


@pytest.fixture
async def copied_log(
    log_url: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys, tmp_path: Path
) -> Path:
    """``signed_log``'s stories and checkpoints, each checkpoint copied to a folder as the
    service does; the folder."""
    copies = tmp_path / "copies"
    stories = {c: story(c) for c in CASES}
    for case_id in CASES:
        await record_all(log_sessions, stories[case_id][:3])
    await sign(log_sessions, keys, copies=copies)
    for case_id in CASES:
        await record_all(log_sessions, stories[case_id][3:])
    await sign(log_sessions, keys, copies=copies)
    return copies


async def test_deleted_checkpoints_are_found_by_their_copies_and_not_signed_over(
    log_url: str,
    copied_log: Path,
    log_sessions: async_sessionmaker[AsyncSession],
    keys: Keys,
) -> None:
    """Attack (b): delete every checkpoint, rewrite a chain, and let the next checkpoint sign
    the rewritten log afresh. Verification used to say "no checkpoint yet" and OK."""
    assert (await check(log_sessions, keys, copies=copied_log)).ok
    await tamper(log_url, "DELETE FROM audit_checkpoints")
    await recompute_chain(log_url, CASE_CHAIN, "B-2", 4)

    report = await check(log_sessions, keys, copies=copied_log)
    assert [(f.kind, f.checkpoint) for f in report.faults] == [("checkpoint_missing", 1)]
    assert "检查点 #1 至 #2" in report.faults[0].message
    assert "被删除" in report.faults[0].message

    async with log_sessions() as session:
        with pytest.raises(CheckpointRefused, match="检查点 #1 至 #2"):
            await create_checkpoint(session, keys.private, copies=copied_log)
    [row] = await fetch(log_url, "SELECT count(*) AS n FROM audit_checkpoints")
    assert row["n"] == 0


async def test_the_newest_checkpoint_removed_is_found_by_its_copy(
    log_url: str,
    copied_log: Path,
    log_sessions: async_sessionmaker[AsyncSession],
    keys: Keys,
) -> None:
    await tamper(log_url, "DELETE FROM audit_checkpoints WHERE id = 2")
    report = await check(log_sessions, keys, copies=copied_log)
    assert [(f.kind, f.checkpoint) for f in report.faults] == [("checkpoint_missing", 2)]
    assert report.checkpoints == [1]


async def test_without_copies_deleted_checkpoints_leave_only_a_note(
    log_url: str,
    copied_log: Path,
    log_sessions: async_sessionmaker[AsyncSession],
    keys: Keys,
) -> None:
    # what the database alone can say: the copies are what tells
    await tamper(log_url, "DELETE FROM audit_checkpoints")
    report = await check(log_sessions, keys)
    assert report.ok
    assert "还没有检查点" in report.notes[0] and "--against" in report.notes[0]


async def test_without_a_checkpoint_the_chains_still_verify_with_a_note(
    log_url: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    await record_all(log_sessions, story("N-1"))
    report = await check(log_sessions, keys)
    assert report.ok
    assert "还没有检查点" in report.notes[0]
