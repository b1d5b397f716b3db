"""The extension rule (延期) as a table: each refusal at its edge, and what passes."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from workflows.policy import ExtensionPolicy
from workflows.rules.deadline_extension import RULE_EXTENSION, check_extension
from workflows.rules.errors import RuleViolation
from workflows.types import Role, StepState

POLICY = ExtensionPolicy(
    approver_roles=[Role.SECTION_CHIEF, Role.DEPARTMENT_HEAD], max_times=2, max_working_days=10
)
STARTED = date(2026, 9, 1)
DAY = date(2026, 9, 10)


def step(**changes: object) -> StepState:
    base = StepState(
        step="vote",
        responsible_role=Role.COMMITTEE_SECRETARY,
        started_on=STARTED,
        deadline_at=datetime(2026, 9, 23),
    )
    return base.model_copy(update=changes)


@pytest.mark.parametrize(
    ("state", "policy", "role", "key", "days", "on", "words"),
    [
        (None, POLICY, Role.SECTION_CHIEF, "vote", 1, DAY, "没有待办事项"),
        (step(), POLICY, Role.SECTION_CHIEF, "inspection", 1, DAY, "请刷新后再办"),
        (
            step(blocked_reason="缺 2027 年"),
            POLICY,
            Role.SECTION_CHIEF,
            "vote",
            1,
            DAY,
            "工作日历缺失",
        ),
        (step(deadline_at=None), POLICY, Role.SECTION_CHIEF, "vote", 1, DAY, "尚未算出"),
        (step(), None, Role.SECTION_CHIEF, "vote", 1, DAY, "未规定延期"),
        (step(), POLICY, Role.CLERK, "vote", 1, DAY, "规定的审批人"),
        (step(extensions=2), POLICY, Role.DEPARTMENT_HEAD, "vote", 1, DAY, "最多延期 2 次"),
        (step(extended_working_days=6), POLICY, Role.SECTION_CHIEF, "vote", 5, DAY, "共 11 个"),
        (step(), POLICY, Role.SECTION_CHIEF, "vote", 11, DAY, "累计不超过 10 个工作日"),
        (step(), POLICY, Role.SECTION_CHIEF, "vote", 1, date(2026, 8, 31), "不能早于"),
    ],
)
def test_refusals(
    state: StepState | None,
    policy: ExtensionPolicy | None,
    role: Role,
    key: str,
    days: int,
    on: date,
    words: str,
) -> None:
    with pytest.raises(RuleViolation) as info:
        check_extension(state, policy, role, key, days, on)
    assert info.value.rule == RULE_EXTENSION
    assert words in info.value.message


@pytest.mark.parametrize(
    ("state", "role", "days", "on"),
    [
        (step(), Role.SECTION_CHIEF, 10, DAY),  # all the policy's days at once
        (step(extensions=1, extended_working_days=4), Role.DEPARTMENT_HEAD, 6, DAY),  # the last
        (step(), Role.DEPARTMENT_HEAD, 1, STARTED),  # approved on the day the step started
    ],
)
def test_allowed(state: StepState, role: Role, days: int, on: date) -> None:
    check_extension(state, POLICY, role, "vote", days, on)
