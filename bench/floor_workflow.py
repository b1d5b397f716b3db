"""The floor of the pipeline benchmark: a bare workflow with a case's shape and no logic.

``FloorWorkflow`` schedules as many activities and local activities, accepts as many updates
and starts as many timers as one real appointment case does (``Shape.of_history`` counts them
in a finished case's history), and does nothing else: its activity returns its argument, its
updates carry a number, it records nothing anywhere. Driven the same way as the cases (one
update after another, each awaited), it shows what the Temporal engine alone costs on this
machine; the gap to the real cases is the cost of the rules, the payloads and the PostgreSQL
records.
Its worker is the SDK's own, with the SDK's sandbox as it ships: the service's worker runs a
cheaper sandbox (``gateway.sandbox``: its code strings compiled once, each payload's context
read directly), and that saving counts for the service, not for the floor; with
``FLOOR_RUNNER=service`` (``bench.pipeline_bench --floor-runner service``) the floor runs in the
service's sandbox too, and bench/RESULTS.md gives the ratios against both.

Where the case waits for people, it arms a deadline timer that the next input cancels; the
floor does the same: for its first ``timers`` waits it waits for the next update with a timeout
of a day, so each such wait starts a timer that the update cancels.

Run its worker (what ``bench.pipeline_bench`` starts as a subprocess)::

    TEMPORAL_ADDRESS=127.0.0.1:7233 TASK_QUEUE=floor .venv/bin/python -m bench.floor_workflow
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.common import RetryPolicy
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, Field

    from workflows.activity_refs import LOCAL_ACTIVITY_MARKER
    from workflows.appointment_case import ACTIVITY_TIMEOUT  # the floor calls as the case does

FLOOR_WAIT = timedelta(days=1)  # never reached: the next update always comes first
# which workflow runner the floor's worker gives its workflows: the SDK's or the service's
FLOOR_RUNNER_ENV = "FLOOR_RUNNER"
FLOOR_RUNNERS = ("sdk", "service")


class Shape(BaseModel):
    """What one case amounts to for the engine (and the input of a floor workflow)."""

    activities: int = Field(ge=0)  # ActivityTaskScheduled
    local_activities: int = Field(default=0, ge=0)  # MarkerRecorded of a local activity
    updates: int = Field(ge=1)  # WorkflowExecutionUpdateAccepted
    timers: int = Field(ge=0)  # TimerStarted
    upserts: int = Field(default=0, ge=0)  # UpsertWorkflowSearchAttributes (not reproduced)
    events: int = Field(default=0, ge=0)  # every history event

    @classmethod
    def of_history(cls, history: WorkflowHistory) -> Shape:
        def count(kind: EventType.ValueType) -> int:
            return sum(1 for e in history.events if e.event_type == kind)

        return cls(
            activities=count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
            local_activities=sum(
                1
                for e in history.events
                if e.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
            ),
            updates=count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED),
            timers=count(EventType.EVENT_TYPE_TIMER_STARTED),
            upserts=count(EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES),
            events=len(history.events),
        )

    def engine_work(self) -> tuple[int, int, int, int]:
        return (self.activities, self.local_activities, self.updates, self.timers)

    def describe(self) -> str:
        return (
            f"{self.activities} activities, {self.local_activities} local activities, "
            f"{self.updates} updates, {self.timers} timers, "
            f"{self.upserts} search-attribute upserts, {self.events} history events"
        )


class FloorStep(BaseModel):
    index: int


@activity.defn
async def floor_noop(index: int) -> int:
    return index


def per_update(total: int, shape: Shape) -> list[int]:
    """``total`` (the case's activities, or its local ones) spread over its updates, the first
    ones taking the remainder."""
    base, extra = divmod(total, shape.updates)
    return [base + (1 if i < extra else 0) for i in range(shape.updates)]


@workflow.defn
class FloorWorkflow:
    @workflow.init
    def __init__(self, shape: Shape) -> None:
        self._plan = per_update(shape.activities, shape)
        self._local_plan = per_update(shape.local_activities, shape)
        self._done = 0

    @workflow.run
    async def run(self, shape: Shape) -> int:
        for i in range(shape.updates):
            wait_for_next = self._after(i + 1)
            if i < shape.timers:
                try:
                    await workflow.wait_condition(wait_for_next, timeout=FLOOR_WAIT)
                except TimeoutError:
                    pass
            else:
                await workflow.wait_condition(wait_for_next)
        # timers beyond one per update (not seen in real cases): short sleeps
        for _ in range(max(0, shape.timers - shape.updates)):
            await workflow.sleep(timedelta(milliseconds=1))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._done

    def _after(self, n: int) -> Callable[[], bool]:
        return lambda: self._done >= n

    @workflow.update
    async def step(self, data: FloorStep) -> int:
        for _ in range(self._local_plan[data.index] if data.index < len(self._local_plan) else 0):
            await workflow.execute_local_activity(
                floor_noop, data.index, start_to_close_timeout=ACTIVITY_TIMEOUT
            )
        for _ in range(self._plan[data.index] if data.index < len(self._plan) else 0):
            await workflow.execute_activity(
                floor_noop,
                data.index,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
            )
        self._done += 1
        return self._done


async def run_floor_worker() -> None:
    from gateway.client import connect
    from gateway.sandbox import workflow_runner
    from settings import load_settings

    runner = os.environ.get(FLOOR_RUNNER_ENV, "sdk")
    if runner not in FLOOR_RUNNERS:
        raise SystemExit(f"{FLOOR_RUNNER_ENV} must be one of {', '.join(FLOOR_RUNNERS)}: {runner}")
    settings = load_settings()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    client = await connect(settings)
    async with Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[FloorWorkflow],
        activities=[floor_noop],
        workflow_runner=workflow_runner() if runner == "service" else SandboxedWorkflowRunner(),
    ):
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(run_floor_worker())
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # temporalio/sdk-python#300: skip the interpreter's teardown
