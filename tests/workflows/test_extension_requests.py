"""Extension requests (延期申请) end to end on the time-skipping server, through the one service
every door calls (``gateway.extension_requests``) with the real worker and PostgreSQL: a clerk
asks, a section chief approves, the case's deadline moves and its reminders fire at the new
times, never at the old; a hopeless request writes nothing; a request whose step moved on
lapses; nobody grants their own request."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from gateway.errors import NotPermitted, Refused
from gateway.extension_requests import (
    Door,
    ExtensionRequestInput,
    approve_request,
    file_request,
)
from settings import PROJECT_DIR
from store.extension_requests import get_request, requests_of_case
from tests.workflows.conftest import CaseRunner
from tests.workflows.scenarios import CLERK, INVESTIGATION_NOTICE, regular_case
from tests.workflows.test_deadline_extension import CHIEF, awaiting
from workflows.rules.deadline_extension import RULE_EXTENSION_REQUEST
from workflows.types import (
    ExtendDeadlineInput,
    ExtensionDecision,
    InvestigationNoticeInput,
    WithdrawInput,
)

KEY = "investigation_notice"
POLICY_FILE = PROJECT_DIR / "policy" / "default.yaml"


def door(runner: CaseRunner) -> Door:
    return Door(runner.sessions, runner.env.client, POLICY_FILE)


def asking(days: int, step: str = KEY) -> ExtensionRequestInput:
    return ExtensionRequestInput(step=step, working_days=days, reason="等待上级答复")


def reminders(payload: dict[str, object]) -> list[datetime]:
    alarms = payload["alarms"]
    assert isinstance(alarms, list)
    return [datetime.fromisoformat(a["at"]) for a in alarms if a["kind"] == "reminder"]


async def test_an_approved_request_moves_the_deadline_and_its_reminders(
    runner: CaseRunner,
) -> None:
    case_id = "extreq-1"
    h = await runner.start(regular_case(case_id, opened_on=None))
    state = await awaiting(runner, h)
    assert state.step is not None and state.step.step == KEY
    today: date = state.opened_on
    first_deadline = state.step.deadline_at
    assert first_deadline is not None
    [policy_deadline] = [e for e in await runner.events(case_id) if e.kind == "deadline"]
    old_reminders = reminders(policy_deadline.payload)
    assert old_reminders, "the policy reminds before this step's deadline"

    # beyond the policy's 10 working days: refused up front, nothing written
    with pytest.raises(Refused) as too_long:
        await file_request(door(runner), CLERK, case_id, asking(11), today)
    assert "累计不超过 10 个工作日" in too_long.value.message
    async with runner.sessions() as s:
        assert await requests_of_case(s, case_id) == []

    row = await file_request(door(runner), CLERK, case_id, asking(5), today)
    assert (row.requested_by, row.deadline_before) == (CLERK.name, first_deadline)
    # a second one while it waits is refused
    with pytest.raises(Refused) as twice:
        await file_request(door(runner), CLERK, case_id, asking(1), today)
    assert f"#{row.id}" in twice.value.message
    # the clerk is no approver by the policy
    with pytest.raises(NotPermitted):
        await approve_request(door(runner), CLERK, row.id, today)

    approved = await approve_request(door(runner), CHIEF, row.id, today)
    assert approved.request.decision is ExtensionDecision.APPROVED
    assert approved.request.decided_by == CHIEF.name
    after = await runner.state(h)
    assert after.step is not None and after.step.extension_requests == [row.id]
    assert approved.request.deadline_after == after.step.deadline_at
    assert after.step.deadline_at is not None and after.step.deadline_at > first_deadline
    # approved once: a second approval reaches neither the case nor the record
    with pytest.raises(Refused) as again:
        await approve_request(door(runner), CHIEF, row.id, today)
    assert "已批准" in again.value.message
    assert (await runner.state(h)).step.extensions == 1  # type: ignore[union-attr]

    events = await runner.events(case_id)
    [entry] = [e for e in events if e.kind == "input" and "期限延长" in e.summary]
    assert f"{CLERK.name} 申请，{CHIEF.name} 批准：期限延长 5 个工作日" in entry.summary
    assert entry.actor_name == CHIEF.name
    assert (entry.payload["request_id"], entry.payload["requested_by"]) == (row.id, CLERK.name)
    extended = [e for e in events if e.kind == "deadline"][-1]
    new_reminders = reminders(extended.payload)
    assert new_reminders and min(new_reminders) > max(old_reminders)

    await runner.env.sleep(timedelta(days=40))
    fired = [e for e in await runner.events(case_id) if e.kind == "reminder"]
    # each reminder went out at a moment of the new schedule, none at the old
    assert len(fired) == len(new_reminders)
    for event, at in zip(fired, new_reminders, strict=True):
        assert at <= event.occurred_at < at + timedelta(minutes=5)
    assert all(
        abs(e.occurred_at - old) > timedelta(hours=1) for e in fired for old in old_reminders
    )
    state = await runner.update(h, "withdraw", WithdrawInput(actor=CLERK, reason="岗位调整"))


async def test_a_request_whose_step_moved_on_lapses(runner: CaseRunner) -> None:
    case_id = "extreq-2"
    h = await runner.start(regular_case(case_id))
    state = await awaiting(runner, h)
    today = state.opened_on + timedelta(days=40)
    row = await file_request(door(runner), CLERK, case_id, asking(3), today)
    notice = InvestigationNoticeInput(actor=CLERK, published_on=INVESTIGATION_NOTICE)
    await runner.update(h, "record_investigation_notice", notice)
    with pytest.raises(Refused) as lapsed:
        await approve_request(door(runner), CHIEF, row.id, today)
    assert "申请已作废" in lapsed.value.message
    async with runner.sessions() as s:
        found = await get_request(s, row.id)
    assert found is not None and found.decision is ExtensionDecision.LAPSED
    assert found.decided_by == CHIEF.name
    assert not [e for e in await runner.events(case_id) if "期限延长" in e.summary]


async def test_the_case_refuses_an_approval_by_its_requester(runner: CaseRunner) -> None:
    h = await runner.start(regular_case("extreq-3", opened_on=None))
    today = (await awaiting(runner, h)).opened_on
    own = ExtendDeadlineInput(
        actor=CHIEF,
        step=KEY,
        working_days=1,
        reason="等待上级答复",
        decided_on=today,
        request_id=99,
        requested_by=CHIEF.name,
    )
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await runner.update(h, "extend_deadline", own)
    cause = info.value.cause
    assert isinstance(cause, ApplicationError) and cause.details[0] == RULE_EXTENSION_REQUEST
    assert (await runner.state(h)).step.extensions == 0  # type: ignore[union-attr]
