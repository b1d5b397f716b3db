"""The worker: registers the workflows and activities on the task queue and runs them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from activities.audit_checkpoint import (
    AuditCheckpointActivities,
    ensure_audit_checkpoint_schedule,
)
from activities.calendar import CalendarActivities
from activities.mail import MailConfig
from activities.policy import PolicyActivities
from activities.probation_parts import ensure_digest_schedule, probation_worker_parts
from activities.records import RecordActivities
from activities.rotation import RotationActivities, ensure_rotation_schedule
from audit.locations import signer_database_url
from gateway.client import connect, warn_if_plain, worker_runtime
from gateway.logs import RefusalLog
from gateway.readiness import keep_ready_file
from gateway.sandbox import workflow_runner
from settings import Settings
from store.db import make_engine, make_session_factory
from workflows.appointment_case import AppointmentCaseWorkflow
from workflows.audit_checkpoint import AuditCheckpointWorkflow
from workflows.capability_campaign import CapabilityCampaignWorkflow
from workflows.capability_retest import CapabilityRetestWorkflow
from workflows.double_evaluation import DoubleEvaluationWorkflow
from workflows.removal_case import RemovalCaseWorkflow
from workflows.rotation import RotationScanWorkflow
from workflows.rotation_batch import RotationBatchWorkflow

log = logging.getLogger(__name__)

WORKFLOWS: list[type] = [AppointmentCaseWorkflow, AuditCheckpointWorkflow, RotationScanWorkflow]
# the capability test, the double evaluation and the rotation batches (issue 19)
CADRE_WORKFLOWS: list[type] = [
    CapabilityCampaignWorkflow,
    CapabilityRetestWorkflow,
    DoubleEvaluationWorkflow,
    RemovalCaseWorkflow,
    RotationBatchWorkflow,
]


def build_activities(
    settings: Settings,
    records: RecordActivities,
    session_factory: async_sessionmaker[AsyncSession] | None = None,
) -> list[Callable[..., Any]]:
    # the calendar reads the years administrators entered in the console on every call
    calendar = CalendarActivities(
        settings.calendar_supplement, settings.policy_file, sessions=session_factory
    )
    policy = PolicyActivities(settings.policy_file)
    return [
        calendar.schedule_step,
        calendar.working_days_end,
        calendar.working_days_ends,
        policy.load_policy,
        records.record_event,
        records.record_events,
    ]


def worker_parts(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    *,
    mail: MailConfig | None = None,
    signer_sessions: async_sessionmaker[AsyncSession] | None = None,
) -> tuple[list[type], list[Callable[..., Any]]]:
    """Every workflow and every activity of the service, as the worker registers them; the
    checkpoint is signed on ``signer_sessions`` (default: ``session_factory``)."""
    records = RecordActivities(session_factory)
    rotation = RotationActivities(session_factory)
    audit = AuditCheckpointActivities(signer_sessions or session_factory, settings)
    probation_workflows, probation_activities = probation_worker_parts(
        settings, session_factory, mail=mail
    )
    return (
        [*WORKFLOWS, *CADRE_WORKFLOWS, *probation_workflows],
        [
            *build_activities(settings, records, session_factory),
            audit.create_audit_checkpoint,
            rotation.read_register_posts,
            rotation.record_rotation_scan,
            rotation.record_rotation_arrival,
            *probation_activities,
        ],
    )


def build_worker(
    client: Client,
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    *,
    mail: MailConfig | None = None,
    signer_sessions: async_sessionmaker[AsyncSession] | None = None,
) -> Worker:
    """Every workflow and activity of the service, on the settings' task queue."""
    workflows, activities = worker_parts(
        settings, session_factory, mail=mail, signer_sessions=signer_sessions
    )
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=workflows,
        activities=activities,
        sticky_queue_schedule_to_start_timeout=timedelta(seconds=settings.worker_sticky_timeout),
        max_cached_workflows=settings.worker_max_cached_workflows,
        workflow_runner=workflow_runner(),  # the SDK's sandbox, its code strings compiled once
        interceptors=[RefusalLog()],  # a refused step: one line with its workflow id
    )


async def run_worker(settings: Settings, *, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set; then finish in-flight tasks and close the database pool."""
    if not settings.database_url:
        raise RuntimeError("未设置 DATABASE_URL：工作进程须把每个案件记入 PostgreSQL")
    engine = make_engine(settings.database_url)
    # the checkpoint signer's own login, when it has one: the app's may not insert checkpoints
    signer = make_engine(signer_database_url(settings) or settings.database_url)
    try:
        # the SDK's own metrics for Prometheus when WORKER_METRICS_ADDRESS names where
        client = await connect(settings, runtime=worker_runtime(settings))
        warn_if_plain(settings, "the worker")
        async with build_worker(
            client,
            settings,
            make_session_factory(engine),
            signer_sessions=make_session_factory(signer),
        ) as running:
            outcome = await ensure_digest_schedule(client, settings)
            log.info("daily digest schedule: %s", outcome.value)
            log.info("rotation scan schedule: %s", await ensure_rotation_schedule(client, settings))
            if settings.audit_signing_key is not None:
                status = await ensure_audit_checkpoint_schedule(client, settings)
                log.info("audit checkpoint schedule: %s", status)
            if settings.worker_ready_file is not None:  # for health probes (gateway.readiness)
                await keep_ready_file(settings.worker_ready_file, running, stop)
            await stop.wait()
    finally:
        await signer.dispose()
        await engine.dispose()
