"""Migrations 0002 and 0005 chain the events written before them (a case's, a probation's),
and can be undone and redone."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest

from audit.checkpoints import CHECKPOINT_VERSION, create_checkpoint, latest_checkpoints
from audit.verify import verify_log
from store.db import make_engine, make_session_factory, to_libpq_url
from store.migrate import downgrade_to, upgrade_to_head
from tests.audit.conftest import (
    Keys,
    insert_statement,
    old_checkpoint,
    probation_story,
    record_all,
    record_probation,
    story,
)


async def test_events_written_before_the_chain_get_chained(
    throwaway_database_url: str, keys: Keys
) -> None:
    url = throwaway_database_url
    await downgrade_to(url, "base")
    await upgrade_to_head(url)
    await downgrade_to(url, "0001")  # the schema before the audit trail, as it was deployed
    conn = await asyncpg.connect(to_libpq_url(url))
    try:
        await conn.execute(
            """
            INSERT INTO cases (case_id, unit, post, method, stage, status, opened_on, last_seq)
            VALUES ('old-1', '县教育局', '副局长', 'regular_appointment', 'inspection', 'active',
                    '2026-01-05', 3),
                   ('old-2', '县教育局', '局长', 'regular_appointment', 'vote', 'active',
                    '2026-01-06', 1);
            INSERT INTO case_events (case_id, seq, kind, stage, occurred_at, actor_name,
                                     actor_role, summary, payload)
            VALUES ('old-1', 2, 'input', 'inspection', '2026-01-07 10:00+08', '王芳', 'clerk',
                    '考察', '{"person_id": "p7", "score": 1.50}'),
                   ('old-2', 1, 'opened', 'vote', '2026-01-06 09:00+08', '王芳', 'clerk',
                    '立案', '{}'),
                   ('old-1', 1, 'opened', 'inspection', '2026-01-05 09:00+08', '王芳', 'clerk',
                    '立案', '{"case": {"candidates": [{"person_id": "p7"}]}}'),
                   ('old-1', 3, 'transition', 'inspection', '2026-01-08 10:00+08', '系统',
                    'system', '阶段变更', '{"b": 1, "a": [1.0, 2]}');
            """
        )
        await upgrade_to_head(url)
        rows = await conn.fetch(
            "SELECT case_id, seq, chain_index, person_ids FROM case_events ORDER BY id"
        )
    finally:
        await conn.close()
    # chained in the order they were written, per case
    assert [(r["case_id"], r["seq"], r["chain_index"]) for r in rows] == [
        ("old-1", 2, 1),
        ("old-2", 1, 1),
        ("old-1", 1, 2),
        ("old-1", 3, 3),
    ]
    assert rows[0]["person_ids"] == ["p7"] and rows[1]["person_ids"] == []

    engine = make_engine(url)
    try:
        async with make_session_factory(engine)() as session:
            report = await verify_log(session, keys.public)
    finally:
        await engine.dispose()
    assert report.ok, report.faults
    assert (report.cases, report.events) == (2, 4)


async def test_probation_events_written_before_their_chain_get_chained(
    throwaway_database_url: str, keys: Keys
) -> None:
    """Migration 0005 on a deployment that has probation events and a checkpoint of its own:
    afterwards the whole log verifies, the old checkpoint included."""
    url = throwaway_database_url
    await upgrade_to_head(url)
    await downgrade_to(url, "0004_accounts")  # the schema before probations were chained
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    conn = await asyncpg.connect(to_libpq_url(url))
    try:
        # today's recording writes the listing's task columns (0014) and its chain's kind
        # (0018): lent to the old schema for the writing, then taken away again before the
        # upgrade adds them for real
        listing = ("awaited_step", "awaited_role", "assignee", "chain")
        for column in listing:
            await conn.execute(f"ALTER TABLE cases ADD COLUMN {column} varchar")
        await record_all(sessions, story("old-3"))
        for column in listing:
            await conn.execute(f"ALTER TABLE cases DROP COLUMN {column}")
        await conn.execute(
            """
            INSERT INTO probations (probation_id, case_id, person_id, name, unit, post,
                                    starts_on, ends_on, status, review_status, last_seq)
            VALUES ('probation-old-3-p1', 'old-3', 'p1', '张三', '县教育局', '副局长',
                    '2026-01-05', '2027-01-04', 'on_probation', 'pending', 3),
                   ('probation-old-9-p4', 'old-9', 'p4', '李四', '县教育局', '局长',
                    '2025-03-01', '2026-02-28', 'formally_appointed', 'competent', 2);
            INSERT INTO probation_events (probation_id, seq, kind, occurred_at, actor_name,
                                          actor_role, summary, payload)
            VALUES ('probation-old-3-p1', 2, 'reminder', '2026-11-05 09:00+08', '系统',
                    'system', '提醒', '{"days_before_end": 60, "share": 1.50}'),
                   ('probation-old-9-p4', 2, 'formal', '2026-02-28 09:00+08', '系统', 'system',
                    '正式任职', '{}'),
                   ('probation-old-3-p1', 1, 'opened', '2026-01-05 09:00+08', '系统', 'system',
                    '开始试用', '{"input": {"name": "张三"}, "b": 1, "a": [1.0, 2]}'),
                   ('probation-old-9-p4', 1, 'opened', '2025-03-01 09:00+08', '系统', 'system',
                    '开始试用', '{}'),
                   ('probation-old-3-p1', 3, 'reminder', '2026-12-05 09:00+08', '系统',
                    'system', '提醒', '{"days_before_end": 30}');
            """
        )
        # a checkpoint as signed then: version 1, over the cases' heads only
        values = await old_checkpoint(sessions, keys, datetime(2026, 11, 6, tzinfo=UTC))
        sql, args = insert_statement("audit_checkpoints", values)
        await conn.execute(sql, *args)

        await upgrade_to_head(url)

        rows = await conn.fetch(
            "SELECT probation_id, seq, chain_index FROM probation_events ORDER BY id"
        )
        # chained per probation in seq order, whatever order they were written in
        assert [(r["probation_id"][-5:], r["seq"], r["chain_index"]) for r in rows] == [
            ("-3-p1", 2, 2),
            ("-9-p4", 2, 2),
            ("-3-p1", 1, 1),
            ("-9-p4", 1, 1),
            ("-3-p1", 3, 3),
        ]
        assert await conn.fetchval("SELECT version FROM audit_checkpoints") == 1
        with pytest.raises(asyncpg.PostgresError, match="append-only"):
            await conn.execute("UPDATE probation_events SET summary = 'x'")

        async with sessions() as session:
            report = await verify_log(session, keys.public, checkpoints=None)
        assert report.ok, report.faults
        assert (report.cases, report.probations, report.events) == (1, 2, 13)
        assert report.checkpoints == [1]
        async with sessions() as session:
            [old] = await latest_checkpoints(session, 1)

        async with sessions() as session:  # the next checkpoint covers the probations too
            new = await create_checkpoint(session, keys.private)
        assert (new.version, sorted(new.probation_heads)) == (
            CHECKPOINT_VERSION,
            ["probation-old-3-p1", "probation-old-9-p4"],
        )
        assert new.previous() is not None and new.previous() == (1, old.digest())
        async with sessions() as session:
            report = await verify_log(session, keys.public, checkpoints=None)
        assert report.ok, report.faults
        assert report.checkpoints == [2, 1]
    finally:
        await conn.close()
        await engine.dispose()


async def test_0005_goes_down_and_up_again(throwaway_database_url: str, keys: Keys) -> None:
    url = throwaway_database_url
    await upgrade_to_head(url)
    engine = make_engine(url)
    try:
        sessions = make_session_factory(engine)
        await record_all(sessions, story("P-5"))
        await record_probation(sessions, probation_story("P-5"))
        before = await _probation_hashes(url)
        await downgrade_to(url, "0004_accounts")
        assert await _probation_hashes(url) is None
        await upgrade_to_head(url)
        assert await _probation_hashes(url) == before  # the same recipe, the same chain
        async with sessions() as session:
            assert (await verify_log(session, keys.public)).ok
    finally:
        await engine.dispose()


async def _probation_hashes(url: str) -> list[str] | None:
    conn = await asyncpg.connect(to_libpq_url(url))
    try:
        columns = await conn.fetch(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'probation_events' AND column_name = 'hash'"
        )
        if not columns:
            return None
        rows = await conn.fetch("SELECT hash FROM probation_events ORDER BY chain_index")
        return [r["hash"] for r in rows]
    finally:
        await conn.close()
