"""The probation tables: migrations 0003 and 0005, the idempotency keys, and recording twice."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.probation_records import ProbationRecordActivities
from store.db import make_engine
from store.migrate import downgrade_to, upgrade_to_head
from store.probation_models import list_probations, probation_history
from workflows.probation_types import (
    ProbationEventInput,
    ProbationRow,
    ProbationStatus,
    ReviewStatus,
)
from workflows.types import Role

TABLES = {"probations", "probation_events", "outbox"}


async def _inspect(url: str, look):
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(look)
    finally:
        await engine.dispose()


async def test_the_idempotency_keys_are_unique_constraints(database_url: str) -> None:
    def unique_keys(c: Connection) -> dict[str, list[list[str]]]:
        i = inspect(c)
        return {t: [u["column_names"] for u in i.get_unique_constraints(t)] for t in TABLES}

    assert await _inspect(database_url, unique_keys) == {
        "probations": [["case_id", "person_id"]],
        "probation_events": [["probation_id", "seq"]],
        "outbox": [["source", "seq", "recipient"]],
    }


async def test_the_service_role_may_append_and_update_but_not_rewrite_history(
    database_url: str,
) -> None:
    def privileges(c: Connection) -> dict[str, bool]:
        query = text("SELECT has_table_privilege('appointments_app', :t, :p)")
        return {
            f"{t} {p}": bool(c.scalar(query, {"t": t, "p": p}))
            for t in sorted(TABLES)
            for p in ("INSERT", "UPDATE", "DELETE", "TRUNCATE")
        }

    assert await _inspect(database_url, privileges) == {
        "outbox INSERT": True,
        "outbox UPDATE": True,
        "outbox DELETE": False,
        "outbox TRUNCATE": False,
        "probation_events INSERT": True,
        "probation_events UPDATE": False,
        "probation_events DELETE": False,
        "probation_events TRUNCATE": False,
        "probations INSERT": True,
        "probations UPDATE": True,
        "probations DELETE": False,
        "probations TRUNCATE": False,
    }


async def test_the_history_is_append_only_and_chained(database_url: str) -> None:
    """Migration 0005: triggers refuse to change probation_events (the owner too), and each
    probation's events form a hash chain (see tests/audit/test_probation_chain.py)."""

    def triggers_and_columns(c: Connection) -> tuple[set[str], set[str]]:
        triggers = c.scalars(
            text(
                "SELECT tgname FROM pg_trigger "
                "WHERE tgrelid = 'probation_events'::regclass AND NOT tgisinternal"
            )
        )
        columns = {col["name"] for col in inspect(c).get_columns("probation_events")}
        return set(triggers), columns

    triggers, columns = await _inspect(database_url, triggers_and_columns)
    assert triggers == {"probation_events_append_only", "probation_events_no_truncate"}
    assert {"chain_index", "prev_hash", "hash"} <= columns


async def test_0003_goes_down_and_up_again(throwaway_database_url: str) -> None:
    url = throwaway_database_url

    def tables(c: Connection) -> set[str]:
        return set(inspect(c).get_table_names())

    await upgrade_to_head(url)
    assert await _inspect(url, tables) >= TABLES
    await downgrade_to(url, "0002_audit")
    assert not await _inspect(url, tables) & TABLES
    await upgrade_to_head(url)
    assert await _inspect(url, tables) >= TABLES


def _event(
    pid: str, seq: int, status: ProbationStatus, review: ReviewStatus
) -> ProbationEventInput:
    return ProbationEventInput(
        probation_id=pid,
        seq=seq,
        kind=f"k{seq}",
        occurred_at=datetime(2027, 1, seq, tzinfo=UTC),
        actor_name="系统",
        actor_role=Role.SYSTEM,
        summary=f"event {seq}",
        row=ProbationRow(
            case_id=pid,
            person_id="P1",
            name="张三",
            unit="县民政局",
            post="副局长",
            starts_on=date(2026, 1, 5),
            ends_on=date(2027, 1, 4),
            status=status,
            review_status=review,
        ),
    )


async def test_a_retried_or_late_event_neither_doubles_nor_rolls_back(
    session_factory: async_sessionmaker[AsyncSession], new_id: str
) -> None:
    record = ProbationRecordActivities(session_factory).record_probation_event
    env = ActivityEnvironment()
    on = (ProbationStatus.ON_PROBATION, ReviewStatus.PENDING)
    done = (ProbationStatus.FORMALLY_APPOINTED, ReviewStatus.COMPETENT)
    assert await env.run(record, _event(new_id, 1, *on)) is True
    assert await env.run(record, _event(new_id, 2, *done)) is True
    assert await env.run(record, _event(new_id, 2, *done)) is False  # a retry
    assert await env.run(record, _event(new_id, 1, *on)) is False  # late, older
    async with session_factory() as s:
        (row,) = await list_probations(s, probation_id=new_id)
        history = await probation_history(s, new_id)
    assert (row.status, row.review_status) == ("formally_appointed", "competent")
    assert [e.seq for e in history] == [1, 2]
