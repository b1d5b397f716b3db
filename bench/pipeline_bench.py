"""Benchmark of the appointment pipeline on the Temporal dev server (issue #6), run by hand.

    .venv/bin/python -m bench.pipeline_bench [--cases 100,300,1000] [--concurrency 100]
                                             [--rounds R] [--address HOST:PORT] [--json FILE]

For each size N (a fresh dev server with its SQLite file in a temporary folder, unless
``--address`` names a running server; a fresh database on the PostgreSQL server, created,
migrated and dropped here):

1. starts the appointment worker as a subprocess (``appointments worker``, the production
   entry point) and the floor's worker (``python -m bench.floor_workflow``);
2. runs one case to the end and counts its history: activities scheduled, updates accepted,
   timers started. The floor workflow (``bench/floor_workflow.py``) is given exactly that
   shape, and one floor run checks it matches;
3. the floor phase: N floor workflows, each driven through its updates one after another,
   at most ``--concurrency`` at once;
4. the case phase: N regular appointments, each driven through every human step from the
   investigation notice to the appointment (18 updates), at most ``--concurrency`` at once.
   Outside events carry the past dates of ``tests.workflows.scenarios``, so the
   pre-appointment notice's five working days have long run when it is recorded: nothing is
   shortened, nothing is switched off;
5. checks PostgreSQL: every case's events exactly once (seq 1..n, n the workflow's own
   ``events_recorded``), one input event per update; and, for a sample of cases, that each
   input was written (``case_events.recorded_at``) between its update's send and return.

Figures: cases per second for both phases and their ratio; update latency send→return
(p50/p95; an update returns only after its ``record_event`` activity committed, so this is
the latency to the record in PostgreSQL); CPU seconds per case of the worker, the dev server
and the driver (from ``/proc``), and what the rest of the machine used meanwhile.

The floor runs first, the cases second, on the same server: the cases meet a SQLite file
that already holds the floor's histories, which makes their figure, and the ratio, slightly
conservative. With ``--rounds R`` each size runs R floor phases and R case phases of N each,
in the order floor, cases, cases, floor, floor, cases, ... (a drift of the machine's speed
during the run, which moves one phase against the other by as much as a third here, falls on
both alike), and each side's figures are those of its phases together.
Concurrency stays well below the ~1,000 workflows at once at which the dev
server's single SQLite connection starts timing out (TOOLCHAIN.md).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import platform
import secrets
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from bench.driver import (
    APPOINTMENT_WORKER,
    DATABASE_SERVER,
    FLOOR_WORKER,
    Driver,
    RecordCheck,
    Step,
    WorkerProcess,
    bench_case,
    check_records,
    children_named,
    cpu_seconds,
    input_recorded_at,
    machine_busy_seconds,
    machine_iowait_seconds,
    percentile,
    regular_steps,
    run_bounded,
    worker_env,
)
from bench.floor_workflow import FLOOR_RUNNER_ENV, FLOOR_RUNNERS, FloorStep, Shape
from starter.temporal_binaries import find_temporal_cli
from store.db import with_database
from store.migrate import drop_database, ensure_database, upgrade_to_head
from workflows.ids import case_workflow_id
from workflows.search_attributes import SEARCH_ATTRIBUTES
from workflows.types import CaseState, CaseStatus

CLOCK_SLACK = 0.002  # seconds: PostgreSQL's now() and time.time() read the same clock


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def floor_steps(shape: Shape) -> list[Step]:
    return [Step("step", FloorStep(index=i)) for i in range(shape.updates)]


# --------------------------------------------------------------------------- results


@dataclass
class Phase:
    """One phase (the floor or the cases) of one size."""

    label: str
    n: int
    wall_s: float
    latencies_s: list[float] = field(repr=False)
    worker_cpu_s: float
    server_cpu_s: float | None
    driver_cpu_s: float
    machine_busy_s: float
    machine_iowait_s: float
    retries: int
    retry_reasons: dict[str, int]
    refused_early: dict[str, int]
    by_step: dict[str, list[float]] = field(repr=False)

    @property
    def per_second(self) -> float:
        return self.n / self.wall_s

    def p(self, q: float) -> float:
        return percentile(self.latencies_s, q) * 1000

    def p_after_first(self, q: float) -> float:
        """Without each case's first update, which also waits for the case to open."""
        later = [
            v for name, vs in self.by_step.items() if not name.startswith("(first)") for v in vs
        ]
        return percentile(later, q) * 1000

    @classmethod
    def together(cls, phases: Sequence[Phase]) -> Phase:
        """Several phases of one side as one: their cases, times and CPU added up, their
        latencies pooled."""
        if len(phases) == 1:
            return phases[0]
        servers = [p.server_cpu_s for p in phases]
        by_step: dict[str, list[float]] = {}
        for p in phases:
            for name, values in p.by_step.items():
                by_step.setdefault(name, []).extend(values)
        return cls(
            label=phases[0].label,
            n=sum(p.n for p in phases),
            wall_s=sum(p.wall_s for p in phases),
            latencies_s=[v for p in phases for v in p.latencies_s],
            worker_cpu_s=sum(p.worker_cpu_s for p in phases),
            server_cpu_s=None if None in servers else sum(s for s in servers if s is not None),
            driver_cpu_s=sum(p.driver_cpu_s for p in phases),
            machine_busy_s=sum(p.machine_busy_s for p in phases),
            machine_iowait_s=sum(p.machine_iowait_s for p in phases),
            retries=sum(p.retries for p in phases),
            retry_reasons=dict(sum((Counter(p.retry_reasons) for p in phases), Counter())),
            refused_early=dict(sum((Counter(p.refused_early) for p in phases), Counter())),
            by_step=by_step,
        )

    def figures(self) -> dict[str, Any]:
        ours = self.worker_cpu_s + (self.server_cpu_s or 0) + self.driver_cpu_s
        return {
            "cases": self.n,
            "wall_s": round(self.wall_s, 2),
            "per_second": round(self.per_second, 3),
            "updates": len(self.latencies_s),
            "update_p50_ms": round(self.p(50), 1),
            "update_p95_ms": round(self.p(95), 1),
            "update_max_ms": round(self.p(100), 1),
            "later_update_p50_ms": round(self.p_after_first(50), 1),
            "later_update_p95_ms": round(self.p_after_first(95), 1),
            "worker_cpu_s_per_case": round(self.worker_cpu_s / self.n, 4),
            "server_cpu_s_per_case": (
                round(self.server_cpu_s / self.n, 4) if self.server_cpu_s is not None else None
            ),
            "driver_cpu_s_per_case": round(self.driver_cpu_s / self.n, 4),
            "machine_busy_cores": round(self.machine_busy_s / self.wall_s, 2),
            "rest_of_machine_cores": round(max(0.0, self.machine_busy_s - ours) / self.wall_s, 2),
            "iowait_cores": round(self.machine_iowait_s / self.wall_s, 2),
            "retries": self.retries,
            "retry_reasons": self.retry_reasons,
            "refused_early": sum(self.refused_early.values()),
            "refused_early_reasons": self.refused_early,
            "by_step_p50_p95_ms": {
                name: [
                    round(percentile(values, 50) * 1000, 1),
                    round(percentile(values, 95) * 1000, 1),
                    len(values),
                ]
                for name, values in self.by_step.items()
            },
        }


