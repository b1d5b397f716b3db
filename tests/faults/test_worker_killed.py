"""The only worker is killed (SIGKILL) three times while cases run: nothing is lost or doubled.

What a kill leaves behind, and how it heals: the workflow task the worker held times out
(or waits out its sticky queue's 10 s) and goes to the restarted worker, which replays the
history; an activity it was running (a ``record_event`` whose transaction may or may not have
committed) is retried after its start-to-close timeout (``ACTIVITY_TIMEOUT``), and the
(case, seq) key makes the second write a no-op; the driver's updates wait, or are sent again
under the same id and answered from Temporal.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.conftest import FaultRun, RecordProperty, say

pytestmark = pytest.mark.devserver

KILLS = 3


async def test_worker_killed_three_times_loses_and_doubles_nothing(
    fault_run: FaultRun, record_property: RecordProperty
) -> None:
    run, rng = fault_run, fault_run.rng
    worker = run.worker("worker")
    await worker.start()
    play = run.play()
    moments = []
    for k in range(KILLS):
        # a random moment while the cases run: some progress since the worker (re)started,
        # then a random pause
        await run.progress_by(rng.randint(3, 20), play)
        await asyncio.sleep(rng.uniform(0.0, 1.0))
        if play.done():
            break
        moments.append(f"kill {k + 1} after {run.driver.updates_done} updates")
        await worker.kill()
        await asyncio.sleep(rng.uniform(0.0, 2.0))
        await worker.start()
    states = await run.finish(play)
    check = await run.check(states)

    say(
        record_property,
        run.report(states, check, f"{worker.kills} worker kills")
        + f"\n  {'; '.join(moments)} of {run.total_updates}",
    )
    assert worker.kills == KILLS, f"the cases finished before kill {worker.kills + 1}"
    assert len(states) == len(run.case_ids)
    assert all(s.status.value == "appointed" for s in states)
    assert check.exact, check.problems
    assert check.recorded == check.expected
