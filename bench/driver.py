"""The load driver: plays the people's steps of many cases at once, and checks what they left.

Shared by the pipeline benchmark (``bench.pipeline_bench``), the history-size measurement
(``bench.history_size``) and the fault tests (``tests/faults``). It owns:

- the steps of a regular appointment, from the inputs and the timeline of past dates in
  ``tests.workflows.scenarios``: every outside event (notice, meeting, publication) is dated
  before today, so each statutory period has already run when its step is recorded and no
  rule has to be loosened to go fast;
- ``Driver``: starts workflows and sends their updates one after another, as a clerk would,
  each with an update id of its own (case, index, name) so that sending it again after a lost
  answer (a killed worker, a dev server that timed out) is answered from Temporal instead of
  being applied twice; it times every update, send to return. A step refused only because
  the case has not yet caught up with an automatic transition (``refused_as_early``) is sent
  again a moment later, and counted: the benchmark and the tests report how often;
- ``check_records``: every case's events in PostgreSQL exactly once (seq 1..n, n the count the
  workflow says it recorded, no gaps, no duplicates, the hash chain's index unbroken);
- ``WorkerProcess``: a worker in a subprocess (``appointments worker``), to be killed and
  restarted, with its CPU time read from ``/proc``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import re
import signal
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import asyncpg
from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from settings import PROJECT_DIR
from store.db import to_libpq_url
from tests.workflows.scenarios import (
    CLERK,
    INSPECTION_DONE,
    INSPECTION_START,
    INVESTIGATION_NOTICE,
    TEAM,
    agree,
    appointment,
    notice,
    regular_case,
    vote,
)
from workflows.ids import case_workflow_id
from workflows.step_outcome import StepOutcome
from workflows.types import (
    FOUR_MUSTS,
    CaseInput,
    CaseState,
    DemocraticEvaluationInput,
    InspectionCheckInput,
    InspectionConclusionInput,
    InspectionReportInput,
    InspectionTeamInput,
    InvestigationNoticeInput,
)

APPOINTMENTS = Path(sys.executable).parent / "appointments"
TEST_SUPPLEMENT = PROJECT_DIR / "tests" / "fixtures" / "calendar-test-supplement.yaml"
DEFAULT_POLICY = PROJECT_DIR / "policy" / "default.yaml"
# the PostgreSQL server the benchmarks create their databases on (as the tests do)
DATABASE_SERVER = os.environ.get(
    "TEST_DATABASE_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)

# Answers worth sending the same update (same id) again for: the call, not the case, failed.
RETRYABLE_STATUS = frozenset(
    {
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.RESOURCE_EXHAUSTED,
        RPCStatusCode.ABORTED,
        RPCStatusCode.CANCELLED,
        RPCStatusCode.UNKNOWN,
        RPCStatusCode.INTERNAL,
    }
)
GIVE_UP_AFTER = 300.0  # seconds one update may keep failing before the driver gives up


# --------------------------------------------------------------------------- the steps


@dataclass(frozen=True)
class Step:
    """One update of a workflow: its name and its input."""

    name: str
    data: BaseModel


def bench_case(case_id: str) -> CaseInput:
    """A regular appointment of the test timeline, two candidates for one post.

    Probation is not required: the appointment case ends at the appointment, and the
    year-long probation it would start is another workflow, measured on its own.
    """
    return regular_case(case_id, probation_required=False)


def inspection_steps(people: Sequence[str], propose: Sequence[str]) -> list[Step]:
    """The investigation notice to the inspection's conclusion, dated as in
    ``tests.workflows.scenarios.inspect``."""
    steps = [
        Step(
            "record_investigation_notice",
            InvestigationNoticeInput(actor=CLERK, published_on=INVESTIGATION_NOTICE),
        ),
        Step(
            "record_inspection_team",
            InspectionTeamInput(
                actor=CLERK, members=[TEAM.name, "周干事"], started_on=INSPECTION_START
            ),
        ),
    ]
    for pid in people:
        steps += [
            Step(
                "record_inspection_check",
                InspectionCheckInput(
                    actor=TEAM,
                    person_id=pid,
                    check=check,
                    completed_on=date(2026, 9, 10),
                    finding="无问题",
                ),
            )
            for check in FOUR_MUSTS
        ]
        steps.append(
            Step(
                "record_democratic_evaluation",
                DemocraticEvaluationInput(
                    actor=TEAM,
                    person_id=pid,
                    held_on=date(2026, 9, 9),
                    participants=40,
                    excellent=30,
                    competent=8,
                    basically_competent=2,
                    incompetent=0,
                ),
            )
        )
        steps.append(
            Step(
                "record_inspection_report",
                InspectionReportInput(
                    actor=TEAM, person_id=pid, submitted_on=INSPECTION_DONE, summary="德才表现良好"
                ),
            )
        )
    steps.append(
        Step(
            "conclude_inspection",
            InspectionConclusionInput(
                actor=CLERK, concluded_on=date(2026, 9, 16), proposed=list(propose)
            ),
        )
    )
    return steps


def decision_steps(appointees: Sequence[str]) -> list[Step]:
    """The vote, the pre-appointment notice (its 5 working days long over) and the
    appointment of each appointee."""
    return [
        Step("record_vote", vote([agree(p) for p in appointees])),
        Step("record_public_notice", notice()),
        *[Step("record_appointment", appointment(p)) for p in appointees],
    ]


def regular_steps(
    people: Sequence[str] = ("p1", "p2"), propose: Sequence[str] = ("p1",)
) -> list[Step]:
    """Every human step of ``bench_case`` from the investigation notice to the appointment."""
    return inspection_steps(people, propose) + decision_steps(propose)


# --------------------------------------------------------------------------- the driver


def refused_as_early(error: WorkflowUpdateFailedError) -> bool:
    """Whether a step was refused only because the case is not at its stage yet.

    After the pre-appointment notice is published with its period already over, the case
    moves to the appointment stage in its main loop, which may still be busy recording the
    previous step's deadline when the publication's update returns; an appointment sent at
    once can then be refused with "case ... is at stage public_notice; this step belongs to
    stage appointment" (rule "stage order"). A person would try again a moment later.
    """
    cause = error.cause
    return (
        isinstance(cause, ApplicationError)
        and cause.type == "RuleViolation"
        and bool(cause.details)
        and cause.details[0] == "stage order"
    )


@dataclass(frozen=True)
class UpdateTiming:
    workflow_id: str
    index: int
    name: str
    sent_at: float  # time.time() when first sent
    returned_at: float  # time.time() when its answer came
    attempts: int

    @property
    def seconds(self) -> float:
        return self.returned_at - self.sent_at


@dataclass
class Driver:
    """Starts workflows and plays their updates; counts what it did for progress watchers."""

    client: Client
    task_queue: str
    timings: list[UpdateTiming] = field(default_factory=list)
    updates_done: int = 0
    retries: int = 0
    retry_reasons: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    workflows_done: int = 0
    answered: asyncio.Event = field(default_factory=asyncio.Event)  # set at every answer
    give_up_after: float = GIVE_UP_AFTER
    # steps refused because the case had not yet caught up (sent again): reason -> count
    refused_early: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # how long a workflow task may run before the server gives it to another worker; None:
    # Temporal's default (10 s), as the service starts cases
    task_timeout: timedelta | None = None

    async def start(
        self, workflow: str, arg: BaseModel, workflow_id: str, result_type: type[Any]
    ) -> WorkflowHandle[Any, Any]:
        async def call() -> WorkflowHandle[Any, Any]:
            return await self.client.start_workflow(
                workflow,
                arg,
                id=workflow_id,
                task_queue=self.task_queue,
                result_type=result_type,
                task_timeout=self.task_timeout,
                # sent again after a lost answer: the same workflow, not an error
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )

        return await self._with_retries(call)

    async def update(
        self,
        handle: WorkflowHandle[Any, Any],
        index: int,
        step: Step,
        result_type: type[Any],
    ) -> Any:
        """Send one step and return its answer. A step refused because the case has not yet
        caught up with an automatic transition (see ``refused_as_early``) is sent again,
        as a clerk would after a moment, under a new id (a refused update leaves nothing in
        Temporal to answer from); each such refusal is counted."""
        sent_at = time.time()
        give_up = time.monotonic() + self.give_up_after
        attempts = early = 0
        while True:
            update_id = f"{handle.id}:{index}:{step.name}" + (f":again{early}" if early else "")

            async def call(update_id: str = update_id) -> Any:
                nonlocal attempts
                attempts += 1
                return await handle.execute_update(
                    step.name, step.data, id=update_id, result_type=result_type
                )

            try:
                result = await self._with_retries(call)
                break
            except WorkflowUpdateFailedError as e:
                if not refused_as_early(e) or time.monotonic() > give_up:
                    raise
                early += 1
                # counted by step and rule, the case's id left out
                reason = re.sub(r"case \S+ ", "case … ", str(e.cause))
                self.refused_early[f"{step.name}: {reason}"] += 1
                await asyncio.sleep(min(0.05 * 2**early, 2.0))
        self.timings.append(
            UpdateTiming(handle.id, index, step.name, sent_at, time.time(), attempts)
        )
        self.updates_done += 1
        self.answered.set()
        return result

    async def until_answered(self, updates: int, unless: asyncio.Future[Any]) -> None:
        """Wait until ``updates`` updates in all were answered, or ``unless`` is done."""
        while self.updates_done < updates and not unless.done():
            self.answered.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.answered.wait(), 0.5)

    async def play(
        self,
        workflow: str,
        arg: BaseModel,
        workflow_id: str,
        steps: Sequence[Step],
        result_type: type[Any],
        final_type: type[Any],
    ) -> Any:
        """Start the workflow, send every step in order, each once answered, and return
        the workflow's result."""
        handle = await self.start(workflow, arg, workflow_id, final_type)
        for index, step in enumerate(steps):
            await self.update(handle, index, step, result_type)

        async def result() -> Any:
            return await handle.result()

        out = await self._with_retries(result)
        self.workflows_done += 1
        return out

    async def play_case(self, case: CaseInput, steps: Sequence[Step]) -> CaseState:
        state: CaseState = await self.play(
            "AppointmentCaseWorkflow",
            case,
            case_workflow_id(case.case_id),
            steps,
            StepOutcome,
            CaseState,
        )
        return state

    async def _with_retries(self, call: Callable[[], Awaitable[Any]]) -> Any:
        give_up = time.monotonic() + self.give_up_after
        delay = 0.2
        while True:
            try:
                return await call()
            except WorkflowUpdateRPCTimeoutOrCancelledError as e:
                reason = "update call timed out"
                error: BaseException = e
            except RPCError as e:
                if e.status not in RETRYABLE_STATUS:
                    raise
                reason = f"{e.status.name}: {e.message[:80]}"
                error = e
            if time.monotonic() > give_up:
                raise RuntimeError(f"still failing after {self.give_up_after:.0f} s") from error
            self.retries += 1
            self.retry_reasons[reason] += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


