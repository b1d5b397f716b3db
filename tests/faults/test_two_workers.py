"""Two workers on one task queue; one is killed mid-run and the other carries every case.

Both poll the same queue, so both take part until the kill. Afterwards the survivor must
complete every workflow and activity task (the victim's sticky queue and running activities
time out and come back to the shared queue), every case must finish, and PostgreSQL must hold
each event exactly once.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.faults.conftest import FaultRun, say

pytestmark = pytest.mark.devserver

VICTIM_WAIT_STEPS = 150  # of 0.2 s: at most 30 s for the victim to complete a task
SETTLE = 1.0  # seconds after the kill from which only the survivor may complete tasks


async def test_the_other_worker_carries_every_case(
    fault_run: FaultRun, capsys: pytest.CaptureFixture[str]
) -> None:
    run, rng = fault_run, fault_run.rng
    workers = [run.worker("worker-a"), run.worker("worker-b")]
    for w in workers:
        await w.start()
    play = run.play()
    # kill one of them somewhere in the first half of the run
    await run.progress_by(rng.randint(run.total_updates // 10, run.total_updates // 2), play)
    assert not play.done(), "the cases finished before the kill"
    victim = rng.choice(workers)
    survivor = next(w for w in workers if w is not victim)
    victim_pid, survivor_pid = victim.pid, survivor.pid
    # the task queue may have handed everything to the other worker so far: kill the victim
    # only once it holds work of its own, or the kill proves nothing
    for _ in range(VICTIM_WAIT_STEPS):
        taken = await run.completed_by()
        if any(who.startswith(f"{victim_pid}@") for who in taken):
            break
        await asyncio.sleep(0.2)
    done_at_kill = run.driver.updates_done
    await victim.kill()
    # a completion the victim sent just before it died may still land a moment later
    killed_at = time.time() + SETTLE

    states = await run.finish(play)
    check = await run.check(states)

    before = await run.completed_by()
    after = await run.completed_by(since=killed_at)
    by_victim = sum(n for who, n in before.items() if who.startswith(f"{victim_pid}@"))
    by_survivor_after = sum(n for who, n in after.items() if who.startswith(f"{survivor_pid}@"))
    others_after = {who: n for who, n in after.items() if not who.startswith(f"{survivor_pid}@")}
    say(
        capsys,
        run.report(states, check, "2 workers, 1 killed")
        + f"\n  killed after {done_at_kill} of {run.total_updates} updates; tasks completed: "
        f"{by_victim} by the killed worker before, {by_survivor_after} by the survivor after",
    )
    assert by_victim > 0, (
        f"the killed worker ({victim_pid}) had taken no task: the test proved nothing; "
        f"tasks by identity: {before}"
    )
    assert not others_after, f"tasks completed after the kill by others: {others_after}"
    assert by_survivor_after > 0
    assert all(s.status.value == "appointed" for s in states)
    assert check.exact, check.problems
    assert check.recorded == check.expected
