"""Cases on the real dev server while something breaks under them (issue #6).

The worker runs as a subprocess (``appointments worker``, the production entry point) so that
a test can SIGKILL it, as the kernel's OOM killer or a pulled plug would, and start it again.
The load driver (``bench.driver``) plays every case's steps at once, each update under an
id of its own, so an update whose answer was lost can be sent again without being applied
twice. Afterwards every case must have finished and PostgreSQL must hold each of its events
exactly once.

Faults are placed at random moments from a seeded RNG: ``FAULT_SEED=<n>`` replays a run.
"""

from __future__ import annotations

import asyncio
import functools
import os
import random
import secrets
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import EventType, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest, GetSystemInfoRequest
from temporalio.testing import WorkflowEnvironment

from bench.driver import (
    APPOINTMENT_WORKER,
    Driver,
    RecordCheck,
    WorkerProcess,
    bench_case,
    check_records,
    regular_steps,
    run_bounded,
    worker_env,
)
from tests.conftest import FIGURES
from workflows.ids import case_workflow_id
from workflows.types import CaseState, CaseStatus

# Cases in flight during a fault: enough that every fault lands on several cases at different
# steps; the scale itself (hundreds, thousands) is measured by bench/, not here.
CASES = 12
RUN_TIMEOUT = 150.0  # seconds for every case to finish once the faults are over
DEFAULT_SEED = 20261125
TASK_TIMEOUT = timedelta(seconds=4)  # of the cases' workflow tasks (Temporal's default: 10 s)
STICKY_TIMEOUT = "3"  # seconds, the workers' WORKER_STICKY_TIMEOUT (default 10)


def fault_seed() -> int:
    return int(os.environ.get("FAULT_SEED", DEFAULT_SEED))