@dataclass
class Sample:
    """Send→return of updates against the moment PostgreSQL wrote their input event."""

    updates: int = 0
    inside: int = 0  # recorded_at between send and return
    send_to_record_s: list[float] = field(default_factory=list, repr=False)
    record_to_return_s: list[float] = field(default_factory=list, repr=False)
    problems: list[str] = field(default_factory=list)

    def add(self, other: Sample) -> None:
        self.updates += other.updates
        self.inside += other.inside
        self.send_to_record_s += other.send_to_record_s
        self.record_to_return_s += other.record_to_return_s
        self.problems += other.problems

    def figures(self) -> dict[str, Any]:
        return {
            "updates": self.updates,
            "recorded_between_send_and_return": self.inside,
            "send_to_record_p50_ms": round(percentile(self.send_to_record_s, 50) * 1000, 1),
            "send_to_record_p95_ms": round(percentile(self.send_to_record_s, 95) * 1000, 1),
            "record_to_return_p50_ms": round(percentile(self.record_to_return_s, 50) * 1000, 1),
            "record_to_return_p95_ms": round(percentile(self.record_to_return_s, 95) * 1000, 1),
            "problems": self.problems[:10],
        }


@dataclass
class SizeResult:
    n: int
    concurrency: int
    server: str
    shape: Shape
    floor_shape: Shape
    floor: Phase
    cases: Phase
    finished: int
    appointed: int
    records: RecordCheck
    sample: Sample
    load_before: str
    load_after: str
    rounds: int = 1  # each side ran n cases this many times
    floor_runner: str = "sdk"  # the floor's workflow runner (FLOOR_RUNNERS)
    # each phase on its own, in the order run: (label, cases per second, worker and server
    # CPU per case)
    phases: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.cases.per_second / self.floor.per_second

    def figures(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "rounds": self.rounds,
            "concurrency": self.concurrency,
            "server": self.server,
            "floor_runner": self.floor_runner,
            "case_shape": self.shape.model_dump(),
            "floor_shape": self.floor_shape.model_dump(),
            "floor": self.floor.figures(),
            "cases": self.cases.figures(),
            "ratio_cases_to_floor": round(self.ratio, 3),
            "finished": self.finished,
            "appointed": self.appointed,
            "records": {k: v for k, v in asdict(self.records).items() if k != "problems"}
            | {"problems": self.records.problems[:10]},
            "latency_sample": self.sample.figures(),
            "loadavg_before": self.load_before,
            "loadavg_after": self.load_after,
            "phases": self.phases,
        }


