"""Where a closed case stands is read from its history, never by waking a worker to replay it
(``gateway.cases.query_state``): every door's case page asks it, and a closed case's replay
is its whole history again."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from gateway.cases import query_state
from tests.workflows.conftest import SETTLE_SECONDS, CaseRunner, case_runner
from tests.workflows.scenarios import CLERK, regular_case
from workflows.types import CaseStage, CaseState, CaseStatus, WithdrawInput


async def settled_state(runner: CaseRunner, h: WorkflowHandle[Any, CaseState]) -> CaseState:
    """The case's state once it has nothing in hand (no activity, no workflow task): what it
    holds then is all in its history. (A state read meanwhile may hold what a workflow task
    still running, with its local activities, has done and not yet written.)"""
    for _ in range(SETTLE_SECONDS * 20):
        raw = (await h.describe()).raw_description
        if not raw.pending_activities and not raw.HasField("pending_workflow_task"):
            state = await runner.state(h)
            if state.step is not None and state.step.deadline_at is not None:
                return state
        await asyncio.sleep(0.05)
    raise AssertionError("the case never settled")


async def test_a_closed_case_is_read_without_a_worker(
    time_env: WorkflowEnvironment, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with case_runner(time_env, session_factory) as runner:
        h = await runner.start(regular_case("closed-1"))
        live = await runner.update(h, "withdraw", WithdrawInput(actor=CLERK, reason="岗位调整"))
        replayed, why = await query_state(time_env.client, "closed-1")
        assert why == "" and replayed == live
    # the worker is gone: a query would wait for one in vain; the result answers at once
    state, why = await query_state(time_env.client, "closed-1")
    assert why == "" and state == live
    assert state.status is CaseStatus.WITHDRAWN and state.stage is CaseStage.CLOSED
    # a caller that wants open cases only is told nothing about it
    assert await query_state(time_env.client, "closed-1", open_only=True) == (None, "")
    assert await query_state(time_env.client, "no-such-case") == (None, "")


async def test_a_terminated_case_is_replayed_for_its_state(
    time_env: WorkflowEnvironment, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with case_runner(time_env, session_factory) as runner:
        h = await runner.start(regular_case("closed-2"))
        before = await settled_state(runner, h)
        await h.terminate("测试：强行终止")
        # no result to read: the query replays the case, as it always did
        state, why = await query_state(time_env.client, "closed-2")
        assert why == "" and state == before
        assert state.stage is not CaseStage.CLOSED
