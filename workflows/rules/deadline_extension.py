"""Extending the deadline of an awaited step (延期): who may, how often, by how much.

The limits are the department's (``policy.extension``); nothing national stops a department
from giving a step more time, but every extension names its reason and its approver, and
the history keeps the deadline before and after it. A person who acts on the step may ask
for it (延期申请); the request is checked against the same limits when it is filed, and the
one who asks never grants it.
"""

from __future__ import annotations

from datetime import date

from workflows.glossary import zh
from workflows.policy import ExtensionPolicy
from workflows.rules.errors import RuleViolation
from workflows.types import Actor, Role, StepState

RULE_EXTENSION = "deadline.extension"
# who may ask for more time, and that the one who asks is not the one who grants it
RULE_EXTENSION_REQUEST = "deadline.extension.request"


def _check_awaited(step: StepState | None, step_key: str) -> StepState:
    """The awaited step ``step_key``, with a deadline that can be moved."""
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
    return step


def _check_limits(step: StepState, policy: ExtensionPolicy, working_days: int) -> None:
    """The policy's limits: how many extensions of one step, how many working days in all."""
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


def check_extension(
    step: StepState | None,
    policy: ExtensionPolicy | None,
    role: Role,
    step_key: str,
    working_days: int,
    decided_on: date,
) -> None:
    """Refuse an extension the policy does not allow for the awaited ``step``."""
    awaited = _check_awaited(step, step_key)
    if policy is None:
        raise RuleViolation("本案件适用的政策未规定延期，期限不能延长", RULE_EXTENSION)
    if role not in policy.approver_roles:
        raise RuleViolation("按本地政策，延期须由规定的审批人批准", RULE_EXTENSION)
    _check_limits(awaited, policy, working_days)
    if decided_on < awaited.started_on:
        raise RuleViolation(
            f"延期的批准日期（{decided_on}）不能早于这一事项的开始日期（{awaited.started_on}）",
            RULE_EXTENSION,
        )


def check_extension_request(
    step: StepState | None,
    policy: ExtensionPolicy | None,
    actor: Actor,
    step_key: str,
    working_days: int,
) -> None:
    """Refuse a request (延期申请) that its approver could not grant: filed by someone who does
    not act on the awaited step, or beyond the policy's limits as the step stands now."""
    awaited = _check_awaited(step, step_key)
    if policy is None:
        raise RuleViolation("本案件适用的政策未规定延期，不能申请延期", RULE_EXTENSION)
    given_to_them = awaited.assignee is not None and awaited.assignee in (
        actor.name,
        actor.on_behalf_of,
    )
    acts_on_it = actor.role is awaited.responsible_role or given_to_them
    if not acts_on_it:
        raise RuleViolation(
            f"{actor.name}不办理这一事项（由{zh(awaited.responsible_role)}办理"
            + (f"，经办人 {awaited.assignee}" if awaited.assignee else "")
            + "），不能为它申请延期",
            RULE_EXTENSION_REQUEST,
        )
    _check_limits(awaited, policy, working_days)


def check_approver_not_requester(requested_by: str | None, approver: str) -> None:
    """The person who asked for more time does not grant it to themselves."""
    if requested_by is not None and requested_by == approver:
        raise RuleViolation(
            f"延期申请由 {requested_by} 提出，须由另一位审批人批准，不能自己批准",
            RULE_EXTENSION_REQUEST,
        )


def check_request_not_applied(step: StepState | None, request_id: int | None) -> None:
    """An approved request moves the deadline once, however often its approval is sent."""
    if step is not None and request_id is not None and request_id in step.extension_requests:
        raise RuleViolation(
            f"延期申请 #{request_id} 已经批准，期限已经延长过", RULE_EXTENSION_REQUEST
        )


def request_lapsed(step: StepState | None, step_key: str, step_started_on: date) -> bool:
    """Whether the step a request was filed for is no longer awaited (done, or a later
    step of the same name begun since): its request can only lapse."""
    return step is None or step.step != step_key or step.started_on != step_started_on
