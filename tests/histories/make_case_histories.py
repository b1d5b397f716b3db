"""Regenerate the saved histories of finished appointment cases (run by hand).

    python -m tests.histories.make_case_histories [NAME ...]   # all, or only these

Runs chosen path tests on the time-skipping server with the real activities and a throwaway
PostgreSQL database, then saves each finished case's Temporal history as JSON beside this
file. ``tests/test_replay.py`` replays them in CI, so a workflow change that would break
running cases fails the build. Regenerate only for a deliberate, patched change.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from store.db import make_engine, make_session_factory, with_database
from store.migrate import drop_database, ensure_database, upgrade_to_head
from tests.conftest import throwaway_database_name
from tests.workflows import (
    test_deadline_extension,
    test_extension_requests,
    test_opening,
    test_paths,
    test_probation_ids,
)
from tests.workflows.conftest import CaseRunner, case_runner, start_time_skipping
from workflows.ids import case_workflow_id

HERE = Path(__file__).resolve().parent
SERVER_URL = os.environ.get(
    "TEST_DATABASE_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)

# saved name -> (path test to run, the case id it uses)
SCENARIOS: dict[str, tuple[Callable[[CaseRunner], Awaitable[None]], str]] = {
    "case_regular_appointed": (test_paths.test_regular_appointment_to_appointed, "reg-1"),
    "case_vote_failed": (test_paths.test_vote_failing_ends_not_appointed, "vote-fail"),
    # made before the patch "suspension-decision-reminded" (a silent timer); the next one after
    # it (reminders, escalations and a recorded lapse): regenerate only the new one
    "case_suspension_ran_out": (test_paths.test_suspension_running_out, "suspend-expire"),
    "case_suspension_lapsed": (test_paths.test_suspension_running_out, "suspend-expire"),
    # made after the patch "record-step-in-one-activity": a step's events in one activity
    "case_recorded_in_batches": (test_paths.test_regular_appointment_to_appointed, "reg-1"),
    # begun under the baseline "case-baseline-2026-12" (workflows.patches): one marker for
    # every patch before it, and the search attributes upserted when the case waits
    # ("upsert-when-the-case-waits": none after a step's record that ends the awaited step)
    "case_began_under_baseline": (test_paths.test_regular_appointment_to_appointed, "reg-1"),
    # begun under the baseline "case-baseline-2026-12-06", which adds "open-in-one-round-trip"
    # (the policy read by a local activity, a marker; the opening recorded in one activity) and
    # "calendar-read-locally" (each schedule and period end read by a local activity)
    "case_began_under_baseline_2": (test_paths.test_regular_appointment_to_appointed, "reg-1"),
    # begun under the baseline "case-baseline-3", which adds "first-deadline-with-the-opening"
    # (the first step's deadline recorded with the opening; a step sent meanwhile goes first)
    "case_began_under_baseline_3": (test_paths.test_regular_appointment_to_appointed, "reg-1"),
    # begun under the baseline "case-baseline-4", which adds "opening-with-the-first-step":
    # the investigation notice sent with the start, recorded with the opening by one activity
    "case_began_under_baseline_4": (
        test_opening.test_a_case_opened_with_its_notice_runs_to_its_appointment,
        "open-full",
    ),
    # begun under the baseline "case-baseline-5", which adds "notice-window-in-one-read": the
    # investigation notice's earliest and latest day read from the calendar at once
    "case_began_under_baseline_5": (
        test_opening.test_a_case_opened_with_its_notice_runs_to_its_appointment,
        "open-full",
    ),
    # a deadline extended (延期): the same wait taken up on the later deadline
    "case_deadline_extended": (
        test_deadline_extension.test_an_extension_moves_the_deadline_its_reminders_and_its_ladder,
        "ext-1",
    ),
    # a clerk's extension request (延期申请) approved by a section chief: the update carries
    # the request's id and requester, the history entry names both
    "case_extension_request_approved": (
        test_extension_requests.test_an_approved_request_moves_the_deadline_and_its_reminders,
        "extreq-1",
    ),
    "case_too_few_passed_interview": (
        test_paths.test_exam_with_too_few_passing_the_interview,
        "exam-few-interview",
    ),
    # made after the patch "notice-period-already-over"; the older ones replay without it
    "case_notice_already_over": (
        test_paths.test_a_notice_whose_period_is_over_ends_it_when_published,
        "over-1",
    ),
    # made after the patch "unambiguous-probation-id": the probation starts as
    # "probation:A-B:1" (case_notice_already_over started one under the old form of ID)
    "case_probation_unambiguous_id": (
        lambda runner: test_probation_ids.appoint(runner, "A-B", "1"),
        "A-B",
    ),
}


async def main(only: list[str]) -> None:
    unknown = sorted(set(only) - set(SCENARIOS))
    if unknown:
        raise SystemExit(f"no such scenario: {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    name = throwaway_database_name("histories")
    await ensure_database(SERVER_URL, name)
    url = with_database(SERVER_URL, name)
    engine = make_engine(url)
    try:
        await upgrade_to_head(url)
        sessions = make_session_factory(engine)
        for saved, (scenario, case_id) in SCENARIOS.items():
            if only and saved not in only:
                continue
            env = await start_time_skipping()
            try:
                async with case_runner(env, sessions) as runner:
                    await scenario(runner)
                    handle = env.client.get_workflow_handle(case_workflow_id(case_id))
                    await handle.result()
                    history = await handle.fetch_history()
                (HERE / f"{saved}.json").write_text(history.to_json(), "utf-8")
                print(f"saved {saved}.json ({len(history.events)} events)")
            finally:
                await env.shutdown()
    finally:
        await engine.dispose()
        await drop_database(SERVER_URL, name)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
    sys.stdout.flush()
    os._exit(0)  # see TOOLCHAIN: the SDK can abort during interpreter teardown
