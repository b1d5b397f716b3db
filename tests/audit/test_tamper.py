"""Each way of changing history behind the application's back is detected and located.

The log is written by the real recording activity; the tampering is done as a superuser with
the triggers off (``session_replication_role = replica``), the only way past them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audit.chain import ChainFields, event_hash
from audit.checkpoints import CheckpointRefused, create_checkpoint
from audit.verify import Report, verify_log
from tests.audit.conftest import Keys, fetch, record_all, story, tamper

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
    async with log_sessions() as session:
        await create_checkpoint(session, keys.private)
    for case_id in CASES:
        await record_all(log_sessions, stories[case_id][3:])
    async with log_sessions() as session:
        await create_checkpoint(session, keys.private)
    return log_url


async def check(sessions: async_sessionmaker[AsyncSession], keys: Keys, **options: Any) -> Report:
    async with sessions() as session:
        return await verify_log(session, keys.public, **options)


async def seq_at(url: str, case_id: str, chain_index: int) -> int:
    [row] = await fetch(
        url,
        "SELECT seq FROM case_events WHERE case_id = $1 AND chain_index = $2",
        case_id,
        chain_index,
    )
    return int(row["seq"])


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
        ("edited", "B-2", 5, await seq_at(signed_log, "B-2", 5))
    ]
    assert "case B-2: event 5" in report.faults[0].message


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
    assert "event 4 of the chain removed" in report.faults[0].message


async def test_an_inserted_event_is_found_by_the_broken_link(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    # Make room after event 2 and insert a well-formed event there, linked to event 2.
    [two] = await fetch(
        signed_log,
        "SELECT hash, occurred_at FROM case_events WHERE case_id = 'B-2' AND chain_index = 2",
    )
    forged = ChainFields(
        "B-2",
        99,
        3,
        "input",
        "investigation_notice",
        two["occurred_at"],
        "某人",
        "clerk",
        "补录的材料",
        {"person_id": "p9"},
    )
    await tamper(
        signed_log,
        "UPDATE case_events SET chain_index = chain_index + 100 "
        "WHERE case_id = 'B-2' AND chain_index >= 3",
        "UPDATE case_events SET chain_index = chain_index - 99 "
        "WHERE case_id = 'B-2' AND chain_index >= 103",
        (
            "INSERT INTO case_events (case_id, seq, chain_index, kind, stage, occurred_at, "
            "actor_name, actor_role, summary, payload, prev_hash, hash) "
            "VALUES ('B-2', 99, 3, 'input', 'investigation_notice', $1, '某人', 'clerk', "
            "'补录的材料', '{\"person_id\": \"p9\"}', $2, $3)",
            [two["occurred_at"], two["hash"], event_hash(two["hash"], forged)],
        ),
    )
    report = await check(log_sessions, keys)
    first = report.first_fault_per_case()
    assert set(first) == {"B-2"}
    assert (first["B-2"].kind, first["B-2"].chain_index) == ("broken_link", 4)
    assert "inserted" in first["B-2"].message


async def test_a_truncated_tail_is_found_against_the_checkpoint(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    await tamper(signed_log, "DELETE FROM case_events WHERE case_id = 'A-1' AND chain_index >= 7")
    report = await check(log_sessions, keys)
    assert [(f.kind, f.case_id, f.chain_index) for f in report.faults] == [("truncated", "A-1", 7)]
    assert "events 7 to 8 were removed from the end" in report.faults[0].message


async def test_no_checkpoint_is_signed_over_a_cut_tail(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    await tamper(signed_log, "DELETE FROM case_events WHERE case_id = 'A-1' AND chain_index >= 7")
    async with log_sessions() as session:
        with pytest.raises(CheckpointRefused) as refused:
            await create_checkpoint(session, keys.private)
    assert refused.value.problems == ["case A-1: event 8, which checkpoint #2 signed, is gone"]
    [row] = await fetch(signed_log, "SELECT count(*) AS n FROM audit_checkpoints")
    assert row["n"] == 2


async def test_a_recomputed_chain_is_found_against_the_signed_heads(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    # Change event 5 and recompute every hash from there on: the chain is whole again.
    rows = await fetch(
        signed_log,
        "SELECT * FROM case_events WHERE case_id = 'C-3' ORDER BY chain_index",
    )
    prev = rows[3]["hash"]
    statements: list[str | tuple[str, list[object]]] = []
    for row in rows[4:]:
        summary = row["summary"] + ("（改）" if row["chain_index"] == 5 else "")
        fields = ChainFields(
            row["case_id"],
            row["seq"],
            row["chain_index"],
            row["kind"],
            row["stage"],
            row["occurred_at"],
            row["actor_name"],
            row["actor_role"],
            summary,
            json.loads(row["payload"]),
        )
        digest = event_hash(prev, fields)
        statements.append(
            (
                "UPDATE case_events SET summary = $1, prev_hash = $2, hash = $3 WHERE id = $4",
                [summary, prev, digest, row["id"]],
            )
        )
        prev = digest
    await tamper(signed_log, *statements)

    assert (await check(log_sessions, keys, checkpoints=None, case_id="A-1")).ok
    report = await check(log_sessions, keys, checkpoints=None)
    assert [(f.kind, f.case_id, f.chain_index) for f in report.faults] == [("rewritten", "C-3", 8)]
    # the older checkpoint still vouches for events 1-3: the change lies after them
    assert "at or before event 8, after event 3" in report.faults[0].message
    async with log_sessions() as session:  # and the next checkpoint will not launder it
        with pytest.raises(
            CheckpointRefused, match="case C-3: event 8, which checkpoint #2 signed, has changed"
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
    assert "do not give its Merkle root" in report.faults[0].message
    assert "add up to 16 events" in report.faults[1].message


async def test_a_checkpoint_of_another_key_is_refused(
    signed_log: str, log_sessions: async_sessionmaker[AsyncSession], other_keys: Keys
) -> None:
    report = await check(log_sessions, other_keys)
    assert [f.kind for f in report.faults] == ["checkpoint"]
    assert "was signed with key" in report.faults[0].message


async def test_without_a_checkpoint_the_chains_still_verify_with_a_note(
    log_url: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> None:
    await record_all(log_sessions, story("N-1"))
    report = await check(log_sessions, keys)
    assert report.ok
    assert "no checkpoint yet" in report.notes[0]
