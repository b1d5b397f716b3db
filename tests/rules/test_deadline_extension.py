"""The extension rule (延期) and its requests (延期申请) as tables: each refusal at its edge,
and what passes."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from workflows.policy import ExtensionPolicy
from workflows.rules.deadline_extension import (
    RULE_EXTENSION,
    RULE_EXTENSION_REQUEST,
    check_approver_not_requester,
    check_extension,
    check_extension_request,
    check_request_not_applied,
    request_lapsed,
)
from workflows.rules.errors import RuleViolation
from workflows.types import Actor, Role, StepState

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


# --------------------------------------------------------------------------- 延期申请

CLERK = Actor(name="王科员", role=Role.CLERK)
SECRETARY = Actor(name="秘书 孙", role=Role.COMMITTEE_SECRETARY)


@pytest.mark.parametrize(
    ("state", "policy", "actor", "key", "days", "rule", "words"),
    [
        (None, POLICY, SECRETARY, "vote", 1, RULE_EXTENSION, "没有待办事项"),
        (step(), POLICY, SECRETARY, "inspection", 1, RULE_EXTENSION, "请刷新后再办"),
        (step(deadline_at=None), POLICY, SECRETARY, "vote", 1, RULE_EXTENSION, "尚未算出"),
        (step(), None, SECRETARY, "vote", 1, RULE_EXTENSION, "未规定延期"),
        # a clerk does not act on the secretary's step, unless it is given to them
        (step(), POLICY, CLERK, "vote", 1, RULE_EXTENSION_REQUEST, "不办理这一事项"),
        (step(assignee="秘书 李"), POLICY, CLERK, "vote", 1, RULE_EXTENSION_REQUEST, "秘书 李"),
        (step(extensions=2), POLICY, SECRETARY, "vote", 1, RULE_EXTENSION, "最多延期 2 次"),
        (step(extended_working_days=6), POLICY, SECRETARY, "vote", 5, RULE_EXTENSION, "共 11 个"),
        (step(), POLICY, SECRETARY, "vote", 11, RULE_EXTENSION, "累计不超过 10 个工作日"),
    ],
)
def test_request_refusals(
    state: StepState | None,
    policy: ExtensionPolicy | None,
    actor: Actor,
    key: str,
    days: int,
    rule: str,
    words: str,
) -> None:
    with pytest.raises(RuleViolation) as info:
        check_extension_request(state, policy, actor, key, days)
    assert info.value.rule == rule
    assert words in info.value.message


@pytest.mark.parametrize(
    ("state", "actor", "days"),
    [
        (step(), SECRETARY, 10),  # the step's own role, all the policy's days at once
        (step(assignee="王科员"), CLERK, 1),  # the person the step is given to
        (step(assignee="张三"), Actor(name="王科员", role=Role.CLERK, on_behalf_of="张三"), 1),
        (step(extensions=1, extended_working_days=4), SECRETARY, 6),  # the last days left
    ],
)
def test_requests_allowed(state: StepState, actor: Actor, days: int) -> None:
    check_extension_request(state, POLICY, actor, "vote", days)


def test_the_requester_never_approves_their_own_request() -> None:
    with pytest.raises(RuleViolation) as info:
        check_approver_not_requester("科长 钱", "科长 钱")
    assert info.value.rule == RULE_EXTENSION_REQUEST
    assert "不能自己批准" in info.value.message
    check_approver_not_requester("王科员", "科长 钱")
    check_approver_not_requester(None, "科长 钱")  # an approver extending directly


def test_an_approved_request_moves_the_deadline_once() -> None:
    with pytest.raises(RuleViolation) as info:
        check_request_not_applied(step(extension_requests=[7]), 7)
    assert "#7 已经批准" in info.value.message
    check_request_not_applied(step(extension_requests=[7]), 8)
    check_request_not_applied(step(extension_requests=[7]), None)
    check_request_not_applied(None, 7)


@pytest.mark.parametrize(
    ("state", "lapsed"),
    [
        (None, True),  # the case waits on nothing (or has ended)
        (step(step="public_notice"), True),  # another step is awaited
        (step(started_on=date(2026, 9, 20)), True),  # the same step, begun again since
        (step(), False),
        (step(extensions=1, deadline_at=datetime(2026, 9, 30)), False),  # extended meanwhile
    ],
)
def test_a_request_lapses_when_its_step_moves_on(state: StepState | None, lapsed: bool) -> None:
    assert request_lapsed(state, "vote", STARTED) is lapsed
