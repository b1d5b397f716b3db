"""Migration 0002 chains the events written before it, and can be undone and redone."""

from __future__ import annotations

import asyncpg

from audit.verify import verify_log
from store.db import make_engine, make_session_factory, to_libpq_url
from store.migrate import downgrade_to, upgrade_to_head
from tests.audit.conftest import Keys


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