# --------------------------------------------------------------------------- running


# what the figures give of each phase on its own, beside the sides' totals
PHASE_FIGURES = ("per_second", "worker_cpu_s_per_case", "server_cpu_s_per_case")


def phase_order(rounds: int) -> list[str]:
    """The phases of ``rounds`` rounds: floor and cases, then cases and floor, and so on."""
    if rounds < 1:
        raise ValueError("at least one round")
    pairs = [("floor", "cases") if r % 2 == 0 else ("cases", "floor") for r in range(rounds)]
    return [label for pair in pairs for label in pair]


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


async def _register_search_attributes(client: Client) -> None:
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=client.namespace,
                search_attributes={
                    k.name: IndexedValueType.ValueType(k.indexed_value_type)
                    for k in SEARCH_ATTRIBUTES
                },
            )
        )
    except RPCError as e:
        if e.status is not RPCStatusCode.ALREADY_EXISTS:
            raise


async def measure(
    label: str,
    n: int,
    driver: Driver,
    job: Callable[[int], Awaitable[Any]],
    worker: WorkerProcess,
    server_pids: Sequence[int],
    concurrency: int,
) -> tuple[Phase, list[Any]]:
    def server_cpu() -> float | None:
        try:
            return sum(cpu_seconds(p) for p in server_pids) if server_pids else None
        except OSError:
            return None

    w0, s0, d0, m0 = worker.cpu(), server_cpu(), time.process_time(), machine_busy_seconds()
    io0 = machine_iowait_seconds()
    t0 = time.monotonic()
    results = await run_bounded([functools.partial(job, i) for i in range(n)], concurrency)
    wall = time.monotonic() - t0
    w1, s1, d1, m1 = worker.cpu(), server_cpu(), time.process_time(), machine_busy_seconds()
    io1 = machine_iowait_seconds()
    by_step: dict[str, list[float]] = {}
    for t in driver.timings:
        # the first update of a case also waits for the case to open
        name = "(first) " + t.name if t.index == 0 else t.name
        by_step.setdefault(name, []).append(t.seconds)
    phase = Phase(
        label=label,
        n=n,
        wall_s=wall,
        latencies_s=[t.seconds for t in driver.timings],
        worker_cpu_s=w1 - w0,
        server_cpu_s=(s1 - s0) if s0 is not None and s1 is not None else None,
        driver_cpu_s=d1 - d0,
        machine_busy_s=m1 - m0,
        machine_iowait_s=io1 - io0,
        retries=driver.retries,
        retry_reasons=dict(driver.retry_reasons),
        refused_early=dict(driver.refused_early),
        by_step=by_step,
    )
    return phase, results


