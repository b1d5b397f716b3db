"""Two workers on one task queue; one is killed mid-run and the other carries every case.

What makes both workers hold work before the kill (checked, not hoped for): a workflow task
goes to the worker that completed the workflow's previous one (its sticky queue), and the
activities that task schedules are handed to that same worker with its completion (eager
activity execution). So whichever worker takes a case's first workflow task keeps that case
and all of its activities until it dies; a worker that starts polling after the cases have
started gets nothing. This is why the test once failed at random: the driver started all 20
cases while the second worker process was still importing, the first took every case, and
the second completed no task in the whole run. Now both workers must be seen polling the
queue, for workflow and for activity tasks (DescribeTaskQueue), before the first case
starts, so the cases' first workflow tasks are shared between their waiting polls; and the
kill waits, on events rather than on a clock, until each worker has completed tasks of its
own. Afterwards only the survivor may complete tasks (the victim's sticky queue and running
activities time out and come back to the shared queue), every case must finish, and
PostgreSQL must hold each event exactly once.
"""

from __future__ import annotations

import time

import pytest

from tests.faults.conftest import FaultRun, RecordProperty, say

pytestmark = pytest.mark.devserver

SETTLE = 1.0  # seconds after the kill from which only the survivor may complete tasks


async def test_the_other_worker_carries_every_case(
    fault_run: FaultRun, record_property: RecordProperty
) -> None:
    run, rng = fault_run, fault_run.rng
    workers = [run.worker("worker-a"), run.worker("worker-b")]
    for w in workers:
        await w.start()
    await run.until_polling(workers)
    play = run.play()
    # kill one of them somewhere in the first half of the run, once both hold work
    await run.progress_by(rng.randint(run.total_updates // 10, run.total_updates // 2), play)
    holding = await run.until_each_completed_tasks(workers, play)
    assert not play.done(), "the cases finished before the kill"
    victim = rng.choice(workers)
    survivor = next(w for w in workers if w is not victim)
    victim_pid, survivor_pid = victim.pid, survivor.pid
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
    held = {
        w: sum(n for who, n in holding.items() if who.startswith(f"{w}@"))
        for w in (victim_pid, survivor_pid)
    }
    say(
        record_property,
        run.report(states, check, "2 workers, 1 killed")
        + f"\n  killed after {done_at_kill} of {run.total_updates} updates; tasks completed "
        f"when the kill was due: {held[victim_pid]} by the victim, {held[survivor_pid]} by the "
        f"survivor; in all {by_victim} by the killed worker, {by_survivor_after} by the "
        "survivor after the kill",
    )
    assert held[victim_pid] > 0 and held[survivor_pid] > 0, held
    assert by_victim > 0, (
        f"the killed worker ({victim_pid}) had taken no task: the test proved nothing; "
        f"tasks by identity: {before}"
    )
    assert not others_after, f"tasks completed after the kill by others: {others_after}"
    assert by_survivor_after > 0
    assert all(s.status.value == "appointed" for s in states)
    assert check.exact, check.problems
    assert check.recorded == check.expected
