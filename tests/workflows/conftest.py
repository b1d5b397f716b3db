"""Time-skipping Temporal with the real activities on the real PostgreSQL test database."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import WorkflowHandle, WorkflowQueryFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from gateway.cases import CONTINUED_RETRIES
from settings import PROJECT_DIR, load_settings
from starter.temporal_binaries import find_test_server
from store import queries
from worker import build_worker
from workflows.appointment_case import STARTING, AppointmentCaseWorkflow
from workflows.case_carry import CaseRun
from workflows.ids import case_workflow_id
from workflows.search_attributes import SEARCH_ATTRIBUTES
from workflows.step_outcome import StepOutcome
from workflows.types import CaseInput, CaseState

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TEST_SUPPLEMENT = FIXTURES / "calendar-test-supplement.yaml"


async def start_time_skipping() -> WorkflowEnvironment:
    """The time-skipping test server, with the case search attributes registered."""
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
    return env


@pytest.fixture
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    """A server per test: it starts in well under a second, and no case of another test
    can then hold back its clock."""
    env = await start_time_skipping()
    try:
        yield env
    finally:
        await env.shutdown()


def write_policy(tmp_path: Path, **changes: Any) -> Path:
    """The default policy with changes by path, e.g. ``public_notice__working_days=7``."""
    data = yaml.safe_load((PROJECT_DIR / "policy" / "default.yaml").read_text("utf-8"))
    for dotted, value in changes.items():
        node = data
        *parents, last = dotted.split("__")
        for p in parents:
            node = node[p]
        node[last] = value
    path = tmp_path / f"policy-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return path


# How long a test waits for what a busy machine's worker does in the background (a case
# setting itself up, a deadline scheduled after an update): generous, it returns at once when done.
SETTLE_SECONDS = 30


@dataclass
class CaseRunner:
    """Runs cases on a worker of its own and reads back what PostgreSQL holds."""

    env: WorkflowEnvironment
    sessions: async_sessionmaker[AsyncSession]
    task_queue: str
    started: list[WorkflowHandle[Any, CaseState]] = field(default_factory=list)

    async def start(self, case: CaseInput) -> WorkflowHandle[Any, CaseState]:
        handle = await self.env.client.start_workflow(
            AppointmentCaseWorkflow.run,
            CaseRun.model_validate(case.model_dump()),  # a case file, no carry
            id=case_workflow_id(case.case_id),
            task_queue=self.task_queue,
        )
        self.started.append(handle)
        return handle

    async def terminate_leftovers(self) -> None:
        """A case left running without its worker would stop the test server skipping time,
        and on the dev server it would make every later query of it (the console's "my
        tasks" asks each active case) wait for a worker that never comes. Cases started
        through the API or the console are not in ``started``: on the dev server, those on
        this runner's task queue are found through visibility."""
        handles: list[WorkflowHandle[Any, Any]] = list(self.started)
        if not self.env.supports_time_skipping:
            query = f'TaskQueue = "{self.task_queue}" AND ExecutionStatus = "Running"'
            async for found in self.env.client.list_workflows(query):
                handles.append(self.env.client.get_workflow_handle(found.id, run_id=found.run_id))
        for handle in handles:
            try:
                await handle.terminate("test finished")
            except RPCError as e:  # already finished
                if e.status is not RPCStatusCode.NOT_FOUND:
                    raise

    async def update(self, handle: WorkflowHandle[Any, Any], name: str, data: Any) -> CaseState:
        """Send the step; the case answers with its outcome, checked against the state the
        ``state`` query reads afterwards, which is returned."""
        for attempt in range(CONTINUED_RETRIES):
            try:
                outcome = await handle.execute_update(name, data, result_type=StepOutcome)
                break
            except RPCError as e:  # met the case between two runs: its next run takes it
                if attempt == CONTINUED_RETRIES - 1 or "completed" not in e.message.lower():
                    raise
        state = await self.state(handle)
        assert (outcome.update, outcome.case_id) == (name, state.case_id), outcome
        assert outcome.events_recorded <= state.events_recorded, (outcome, state)
        return state

    async def state(self, handle: WorkflowHandle[Any, Any]) -> CaseState:
        """The case's state; a case still loading its policy (a busy machine) is asked
        again for up to ``SETTLE_SECONDS``."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            try:
                return await handle.query("state", result_type=CaseState)
            except WorkflowQueryFailedError as e:
                if STARTING not in str(e) or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.05)

    async def events(self, case_id: str) -> list[queries.EventRow]:
        async with self.sessions() as s:
            return await queries.case_history(s, case_id)

    async def inbox(self, case_id: str) -> list[queries.InboxRow]:
        async with self.sessions() as s:
            rows = await queries.inbox(s, case_id=case_id, limit=1000)
        return sorted(rows, key=lambda m: m.id)  # oldest first

    async def row(self, case_id: str) -> queries.CaseListRow | None:
        async with self.sessions() as s:
            return await queries.get_case(s, case_id)


@asynccontextmanager
async def case_runner(
    env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    *,
    policy: Path | None = None,
    supplement: Path | None = TEST_SUPPLEMENT,
) -> AsyncIterator[CaseRunner]:
    settings = load_settings(
        {
            "TASK_QUEUE": f"test-{uuid.uuid4().hex[:8]}",
            "POLICY_FILE": str(policy or PROJECT_DIR / "policy" / "default.yaml"),
            "CALENDAR_SUPPLEMENT": str(supplement) if supplement else "",
        }
    )
    if supplement is None:
        settings = type(settings)(**{**settings.__dict__, "calendar_supplement": None})
    worker = build_worker(env.client, settings, sessions)
    async with worker:
        runner = CaseRunner(env, sessions, settings.task_queue)
        try:
            yield runner
        finally:
            await runner.terminate_leftovers()


@pytest.fixture
async def runner(
    time_env: WorkflowEnvironment, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[CaseRunner]:
    async with case_runner(time_env, session_factory) as r:
        yield r
