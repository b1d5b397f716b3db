"""The activity that signs an audit checkpoint and writes its copy, the same signing for
the command line and the embedded stack, the copy's mail outside a workflow, and the schedule
that runs the activity.

The activity connects as the checkpoint signer (the session factory it is given: the
worker's on AUDIT_SIGNER_DATABASE_URL, a login role in ``appointments_signer``, the only
role that may insert checkpoints); the key, the keyring and the export folder are the
settings' (AUDIT_SIGNING_KEY, AUDIT_KEYRING, AUDIT_EXPORT_DIR).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from sqlalchemy import exists, select
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

from activities.mail import MailActivities, MailConfig
from activities.policy import read_policy
from audit.checkpoints import CheckpointConflict, CheckpointRefused, create_checkpoint
from audit.copies import CopyError, copy_text, write_copy
from audit.keyring import Keyring, load_keyring
from audit.keys import KeyFileError, load_private_key
from audit.locations import NoAuditKey, signer_database_url
from settings import Settings
from store.db import make_engine, make_session_factory
from store.models import AuditCheckpoint
from workflows.audit_checkpoint import (
    AUDIT_CHECKPOINT_SCHEDULE_ID,
    AuditCheckpointWorkflow,
    CheckpointRequest,
    CheckpointResult,
)
from workflows.checkpoint_types import checkpoint_mail
from workflows.probation_types import MailResult

log = logging.getLogger(__name__)


async def sign_checkpoint(
    session: AsyncSession,
    settings: Settings,
    *,
    key_path: Path | None = None,
) -> CheckpointResult:
    """Sign a checkpoint with the service's key (or ``key_path``), checked with its keyring
    and its copies, and write the copy to the export folder: what the activity, ``appointments
    audit checkpoint`` and the embedded stack's first start do alike. ``session``: on the
    database as the signer, not in a transaction yet.

    Raises NoAuditKey or KeyFileError (no usable key), CheckpointRefused, CheckpointConflict
    (``audit.checkpoints``). A copy that cannot be written once the checkpoint is committed is
    logged, not raised: the mail still takes it off the box."""
    key_path = key_path or settings.audit_signing_key
    if key_path is None:
        raise NoAuditKey(
            "no signing key: set AUDIT_SIGNING_KEY (make one with `appointments audit keygen`)"
        )
    private = load_private_key(key_path)
    ring = settings.audit_keyring
    keyring = load_keyring(ring) if ring is not None else Keyring.single(private.public_key())
    copies = settings.audit_export_dir
    cp = await create_checkpoint(session, private, keyring=keyring, copies=copies)
    copied_to = ""
    if copies is not None:
        try:
            copied_to = str(write_copy(copies, cp))
        except CopyError as e:
            log.error("checkpoint #%s: %s", cp.id, e)
    return CheckpointResult(
        checkpoint_id=cp.id,
        merkle_root=cp.merkle_root,
        cases=len(cp.case_heads),
        events=cp.event_count,
        key_id=cp.key_id,
        probations=len(cp.probation_heads),
        statement_copy=copy_text(cp),
        copied_to=copied_to,
    )


async def mail_checkpoint(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, result: CheckpointResult
) -> MailResult:
    """The copy to the auditors through the outbox, outside a workflow (the command line,
    the embedded stack's first checkpoint); ApplicationError as ``send_mail`` raises it."""
    mail = MailActivities(sessions, settings.policy_file, MailConfig.from_settings(settings))
    return await mail.send_mail(checkpoint_mail(result))


async def first_checkpoint(settings: Settings) -> CheckpointResult | None:
    """A first checkpoint if the database has none yet (the embedded stack on its first
    start), signed, copied and mailed as every checkpoint is; None if it has one. Raises as
    ``sign_checkpoint`` does: a database without checkpoints whose copies say it had some is
    refused, never signed afresh."""
    if not settings.database_url:
        raise ValueError("未设置 DATABASE_URL")
    signer = make_engine(signer_database_url(settings) or settings.database_url)
    try:
        async with make_session_factory(signer)() as session:
            if await session.scalar(select(exists().where(AuditCheckpoint.id.is_not(None)))):
                return None
        async with make_session_factory(signer)() as session:
            result = await sign_checkpoint(session, settings)
    finally:
        await signer.dispose()
    engine = make_engine(settings.database_url)
    try:
        await mail_checkpoint(make_session_factory(engine), settings, result)
    except ApplicationError as e:  # the checkpoint stands; the outbox row says the rest
        log.warning("checkpoint #%s not mailed: %s", result.checkpoint_id, e)
    finally:
        await engine.dispose()
    return result


class AuditCheckpointActivities:
    def __init__(
        self, signer_sessions: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        self._sessions = signer_sessions
        self._settings = settings

    @activity.defn
    async def create_audit_checkpoint(self, request: CheckpointRequest) -> CheckpointResult:
        # Idempotent enough: a retry after a lost reply signs the same heads once more,
        # which adds a second, equally valid checkpoint and changes no history.
        try:
            async with self._sessions() as session:
                return await sign_checkpoint(session, self._settings)
        except KeyFileError as e:  # NoAuditKey too
            raise ApplicationError(str(e), type="NoSigningKey", non_retryable=True) from e
        except CheckpointRefused as e:
            raise ApplicationError(
                "nothing was signed: the log no longer holds what the last checkpoint "
                "signed: " + "; ".join(e.problems),
                type="CheckpointRefused",
                non_retryable=True,
            ) from e
        except CheckpointConflict as e:
            raise ApplicationError(str(e), type="CheckpointConflict") from e


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
