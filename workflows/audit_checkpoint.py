"""``AuditCheckpointWorkflow``: sign the heads of every case's hash chain, on a schedule.

A checkpoint makes a truncated or recomputed chain detectable (see ``audit``). The schedule
runs it at the policy's interval; the activity refuses to sign when the log no longer holds
what the previous checkpoint signed, so tampering is never covered up by a new signature.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.activity_refs import CREATE_AUDIT_CHECKPOINT, call
    from workflows.checkpoint_types import CheckpointRequest, CheckpointResult

__all__ = ["AuditCheckpointWorkflow", "CheckpointRequest", "CheckpointResult"]

AUDIT_CHECKPOINT_SCHEDULE_ID = "audit-checkpoint"
CHECKPOINT_TIMEOUT = timedelta(minutes=10)  # a million events take seconds (bench/RESULTS.md)


@workflow.defn
class AuditCheckpointWorkflow:
    @workflow.run
    async def run(self, request: CheckpointRequest) -> CheckpointResult:
        return await call(
            CREATE_AUDIT_CHECKPOINT,
            request,
            start_to_close_timeout=CHECKPOINT_TIMEOUT,
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
        )
