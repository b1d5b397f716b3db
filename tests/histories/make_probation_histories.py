"""Regenerate tests/histories/probation_*.json: finished probations and a digest run.

    .venv/bin/python -m tests.histories.make_probation_histories [NAME ...]   # all, or these

Runs each scenario on a fresh time-skipping server with the real activities, on a
throwaway PostgreSQL database (TEST_DATABASE_SERVER_URL, default the local server) that is
dropped afterwards; mail goes to the outbox only. The saved histories are what
``tests/probation/test_replay.py`` replays against the current ``ProbationWorkflow``: a
change to the workflow that is not guarded by ``workflow.patched`` fails there.

Regenerate only for a deliberate change, and keep the old files next to the new ones for
as long as probations started under the old code may still be running (up to a year and a
review's ladder): the replay test replays every file it finds.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from starter.temporal_binaries import find_test_server
from store.db import make_engine, make_session_factory, with_database
from store.migrate import drop_database, ensure_database, upgrade_to_head
from tests.probation.conftest import HEAD, ProbationRunner, probation_input, probation_runner
from workflows.digest import DigestWorkflow
from workflows.probation_types import (
    DigestInput,
    EndEarlyInput,
    ReviewInput,
    ReviewOutcome,
    probation_end,
)
from workflows.rules.working_days import at_hour, end_of_day

HERE = Path(__file__).resolve().parent
SERVER_URL = os.environ.get("TEST_DATABASE_SERVER_URL") or (
    "postgresql://postgres@127.0.0.1:5432/postgres"
)

Scenario = Callable[[ProbationRunner], Awaitable[WorkflowHandle[Any, Any]]]


def _review(outcome: ReviewOutcome, on: Any) -> ReviewInput:
    return ReviewInput(actor=HEAD, outcome=outcome, reviewed_on=on, summary="考核意见")


async def full_year(r: ProbationRunner) -> WorkflowHandle[Any, Any]:
    today = await r.today()
    h = await r.start(probation_input("HIST-YEAR", today))
    ends = probation_end(today)
    await r.sleep_until(at_hour(ends, 12))
    await r.update(h, "record_review", _review(ReviewOutcome.COMPETENT, ends))
    return h


async def not_competent(r: ProbationRunner) -> WorkflowHandle[Any, Any]:
    today = await r.today()
    h = await r.start(probation_input("HIST-REMOVED", today))
    opens = probation_end(today) - timedelta(days=30)
    await r.sleep_until(at_hour(opens, 10))
    await r.update(h, "record_review", _review(ReviewOutcome.NOT_COMPETENT, opens))
    return h


async def overdue_ladder(r: ProbationRunner) -> WorkflowHandle[Any, Any]:
    today = await r.today()
    h = await r.start(probation_input("HIST-LADDER", today))
    await r.sleep_until(end_of_day(probation_end(today)) + timedelta(hours=1))
    schedule = (await r.state(h)).review_schedule
    assert schedule is not None
    await r.sleep_until(schedule.alarms[-1].at + timedelta(hours=1))
    await r.update(h, "record_review", _review(ReviewOutcome.COMPETENT, await r.today()))
    return h


async def ended_early(r: ProbationRunner) -> WorkflowHandle[Any, Any]:
    today = await r.today()
    h = await r.start(probation_input("HIST-EARLY", today))
    await r.sleep_until(at_hour(today + timedelta(days=100), 10))
    end = EndEarlyInput(
        actor=HEAD,
        decided_by="县委常委会",
        decided_on=today + timedelta(days=99),
        reason="严重违纪",
    )
    await r.update(h, "end_early", end)
    return h


async def unambiguous_id(r: ProbationRunner) -> WorkflowHandle[Any, Any]:
    """Under the form of ID no two appointees share (the others ran under the old form)."""
    today = await r.today()
    h = await r.start(probation_input("HIST-ID", today, person_id="B-1"))
    assert h.id == "probation:HIST-ID:B-1"
    await r.sleep_until(at_hour(today + timedelta(days=100), 10))
    end = EndEarlyInput(
        actor=HEAD,
        decided_by="县委常委会",
        decided_on=today + timedelta(days=99),
        reason="严重违纪",
    )
    await r.update(h, "end_early", end)
    return h


async def imported(r: ProbationRunner) -> WorkflowHandle[Any, Any]:
    today = await r.today()
    starts = today - timedelta(days=340)
    h = await r.start(probation_input("HIST-IMPORTED", starts, imported=True))
    ends = probation_end(starts)
    await r.sleep_until(at_hour(ends, 12))
    await r.update(h, "record_review", _review(ReviewOutcome.COMPETENT, ends))
    return h


async def continued_as_new(r: ProbationRunner) -> WorkflowHandle[Any, Any]:
    today = await r.today()
    h = await r.start(probation_input("HIST-CAN", today, history_limit=40))
    ends = probation_end(today)
    await r.sleep_until(at_hour(ends, 12))
    await r.update(h, "record_review", _review(ReviewOutcome.COMPETENT, ends))
    return h


async def digest(r: ProbationRunner) -> WorkflowHandle[Any, Any]:
    return await r.env.client.start_workflow(
        DigestWorkflow.run,
        DigestInput(days_ahead=14),
        id="digest-history",
        task_queue=r.settings.task_queue,
    )


SCENARIOS: dict[str, Scenario] = {
    "probation_full_year": full_year,
    "probation_not_competent": not_competent,
    "probation_overdue_ladder": overdue_ladder,
    "probation_ended_early": ended_early,
    "probation_imported": imported,
    "probation_continued_as_new": continued_as_new,
    "probation_digest": digest,
    "probation_unambiguous_id": unambiguous_id,
}


async def main(only: list[str]) -> None:
    unknown = sorted(set(only) - set(SCENARIOS))
    if unknown:
        raise SystemExit(f"no such scenario: {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    name = f"appointments_histories_{os.getpid()}"
    await ensure_database(SERVER_URL, name)
    url = with_database(SERVER_URL, name)
    engine = make_engine(url)
    try:
        await upgrade_to_head(url)
        sessions = make_session_factory(engine)
        for stem, scenario in SCENARIOS.items():
            if only and stem not in only:
                continue
            env = await WorkflowEnvironment.start_time_skipping(
                test_server_existing_path=str(find_test_server()),
                data_converter=pydantic_data_converter,
            )
            try:
                async with probation_runner(env, sessions) as runner:
                    handle = await scenario(runner)
                    await handle.result()
                    history = await handle.fetch_history()
            finally:
                await env.shutdown()
            path = HERE / f"{stem}.json"
            path.write_text(history.to_json() + "\n", "utf-8")
            print(f"{path.relative_to(HERE.parent.parent)}: {len(history.events)} events")
    finally:
        await engine.dispose()
        await drop_database(SERVER_URL, name)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
    sys.stdout.flush()
    os._exit(0)  # temporalio/sdk-python#300: skip the interpreter's teardown
