"""The audit checkpoint's input and result (签名检查点), apart from its workflow so that the
typed activity references can name them; and the mail that takes each checkpoint's copy to
the auditors."""

from __future__ import annotations

from workflows.probation_types import MailRequest
from workflows.types import Model, Role

CHECKPOINT_MAIL_SOURCE = "audit-checkpoint"  # the outbox's source; its seq is the number


class CheckpointRequest(Model):
    reason: str = "scheduled"


class CheckpointResult(Model):
    checkpoint_id: int
    merkle_root: str
    cases: int
    events: int  # of cases and probations
    key_id: str
    probations: int = 0  # chains of probation events it covers (0 in results made before)
    statement_copy: str = ""  # the checkpoint's copy (``audit.copies``), as written and mailed
    copied_to: str = ""  # the file it was written to; "" without an export folder


def checkpoint_mail(result: CheckpointResult) -> MailRequest:
    """The copy of a checkpoint for the auditors' mailbox (the policy's address for the
    auditor role), once per checkpoint."""
    number = result.checkpoint_id
    return MailRequest(
        source=CHECKPOINT_MAIL_SOURCE,
        seq=number,
        roles=[Role.AUDITOR],
        subject=f"审计检查点 #{number} 副本",
        body=(
            f"审计日志新签署了检查点 #{number}（覆盖 {result.cases} 个案件、{result.probations} "
            f"个试用期、共 {result.events} 条记录；签名密钥 {result.key_id}）。\n\n"
            "请将下面的 JSON 原样保存为文件 "
            f"checkpoint-{number:08d}.json，存放在本系统以外的文件夹中。日后用\n"
            "  appointments audit verify --against 该文件夹\n"
            "核对数据库：数据库中缺失或被改动的检查点都会被指出。\n\n"
            f"{result.statement_copy}"
        ),
    )
