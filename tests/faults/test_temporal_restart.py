"""The Temporal server is stopped twice while cases run and started again on its database file.

The server is the embedded stack's own (``starter.embedded.TemporalDevServer``: ``temporal
server start-dev --db-filename ...``), so its state is a SQLite file that outlives the process.
It is stopped once with SIGTERM (an orderly shutdown), down for a few seconds, and once with
SIGKILL (no shutdown at all: what a crash or a pulled plug leaves), down for longer than the
SDK's own retries of a call last (10 s); each time it is started again on the same port with
the same file.

The worker is never restarted: the SDK's client reconnects by itself (its pollers fail with
"unavailable" while the server is down and poll again with backoff), and the test checks that
the same worker process completes tasks after each restart. The driver's calls that fail
meanwhile (an update whose answer was lost with the server, a result long-poll cut off) are
sent again under the same update id, so an update that had already been applied is answered
from the history, not applied twice.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from starter.embedded import TemporalDevServer
from tests.conftest import free_port
from tests.faults.conftest import FaultRun, RecordProperty, fault_seed, say
from workflows.search_attributes import SEARCH_ATTRIBUTES

pytestmark = pytest.mark.devserver

# (signal, seconds down): the first outage is shorter than the SDK's own retries of a call
# (10 s), the second longer, so that calls fail back to the driver and are sent again
STOPS = ((signal.SIGTERM, (2.0, 5.0)), (signal.SIGKILL, (12.0, 16.0)))
STOP_GRACE = 30.0  # seconds the server may take to exit after SIGTERM


class Restartable:
    """The dev server on its database file, stopped by a signal of the test's choice."""

    def __init__(self, data_dir: Path) -> None:
        self.server = TemporalDevServer(
            data_dir,
            namespace="default",
            port=free_port(),
            ui_port=free_port(),
            search_attributes=SEARCH_ATTRIBUTES,
        )
        self.starts = 0

    async def start(self) -> None:
        await self.server.start()
        self.starts += 1
        await self.server.wait_ready()

    async def stop(self, sig: signal.Signals) -> float:
        """Send ``sig`` and wait for the process to end; the seconds it took."""
        began = time.monotonic()
        pid = int(self.server.pid_file.read_text())
        os.kill(pid, sig)
        await asyncio.wait_for(self.server.wait_exit(), STOP_GRACE)
        await self.server.stop()  # only closes the log and removes the pid file now
        return time.monotonic() - began


@pytest_asyncio.fixture(loop_scope="session")
async def restartable(tmp_path: Path) -> AsyncIterator[Restartable]:
    temporal = Restartable(tmp_path)
    await temporal.start()
    try:
        yield temporal
    finally:
        await temporal.server.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def restart_run(
    restartable: Restartable, database_url: str, tmp_path: Path
) -> AsyncIterator[FaultRun]:
    client = await Client.connect(
        restartable.server.address, data_converter=pydantic_data_converter
    )
    run = FaultRun(
        WorkflowEnvironment.from_client(client),
        database_url,
        tmp_path,
        random.Random(fault_seed()),
    )
    try:
        yield run
    finally:
        await run.stop_workers()


async def test_temporal_restarted_twice_loses_and_doubles_nothing(
    restart_run: FaultRun, restartable: Restartable, record_property: RecordProperty
) -> None:
    run, rng = restart_run, restart_run.rng
    worker = run.worker("worker")
    await worker.start()
    worker_pid = worker.pid
    play = run.play()
    moments = []
    after_restart = []
    for sig, (shortest, longest) in STOPS:
        # somewhere in the run: some progress since the last restart, then a random pause
        await run.progress_by(rng.randint(run.total_updates // 10, run.total_updates // 4), play)
        await asyncio.sleep(rng.uniform(0.0, 1.0))
        assert not play.done(), f"the cases finished before the {sig.name} stop"
        done_at_stop = run.driver.updates_done
        took = await restartable.stop(sig)
        down_for = rng.uniform(shortest, longest)
        await asyncio.sleep(down_for)
        await restartable.start()
        restarted_at = time.time()
        moments.append(
            f"{sig.name} after {done_at_stop} updates (exited in {took:.1f} s), "
            f"{down_for:.1f} s down"
        )
        after_restart.append(restarted_at)
    states = await run.finish(play)
    check = await run.check(states)

    by_worker_after = []
    for since in after_restart:
        completed = await run.completed_by(since=since)
        by_worker_after.append(
            sum(n for who, n in completed.items() if who.startswith(f"{worker_pid}@"))
        )
    reasons = ", ".join(f"{n} × {why}" for why, n in sorted(run.driver.retry_reasons.items()))
    say(
        record_property,
        run.report(states, check, f"{len(moments)} Temporal restarts")
        + f"\n  {'; '.join(moments)} of {run.total_updates}"
        + "\n  tasks completed by the same worker process since each restart: "
        + ", ".join(f"{n} since restart {i + 1}" for i, n in enumerate(by_worker_after))
        + (f"\n  sent again: {reasons}" if reasons else ""),
    )
    assert restartable.starts == 1 + len(STOPS)
    assert worker.starts == 1 and worker.running, "the worker must ride the restarts out"
    assert all(n > 0 for n in by_worker_after), "the worker did no task after a restart"
    assert len(states) == len(run.case_ids)
    assert all(s.status.value == "appointed" for s in states)
    assert check.exact, check.problems
    assert check.recorded == check.expected
