"""The worker: registers the workflows and activities on the task queue and runs them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from activities.calendar import CalendarActivities
from activities.policy import PolicyActivities
from activities.records import RecordActivities
from settings import Settings
from starter.client import connect
from store.db import make_engine, make_session_factory
from workflows.appointment_case import AppointmentCaseWorkflow

WORKFLOWS = [AppointmentCaseWorkflow]


def build_activities(settings: Settings, records: RecordActivities) -> list[Callable[..., Any]]:
    calendar = CalendarActivities(settings.calendar_supplement)
    policy = PolicyActivities(settings.policy_file)
    return [
        calendar.schedule_step,
        calendar.working_days_end,
        policy.load_policy,
        records.record_event,
    ]


def build_worker(client: Client, settings: Settings, records: RecordActivities) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=build_activities(settings, records),
    )


async def run_worker(settings: Settings, *, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set; then finish in-flight tasks and close the database pool."""
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL is not set: the worker records every case in PostgreSQL")
    engine = make_engine(settings.database_url)
    try:
        client = await connect(settings)
        records = RecordActivities(make_session_factory(engine))
        async with build_worker(client, settings, records):
            await stop.wait()
    finally:
        await engine.dispose()
