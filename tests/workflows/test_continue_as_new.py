"""A case continues as new when Temporal suggests it, and nobody can tell from the record.

The dev server is told to suggest continue-as-new after a few dozen events, so a case does it
at nearly every step it waits on. The same scenarios run on the time-skipping server, which
never suggests it, and the two audit logs must tell the same story: the same inputs,
transitions and outcome in the same order, no deadline set twice for one step, the sequence
numbers unbroken. (Whether a step's deadline is recorded at all depends on how fast the next
step follows on a real-time server, so deadlines are compared by their uniqueness only.)
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.policy import read_policy
from gateway.cases import first_state
from settings import PROJECT_DIR
from starter.temporal_binaries import find_temporal_cli
from store.db import make_engine, make_session_factory
from tests.conftest import free_port
from tests.workflows import test_paths
from tests.workflows.conftest import CaseRunner, case_runner, start_time_skipping
from tests.workflows.scenarios import regular_case
from workflows.case_carry import CaseCarry, CaseRun
from workflows.ids import case_workflow_id
from workflows.search_attributes import SEARCH_ATTRIBUTES

pytestmark = pytest.mark.devserver

SUGGEST_AFTER_EVENTS = 40
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

Scenario = Callable[[CaseRunner], Awaitable[None]]
SCENARIOS: dict[str, tuple[Scenario, str]] = {
    "regular": (test_paths.test_regular_appointment_to_appointed, "reg-1"),
    "vote failed": (test_paths.test_vote_failing_ends_not_appointed, "vote-fail"),
}


@pytest.fixture
async def suggesting() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(find_temporal_cli()),
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTES,
        ui=False,
        port=free_port(),
        dev_server_extra_args=[
            "--dynamic-config-value",
            f"limit.historyCount.suggestContinueAsNew={SUGGEST_AFTER_EVENTS}",
        ],
    )
    try:
        yield env
    finally:
        await env.shutdown()


async def told(
    env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    scenario: Scenario,
    case_id: str,
) -> tuple[list[tuple[int, str, str]], int]:
    """The case's audit log as (seq, kind, summary), and the number of its runs."""
    async with case_runner(env, sessions) as runner:
        await scenario(runner)
        events = await runner.events(case_id)
        runs = 0
        query = f'WorkflowId = "{case_workflow_id(case_id)}"'
        if not env.supports_time_skipping:
            async for found in env.client.list_workflows(query):
                runs += 1
                assert found.status in (
                    WorkflowExecutionStatus.CONTINUED_AS_NEW,
                    WorkflowExecutionStatus.COMPLETED,
                ), found.status
    return [(e.seq, e.kind, e.summary) for e in events], runs


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_a_continued_case_records_what_an_uncontinued_one_does(
    name: str,
    suggesting: WorkflowEnvironment,
    session_factory: async_sessionmaker[AsyncSession],
    migrated_database_url: str,
) -> None:
    scenario, case_id = SCENARIOS[name]
    engine = make_engine(migrated_database_url)  # a database of its own: the same case ids
    try:
        continued, runs = await told(suggesting, make_session_factory(engine), scenario, case_id)
    finally:
        await engine.dispose()
    assert runs >= 3, f"the case continued as new {runs - 1} times"
    plain_env = await start_time_skipping()
    try:
        plain, _ = await told(plain_env, session_factory, scenario, case_id)
    finally:
        await plain_env.shutdown()

    def story(events: list[tuple[int, str, str]]) -> list[tuple[str, str]]:
        # the days a check ran on are the servers' own (the time-skipping one may have
        # skipped ahead): the story is the same whatever day it was told on
        # nor the alarms: the scenarios' dates are past, so each step is overdue as soon as
        # it is awaited, and whether its alarm is recorded before the next step arrives is a
        # race (keep_deadline's own tests count the alarms)
        alarms = ("deadline", "overdue", "escalation", "reminder")
        return [(kind, DAY.sub("…", summary)) for _, kind, summary in events if kind not in alarms]

    assert story(continued) == story(plain)
    deadlines = [summary for _, kind, summary in continued if kind == "deadline"]
    assert deadlines and len(deadlines) == len(set(deadlines)), deadlines
    assert [seq for seq, _, _ in continued] == list(range(1, len(continued) + 1))


async def test_a_case_started_with_a_carry_is_refused(
    suggesting: WorkflowEnvironment, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """A client that starts a case with a carry of its own making (any state it likes) is
    refused: only a run continued from the case's own run takes one."""
    async with case_runner(suggesting, session_factory) as runner:
        await runner.start(regular_case("carry-source"))
        state, why = await first_state(suggesting.client, "carry-source")
        assert state is not None, why
        state.events_recorded = 999
        carry = CaseCarry(
            snapshot=read_policy(PROJECT_DIR / "policy" / "default.yaml"),
            people=regular_case("carry-forged").candidates,
            state=state,
            seq=999,
            retries=0,
            carried_at=datetime.now(UTC),
            overdue=False,
        )
        forged = CaseRun(**regular_case("carry-forged").model_dump(), carry=carry)
        handle = await suggesting.client.start_workflow(
            "AppointmentCaseWorkflow",
            forged,
            id=case_workflow_id("carry-forged"),
            task_queue=runner.task_queue,
        )
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
        cause = failed.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == "CarryRefused"
        assert await runner.events("carry-forged") == []
