"""``DigestWorkflow``: the daily summary (每日待办汇总) of what falls due and what is overdue.

Run by the Temporal Schedule ``daily-digest`` (see ``activities.probation_parts.
ensure_digest_schedule``; managed with ``appointments schedule ...``) once a day at the
policy's ``probation.digest.hour``, or by ``appointments schedule trigger``. Each run reads
the policy, gathers the items from the case and probation listings (an activity), and mails
them to ``probation.digest.roles``. The run's workflow ID names the mail, so a retried run
never mails twice and a triggered run mails anew.

A run is short and bounded (three activities); nothing here loops, so there is nothing to
continue as new. Changing it: a running digest lasts seconds, but guard changes with
``workflow.patched`` all the same if a run may be in flight during a deploy.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.activity_refs import GATHER_DIGEST, LOAD_POLICY, SEND_MAIL, call
    from workflows.glossary import DIGEST_KINDS
    from workflows.probation_types import (
        Digest,
        DigestInput,
        DigestItem,
        DigestItemKind,
        DigestRequest,
        MailRequest,
    )
    from workflows.rules.working_days import SHANGHAI
    from workflows.types import PolicyRequest

DIGEST_SCHEDULE_ID = "daily-digest"
ACTIVITY_TIMEOUT = timedelta(seconds=60)
ACTIVITY_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1), maximum_attempts=20)
MAIL_TIMEOUT = timedelta(seconds=120)
MAIL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=12,
)

OVERDUE_KINDS = frozenset(
    {
        DigestItemKind.CASE_OVERDUE,
        DigestItemKind.REVIEW_OVERDUE,
        DigestItemKind.CADRE_STEP_OVERDUE,
        DigestItemKind.ROTATION_MOVE_OVERDUE,
        DigestItemKind.REMOVAL_VOTE_OVERDUE,
    }
)


def _line(number: int, item: DigestItem) -> str:
    who = f"（{item.name}）" if item.name else ""
    detail = f"；{item.detail}" if item.detail else ""
    return (
        f"{number}. 【{DIGEST_KINDS[item.kind]}】{item.unit} {item.post}{who}"
        f" — 到期日 {item.due_on}（{item.ref}）{detail}"
    )


def digest_mail(digest: Digest) -> tuple[str, str]:
    """Subject and body of the digest, in Chinese."""
    overdue = [i for i in digest.items if i.kind in OVERDUE_KINDS]
    due = [i for i in digest.items if i.kind not in OVERDUE_KINDS]
    subject = (
        f"每日待办汇总（{digest.today}）：已逾期 {len(overdue)} 项，"
        f"{digest.days_ahead} 天内到期 {len(due)} 项"
    )
    lines = [f"截至 {digest.today}，各案件、试用期和干部管理工作的到期和逾期事项如下。", ""]
    lines.append(f"一、已逾期（{len(overdue)} 项）")
    lines += [_line(n, i) for n, i in enumerate(overdue, 1)] or ["无"]
    lines += ["", f"二、{digest.days_ahead} 天内到期（{len(due)} 项）"]
    lines += [_line(n, i) for n, i in enumerate(due, 1)] or ["无"]
    lines += ["", "（本邮件由干部任用工作系统每日自动发送。）"]
    return subject, "\n".join(lines)


@workflow.defn
class DigestWorkflow:
    @workflow.run
    async def run(self, input: DigestInput) -> Digest:
        snapshot = await call(
            LOAD_POLICY,
            PolicyRequest(case_id=DIGEST_SCHEDULE_ID),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        policy = snapshot.policy.probation.digest
        cadre = snapshot.policy.cadre
        now = workflow.now()
        request = DigestRequest(
            as_of=now,
            today=now.astimezone(SHANGHAI).date(),
            days_ahead=input.days_ahead or policy.days_ahead,
            retest_window_days=max(
                cadre.capability_test.reminder_days_before_retest if cadre else [], default=0
            ),
        )
        digest = await call(
            GATHER_DIGEST,
            request,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        if digest.items or policy.send_when_empty:
            subject, body = digest_mail(digest)
            digest.mail = await call(
                SEND_MAIL,
                MailRequest(
                    source=f"digest:{workflow.info().workflow_id}",
                    seq=1,
                    roles=policy.roles,
                    subject=subject,
                    body=body,
                ),
                start_to_close_timeout=MAIL_TIMEOUT,
                retry_policy=MAIL_RETRY,
            )
        return digest