@dataclass
class FaultRun:
    """Cases on one task queue of the dev server, recorded in one database."""

    env: WorkflowEnvironment
    database_url: str
    log_dir: Path
    rng: random.Random
    token: str = field(default_factory=lambda: secrets.token_hex(3))
    workers: list[WorkerProcess] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.task_queue = f"faults-{self.token}"
        # A killed worker's cases wait out what it held: its running workflow task (the task
        # timeout), its sticky queue, and its running activities (the case's activity timeout).
        # The first two are shortened here, as an operator may, so that a fault costs seconds
        # of waiting rather than ten; nothing else changes.
        self.driver = Driver(
            self.env.client, self.task_queue, give_up_after=RUN_TIMEOUT, task_timeout=TASK_TIMEOUT
        )
        self.steps = regular_steps()
        self.case_ids = [f"F{self.token}-{i:02d}" for i in range(CASES)]

    def worker(self, name: str) -> WorkerProcess:
        w = WorkerProcess(
            APPOINTMENT_WORKER,
            {
                **worker_env(
                    temporal_address=self.env.client.service_client.config.target_host,
                    task_queue=self.task_queue,
                    database_url=self.database_url,
                ),
                "WORKER_STICKY_TIMEOUT": STICKY_TIMEOUT,
            },
            self.log_dir / f"{name}.log",
        )
        self.workers.append(w)
        return w

    def play(self) -> asyncio.Task[list[Any]]:
        """Every case, all at once, in the background."""
        jobs = [
            functools.partial(self.driver.play_case, bench_case(c), self.steps)
            for c in self.case_ids
        ]
        return asyncio.create_task(run_bounded(jobs, len(jobs)))

    @property
    def total_updates(self) -> int:
        return len(self.case_ids) * len(self.steps)

    async def progress_by(self, updates: int, play: asyncio.Task[Any]) -> None:
        """Wait until ``updates`` more updates were answered (or every case is done)."""
        try:
            await asyncio.wait_for(
                self.driver.until_answered(self.driver.updates_done + updates, play),
                RUN_TIMEOUT,
            )
        except TimeoutError:
            play.cancel()
            pytest.fail(f"no progress for {RUN_TIMEOUT:.0f} s; {await self.diagnosis()}")

    async def finish(self, play: asyncio.Task[list[Any]]) -> list[CaseState]:
        try:
            states: list[CaseState] = await asyncio.wait_for(play, RUN_TIMEOUT)
        except TimeoutError:
            pytest.fail(
                f"the cases did not all finish within {RUN_TIMEOUT:.0f} s; {await self.diagnosis()}"
            )
        except BaseExceptionGroup as group:
            first = group.exceptions[0]
            raise AssertionError(f"a case failed: {first!r}; {await self.diagnosis()}") from first
        return states

    async def diagnosis(self) -> str:
        """Where the run stands, whether the dev server answers, and the workers' logs."""
        try:
            await self.env.client.workflow_service.get_system_info(
                GetSystemInfoRequest(), timeout=timedelta(seconds=5)
            )
            server = "the dev server answers"
        except Exception as e:  # any failure means it does not
            server = f"the dev server does not answer ({e})"
        logs = "\n".join(f"--- {w.log.name}:\n{w.tail()}" for w in self.workers)
        return (
            f"{self.driver.workflows_done} of {len(self.case_ids)} cases done, "
            f"{self.driver.updates_done} of {self.total_updates} updates answered; "
            f"{server}\n{logs}"
        )

    async def check(self, states: Sequence[CaseState]) -> RecordCheck:
        return await check_records(
            self.database_url,
            {s.case_id: s.events_recorded for s in states},
            {s.case_id: len(self.steps) for s in states},
        )

    async def polling(self) -> set[str]:
        """Identities of the workers that poll this run's queue for both workflow and
        activity tasks (the server forgets a poller about a minute after its last poll)."""
        seen: list[set[str]] = []
        for kind in (
            TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        ):
            answer = await self.env.client.workflow_service.describe_task_queue(
                DescribeTaskQueueRequest(
                    namespace=self.env.client.namespace,
                    task_queue=TaskQueue(name=self.task_queue),
                    task_queue_type=kind,
                )
            )
            seen.append({p.identity for p in answer.pollers})
        return seen[0] & seen[1]

    async def until_polling(self, workers: Sequence[WorkerProcess]) -> None:
        """Wait until every one of ``workers`` polls the queue (a worker process needs a
        few seconds to import and connect; on a loaded machine, many more)."""
        wanted = {w.pid for w in workers}
        give_up = time.monotonic() + RUN_TIMEOUT
        while True:
            found = {int(who.split("@", 1)[0]) for who in await self.polling()}
            if wanted <= found:
                return
            if time.monotonic() > give_up:
                missing = sorted(wanted - found)
                pytest.fail(f"workers {missing} never polled; {await self.diagnosis()}")
            await asyncio.sleep(0.2)

    async def completed_by(self, since: float = 0.0) -> dict[str, int]:
        """Who completed the cases' workflow and activity tasks (after ``since``, epoch s):
        worker identity -> count."""
        counts: dict[str, int] = {}
        for case_id in self.case_ids:
            handle = self.env.client.get_workflow_handle(case_workflow_id(case_id))
            async for event in handle.fetch_history_events():
                if event.event_time.ToDatetime().timestamp() < since:
                    continue
                if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                    who = event.workflow_task_completed_event_attributes.identity
                elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                    who = event.activity_task_completed_event_attributes.identity
                else:
                    continue
                counts[who] = counts.get(who, 0) + 1
        return counts

    async def until_each_completed_tasks(
        self, workers: Sequence[WorkerProcess], play: asyncio.Task[Any]
    ) -> dict[str, int]:
        """Wait until each of ``workers`` has completed a task of these cases; returns the
        counts by identity. Fails if the cases finish first or nothing changes for long."""
        give_up = time.monotonic() + RUN_TIMEOUT
        while True:
            taken = await self.completed_by()
            idle = [w.pid for w in workers if not any(k.startswith(f"{w.pid}@") for k in taken)]
            if not idle:
                return taken
            if play.done() or time.monotonic() > give_up:
                pytest.fail(
                    f"workers {idle} completed no task; tasks by identity: {taken}; "
                    f"{await self.diagnosis()}"
                )
            await asyncio.sleep(0.2)

    def report(self, states: Sequence[CaseState], check: RecordCheck, fault: str) -> str:
        finished = sum(1 for s in states if s.status is CaseStatus.APPOINTED)
        return (
            f"{len(self.case_ids)} cases, {fault}, {finished} finished, "
            f"{check.missing} missing, {check.duplicates} duplicate records "
            f"({check.recorded} of {check.expected} events recorded; "
            f"{self.driver.retries} calls sent again after a lost answer, "
            f"{sum(self.driver.refused_early.values())} steps refused as early and sent again; "
            f"seed {fault_seed()})"
            + "".join(
                f"\n  refused as early: {n} × {why}" for why, n in self.driver.refused_early.items()
            )
        )

    async def stop_workers(self) -> None:
        for w in self.workers:
            await w.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def fault_run(
    devserver: WorkflowEnvironment, database_url: str, tmp_path: Path
) -> AsyncIterator[FaultRun]:
    run = FaultRun(devserver, database_url, tmp_path, random.Random(fault_seed()))
    try:
        yield run
    finally:
        await run.stop_workers()


RecordProperty = Callable[[str, object], None]  # pytest's ``record_property`` fixture


def say(record_property: RecordProperty, text: str) -> None:
    """Keep the run's figures with its report: the suite's terminal summary prints them,
    also when the tests ran in worker processes (pytest-xdist), which show no output."""
    record_property(FIGURES, text)
