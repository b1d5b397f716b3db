"""Extending the awaited step's deadline (延期), end to end on the time-skipping server: the
reminders and the ladder move with the new deadline, the history keeps both deadlines, and
the policy's approvers, counts and totals are enforced."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from tests.workflows.conftest import SETTLE_SECONDS, CaseRunner
from tests.workflows.scenarios import CLERK, HEAD, regular_case
from workflows import search_attributes as sa
from workflows.rules.deadline_extension import RULE_EXTENSION
from workflows.steps import NOT_PERMITTED
from workflows.types import (
    Actor,
    CaseStage,
    CaseState,
    CaseStatus,
    ExtendDeadlineInput,
    Role,
    WithdrawInput,
)

CHIEF = Actor(name="科长 钱", role=Role.SECTION_CHIEF)


def extension(
    by: Actor, days: int, on: date, step: str = "investigation_notice"
) -> ExtendDeadlineInput:
    return ExtendDeadlineInput(
        actor=by, step=step, working_days=days, reason="等待上级答复", decided_on=on
    )


async def awaiting(runner: CaseRunner, h) -> CaseState:
    """The case once its first step's deadline is set (the case sets itself up first)."""
    for _ in range(SETTLE_SECONDS * 20):
        state = await runner.state(h)
        if state.step is not None and state.step.deadline_at is not None:
            return state
        await asyncio.sleep(0.05)
    raise AssertionError("the case set no deadline")


async def refusal(runner: CaseRunner, h, data: ExtendDeadlineInput) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await runner.update(h, "extend_deadline", data)
    cause = info.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def test_an_extension_moves_the_deadline_its_reminders_and_its_ladder(
    runner: CaseRunner,
) -> None:
    h = await runner.start(regular_case("ext-1", opened_on=None))
    state = await awaiting(runner, h)
    assert state.stage is CaseStage.INVESTIGATION_NOTICE and state.step is not None
    first = state.step.deadline_at
    today = state.opened_on
    state = await runner.update(h, "extend_deadline", extension(CHIEF, 5, today))
    assert state.step is not None
    assert (state.step.extensions, state.step.extended_working_days) == (1, 5)
    assert state.step.deadline_at is not None and first is not None
    assert state.step.deadline_at - first >= timedelta(days=7)  # 5 working days later
    row = await runner.row("ext-1")
    assert row is not None and row.next_deadline == state.step.deadline_at
    desc = await h.describe()
    assert desc.typed_search_attributes.get(sa.NEXT_DEADLINE) == state.step.deadline_at

    await runner.env.sleep(timedelta(days=40))
    events = await runner.events("ext-1")
    deadlines = [e for e in events if e.kind == "deadline"]
    assert len(deadlines) == 2  # the policy's, then the extended one
    before, after = deadlines[0].payload["deadline_on"], deadlines[1].payload["deadline_on"]
    assert deadlines[1].payload["extended_from"] == before
    [entry] = [e for e in events if e.kind == "input" and "期限延长" in e.summary]
    assert entry.actor_name == CHIEF.name and entry.actor_role is Role.SECTION_CHIEF
    assert f"由 {before} 日终延至 {after} 日终；理由：等待上级答复" in entry.summary
    # every alarm is about the new deadline: none fired for the old one
    alarms = [e for e in events if e.kind in ("reminder", "overdue", "escalation")]
    assert [e.kind for e in alarms] == [
        "reminder",
        "reminder",
        "overdue",
        "escalation",
        "escalation",
    ]
    assert all(after in e.summary and before not in e.summary for e in alarms)
    assert all(e.seq > deadlines[1].seq for e in alarms)
    # the case ends (the saved history of an extended step is this run)
    state = await runner.update(h, "withdraw", WithdrawInput(actor=CLERK, reason="岗位调整"))
    assert state.status is CaseStatus.WITHDRAWN


async def test_an_extension_after_the_deadline_clears_the_overdue_mark(
    runner: CaseRunner,
) -> None:
    h = await runner.start(regular_case("ext-2", opened_on=None))
    await runner.env.sleep(timedelta(days=10))  # past the 5 working days
    state = await runner.state(h)
    assert state.step is not None and state.step.overdue
    today = state.opened_on + timedelta(days=10)
    state = await runner.update(h, "extend_deadline", extension(HEAD, 10, today))
    assert state.step is not None and not state.step.overdue
    row = await runner.row("ext-2")
    assert row is not None and not row.overdue
    desc = await h.describe()
    assert desc.typed_search_attributes.get(sa.CASE_OVERDUE) is False
    sent = len(await runner.inbox("ext-2"))
    await runner.env.sleep(timedelta(hours=1))
    assert len(await runner.inbox("ext-2")) == sent  # past alarms are not sent again


async def test_the_policy_limits_who_how_often_and_how_much(runner: CaseRunner) -> None:
    h = await runner.start(regular_case("ext-3", opened_on=None))
    today = (await awaiting(runner, h)).opened_on
    # a clerk is not among the roles the step table allows
    clerk = await refusal(runner, h, extension(CLERK, 1, today))
    assert clerk.type == NOT_PERMITTED
    # more working days in all than the policy's 10
    too_long = await refusal(runner, h, extension(CHIEF, 11, today))
    assert too_long.details[0] == RULE_EXTENSION
    assert "累计不超过 10 个工作日" in too_long.message
    # a stale form (the step it was written for is no longer awaited)
    stale = await refusal(runner, h, extension(CHIEF, 1, today, step="vote"))
    assert stale.details[0] == RULE_EXTENSION
    # an approval dated in the future
    future = await refusal(runner, h, extension(CHIEF, 1, today + timedelta(days=1)))
    assert "尚未发生" in future.message or "晚于" in future.message or "今天" in future.message
    await runner.update(h, "extend_deadline", extension(CHIEF, 3, today))
    await runner.update(h, "extend_deadline", extension(HEAD, 3, today))
    third = await refusal(runner, h, extension(HEAD, 1, today))
    assert "最多延期 2 次" in third.message
    state = await runner.state(h)
    assert state.step is not None and state.step.extensions == 2
    events = await runner.events("ext-3")
    assert len([e for e in events if e.kind == "deadline"]) == 3  # refusals wrote nothing