async def latency_sample(database_url: str, driver: Driver, case_ids: Sequence[str]) -> Sample:
    recorded = await input_recorded_at(database_url, case_ids)
    by_workflow: dict[str, list[Any]] = {}
    for t in driver.timings:
        by_workflow.setdefault(t.workflow_id, []).append(t)
    sample = Sample()
    for case_id in case_ids:
        timings = sorted(by_workflow.get(case_workflow_id(case_id), []), key=lambda t: t.index)
        written = recorded.get(case_id, [])
        if len(written) != len(timings):
            sample.problems.append(f"{case_id}: {len(timings)} updates, {len(written)} inputs")
            continue
        for t, at in zip(timings, written, strict=True):
            ts = at.timestamp()
            sample.updates += 1
            if t.sent_at - CLOCK_SLACK <= ts <= t.returned_at + CLOCK_SLACK:
                sample.inside += 1
            else:
                sample.problems.append(
                    f"{case_id} #{t.index} {t.name}: recorded {ts - t.sent_at:+.3f} s after send, "
                    f"returned {t.returned_at - t.sent_at:.3f} s after send"
                )
            sample.send_to_record_s.append(ts - t.sent_at)
            sample.record_to_return_s.append(t.returned_at - ts)
    return sample


async def run_size(n: int, args: argparse.Namespace) -> SizeResult:
    token = secrets.token_hex(3)
    steps = regular_steps()
    with tempfile.TemporaryDirectory(prefix="pipeline-bench-") as tmp_name:
        tmp = Path(tmp_name)
        env: WorkflowEnvironment | None = None
        if args.address:
            client = await Client.connect(
                args.address, namespace=args.namespace, data_converter=pydantic_data_converter
            )
            await _register_search_attributes(client)
            server_pids: list[int] = []
            server = f"dev server at {args.address} (not started here)"
        else:
            in_file = args.dev_server_db == "file"
            env = await WorkflowEnvironment.start_local(
                namespace=args.namespace,
                dev_server_existing_path=str(find_temporal_cli()),
                dev_server_database_filename=str(tmp / "temporal.db") if in_file else None,
                data_converter=pydantic_data_converter,
                search_attributes=SEARCH_ATTRIBUTES,
                dev_server_log_level="error",  # not a "slow call" warning per update
                ui=False,
                port=_free_port(),
            )
            client = env.client
            server_pids = children_named("temporal")
            server = (
                "dev server started here, SQLite file in a temporary folder"
                if in_file
                else "dev server started here, SQLite in memory"
            )
        address = client.service_client.config.target_host
        db_name = f"appointments_bench_{os.getpid()}_{token}"
        await ensure_database(DATABASE_SERVER, db_name)
        database_url = with_database(DATABASE_SERVER, db_name)
        case_queue, floor_queue = f"bench-cases-{token}", f"bench-floor-{token}"
        case_worker = WorkerProcess(
            APPOINTMENT_WORKER,
            worker_env(
                temporal_address=address,
                task_queue=case_queue,
                database_url=database_url,
                namespace=args.namespace,
            ),
            tmp / "case-worker.log",
        )
        floor_worker = WorkerProcess(
            FLOOR_WORKER,
            {
                **worker_env(
                    temporal_address=address, task_queue=floor_queue, namespace=args.namespace
                ),
                FLOOR_RUNNER_ENV: args.floor_runner,
            },
            tmp / "floor-worker.log",
        )
        try:
            await upgrade_to_head(database_url)
            await case_worker.start()
            await floor_worker.start()
            load_before = _loadavg()

            # one case to the end: it warms the worker up and gives the floor its shape
            warm = Driver(client, case_queue)
            first_id = f"B{token}-calibration"
            await asyncio.wait_for(warm.play_case(bench_case(first_id), steps), 120)
            history = await client.get_workflow_handle(case_workflow_id(first_id)).fetch_history()
            shape = Shape.of_history(history)
            floor_warm = Driver(client, floor_queue)
            floor_id = f"floor-{token}-calibration"
            await asyncio.wait_for(
                floor_warm.play("FloorWorkflow", shape, floor_id, floor_steps(shape), int, int),
                120,
            )
            floor_shape = Shape.of_history(
                await client.get_workflow_handle(floor_id).fetch_history()
            )
            if floor_shape.engine_work() != shape.engine_work():
                raise RuntimeError(
                    f"the floor does not match the case: {floor_shape.describe()} "
                    f"against {shape.describe()}"
                )
            print(f"  N={n}: one case is {shape.describe()}", flush=True)
            print(f"  N={n}: one floor run is {floor_shape.describe()}", flush=True)

            floors: list[Phase] = []
            rounds: list[tuple[Phase, Driver, list[str]]] = []
            states: list[CaseState] = []
            phases: list[dict[str, Any]] = []
            for k, label in enumerate(phase_order(args.rounds)):
                if label == "floor":
                    floor_driver = Driver(client, floor_queue)

                    async def floor_job(i: int, d: Driver = floor_driver, k: int = k) -> int:
                        done: int = await d.play(
                            "FloorWorkflow",
                            shape,
                            f"floor-{token}-{k}-{i}",
                            floor_steps(shape),
                            int,
                            int,
                        )
                        return done

                    phase, _ = await measure(
                        "floor",
                        n,
                        floor_driver,
                        floor_job,
                        floor_worker,
                        server_pids,
                        args.concurrency,
                    )
                    floors.append(phase)
                else:
                    case_driver = Driver(client, case_queue)
                    ids = [f"B{token}-{k}-{i:05d}" for i in range(n)]

                    async def case_job(
                        i: int, d: Driver = case_driver, ids: list[str] = ids
                    ) -> CaseState:
                        return await d.play_case(bench_case(ids[i]), steps)

                    phase, done_states = await measure(
                        "cases",
                        n,
                        case_driver,
                        case_job,
                        case_worker,
                        server_pids,
                        args.concurrency,
                    )
                    rounds.append((phase, case_driver, ids))
                    states += done_states
                print(
                    f"  N={n}: {label} {phase.per_second:.2f}/s in {phase.wall_s:.1f} s", flush=True
                )
                shown = phase.figures()
                phases.append({"phase": label} | {k: shown[k] for k in PHASE_FIGURES})
            floor = Phase.together(floors)
            cases = Phase.together([phase for phase, _, _ in rounds])
            load_after = _loadavg()

            records = await check_records(
                database_url,
                {s.case_id: s.events_recorded for s in states},
                {s.case_id: len(steps) for s in states},
            )
            every = max(1, n // args.sample)
            sample = Sample()
            for _, case_driver, ids in rounds:
                sample.add(await latency_sample(database_url, case_driver, ids[::every]))
            return SizeResult(
                n=n,
                concurrency=args.concurrency,
                server=server,
                shape=shape,
                floor_shape=floor_shape,
                floor=floor,
                cases=cases,
                finished=len(states),
                appointed=sum(1 for s in states if s.status is CaseStatus.APPOINTED),
                records=records,
                sample=sample,
                load_before=load_before,
                load_after=load_after,
                rounds=args.rounds,
                phases=phases,
                floor_runner=args.floor_runner,
            )
        except BaseException:
            for w in (case_worker, floor_worker):
                print(f"--- end of {w.log.name}:\n{w.tail()}", file=sys.stderr)
            raise
        finally:
            await case_worker.stop()
            await floor_worker.stop()
            if env is not None:
                await env.shutdown()
            await drop_database(DATABASE_SERVER, db_name)


# --------------------------------------------------------------------------- output


def _ms(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"


def table(r: SizeResult) -> str:
    f, c = r.floor.figures(), r.cases.figures()
    server_f = f["server_cpu_s_per_case"]
    server_c = c["server_cpu_s_per_case"]

    def row(what: str, floor: str, cases: str, ratio: str = "") -> str:
        return f"| {what} | {floor} | {cases} | {ratio} |"

    lines = [
        f"N = {r.n} (at most {r.concurrency} at once"
        + (
            f"; {r.rounds} rounds, phases in the order {' '.join(phase_order(r.rounds))}"
            if r.rounds > 1
            else ""
        )
        + f"); {r.server}"
        + ("; the floor in the service's sandbox" if r.floor_runner == "service" else ""),
        "",
        "| | floor (bare workflow) | cases | cases ÷ floor |",
        "|---|---:|---:|---:|",
        row(
            "throughput, per second",
            f"{f['per_second']:.2f}",
            f"{c['per_second']:.2f}",
            f"{r.ratio:.2f}",
        ),
        row("wall time, s", f"{f['wall_s']:.1f}", f"{c['wall_s']:.1f}"),
        row(
            "update send→return, p50 / p95 ms",
            f"{_ms(f['update_p50_ms'])} / {_ms(f['update_p95_ms'])}",
            f"{_ms(c['update_p50_ms'])} / {_ms(c['update_p95_ms'])}",
        ),
        row(
            "the same without each case's first update, p50 / p95 ms",
            f"{_ms(f['later_update_p50_ms'])} / {_ms(f['later_update_p95_ms'])}",
            f"{_ms(c['later_update_p50_ms'])} / {_ms(c['later_update_p95_ms'])}",
        ),
        row("update send→return, max ms", _ms(f["update_max_ms"]), _ms(c["update_max_ms"])),
        row(
            "worker CPU s per case",
            f"{f['worker_cpu_s_per_case']:.3f}",
            f"{c['worker_cpu_s_per_case']:.3f}",
            f"{c['worker_cpu_s_per_case'] / max(f['worker_cpu_s_per_case'], 1e-9):.1f}×",
        ),
        row(
            "dev server CPU s per case",
            "n/a" if server_f is None else f"{server_f:.3f}",
            "n/a" if server_c is None else f"{server_c:.3f}",
        ),
        row(
            "driver CPU s per case",
            f"{f['driver_cpu_s_per_case']:.3f}",
            f"{c['driver_cpu_s_per_case']:.3f}",
        ),
        row(
            "machine busy, cores (of which not ours)",
            f"{f['machine_busy_cores']:.2f} ({f['rest_of_machine_cores']:.2f})",
            f"{c['machine_busy_cores']:.2f} ({c['rest_of_machine_cores']:.2f})",
        ),
        row(
            "CPU idle waiting for disk, cores",
            f"{f['iowait_cores']:.2f}",
            f"{c['iowait_cores']:.2f}",
        ),
        row("calls sent again after a lost answer", str(f["retries"]), str(c["retries"])),
        row(
            "steps refused as early, sent again",
            str(f["refused_early"]),
            str(c["refused_early"]),
        ),
    ]
    s = r.sample.figures()
    lines += [
        "",
        f"One case: {r.shape.describe()}; the floor: {r.floor_shape.describe()}.",
        f"Cases: {r.finished} finished, {r.appointed} appointed. PostgreSQL: {r.records.summary()}"
        + ("" if r.records.exact else f"; problems: {r.records.problems[:3]}"),
        f"Latency sample ({s['updates']} updates): {s['recorded_between_send_and_return']} input "
        f"records written between send and return; send→record p50 "
        f"{_ms(s['send_to_record_p50_ms'])} ms, p95 {_ms(s['send_to_record_p95_ms'])} ms; "
        f"record→return p50 {_ms(s['record_to_return_p50_ms'])} ms, "
        f"p95 {_ms(s['record_to_return_p95_ms'])} ms.",
        f"Load average before / after: {r.load_before} / {r.load_after}.",
    ]
    if c["retry_reasons"] or f["retry_reasons"]:
        lines.append(f"Retry reasons: floor {f['retry_reasons']}, cases {c['retry_reasons']}.")
    return "\n".join(lines)


def growth_table(results: Sequence[SizeResult]) -> str:
    lines = [
        "| N | floor/s | cases/s | ratio | update p50 ms | p95 ms | later updates p50 / p95 ms "
        "| worker CPU s/case | server CPU s/case | records exact |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        c = r.cases.figures()
        server = c["server_cpu_s_per_case"]
        lines.append(
            f"| {r.n} | {r.floor.per_second:.2f} | {r.cases.per_second:.2f} | {r.ratio:.2f} "
            f"| {_ms(c['update_p50_ms'])} | {_ms(c['update_p95_ms'])} "
            f"| {_ms(c['later_update_p50_ms'])} / {_ms(c['later_update_p95_ms'])} "
            f"| {c['worker_cpu_s_per_case']:.3f} "
            f"| {'n/a' if server is None else f'{server:.3f}'} "
            f"| {'yes' if r.records.exact else 'NO'} |"
        )
    return "\n".join(lines)


def machine() -> str:
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        model = platform.processor() or "?"
    return (
        f"{os.cpu_count()} cores ({model}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


async def run(args: argparse.Namespace) -> list[SizeResult]:
    results = []
    for n in args.cases:
        print(f"Running N={n} ...", flush=True)
        results.append(await run_size(n, args))
        print(table(results[-1]), flush=True)
        print(flush=True)
    return results


def parse_sizes(text: str) -> list[int]:
    sizes = [int(part) for part in text.split(",") if part.strip()]
    if not sizes or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError("give sizes like 300 or 100,300,1000")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline_bench", description=__doc__)
    parser.add_argument("--cases", type=parse_sizes, default=[300], help="N, or N1,N2,...")
    parser.add_argument("--concurrency", type=int, default=100, help="cases in flight at once")
    parser.add_argument("--address", help="a running Temporal server instead of a fresh one")
    parser.add_argument("--namespace", default="default")
    parser.add_argument(
        "--dev-server-db",
        choices=("file", "memory"),
        default="file",
        help="where a dev server started here keeps its SQLite database (default: a file)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="floor and case phases of N each, in the order F C C F F C ... (default: 1, F C)",
    )
    parser.add_argument(
        "--floor-runner",
        choices=FLOOR_RUNNERS,
        default="sdk",
        help="the floor's workflow runner: the SDK's sandbox as it ships (default), or the "
        "service's (gateway.sandbox), so that the service's savings in it count for both",
    )
    parser.add_argument("--sample", type=int, default=20, help="cases in the latency sample")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.concurrency >= 1000:
        parser.error("keep --concurrency well below 1,000 (the dev server's SQLite limit)")
    print(f"Machine: {machine()}; load average {_loadavg()}", flush=True)
    results = asyncio.run(run(args))
    if len(results) > 1:
        print("Growth:")
        print(growth_table(results))
    if args.json:
        args.json.write_text(
            json.dumps(
                {"machine": machine(), "sizes": [r.figures() for r in results]},
                indent=2,
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
    bad = [r.n for r in results if not r.records.exact or r.appointed != r.n * r.rounds]
    if bad:
        print(f"NOT EXACT for N={bad}: see above", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)  # temporalio/sdk-python#300: skip the interpreter's teardown
