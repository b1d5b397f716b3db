"""认领 / 放弃 / 指派 of the awaited step on a real case (time-skipping server, PostgreSQL):
each recorded in the history in Chinese, the listing row following with the same event, the
assignee cleared when the step changes, and a step taken on someone's behalf recorded so."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner
from sqlalchemy import update
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from starter.cli import cli
from store.models import Case
from tests.histories.replayer import service_replayer
from tests.workflows.conftest import CaseRunner
from tests.workflows.scenarios import CLERK, INVESTIGATION_NOTICE, regular_case
from workflows.appointment_case import AppointmentCaseWorkflow
from workflows.rules.assignment import RULE_ASSIGNMENT
from workflows.steps import NOT_PERMITTED
from workflows.types import (
    Actor,
    AssignStepInput,
    CaseState,
    InvestigationNoticeInput,
    Role,
)

CHIEF = Actor(name="钱", role=Role.SECTION_CHIEF)
LI = Actor(name="李四", role=Role.CLERK)
KEY = "investigation_notice"


async def awaiting(runner: CaseRunner, h) -> CaseState:
    for _ in range(100):
        state = await runner.state(h)
        if state.step is not None and state.step.deadline_at is not None:
            return state
        await asyncio.sleep(0.05)
    raise AssertionError("the case set no deadline")


async def listing(runner: CaseRunner, case_id: str) -> tuple[str | None, str | None, str | None]:
    async with runner.sessions() as s:
        row = await s.get(Case, case_id, populate_existing=True)
        assert row is not None
        return row.awaited_step, row.awaited_role, row.assignee


def give(actor: Actor, assignee: str | None, reason: str = "", step: str = KEY) -> AssignStepInput:
    return AssignStepInput(actor=actor, step=step, assignee=assignee, reason=reason)


async def refused(runner: CaseRunner, h, data: AssignStepInput) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await runner.update(h, "assign_step", data)
    cause = info.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def test_claim_assign_release_and_the_listing_follows(runner: CaseRunner) -> None:
    h = await runner.start(regular_case("asg-1"))
    await awaiting(runner, h)
    assert await listing(runner, "asg-1") == (KEY, "clerk", None)

    state = await runner.update(h, "assign_step", give(CLERK, CLERK.name))
    assert state.step is not None and state.step.assignee == "王科员"
    assert await listing(runner, "asg-1") == (KEY, "clerk", "王科员")

    state = await runner.update(h, "assign_step", give(CHIEF, "李四", "王科员出差"))
    assert state.step is not None and state.step.assignee == "李四"
    assert await listing(runner, "asg-1") == (KEY, "clerk", "李四")

    # 王科员 may no longer give it back, nor a clerk take it over, nor a stale key pass
    cause = await refused(runner, h, give(CLERK, None))
    assert cause.type == "RuleViolation" and "只有本人可以放弃" in str(cause.message)
    assert (cause.details or [None])[0] == RULE_ASSIGNMENT
    cause = await refused(runner, h, give(CLERK, CLERK.name))
    assert "已由 李四 认领" in str(cause.message)
    cause = await refused(runner, h, give(LI, None, step="inspection_team"))
    assert "请刷新" in str(cause.message)
    cause = await refused(runner, h, give(Actor(name="审计", role=Role.AUDITOR), "审计"))
    assert cause.type == NOT_PERMITTED

    state = await runner.update(h, "assign_step", give(LI, None))
    assert state.step is not None and state.step.assignee is None
    assert await listing(runner, "asg-1") == (KEY, "clerk", None)

    summaries = [e.summary for e in await runner.events("asg-1") if e.kind == "input"]
    assert summaries == [
        "王科员 认领「发布考察预告」",
        "科长 钱 将「发布考察预告」指派给 李四（原由 王科员 办理）：王科员出差",
        "李四 放弃「发布考察预告」，退回干部科工作人员待办",
    ]


async def test_the_assignee_is_cleared_when_the_step_changes_and_on_behalf_is_kept(
    runner: CaseRunner,
) -> None:
    h = await runner.start(regular_case("asg-2"))
    await awaiting(runner, h)
    await runner.update(h, "assign_step", give(CHIEF, "张三"))
    acting = Actor(name="李四", role=Role.CLERK, on_behalf_of="张三")
    notice = InvestigationNoticeInput(actor=acting, published_on=INVESTIGATION_NOTICE)
    await runner.update(h, "record_investigation_notice", notice)
    state = await awaiting(runner, h)
    assert state.step is not None and state.step.step == "inspection_team"
    assert state.step.assignee is None
    role = state.step.responsible_role.value
    assert await listing(runner, "asg-2") == ("inspection_team", role, None)
    entry = next(e for e in await runner.events("asg-2") if e.payload.get("on_behalf_of"))
    assert (entry.actor_name, entry.payload["on_behalf_of"]) == ("李四", "张三")
    assert entry.kind == "input" and entry.payload["published_on"] == "2026-09-07"
    # the history with the new update replays
    replayer = service_replayer(AppointmentCaseWorkflow)
    result = await replayer.replay_workflow(await h.fetch_history(), raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


async def test_resync_fills_the_awaited_step_of_rows_from_before_the_listing_had_it(
    runner: CaseRunner, database_url: str
) -> None:
    """A case that ran before migration 0014 has no awaited step in its row until its next
    event; `appointments case resync` asks it once and writes it, leaving other rows alone."""
    h = await runner.start(regular_case("asg-old", opened_on=None))  # nothing overdue
    await awaiting(runner, h)
    async with runner.sessions() as s, s.begin():
        await s.execute(
            update(Case)
            .where(Case.case_id == "asg-old")
            .values(awaited_step=None, awaited_role=None, assignee=None)
        )
    assert await listing(runner, "asg-old") == (None, None, None)
    env = {
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": runner.env.client.service_client.config.target_host,
        "TASK_QUEUE": runner.task_queue,
        "DATA_DIR": "/nonexistent-data-dir",
    }
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["case", "resync"], env=env, prog_name="appointments"
    )
    assert result.exit_code == 0, result.output
    assert "已补齐 1 个案件的待办事项" in result.output, (result.output, result.stderr)
    assert await listing(runner, "asg-old") == (KEY, "clerk", None)
    again = await asyncio.to_thread(CliRunner().invoke, cli, ["case", "resync"], env=env)
    assert "已补齐 0 个案件的待办事项" in again.output
