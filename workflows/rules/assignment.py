"""Who may give the awaited step to a person (认领、放弃、指派): the department's own rule.

A step waits in its responsible role's queue until someone takes it. Anyone holding that
role may claim it for themselves while it is unassigned, and give back (放弃) a step that is
theirs; the leadership (a section chief, the head) may give it to anyone, take it from
anyone and put it back in the queue. An inspection-team member claims only on a case whose
team names them. Nothing else changes hands: the step itself is still taken by the roles
its row in the step table names.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from workflows.rules.errors import RuleViolation
from workflows.types import Actor, Role, StepState

RULE_ASSIGNMENT = "step.assignment"

# who may give a step to anyone, or take it back to the queue
ASSIGNERS = frozenset({Role.SECTION_CHIEF, Role.DEPARTMENT_HEAD})


class AssignmentKind(StrEnum):
    CLAIM = "claim"  # 认领: the actor takes it
    RELEASE = "release"  # 放弃: the actor gives their own step back to the queue
    ASSIGN = "assign"  # 指派: the leadership gives it to someone
    UNASSIGN = "unassign"  # 收回: the leadership puts it back in the queue


def assignment_kind(
    step: StepState | None,
    actor: Actor,
    step_key: str,
    assignee: str | None,
    team: Sequence[str],
) -> AssignmentKind:
    """What giving the awaited ``step`` to ``assignee`` (None: the queue) is when ``actor``
    asks; refused with the reason when the actor may not."""
    if step is None:
        raise RuleViolation("案件当前没有待办事项，无可认领或指派的事项", RULE_ASSIGNMENT)
    if step_key != step.step:
        raise RuleViolation(
            "案件当前的待办事项已经不是要认领或指派的那一项；请刷新后再办", RULE_ASSIGNMENT
        )
    if assignee == step.assignee:
        if assignee is None:
            raise RuleViolation("这一事项尚未指派给任何人，无需退回", RULE_ASSIGNMENT)
        raise RuleViolation(f"这一事项已经由 {assignee} 办理，无需重复指派", RULE_ASSIGNMENT)
    if actor.role in ASSIGNERS:
        if assignee is None:
            return AssignmentKind.UNASSIGN
        return AssignmentKind.CLAIM if assignee == actor.name else AssignmentKind.ASSIGN
    if actor.role is not step.responsible_role:
        raise RuleViolation(
            "这一事项不由您的角色办理：只有办理这一事项的角色可以认领，指派须由科长或部长办理",
            RULE_ASSIGNMENT,
        )
    if actor.role is Role.INSPECTION_TEAM and actor.name not in team:
        raise RuleViolation(f"{actor.name}不是本案件考察组成员，不能认领", RULE_ASSIGNMENT)
    if assignee is None:
        if step.assignee != actor.name:
            raise RuleViolation(
                f"这一事项由 {step.assignee} 办理；只有本人可以放弃，收回须由科长或部长办理",
                RULE_ASSIGNMENT,
            )
        return AssignmentKind.RELEASE
    if assignee != actor.name:
        raise RuleViolation("只有科长或部长可以把待办事项指派给他人", RULE_ASSIGNMENT)
    if step.assignee is not None:
        raise RuleViolation(
            f"这一事项已由 {step.assignee} 认领；改派须由科长或部长办理", RULE_ASSIGNMENT
        )
    return AssignmentKind.CLAIM
