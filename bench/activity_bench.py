"""CPU per call of the worker's database activities, one at a time (issue #17). Run by hand:

    .venv/bin/python -m bench.activity_bench [--calls 300] [--json FILE]

A fresh database on the local PostgreSQL (created, migrated, dropped here), the activities
built as the worker builds them (the default policy, the test calendar supplement, no SMTP
server) and called through ``temporalio.testing.ActivityEnvironment``, each ``--calls`` times
after 20 warm-up calls:

- ``record_events``: a case's step of two events (the listing row, the events in its chain);
- ``record_probation_event``: one event of a probation (its listing row, its chain), four per
  probation;
- ``send_mail``: a probation's message to two roles with addresses (the outbox rows written
  and, with no SMTP server, marked not sent);
- ``schedule_step``: a step's deadline, reminders and escalation from the working-day
  calendar.

Figures: this process's CPU (user + system) and the wall time per call; PostgreSQL's own
work is not in the CPU figure. ``record_events`` is the floor: the case's recording, straight
through asyncpg since earlier sessions, against which the others read as ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from temporalio.testing import ActivityEnvironment

from activities.calendar import CalendarActivities
from activities.mail import MailActivities, MailConfig
from activities.probation_records import ProbationRecordActivities
from activities.records import RecordActivities
from bench.driver import DATABASE_SERVER, DEFAULT_POLICY, TEST_SUPPLEMENT
from store.db import make_engine, make_session_factory, with_database
from store.migrate import drop_database, ensure_database, upgrade_to_head
from workflows.probation_types import (
    MailRequest,
    ProbationEventInput,
    ProbationRow,
    ProbationStatus,
    ReviewStatus,
)
from workflows.types import (
    CaseRow,
    CaseStage,
    CaseStatus,
    EscalationRung,
    RecordedEvent,
    RecordEventsInput,
    Role,
    ScheduleStepInput,
    SelectionMethod,
    StepTiming,
)

WARM_UP = 20
TIMING = StepTiming(
    responsible_role=Role.CLERK,
    deadline_working_days=5,
    reminders_working_days_before=[3, 1],
    escalation=[EscalationRung(role=Role.SECTION_CHIEF, working_days_after=1)],
    reminder_hour=9,
)
MOMENT = datetime(2027, 3, 1, 2, tzinfo=UTC)


def case_step(i: int) -> RecordEventsInput:
    case_id, step = f"bench-case-{i // 9}", i % 9
    return RecordEventsInput(
        case_id=case_id,
        case=CaseRow(
            unit="县民政局",
            post="副局长",
            method=SelectionMethod.REGULAR_APPOINTMENT,
            stage=CaseStage.INSPECTION,
            status=CaseStatus.ACTIVE,
            opened_on=MOMENT.date(),
            policy_version="bench",
        ),
        events=[
            RecordedEvent(
                seq=2 * step + n,
                kind="step",
                stage=CaseStage.INSPECTION,
                occurred_at=MOMENT + timedelta(hours=step),
                actor_name="张科员",
                actor_role=Role.CLERK,
                summary=f"第 {step} 步",
                payload={"step": step, "n": n, "people": ["P1", "P2"]},
            )
            for n in (1, 2)
        ],
    )


def probation_event(i: int) -> ProbationEventInput:
    seq = i % 4 + 1
    return ProbationEventInput(
        probation_id=f"bench-probation-{i // 4}",
        seq=seq,
        kind="reminder",
        occurred_at=MOMENT + timedelta(days=seq),
        actor_name="系统",
        actor_role=Role.SYSTEM,
        summary=f"第 {seq} 次提醒",
        payload={"seq": seq, "text": "试用期提醒"},
        row=ProbationRow(
            case_id=f"bench-case-{i // 4}",
            person_id="P1",
            name="张三",
            unit="县民政局",
            post="副局长",
            starts_on=date(2027, 1, 4),
            ends_on=date(2028, 1, 3),
            status=ProbationStatus.ON_PROBATION,
            review_status=ReviewStatus.PENDING,
        ),
    )


def mail(i: int) -> MailRequest:
    return MailRequest(
        source=f"bench-probation-{i}",
        seq=1,
        roles=[Role.SECTION_CHIEF, Role.DEPARTMENT_HEAD],
        subject="试用期考核提醒",
        body="请按期完成试用期考核。",
    )


def step(i: int) -> ScheduleStepInput:
    start = date(2027, 3, 1) + timedelta(days=i % 200)
    return ScheduleStepInput(case_id=f"bench-case-{i}", step="vote", start_on=start, timing=TIMING)


async def per_call(
    env: ActivityEnvironment, fn: Callable[..., Awaitable[Any]], make: Callable[[int], Any], n: int
) -> dict[str, float]:
    for i in range(WARM_UP):
        await env.run(fn, make(1_000_000 + i))
    inputs = [make(i) for i in range(n)]
    cpu, wall = time.process_time(), time.perf_counter()
    for argument in inputs:
        await env.run(fn, argument)
    return {
        "cpu_ms": (time.process_time() - cpu) / n * 1000,
        "wall_ms": (time.perf_counter() - wall) / n * 1000,
    }


async def main(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    name = f"appointments_activity_bench_{os.getpid()}"
    await ensure_database(DATABASE_SERVER, name)
    url = with_database(DATABASE_SERVER, name)
    try:
        await upgrade_to_head(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        try:
            env = ActivityEnvironment()
            calls: dict[str, tuple[Callable[..., Awaitable[Any]], Callable[[int], Any]]] = {
                "record_events": (RecordActivities(sessions).record_events, case_step),
                "record_probation_event": (
                    ProbationRecordActivities(sessions).record_probation_event,
                    probation_event,
                ),
                "send_mail": (
                    MailActivities(sessions, DEFAULT_POLICY, MailConfig(host=None)).send_mail,
                    mail,
                ),
                "schedule_step": (
                    CalendarActivities(TEST_SUPPLEMENT, DEFAULT_POLICY, sessions).schedule_step,
                    step,
                ),
            }
            figures = {}
            for label, (fn, make) in calls.items():
                figures[label] = await per_call(env, fn, make, args.calls)
                f = figures[label]
                print(f"{label:24s} CPU {f['cpu_ms']:.2f} ms/call, wall {f['wall_ms']:.2f} ms/call")
            return figures
        finally:
            await engine.dispose()
    finally:
        await drop_database(DATABASE_SERVER, name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--json", help="write the figures to this file")
    arguments = parser.parse_args()
    result = asyncio.run(main(arguments))
    if arguments.json:
        with open(arguments.json, "w", encoding="utf-8") as out:
            json.dump({"calls": arguments.calls, "figures": result}, out, indent=2)
