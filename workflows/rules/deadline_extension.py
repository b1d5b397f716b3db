"""Extending the deadline of an awaited step (延期): who may, how often, by how much.

The limits are the department's (``policy.extension``); nothing national stops a department
from giving a step more time, but every extension names its reason and its approver, and
the history keeps the deadline before and after it.
"""

from __future__ import annotations

from datetime import date

from workflows.policy import ExtensionPolicy
from workflows.rules.errors import RuleViolation
from workflows.types import Role, StepState

RULE_EXTENSION = "deadline.extension"


def check_extension(
    step: StepState | None,
    policy: ExtensionPolicy | None,
    role: Role,
    step_key: str,
    working_days: int,
    decided_on: date,
) -> None:
    """Refuse an extension the policy does not allow for the awaited ``step``."""
    if step is None:
        raise RuleViolation("案件当前没有待办事项，无可延期的期限", RULE_EXTENSION)
    if step_key != step.step:
        raise RuleViolation(
            "案件当前的待办事项已经不是要延期的那一项；请刷新后再办", RULE_EXTENSION
        )
    if step.blocked_reason:
        raise RuleViolation("工作日历缺失，这一事项的期限尚未算出，不能延期", RULE_EXTENSION)
    if step.deadline_at is None:
        raise RuleViolation("这一事项的期限尚未算出，请稍后再办", RULE_EXTENSION)
    if policy is None:
        raise RuleViolation("本案件适用的政策未规定延期，期限不能延长", RULE_EXTENSION)
    if role not in policy.approver_roles:
        raise RuleViolation("按本地政策，延期须由规定的审批人批准", RULE_EXTENSION)
    if step.extensions >= policy.max_times:
        raise RuleViolation(
            f"这一事项已延期 {step.extensions} 次，按本地政策最多延期 {policy.max_times} 次",
            RULE_EXTENSION,
        )
    total = step.extended_working_days + working_days
    if total > policy.max_working_days:
        raise RuleViolation(
            f"这一事项已延长 {step.extended_working_days} 个工作日，再延长 {working_days} 个"
            f"工作日共 {total} 个，按本地政策累计不超过 {policy.max_working_days} 个工作日",
            RULE_EXTENSION,
        )
    if decided_on < step.started_on:
        raise RuleViolation(
            f"延期的批准日期（{decided_on}）不能早于这一事项的开始日期（{step.started_on}）",
            RULE_EXTENSION,
        )
