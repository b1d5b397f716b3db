"""Signed checkpoints on a schedule, on the real dev server (the test server has none)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.audit_checkpoint import ensure_audit_checkpoint_schedule
from audit.checkpoints import checkpoint_problems, latest_checkpoints
from audit.keys import load_public_key, public_key_path, write_keypair
from settings import PROJECT_DIR, load_settings
from store.db import make_engine, make_session_factory
from store.migrate import upgrade_to_head
from store.probation_models import OutboxMail
from worker import build_worker
from workflows.audit_checkpoint import (
    AUDIT_CHECKPOINT_SCHEDULE_ID,
    AuditCheckpointWorkflow,
    CheckpointRequest,
)
from workflows.checkpoint_types import CHECKPOINT_MAIL_SOURCE

pytestmark = pytest.mark.devserver


@pytest.fixture
async def own_database(
    throwaway_database_url: str,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A database of its own: a checkpoint signed here must not meet other tests' keys."""
    await upgrade_to_head(throwaway_database_url)
    engine = make_engine(throwaway_database_url)
    try:
        yield make_session_factory(engine)
    finally:
        await engine.dispose()


async def _schedule_ids(client: Client) -> list[str]:
    return [s.id async for s in await client.list_schedules()]


async def test_checkpoint_schedule_is_created_once_and_signs_when_triggered(
    dev_env: WorkflowEnvironment,
    own_database: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    key = tmp_path / "audit.pem"
    write_keypair(key)
    settings = load_settings(
        {
            "TASK_QUEUE": f"audit-{uuid.uuid4().hex[:8]}",
            "POLICY_FILE": str(PROJECT_DIR / "policy" / "default.yaml"),
            "AUDIT_SIGNING_KEY": str(key),
            "AUDIT_EXPORT_DIR": str(tmp_path / "copies"),
        }
    )
    client = dev_env.client
    async with build_worker(client, settings, own_database):
        assert await ensure_audit_checkpoint_schedule(client, settings) == "created"
        assert await ensure_audit_checkpoint_schedule(client, settings) == "exists"
        assert (await _schedule_ids(client)).count(AUDIT_CHECKPOINT_SCHEDULE_ID) == 1
        # a run of the workflow the schedule starts, awaited for its result
        result = await client.execute_workflow(
            AuditCheckpointWorkflow.run,
            CheckpointRequest(reason="test"),
            id=f"checkpoint-{uuid.uuid4().hex[:6]}",
            task_queue=settings.task_queue,
        )
    async with own_database() as session:
        [latest] = await latest_checkpoints(session, 1)
    assert latest.id == result.checkpoint_id
    assert latest.merkle_root == result.merkle_root
    assert (result.cases, result.probations) == (
        len(latest.case_heads),
        len(latest.probation_heads),
    )
    assert checkpoint_problems(latest, load_public_key(public_key_path(key))) == []
    # its copy went to the export folder, and to the auditors through the outbox
    copy = tmp_path / "copies" / "checkpoint-00000001.json"
    assert result.copied_to == str(copy) and copy.read_text("utf-8") == result.statement_copy
    async with own_database() as session:
        mailed = (
            await session.scalars(
                select(OutboxMail).where(
                    OutboxMail.source == CHECKPOINT_MAIL_SOURCE, OutboxMail.seq == latest.id
                )
            )
        ).all()
    assert [(m.recipient_role, m.status) for m in mailed] == [("auditor", "not_sent")]


async def test_without_a_key_the_activity_says_what_to_do(
    dev_env: WorkflowEnvironment, own_database: async_sessionmaker[AsyncSession]
) -> None:
    settings = load_settings(
        {
            "TASK_QUEUE": f"audit-{uuid.uuid4().hex[:8]}",
            "POLICY_FILE": str(PROJECT_DIR / "policy" / "default.yaml"),
        }
    )
    async with build_worker(dev_env.client, settings, own_database):
        with pytest.raises(WorkflowFailureError) as info:
            await dev_env.client.execute_workflow(
                AuditCheckpointWorkflow.run,
                CheckpointRequest(),
                id=f"checkpoint-{uuid.uuid4().hex[:6]}",
                task_queue=settings.task_queue,
            )
    activity_error = info.value.cause
    assert isinstance(activity_error, ActivityError)
    assert isinstance(activity_error.cause, ApplicationError)
    assert "set AUDIT_SIGNING_KEY" in activity_error.cause.message
