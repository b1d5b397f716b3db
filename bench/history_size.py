"""How big a finished case's Temporal history is, by selection method (issue #6), run by hand.

    .venv/bin/python -m bench.history_size [--applicants 5,50,200] [--no-escalated]

Runs finished cases on a fresh dev server (SQLite file in a temporary folder) with the real
worker in this process and a throw-away database, and reads each history's length and size
as the server counts them (``DescribeWorkflowExecution``: ``history_length``,
``history_size_bytes``), with the largest single event (payloads are limited one by one too).

- a regular appointment (two candidates, one post), every step played at once;
- open selection and competitive appointment, with each number of applicants of
  ``--applicants``: the exam's registration, written test and interview, then inspection
  of those ranked into it, the vote, the notice, the appointment;
- the worst case for time: the same cases with every human step left until the last rung
  of its escalation ladder (every reminder, the overdue mark and each escalation recorded),
  on the time-skipping server, whose clock jumps 45 days before each step. The outside
  events keep their past dates; the deadlines, counted from the server's (skipped) today,
  run into 2027, which the test calendar supplement covers (weekdays only).

Temporal's limits per workflow execution (server defaults): 51,200 events (50 Ki) and
50 MB of history, with warnings from 10,240 events and 10 MB; and 2 MB for a single payload
(warning at 512 KB). The report shows each case against them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from bench.driver import (
    APPOINTMENT_WORKER,
    DATABASE_SERVER,
    Driver,
    Step,
    WorkerProcess,
    bench_case,
    check_records,
    decision_steps,
    inspection_steps,
    regular_steps,
    worker_env,
)
from starter.temporal_binaries import find_temporal_cli
from store.db import with_database
from store.migrate import drop_database, ensure_database, upgrade_to_head
from tests.workflows.conftest import start_time_skipping
from tests.workflows.scenarios import CLERK, exam_case, person
from workflows.ids import case_workflow_id
from workflows.search_attributes import SEARCH_ATTRIBUTES
from workflows.step_outcome import StepOutcome
from workflows.types import (
    Applicant,
    CandidateStatus,
    CaseInput,
    CaseState,
    CaseStatus,
    ExamScoresInput,
    RegistrationInput,
    Score,
    SelectionMethod,
)

EVENTS_LIMIT, EVENTS_WARN = 51_200, 10_240
BYTES_LIMIT, BYTES_WARN = 50 * 1024 * 1024, 10 * 1024 * 1024
PAYLOAD_LIMIT, PAYLOAD_WARN = 2 * 1024 * 1024, 512 * 1024
SHORT_CV = "2010年参加工作，历任科员、副科长、科长。"  # a line of a real applicant's record
LATE_BY = timedelta(days=45)  # past the last rung of every step's ladder in the policy


@dataclass
class Measured:
    label: str
    status: str
    updates: int
    history_events: int
    history_bytes: int
    largest_event_bytes: int
    events_recorded: int
    records_exact: bool
    bytes_by_type: dict[str, int]

    def where(self) -> str:
        top = sorted(self.bytes_by_type.items(), key=lambda kv: -kv[1])[:3]
        total = sum(self.bytes_by_type.values())
        parts = [f"{name} {n / total:.0%}" for name, n in top]
        return f"- {self.label}: " + ", ".join(parts)

    def row(self) -> str:
        def times(limit: int, value: int) -> str:
            x = limit / value
            return f"{x:,.0f}×" if x >= 10 else f"{x:.1f}×"

        return (
            f"| {self.label} | {self.status} | {self.updates} | {self.history_events:,} "
            f"| {self.history_bytes / 1024:,.0f} KB | {self.largest_event_bytes / 1024:,.1f} KB "
            f"| {times(EVENTS_WARN, self.history_events)} / "
            f"{times(EVENTS_LIMIT, self.history_events)} "
            f"| {times(BYTES_WARN, self.history_bytes)} / {times(BYTES_LIMIT, self.history_bytes)} "
            f"| {times(PAYLOAD_WARN, self.largest_event_bytes)} / "
            f"{times(PAYLOAD_LIMIT, self.largest_event_bytes)} "
            f"| {self.events_recorded} ({'exact' if self.records_exact else 'NOT EXACT'}) |"
        )


HEADER = (
    "| case | outcome | updates | history events | history size | largest event "
    "| headroom in events (to warn / to limit) | in bytes (to warn / to limit) "
    "| largest event (to 512 KB warn / 2 MB limit) | events in PostgreSQL |\n"
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"
)


# --------------------------------------------------------------------------- playing cases

Pause = Callable[[], Awaitable[None]]


async def _no_pause() -> None:
    return None


async def play_steps(
    driver: Driver, handle: Any, steps: Sequence[Step], start: int, pause: Pause, waits: set[int]
) -> CaseState:
    for offset, step in enumerate(steps):
        i = start + offset
        if i in waits:
            await pause()
        await driver.update(handle, i, step, StepOutcome)
    state: CaseState = await handle.query("state", result_type=CaseState)
    return state


async def play_regular(driver: Driver, case: CaseInput, pause: Pause) -> int:
    """Every step of a regular appointment; ``pause`` before each new human step."""
    steps = regular_steps()
    handle = await driver.start(
        "AppointmentCaseWorkflow", case, case_workflow_id(case.case_id), CaseState
    )
    names = [s.name for s in steps]
    waits = {
        0,  # investigation notice
        1,  # inspection team
        2,  # the inspection (checks, evaluations, reports, conclusion)
        names.index("record_vote"),
        names.index("record_public_notice"),
        names.index("record_appointment"),
    }
    await play_steps(driver, handle, steps, 0, pause, waits)
    return len(steps)


def _registration(applicants: int) -> RegistrationInput:
    return RegistrationInput(
        actor=CLERK,
        announced_on=date(2026, 7, 6),
        closed_on=date(2026, 7, 17),
        applicants=[
            Applicant(
                candidate=person(f"a{i}", f"考生{i}", short_cv=SHORT_CV),
                registered_on=date(2026, 7, 10),
                qualified=True,
            )
            for i in range(1, applicants + 1)
        ],
    )


async def play_exam(driver: Driver, case: CaseInput, applicants: int, pause: Pause) -> int:
    """Registration, written test (all pass, distinct scores), interview of those chosen,
    then inspection of those ranked into it, the vote, the notice and the appointment."""
    handle = await driver.start(
        "AppointmentCaseWorkflow", case, case_workflow_id(case.case_id), CaseState
    )
    written = {f"a{i}": round(95 - 30 * (i - 1) / applicants, 2) for i in range(1, applicants + 1)}
    exam = [
        Step("record_registration", _registration(applicants)),
        Step(
            "record_written_test",
            ExamScoresInput(
                actor=CLERK,
                held_on=date(2026, 7, 25),
                scores=[Score(person_id=k, score=v) for k, v in written.items()],
            ),
        ),
    ]
    state = await play_steps(driver, handle, exam, 0, pause, {0, 1})
    interviewed = [c.person_id for c in state.candidates if c.status is CandidateStatus.APPLICANT]
    interview = Step(
        "record_interview",
        ExamScoresInput(
            actor=CLERK,
            held_on=date(2026, 8, 8),
            scores=[Score(person_id=p, score=90 - 2 * j) for j, p in enumerate(interviewed)],
        ),
    )
    state = await play_steps(driver, handle, [interview], 2, pause, {2})
    pool = sorted(
        (c for c in state.candidates if c.status is CandidateStatus.IN_POOL),
        key=lambda c: c.rank or 0,
    )
    people = [c.person_id for c in pool]
    rest = inspection_steps(people, people[:1]) + decision_steps(people[:1])
    names = [s.name for s in rest]
    waits = {3, 4, 5, 3 + names.index("record_vote"), 3 + names.index("record_public_notice")}
    waits.add(3 + names.index("record_appointment"))
    await play_steps(driver, handle, rest, 3, pause, waits)
    return 3 + len(rest)


# --------------------------------------------------------------------------- measuring


async def measure(
    client: Client, database_url: str, label: str, case_id: str, updates: int
) -> Measured:
    handle = client.get_workflow_handle(case_workflow_id(case_id), result_type=CaseState)
    state: CaseState = await handle.result()
    # the raw call: the SDK's describe() cannot decode an unset datetime search attribute
    # as the time-skipping server returns it
    described = await client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(
            namespace=client.namespace, execution=WorkflowExecution(workflow_id=handle.id)
        )
    )
    info = described.workflow_execution_info
    history = await handle.fetch_history()
    largest = max(e.ByteSize() for e in history.events)
    by_type: dict[str, int] = {}
    for e in history.events:
        name = EventType.Name(e.event_type).removeprefix("EVENT_TYPE_")
        by_type[name] = by_type.get(name, 0) + e.ByteSize()
    records = await check_records(database_url, {case_id: state.events_recorded})
    return Measured(
        label=label,
        status=state.status.value,
        updates=updates,
        history_events=info.history_length or len(history.events),
        history_bytes=info.history_size_bytes or sum(e.ByteSize() for e in history.events),
        largest_event_bytes=largest,
        events_recorded=state.events_recorded,
        records_exact=records.exact,
        bytes_by_type=by_type,
    )


@asynccontextmanager
async def database() -> AsyncIterator[str]:
    name = f"appointments_history_{os.getpid()}_{secrets.token_hex(3)}"
    await ensure_database(DATABASE_SERVER, name)
    url = with_database(DATABASE_SERVER, name)
    try:
        await upgrade_to_head(url)
        yield url
    finally:
        await drop_database(DATABASE_SERVER, name)


@asynccontextmanager
async def worker_on(env: WorkflowEnvironment, database_url: str, log: Path) -> AsyncIterator[str]:
    """The service's worker (``appointments worker``) in a subprocess, on a queue of its own."""
    queue = f"history-{uuid.uuid4().hex[:8]}"
    worker = WorkerProcess(
        APPOINTMENT_WORKER,
        worker_env(
            temporal_address=env.client.service_client.config.target_host,
            task_queue=queue,
            database_url=database_url,
        ),
        log,
    )
    await worker.start()
    try:
        yield queue
    except BaseException:
        print(f"--- end of the worker's log:\n{worker.tail()}", file=sys.stderr)
        raise
    finally:
        await worker.stop()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def run_all(
    env: WorkflowEnvironment,
    database_url: str,
    applicants: Sequence[int],
    late: bool,
    log: Path,
) -> list[Measured]:
    token = secrets.token_hex(3)
    suffix = ", every step at its last rung" if late else ""

    async def pause() -> None:
        await env.sleep(LATE_BY)

    wait = pause if late else _no_pause
    out = []
    async with worker_on(env, database_url, log) as queue:
        driver = Driver(env.client, queue)
        case_id = f"H{token}-regular"
        n = await play_regular(driver, bench_case(case_id), wait)
        out.append(await measure(env.client, database_url, f"regular{suffix}", case_id, n))
        print(out[-1].row(), flush=True)
        for method in (SelectionMethod.OPEN_SELECTION, SelectionMethod.COMPETITIVE_APPOINTMENT):
            for k in applicants:
                case_id = f"H{token}-{method.value}-{k}"
                case = exam_case(case_id, method)
                n = await play_exam(driver, case, k, wait)
                label = f"{method.value}, {k} applicants{suffix}"
                out.append(await measure(env.client, database_url, label, case_id, n))
                print(out[-1].row(), flush=True)
    return out


