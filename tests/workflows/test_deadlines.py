"""Deadlines, reminders, the escalation ladder and the working-day calendar, end to end."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import chinese_calendar.constants as cc
import pytest
import yaml
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from activities.calendar import load_calendar
from activities.policy import read_policy
from settings import load_settings
from tests.workflows.conftest import TEST_SUPPLEMENT, CaseRunner, case_runner, write_policy
from tests.workflows.scenarios import (
    CLERK,
    agree,
    appointment,
    inspect,
    notice,
    regular_case,
    vote,
)
from workflows import search_attributes as sa
from workflows.rules.working_days import SHANGHAI
from workflows.types import (
    Actor,
    CaseStage,
    CaseStatus,
    InvestigationNoticeInput,
    RetryInput,
    Role,
)


async def test_each_rung_of_the_escalation_ladder_fires(runner: CaseRunner) -> None:
    # opened today: the step's deadline runs from the opening (a past one is overdue at once)
    h = await runner.start(regular_case("ladder", opened_on=None))
    state = await runner.state(h)
    assert state.stage is CaseStage.INVESTIGATION_NOTICE
    await runner.env.sleep(timedelta(days=40))
    state = await runner.state(h)
    assert state.step is not None and state.step.overdue
    inbox = await runner.inbox("ladder")
    assert [m.recipient_role for m in inbox] == [
        "clerk",
        "clerk",
        "section_chief",
        "department_head",
    ]
    assert "提醒" in inbox[0].subject and "督办（第1级）" in inbox[2].subject
    kinds = [e.kind for e in await runner.events("ladder")]
    tail = [k for k in kinds if k in ("reminder", "overdue", "escalation")]
    alarms = [
        (e.kind, e.summary)
        for e in await runner.events("ladder")
        if e.kind in ("reminder", "overdue", "escalation")
    ]
    # the deadline as the policy and the worker's calendar give it from the day the case opened
    # (today in China, which is tomorrow in UTC from 16:00 on)
    timing = read_policy(load_settings({}).policy_file).policy.step("investigation_notice")
    due = load_calendar(TEST_SUPPLEMENT).add_working_days(
        state.opened_on, timing.deadline_working_days
    )
    assert alarms == [
        ("reminder", f"提醒干部科工作人员：发布考察预告将于 {due} 到期"),
        ("reminder", f"提醒干部科工作人员：发布考察预告将于 {due} 到期"),
        ("overdue", f"发布考察预告：已于 {due} 逾期"),
        ("escalation", f"第1级督办，报科长：发布考察预告应于 {due} 完成，至今未完成"),
        ("escalation", f"第2级督办，报部领导：发布考察预告应于 {due} 完成，至今未完成"),
    ]
    assert [m.body for m in inbox] == [s for k, s in alarms if k != "overdue"]
    assert tail == ["reminder", "reminder", "overdue", "escalation", "escalation"]
    desc = await h.describe()
    assert desc.typed_search_attributes.get(sa.CASE_OVERDUE) is True
    assert desc.typed_search_attributes.get(sa.CASE_STAGE) == "investigation_notice"
    row = await runner.row("ladder")
    assert row is not None and row.overdue and row.next_deadline is not None
    # doing the step late still works, and its ladder stops (the next step's deadline runs
    # from this notice's date, 40 days ago)
    published = InvestigationNoticeInput(actor=CLERK, published_on=state.opened_on)
    state = await runner.update(h, "record_investigation_notice", published)
    assert state.stage is CaseStage.INSPECTION
    assert not state.step or state.step.step != "investigation_notice"


async def test_a_case_brought_in_late_records_its_marks_with_the_deadline_once(
    runner: CaseRunner,
) -> None:
    """Opened on a day long past, the first step is overdue and past its ladder's top when the
    case begins to wait: the deadline, the overdue mark and only the highest rung go on record
    together, with the opening (patch "late-marks-with-the-deadline"), the rung's mail goes out
    once, and the wait sends nothing again."""
    h = await runner.start(regular_case("late-marks", opened_on=date(2026, 8, 3)))
    await runner.env.sleep(timedelta(days=3))
    state = await runner.state(h)
    assert state.step is not None and state.step.overdue
    events = await runner.events("late-marks")
    assert [e.kind for e in events] == [
        "opened",
        "eligibility",
        "transition",
        "deadline",
        "overdue",
        "escalation",
    ]
    assert len({e.occurred_at for e in events[3:]}) == 1  # marked at the same moment
    assert events[5].payload["rung"] == 2
    inbox = await runner.inbox("late-marks")
    assert [m.recipient_role for m in inbox] == ["department_head"]
    assert "督办（第2级）" in inbox[0].subject
    history = (await h.fetch_history()).events
    recordings = [e for e in history if e.HasField("activity_task_scheduled_event_attributes")]
    assert len(recordings) == 1  # the opening and its late marks, in one activity
    desc = await h.describe()
    assert desc.typed_search_attributes.get(sa.CASE_OVERDUE) is True
    row = await runner.row("late-marks")
    assert row is not None and row.overdue
    await h.terminate("test finished")


async def test_a_policy_with_another_reminder_hour_moves_the_cases_alarms(
    time_env, session_factory, tmp_path: Path
) -> None:
    hour = 15
    policy = write_policy(tmp_path, reminder_hour=hour)
    async with case_runner(time_env, session_factory, policy=policy) as r:
        # opened today, so that every alarm of the first step lies ahead
        h = await r.start(regular_case("alarm-hour", opened_on=None))
        await r.env.sleep(timedelta(days=40))
        alarms = [e for e in await r.events("alarm-hour") if e.kind in ("reminder", "escalation")]
        assert [e.kind for e in alarms] == ["reminder", "reminder", "escalation", "escalation"]
        # each at the policy's hour (Asia/Shanghai), give or take the worker's lag
        for e in alarms:
            local = e.occurred_at.astimezone(SHANGHAI)
            assert (local.hour, local.minute) == (hour, 0), (e.kind, local)
        state = await r.state(h)
        assert state.step is not None and state.step.overdue


async def test_public_notice_across_national_day_with_make_up_saturday(
    runner: CaseRunner,
) -> None:
    h = await runner.start(regular_case("national-day"))
    await inspect(runner, h, ["p1", "p2"], ["p1"])
    await runner.update(h, "record_vote", vote([agree("p1")]))
    # 10-08 Thu, 10-09 Fri, 10-10 Sat (make-up working day), 10-12 Mon, 10-13 Tue
    state = await runner.update(h, "record_public_notice", notice(date(2026, 10, 8)))
    assert state.dates["notice_ends"] == date(2026, 10, 13)
    events = await runner.events("national-day")
    published = [e for e in events if e.summary.startswith("2026-10-08 发布任前公示 ")]
    assert published
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await runner.update(h, "record_appointment", appointment("p1", date(2026, 10, 13)))
    cause = info.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.details[0] == "appointment.after_notice"
    assert cause.message == ("任职通知（2026-10-13）须在任前公示期满之后；任前公示至 2026-10-13 止")
    state = await runner.update(h, "record_appointment", appointment("p1", date(2026, 10, 14)))
    assert state.status is CaseStatus.APPOINTED


async def test_deadline_in_a_year_without_calendar_data_blocks_until_supplied(
    time_env, session_factory, tmp_path: Path
) -> None:
    last_year = max(d.year for d in cc.holidays)
    today = date.today()
    beyond = (date(last_year + 1, 1, 15) - today).days
    policy = write_policy(tmp_path, steps__investigation_notice__deadline_working_days=beyond)
    supplement = tmp_path / "supplement.yaml"
    supplement.write_text("years: {}\n", "utf-8")
    async with case_runner(time_env, session_factory, policy=policy, supplement=supplement) as r:
        h = await r.start(regular_case("no-calendar", opened_on=None))
        await r.env.sleep(timedelta(minutes=1))
        state = await r.state(h)
        assert state.step is not None
        assert f"缺少 {last_year + 1} 年的工作日历：" in state.step.blocked_reason
        inbox = await r.inbox("no-calendar")
        assert [m.recipient_role for m in inbox] == ["administrator"]
        assert "工作日历缺失" in inbox[0].subject
        # a clerk cannot retry; an administrator adds the year and retries
        with pytest.raises(WorkflowUpdateFailedError):
            await r.update(h, "retry_blocked", RetryInput(actor=CLERK))
        years = {
            y: {"source": "test data: weekdays only", "holidays": [], "workdays": []}
            for y in (last_year + 1, last_year + 2)
        }
        supplement.write_text(yaml.safe_dump({"years": years}), "utf-8")
        admin = Actor(name="管理员", role=Role.ADMINISTRATOR)
        await r.update(h, "retry_blocked", RetryInput(actor=admin))
        await r.env.sleep(timedelta(minutes=1))
        state = await r.state(h)
        assert state.step is not None and state.step.blocked_reason == ""
        assert state.step.deadline_at is not None
        assert state.step.deadline_at.year == last_year + 1
        recorded = await r.events("no-calendar")
        # the opening went on record without the deadline it could not compute
        assert [e.kind for e in recorded[:4]] == ["opened", "eligibility", "transition", "blocked"]
        deadline_events = [e for e in recorded if e.kind == "deadline"]
        assert deadline_events and "supplement" in deadline_events[-1].summary


async def test_changing_the_policy_file_does_not_change_a_running_case(
    time_env, session_factory, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path, public_notice__working_days=7, version="test-7")
    async with case_runner(time_env, session_factory, policy=policy) as r:
        h = await r.start(regular_case("policy-pinned"))
        await inspect(r, h, ["p1", "p2"], ["p1"])
        # the file changes under the running case
        policy.write_text(policy.read_text("utf-8").replace("working_days: 7", "working_days: 9"))
        await r.update(h, "record_vote", vote([agree("p1")]))
        state = await r.update(h, "record_public_notice", notice(date(2026, 10, 8)))
        assert state.policy_version == "test-7"
        # 7 working days from 10-08 (with the make-up Saturday 10-10): 10-15
        assert state.dates["notice_ends"] == date(2026, 10, 15)
        row = await r.row("policy-pinned")
        assert row is not None and row.policy_version == "test-7"
