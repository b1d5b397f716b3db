"""The log reconciled with Temporal's history of a real case run on the time-skipping server:
equal when untouched; each difference named when the log was tampered with; a case whose
history is gone is reported as held in the log alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from audit.reconcile import reconcile
from starter.temporal_binaries import find_test_server
from tests.audit.conftest import tamper
from tests.workflows.conftest import SETTLE_SECONDS, CaseRunner, case_runner
from tests.workflows.scenarios import inspect, regular_case
from workflows.search_attributes import SEARCH_ATTRIBUTES
from workflows.types import CaseState


async def quiet(runner: CaseRunner, handle: WorkflowHandle[Any, CaseState]) -> int:
    """The number of the case's events once it records no more: the steps' deadlines lie in
    the scenario's past, so overdue marks and escalations follow the last step by themselves;
    a reconciliation while one is being recorded would rightly see it in one place only."""
    seen = -1
    for _ in range(SETTLE_SECONDS * 10):
        logged = len(await runner.events("rec-1"))
        recorded = (await runner.state(handle)).events_recorded
        running = (await handle.describe()).raw_description.pending_activities
        if logged == recorded == seen and not running:
            return logged
        seen = logged if logged == recorded and not running else -1
        await asyncio.sleep(0.1)
    raise AssertionError("the case kept recording")


@pytest.fixture
async def temporal() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(find_test_server()),
        data_converter=pydantic_data_converter,
    )
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace="default",
            search_attributes={
                k.name: IndexedValueType.ValueType(k.indexed_value_type) for k in SEARCH_ATTRIBUTES
            },
        )
    )
    try:
        yield env
    finally:
        await env.shutdown()


async def test_reconciliation_with_temporal_history(
    temporal: WorkflowEnvironment,
    log_url: str,
    log_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with case_runner(temporal, log_sessions) as runner:
        handle = await runner.start(regular_case("rec-1"))
        await inspect(runner, handle, ["p1", "p2"], ["p1"])
        logged = await quiet(runner, handle)
        assert logged > 10

        [clean] = await reconcile(temporal.client, log_sessions, ["rec-1"])
        assert clean.ok and clean.held, clean.problems()
        assert clean.log_events == clean.temporal_events == logged

        # behind the application's back: one event removed, one edited, one forged
        await tamper(
            log_url,
            "DELETE FROM case_events WHERE case_id = 'rec-1' AND seq = 3",
            "UPDATE case_events SET summary = summary || '!' WHERE case_id = 'rec-1' AND seq = 5",
            """INSERT INTO case_events (case_id, seq, chain_index, kind, stage, occurred_at,
                   actor_name, actor_role, summary, payload, prev_hash, hash)
               SELECT case_id, 999, 999, kind, stage, occurred_at, actor_name, actor_role,
                   '伪造', payload, hash, hash
               FROM case_events WHERE case_id = 'rec-1' AND seq = 1""",
        )
        [found, gone] = await reconcile(temporal.client, log_sessions, ["rec-1", "rec-none"])

    assert (found.missing_from_log, found.unknown_to_temporal) == ([3], [999])
    assert found.differing == [(5, "summary")]
    assert found.problems() == [
        "案件 rec-1：序号 3 已由完成的活动登记，但不在审计记录中",
        "案件 rec-1：序号 999 在审计记录中，但 Temporal 从未安排过它",
        "案件 rec-1：审计记录中的序号 5 与活动的输入不一致（summary）",
    ]
    assert not gone.held and gone.ok  # no history: the log alone vouches for it