async def run(args: argparse.Namespace) -> list[Measured]:
    results: list[Measured] = []
    print(HEADER, flush=True)
    async with database() as url:
        with tempfile.TemporaryDirectory(prefix="history-size-") as tmp:
            env = await WorkflowEnvironment.start_local(
                dev_server_existing_path=str(find_temporal_cli()),
                dev_server_database_filename=str(Path(tmp) / "temporal.db"),
                data_converter=pydantic_data_converter,
                search_attributes=SEARCH_ATTRIBUTES,
                dev_server_log_level="error",  # not a "slow call" warning per update
                ui=False,
                port=_free_port(),
            )
            try:
                results += await run_all(
                    env, url, args.applicants, late=False, log=Path(tmp) / "worker.log"
                )
            finally:
                await env.shutdown()
            if args.escalated:
                env = await start_time_skipping()
                try:
                    results += await run_all(
                        env, url, args.applicants, late=True, log=Path(tmp) / "worker-late.log"
                    )
                finally:
                    await env.shutdown()
    return results


def parse_counts(text: str) -> list[int]:
    counts = [int(p) for p in text.split(",") if p.strip()]
    if not counts or any(c < 3 for c in counts):
        raise argparse.ArgumentTypeError("give applicant counts of at least 3, e.g. 5,50,200")
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.history_size", description=__doc__)
    parser.add_argument("--applicants", type=parse_counts, default=[5, 50, 200])
    parser.add_argument(
        "--no-escalated",
        dest="escalated",
        action="store_false",
        help="skip the cases left to the last rung (time-skipping server)",
    )
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    print("\nWhere the bytes are (share of the history by event type):")
    for m in results:
        print(m.where())
    appointed = CaseStatus.APPOINTED.value
    bad = [m.label for m in results if m.status != appointed or not m.records_exact]
    if bad:
        print(f"not appointed or not exact: {bad}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)  # temporalio/sdk-python#300: skip the interpreter's teardown
