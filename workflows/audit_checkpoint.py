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
    from workflows.types import Model

AUDIT_CHECKPOINT_SCHEDULE_ID = "audit-checkpoint"
CHECKPOINT_TIMEOUT = timedelta(minutes=10)  # a million events take seconds (bench/RESULTS.md)


class CheckpointRequest(Model):
    reason: str = "scheduled"


class CheckpointResult(Model):
    checkpoint_id: int
    merkle_root: str
    cases: int
    events: int  # of cases and probations
    key_id: str
    probations: int = 0  # chains of probation events it covers (0 in results made before)


@workflow.defn
class AuditCheckpointWorkflow:
    @workflow.run
    async def run(self, request: CheckpointRequest) -> CheckpointResult:
        result: CheckpointResult = await workflow.execute_activity(
            "create_audit_checkpoint",
            request,
            result_type=CheckpointResult,
            start_to_close_timeout=CHECKPOINT_TIMEOUT,
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
        )
        return result
