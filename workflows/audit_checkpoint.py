"""``AuditCheckpointWorkflow``: sign the heads of every case's hash chain, on a schedule, and
mail the checkpoint's copy to the auditors.

A checkpoint makes a truncated or recomputed chain detectable (see ``audit``). The schedule
runs it at the policy's interval; the activity refuses to sign when the log or the chain of
checkpoints no longer holds what was signed, so tampering is never covered up by a new
signature. The copy (also written to the export folder by the activity) goes to the
auditors' mailbox through the outbox, once per checkpoint.

Live patches: ``checkpoint-mailed`` (the mail after the signing; runs started before it end
after the signing).
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows.activity_refs import CREATE_AUDIT_CHECKPOINT, SEND_MAIL, call
    from workflows.checkpoint_types import CheckpointRequest, CheckpointResult, checkpoint_mail

__all__ = ["AuditCheckpointWorkflow", "CheckpointRequest", "CheckpointResult"]

AUDIT_CHECKPOINT_SCHEDULE_ID = "audit-checkpoint"
CHECKPOINT_TIMEOUT = timedelta(minutes=10)  # a million events take seconds (bench/RESULTS.md)
MAIL_TIMEOUT = timedelta(minutes=2)
MAIL_ATTEMPTS = 6  # 1 + 2 + 4 + 8 + 10 minutes apart: half an hour of a mail server away
MAIL_PATCH = "checkpoint-mailed"


@workflow.defn
class AuditCheckpointWorkflow:
    @workflow.run
    async def run(self, request: CheckpointRequest) -> CheckpointResult:
        result = await call(
            CREATE_AUDIT_CHECKPOINT,
            request,
            start_to_close_timeout=CHECKPOINT_TIMEOUT,
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
        )
        if result.statement_copy and workflow.patched(MAIL_PATCH):
            try:
                # the outbox mails each auditor once, whatever the retries
                await call(
                    SEND_MAIL,
                    checkpoint_mail(result),
                    start_to_close_timeout=MAIL_TIMEOUT,
                    retry_policy=RetryPolicy(
                        initial_interval=timedelta(minutes=1),
                        maximum_interval=timedelta(minutes=10),
                        maximum_attempts=MAIL_ATTEMPTS,
                    ),
                )
            except ActivityError as e:
                # The checkpoint is signed and its copy written: a mail server away for hours
                # must not hold up the next scheduled checkpoint (the schedule skips while
                # this run lasts). The outbox row says what became of the message.
                workflow.logger.warning("checkpoint #%s not mailed: %s", result.checkpoint_id, e)
        return result
