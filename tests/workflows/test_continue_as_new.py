"""A case continues as new when Temporal suggests it, and nobody can tell from the record.

The dev server is told to suggest continue-as-new after a few dozen events, so a case does it
at nearly every step it waits on. The same scenarios run on the time-skipping server, which
never suggests it, and the two audit logs must tell the same story: the same inputs,
transitions and outcome in the same order, no deadline set twice for one step, the sequence
numbers unbroken. (Whether a step's deadline is recorded at all depends on how fast the next
step follows on a real-time server, so deadlines are compared by their uniqueness only.)
"""

from __future__ import annotations

import asyncio
import re
import time
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
from tests.workflows.conftest import SETTLE_SECONDS, CaseRunner, case_runner, start_time_skipping
from tests.workflows.scenarios import CLERK, regular_case
from workflows import search_attributes as sa
from workflows.case_carry import CaseCarry, CaseRun
from workflows.ids import case_workflow_id
from workflows.search_attributes import SEARCH_ATTRIBUTES
from workflows.types import AssignStepInput

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


async def test_a_continued_run_keeps_the_deadline_in_its_search_attributes(
    suggesting: WorkflowEnvironment, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """A run continued while its case waits on a step (its deadline still ahead: the case is
    opened today) shows that step's deadline to the Temporal UI and CLI (NextDeadline), as the
    run before it did. Claims and releases of the step add events until the server suggests
    continuing."""
    async with case_runner(suggesting, session_factory) as runner:
        h = await runner.start(regular_case("carry-deadline", opened_on=None))
        deadline = time.monotonic() + SETTLE_SECONDS
        claim = AssignStepInput(actor=CLERK, step="investigation_notice", assignee=CLERK.name)
        release = claim.model_copy(update={"assignee": None})
        while True:
            state = await runner.state(h)
            described = await suggesting.client.get_workflow_handle(h.id).describe()
            waiting = state.step is not None and state.step.deadline_at is not None
            if waiting and described.run_id != h.first_execution_run_id:
                break
            assert time.monotonic() < deadline, "the case did not continue while waiting"
            if state.step is not None and state.step.deadline_at is not None:
                await runner.update(h, "assign_step", release if state.step.assignee else claim)
            await asyncio.sleep(0.1)
        assert state.step is not None and not state.step.overdue
        found = described.typed_search_attributes
        assert found.get(sa.NEXT_DEADLINE) == state.step.deadline_at
        assert found.get(sa.CASE_STAGE) == state.stage.value
