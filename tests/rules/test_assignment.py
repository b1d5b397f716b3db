"""Who may claim, give back and assign the awaited step (workflows.rules.assignment)."""

from __future__ import annotations

from datetime import date

import pytest

from workflows.rules.assignment import RULE_ASSIGNMENT, AssignmentKind, assignment_kind
from workflows.rules.errors import RuleViolation
from workflows.rules.sources import SOURCES
from workflows.types import Actor, Role, StepState

KEY = "investigation_notice"
WANG = Actor(name="王科员", role=Role.CLERK)
LI = Actor(name="李四", role=Role.CLERK)
CHIEF = Actor(name="钱", role=Role.SECTION_CHIEF)
HEAD = Actor(name="赵部长", role=Role.DEPARTMENT_HEAD)
SECRETARY = Actor(name="孙秘书", role=Role.COMMITTEE_SECRETARY)
MEMBER = Actor(name="周干事", role=Role.INSPECTION_TEAM)


def step(assignee: str | None = None, role: Role = Role.CLERK, key: str = KEY) -> StepState:
    return StepState(
        step=key, responsible_role=role, started_on=date(2026, 9, 1), assignee=assignee
    )


@pytest.mark.parametrize(
    ("state", "actor", "assignee", "kind"),
    [
        (step(), WANG, "王科员", AssignmentKind.CLAIM),
        (step("王科员"), WANG, None, AssignmentKind.RELEASE),
        (step(), CHIEF, "李四", AssignmentKind.ASSIGN),
        (step("王科员"), CHIEF, "李四", AssignmentKind.ASSIGN),  # reassign
        (step("王科员"), HEAD, None, AssignmentKind.UNASSIGN),
        (step(), CHIEF, "钱", AssignmentKind.CLAIM),
        (step(role=Role.INSPECTION_TEAM, key="inspection"), MEMBER, "周干事", AssignmentKind.CLAIM),
    ],
)
def test_allowed(
    state: StepState, actor: Actor, assignee: str | None, kind: AssignmentKind
) -> None:
    key = state.step
    assert assignment_kind(state, actor, key, assignee, ["周干事"]) is kind


@pytest.mark.parametrize(
    ("state", "actor", "key", "assignee", "words"),
    [
        (None, WANG, KEY, "王科员", "没有待办事项"),
        (step(), WANG, "inspection_team", "王科员", "请刷新"),  # stale
        (step("王科员"), WANG, KEY, "王科员", "无需重复"),
        (step(), CHIEF, KEY, None, "尚未指派"),
        (step(), SECRETARY, KEY, "孙秘书", "不由您的角色办理"),  # another role's step
        (step(), WANG, KEY, "李四", "只有科长或部长"),  # a clerk assigns another
        (step("李四"), WANG, KEY, "王科员", "已由 李四 认领"),  # taking a colleague's
        (step("李四"), WANG, KEY, None, "只有本人可以放弃"),  # giving back a colleague's
        (
            step(role=Role.INSPECTION_TEAM, key="inspection"),
            MEMBER,
            "inspection",
            "周干事",
            "不是本案件考察组成员",
        ),
    ],
)
def test_refused(
    state: StepState | None, actor: Actor, key: str, assignee: str | None, words: str
) -> None:
    team = [] if actor is MEMBER else ["周干事"]
    with pytest.raises(RuleViolation) as info:
        assignment_kind(state, actor, key, assignee, team)
    assert words in info.value.message
    assert info.value.rule == RULE_ASSIGNMENT


def test_the_rule_has_a_source() -> None:
    assert RULE_ASSIGNMENT in SOURCES