async def run_bounded(jobs: Sequence[Callable[[], Awaitable[Any]]], concurrency: int) -> list[Any]:
    """Run every job, at most ``concurrency`` at a time; results in the jobs' order. The
    first failure cancels the rest and is raised (in an ``ExceptionGroup``)."""
    gate = asyncio.Semaphore(concurrency)

    async def one(job: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await job()

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one(j)) for j in jobs]
    return [t.result() for t in tasks]


# --------------------------------------------------------------------------- the records


@dataclass
class RecordCheck:
    """What PostgreSQL holds for a set of cases against what their workflows recorded."""

    cases: int = 0
    expected: int = 0  # events the workflows numbered (their final events_recorded)
    recorded: int = 0  # rows in case_events
    missing: int = 0  # numbered but not in the table
    duplicates: int = 0  # a seq twice, or the same input twice under two seqs
    extra: int = 0  # in the table beyond what the workflow numbered
    problems: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return not (self.missing or self.duplicates or self.extra or self.problems)

    def summary(self) -> str:
        return (
            f"{self.cases} cases, {self.expected} events numbered, {self.recorded} recorded: "
            f"{self.missing} missing, {self.duplicates} duplicate, {self.extra} extra"
        )


async def check_records(
    database_url: str,
    expected: Mapping[str, int],
    inputs_expected: Mapping[str, int] | None = None,
) -> RecordCheck:
    """Compare ``case_events`` with ``expected`` (case id -> events the workflow recorded)
    and, if given, ``inputs_expected`` (case id -> updates applied, one input event each)."""
    conn = await asyncpg.connect(to_libpq_url(database_url))
    try:
        rows = await conn.fetch(
            "SELECT case_id, seq, chain_index, kind, summary, payload::text AS payload "
            "FROM case_events WHERE case_id = ANY($1::text[]) ORDER BY case_id, seq",
            list(expected),
        )
    finally:
        await conn.close()
    by_case: dict[str, list[asyncpg.Record]] = defaultdict(list)
    for r in rows:
        by_case[r["case_id"]].append(r)
    check = RecordCheck(cases=len(expected), expected=sum(expected.values()), recorded=len(rows))
    for case_id, n in expected.items():
        events = by_case.get(case_id, [])
        seqs = [e["seq"] for e in events]
        wanted = set(range(1, n + 1))
        missing = len(wanted - set(seqs))
        extra = len(set(seqs) - wanted)
        doubled = len(seqs) - len(set(seqs))
        inputs = [(e["summary"], e["payload"]) for e in events if e["kind"] == "input"]
        doubled += len(inputs) - len(set(inputs))
        check.missing += missing
        check.extra += extra
        check.duplicates += doubled
        if missing or extra or doubled:
            check.problems.append(
                f"{case_id}: {n} numbered, seqs {seqs}: {missing} missing, {extra} extra, "
                f"{doubled} duplicate"
            )
        chain = sorted(e["chain_index"] for e in events)
        if chain != list(range(1, len(events) + 1)):
            check.problems.append(f"{case_id}: chain indexes {chain}")
        if inputs_expected is not None and len(inputs) != inputs_expected[case_id]:
            check.problems.append(
                f"{case_id}: {len(inputs)} input events for {inputs_expected[case_id]} updates"
            )
    return check


