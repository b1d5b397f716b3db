"""What the worker needs for probations and the daily digest, in one place to wire.

- ``probation_worker_parts(settings, session_factory)``: the workflow classes and activity
  callables to add to the worker. They rely on two activities the worker registers
  already: ``load_policy`` and ``schedule_step``.
- ``start_probation(client, input, task_queue)``: how anything but the case starts one
  (the command line's import, tests), with the ID reuse that keeps it unique.
- ``ensure_digest_schedule(client, settings)``: creates the Temporal Schedule that runs
  ``DigestWorkflow`` daily, or brings an existing one up to date (never a second one);
  call it when the worker starts. A server without Schedules (the time-skipping test
  server) is reported, not raised.

Mail goes out through ``settings.smtp_host`` / ``smtp_port`` / ``mail_from`` (SMTP_HOST,
SMTP_PORT, MAIL_FROM) where the settings have them; without a host, mail is written to
the outbox only, marked "not sent: no SMTP server configured".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
    WorkflowHandle,
)
from temporalio.common import WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from activities.digest import DigestActivities
from activities.mail import MailActivities, MailConfig
from activities.policy import read_policy
from activities.probation_records import ProbationRecordActivities
from settings import Settings
from workflows.digest import DIGEST_SCHEDULE_ID, DigestWorkflow
from workflows.probation import ProbationWorkflow
from workflows.probation_types import DigestInput, ProbationInput, ProbationState

log = logging.getLogger(__name__)

SCHEDULE_TIME_ZONE = "Asia/Shanghai"
# A digest missed while the server was down is still worth sending within the morning.
SCHEDULE_CATCHUP = timedelta(hours=6)


def probation_worker_parts(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    *,
    mail: MailConfig | None = None,
) -> tuple[list[type], list[Callable[..., Any]]]:
    """(workflows, activities) for the worker; ``mail`` overrides the SMTP settings."""
    records = ProbationRecordActivities(session_factory)
    mailer = MailActivities(
        session_factory, settings.policy_file, mail or MailConfig.from_settings(settings)
    )
    digest = DigestActivities(session_factory)
    return (
        [ProbationWorkflow, DigestWorkflow],
        [records.record_probation_event, mailer.send_mail, digest.gather_digest],
    )


class ScheduleOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"  # it existed with another hour or task queue; its state was kept
    UNCHANGED = "unchanged"
    UNSUPPORTED = "unsupported"  # the server has no Schedules (time-skipping test server)


def digest_hour(policy_file: Path) -> int:
    snapshot = read_policy(policy_file)
    return snapshot.policy.probation.digest.hour


def digest_schedule(task_queue: str, hour: int) -> Schedule:
    """Every day at ``hour`` (Asia/Shanghai); a run still going when the next is due is left
    to finish, and the next skipped."""
    fingerprint = f"daily digest at {hour:02d}:00 {SCHEDULE_TIME_ZONE} on {task_queue}"
    return Schedule(
        action=ScheduleActionStartWorkflow(
            DigestWorkflow.run,
            DigestInput(),
            id=DIGEST_SCHEDULE_ID,
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    hour=[ScheduleRange(hour)],
                    minute=[ScheduleRange(0)],
                    second=[ScheduleRange(0)],
                    comment=fingerprint,
                )
            ],
            time_zone_name=SCHEDULE_TIME_ZONE,
        ),
        policy=SchedulePolicy(
            overlap=ScheduleOverlapPolicy.SKIP,
            catchup_window=SCHEDULE_CATCHUP,
        ),
    )


def _fingerprint(schedule: Schedule) -> tuple[str | None, ...]:
    action = schedule.action
    queue = action.task_queue if isinstance(action, ScheduleActionStartWorkflow) else None
    comments = tuple(c.comment for c in schedule.spec.calendars)
    return (*comments, schedule.spec.time_zone_name, queue)


async def ensure_digest_schedule(client: Client, settings: Settings) -> ScheduleOutcome:
    """Create the daily digest's schedule, or bring the existing one to the policy's hour.

    Idempotent: the schedule has a fixed ID, so a second call (a second worker, a restart)
    finds it instead of creating another; a paused schedule stays paused.
    """
    wanted = digest_schedule(settings.task_queue, digest_hour(settings.policy_file))
    try:
        await client.create_schedule(DIGEST_SCHEDULE_ID, wanted)
        return ScheduleOutcome.CREATED
    except ScheduleAlreadyRunningError:
        pass
    except RPCError as e:
        if e.status is RPCStatusCode.UNIMPLEMENTED:
            log.warning("this Temporal server has no Schedules; no daily digest: %s", e.message)
            return ScheduleOutcome.UNSUPPORTED
        raise
    handle = client.get_schedule_handle(DIGEST_SCHEDULE_ID)
    current = (await handle.describe()).schedule
    if _fingerprint(current) == _fingerprint(wanted):
        return ScheduleOutcome.UNCHANGED

    def keep_state(update: ScheduleUpdateInput) -> ScheduleUpdate:
        return ScheduleUpdate(schedule=replace(wanted, state=update.description.schedule.state))

    await handle.update(keep_state)
    return ScheduleOutcome.UPDATED


async def start_probation(
    client: Client, input: ProbationInput, task_queue: str
) -> WorkflowHandle[Any, ProbationState]:
    """Start one probation under its ID; a second start, even after the first has ended, is
    refused with ``WorkflowAlreadyStartedError``. (A case starting it as a child workflow
    does the same with ``id_reuse_policy=REJECT_DUPLICATE`` and, so that the probation
    outlives the case, ``parent_close_policy=ABANDON``.)"""
    return await client.start_workflow(
        ProbationWorkflow.run,
        input,
        id=input.workflow_id,
        task_queue=task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
