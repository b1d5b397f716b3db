"""The activity that signs an audit checkpoint, and the schedule that runs it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from temporalio.exceptions import ApplicationError

from activities.policy import read_policy
from audit.checkpoints import CheckpointRefused, create_checkpoint
from audit.keys import load_private_key
from settings import Settings
from workflows.audit_checkpoint import (
    AUDIT_CHECKPOINT_SCHEDULE_ID,
    AuditCheckpointWorkflow,
    CheckpointRequest,
    CheckpointResult,
)


class AuditCheckpointActivities:
    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], key_path: Path | None
    ) -> None:
        self._sessions = session_factory
        self._key_path = key_path

    @activity.defn
    async def create_audit_checkpoint(self, request: CheckpointRequest) -> CheckpointResult:
        # Idempotent enough: a retry after a lost reply signs the same heads once more,
        # which adds a second, equally valid checkpoint and changes no history.
        if self._key_path is None:
            raise ApplicationError(
                "no signing key: set AUDIT_SIGNING_KEY (make one with `appointments audit keygen`)",
                type="NoSigningKey",
                non_retryable=True,
            )
        private = load_private_key(self._key_path)
        async with self._sessions() as session:
            try:
                cp = await create_checkpoint(session, private)
            except CheckpointRefused as e:
                raise ApplicationError(
                    "nothing was signed: the log no longer holds what the last checkpoint "
                    "signed: " + "; ".join(e.problems),
                    type="CheckpointRefused",
                    non_retryable=True,
                ) from e
        return CheckpointResult(
            checkpoint_id=cp.id,
            merkle_root=cp.merkle_root,
            cases=len(cp.case_heads),
            events=cp.event_count,
            key_id=cp.key_id,
            probations=len(cp.probation_heads),
        )


def checkpoint_schedule(task_queue: str, every_hours: int) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            AuditCheckpointWorkflow.run,
            CheckpointRequest(),
            id=AUDIT_CHECKPOINT_SCHEDULE_ID,
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(hours=every_hours))]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_audit_checkpoint_schedule(client: Client, settings: Settings) -> str:
    """Create the checkpoint schedule once (a second call finds it); ``created``/``exists``."""
    policy = read_policy(settings.policy_file)
    wanted = checkpoint_schedule(settings.task_queue, policy.policy.audit_checkpoint_hours)
    try:
        await client.create_schedule(AUDIT_CHECKPOINT_SCHEDULE_ID, wanted)
    except ScheduleAlreadyRunningError:
        return "exists"
    return "created"