async def input_recorded_at(
    database_url: str, case_ids: Sequence[str]
) -> dict[str, list[datetime]]:
    """When each case's input events were written (``recorded_at``), in seq order: the n-th is
    the record of the case's n-th update (each update records exactly one input)."""
    conn = await asyncpg.connect(to_libpq_url(database_url))
    try:
        rows = await conn.fetch(
            "SELECT case_id, recorded_at FROM case_events "
            "WHERE case_id = ANY($1::text[]) AND kind = 'input' ORDER BY case_id, seq",
            list(case_ids),
        )
    finally:
        await conn.close()
    out: dict[str, list[datetime]] = defaultdict(list)
    for r in rows:
        out[r["case_id"]].append(r["recorded_at"])
    return out


# --------------------------------------------------------------------------- processes


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process (all its threads), from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (everything but idle and iowait)."""
    values = _proc_stat_cpu()
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / _CLOCK_TICKS


def machine_iowait_seconds() -> float:
    """CPU seconds all cores spent idle waiting for disk I/O since boot."""
    return _proc_stat_cpu()[4] / _CLOCK_TICKS


def _proc_stat_cpu() -> list[int]:
    with open("/proc/stat") as f:
        return [int(v) for v in f.readline().split()[1:]]


def children_named(name: str) -> list[int]:
    """Pids of this process's children whose command is ``name`` (e.g. the dev server)."""
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                head, _, rest = f.read().rpartition(")")
            comm = head.split("(", 1)[1]
            ppid = int(rest.split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == me and comm == name:
            found.append(int(entry))
    return found


def worker_env(
    *,
    temporal_address: str,
    task_queue: str,
    database_url: str | None = None,
    namespace: str = "default",
) -> dict[str, str]:
    """The environment of a worker subprocess: ours, with the service's settings. Bytecode
    is written, as the image has it (pip compiles each module at install): a shell that
    forbids it (PYTHONDONTWRITEBYTECODE) would have every workflow's sandbox compile its
    module's source again, a sixth of the worker's CPU in a county-year (bench/RESULTS.md)."""
    left_out = (
        "DATABASE_URL",
        "TEMPORAL_ADDRESS",
        "TASK_QUEUE",
        "TEMPORAL_NAMESPACE",
        "PYTHONDONTWRITEBYTECODE",
    )
    env = {k: v for k, v in os.environ.items() if k not in left_out}
    env.update(
        TEMPORAL_ADDRESS=temporal_address,
        TEMPORAL_NAMESPACE=namespace,
        TASK_QUEUE=task_queue,
        POLICY_FILE=str(DEFAULT_POLICY),
        # deadlines are counted from today; the test data covers years the package lacks
        CALENDAR_SUPPLEMENT=str(TEST_SUPPLEMENT),
        PYTHONUNBUFFERED="1",
    )
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return env


APPOINTMENT_WORKER = (str(APPOINTMENTS), "worker")
FLOOR_WORKER = (sys.executable, "-m", "bench.floor_workflow")


class WorkerProcess:
    """A worker in a subprocess, its output appended to ``log``; killable, restartable."""

    def __init__(self, command: Sequence[str], env: Mapping[str, str], log: Path) -> None:
        self.command = list(command)
        self.env = dict(env)
        self.log = log
        self.starts = 0
        self.kills = 0
        self.cpu_of_ended = 0.0  # CPU seconds of earlier (killed or stopped) runs
        self.pids: list[int] = []
        self._process: asyncio.subprocess.Process | None = None
        self._log_file: IO[bytes] | None = None
        self._last_cpu = 0.0

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def start(self) -> None:
        assert not self.running
        self.starts += 1
        self._log_file = self._open_log()
        self._process = await asyncio.create_subprocess_exec(
            *self.command,
            env=self.env,
            cwd=PROJECT_DIR,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=asyncio.subprocess.STDOUT,
        )
        self.pids.append(self._process.pid)
        self._last_cpu = 0.0

    def _open_log(self) -> IO[bytes]:
        log = open(self.log, "ab")  # closed in _ended
        log.write(f"\n=== start {self.starts}: {' '.join(self.command)}\n".encode())
        log.flush()
        return log

    def cpu(self) -> float:
        """CPU seconds of every run so far (the live one read now)."""
        if self.running:
            with contextlib.suppress(OSError):
                self._last_cpu = cpu_seconds(self.pid)
            return self.cpu_of_ended + self._last_cpu
        return self.cpu_of_ended

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbye to the server, tasks in hand left to time out."""
        assert self._process is not None and self.running
        self.cpu()
        self._process.send_signal(signal.SIGKILL)
        await self._process.wait()
        self.kills += 1
        self._ended()

    async def stop(self, grace: float = 20.0) -> None:
        """SIGTERM and wait (the worker finishes what it holds); SIGKILL after ``grace``."""
        if self._process is None:
            return
        if self.running:
            self.cpu()
            self._process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self._process.wait(), grace)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()
        self._ended()

    def _ended(self) -> None:
        self.cpu_of_ended += self._last_cpu
        self._last_cpu = 0.0
        self._process = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100), nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]
