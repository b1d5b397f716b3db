"""The pipeline benchmark's rounds (no servers): the phases alternate so that a drift of the
machine's speed falls on both sides alike, and a side's phases add up to its figures; the
floor's sandbox is one of two, named."""

from __future__ import annotations

import asyncio

import pytest

from bench.floor_workflow import FLOOR_RUNNER_ENV, run_floor_worker
from bench.pipeline_bench import Phase, Sample, main, phase_order


def _phase(
    n: int, wall: float, worker: float, server: float | None, latencies: list[float]
) -> Phase:
    return Phase(
        label="cases",
        n=n,
        wall_s=wall,
        latencies_s=latencies,
        worker_cpu_s=worker,
        server_cpu_s=server,
        driver_cpu_s=1.0,
        machine_busy_s=2 * wall,
        machine_iowait_s=0.0,
        retries=1,
        retry_reasons={"lost": 1},
        refused_early={},
        by_step={"(first) a": latencies[:1], "b": latencies[1:]},
    )


def test_the_phases_alternate_floor_first_then_cases_first() -> None:
    assert phase_order(1) == ["floor", "cases"]
    assert phase_order(2) == ["floor", "cases", "cases", "floor"]
    assert phase_order(3) == ["floor", "cases", "cases", "floor", "floor", "cases"]
    with pytest.raises(ValueError):
        phase_order(0)


def test_phases_together_add_their_cases_time_and_cpu_and_pool_their_latencies() -> None:
    one = _phase(100, 20.0, 10.0, 12.0, [1.0, 0.1, 0.2])
    two = _phase(100, 30.0, 14.0, 18.0, [3.0, 0.3, 0.4])
    both = Phase.together([one, two])
    assert both.n == 200 and both.wall_s == 50.0
    assert both.per_second == 4.0  # not the mean of 5.0 and 3.33
    assert (both.worker_cpu_s, both.server_cpu_s, both.driver_cpu_s) == (24.0, 30.0, 2.0)
    assert sorted(both.latencies_s) == [0.1, 0.2, 0.3, 0.4, 1.0, 3.0]
    assert both.by_step == {"(first) a": [1.0, 3.0], "b": [0.1, 0.2, 0.3, 0.4]}
    assert both.p_after_first(100) == 400.0
    assert (both.retries, both.retry_reasons) == (2, {"lost": 2})
    assert Phase.together([one]) is one
    # a phase without the server's CPU (a server not started here) leaves the sum unknown
    assert Phase.together([one, _phase(1, 1.0, 1.0, None, [0.5, 0.5])]).server_cpu_s is None


def test_samples_add_up() -> None:
    a = Sample(updates=2, inside=2, send_to_record_s=[0.1, 0.2], record_to_return_s=[0.3, 0.4])
    b = Sample(updates=1, inside=0, send_to_record_s=[0.5], record_to_return_s=[0.6])
    b.problems.append("late")
    a.add(b)
    assert (a.updates, a.inside, a.problems) == (3, 2, ["late"])
    assert a.send_to_record_s == [0.1, 0.2, 0.5] and a.record_to_return_s == [0.3, 0.4, 0.6]


def test_the_floor_runs_in_the_sdks_sandbox_or_the_services_and_nothing_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["--cases", "1", "--floor-runner", "pypy"])
    assert refused.value.code == 2  # argparse's refusal, before anything starts
    monkeypatch.setenv(FLOOR_RUNNER_ENV, "pypy")
    with pytest.raises(SystemExit, match="FLOOR_RUNNER must be one of sdk, service: pypy"):
        asyncio.run(run_floor_worker())  # refused before it reaches Temporal
