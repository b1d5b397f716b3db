"""A probation's year end to end: reminders on their dates, reviews, early end, the ladder."""

from __future__ import annotations

from datetime import timedelta

import chinese_calendar.constants
import pytest
import yaml
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError

from tests.probation.conftest import (
    CLERK,
    HEAD,
    HEAD_MAIL,
    SECRETARY_MAIL,
    SECTION_CHIEF_MAIL,
    ProbationRunner,
    SmtpServer,
    probation_input,
    probation_runner,
)
from workflows.probation import ProbationWorkflow
from workflows.probation_types import (
    EndEarlyInput,
    ProbationStatus,
    ReminderOutcome,
    ReviewInput,
    ReviewOutcome,
    ReviewStatus,
    probation_end,
    probation_workflow_id,
)
from workflows.rules.working_days import SHANGHAI, at_hour, end_of_day

REMINDER_DAYS = (60, 30, 7, 0)  # policy/default.yaml


def at(moment, expected) -> bool:
    """Timers fire at their moment, give or take the milliseconds a workflow task takes."""
    return abs(moment - expected) < timedelta(seconds=1)


def refusal(error: BaseException | None) -> str:
    """The sentence of a workflow's refusal (the cause of a failed update)."""
    assert isinstance(error, ApplicationError)
    return error.message


def review(outcome: ReviewOutcome, on, **extra) -> ReviewInput:
    return ReviewInput(
        actor=extra.pop("actor", HEAD),
        outcome=outcome,
        reviewed_on=on,
        summary=extra.pop("summary", "德、能、勤、绩、廉各方面表现良好"),
        **extra,
    )


async def test_a_full_year_sends_every_reminder_on_its_date(
    runner: ProbationRunner, smtp: SmtpServer, new_id: str
) -> None:
    today = await runner.today()
    h = await runner.start(probation_input(new_id, today))
    pid = probation_workflow_id(new_id, "P001")
    ends = probation_end(today)
    # the last reminder is at 09:00 on the last day
    await runner.sleep_until(at_hour(ends, 12))

    reminders = [e for e in await runner.events(pid) if e.kind == "reminder"]
    moments = [e.occurred_at.astimezone(SHANGHAI) for e in reminders]
    assert [(m.date(), m.hour) for m in moments] == [
        (ends - timedelta(days=d), 9) for d in REMINDER_DAYS
    ]
    mails = smtp.about(pid)
    assert len(mails) == 2 * len(REMINDER_DAYS)
    for days, pair in zip(REMINDER_DAYS, [mails[i : i + 2] for i in range(0, 8, 2)], strict=True):
        assert sorted(r for m in pair for r in m.rcpt_tos) == sorted(
            [SECTION_CHIEF_MAIL, HEAD_MAIL]
        )
        for m in pair:
            assert m.subject.startswith("试用期提醒：张三（县发展和改革局副局长）")
            assert f"试用期将于 {ends} 届满" in m.subject
            assert ("今日届满" if days == 0 else f"还有{days}天") in m.subject
            assert f"案件编号：{new_id}" in m.body
            assert "人员：张三（P001）" in m.body and "试任职务：副局长" in m.body
            assert f"到期日：{ends}" in m.body
            assert m.mail_from == "zzb-system@zzb.example"

    state = await runner.update(h, "record_review", review(ReviewOutcome.COMPETENT, ends))
    assert state.status is ProbationStatus.ON_PROBATION  # formal once the year is over
    assert state.review_status is ReviewStatus.COMPETENT
    result = await h.result()
    assert result.status is ProbationStatus.FORMALLY_APPOINTED
    assert result.time_in_post_from == today
    assert result.closed_on == ends + timedelta(days=1)
    assert [m.outcome for m in result.reminders] == [ReminderOutcome.SENT] * 4

    events = await runner.events(pid)
    assert [e.kind for e in events] == ["opened", *["reminder"] * 4, "review", "formal"]
    assert [e.seq for e in events] == list(range(1, 8))
    assert at(events[-1].occurred_at, end_of_day(ends))
    row = await runner.row(pid)
    assert row is not None
    assert (row.status, row.review_status, row.ends_on) == (
        "formally_appointed",
        "competent",
        ends,
    )
    # every message once: 4 reminders, the review and the formal appointment, to 2 people
    mails = smtp.about(pid)
    assert len(mails) == 12
    assert len({(m.key, tuple(m.rcpt_tos)) for m in mails}) == 12
    assert "试用期考核结果：张三（县发展和改革局副局长）胜任" in mails[8].subject
    assert mails[10].subject.startswith("正式任职：")
    assert all(o.status == "sent" for o in await runner.outbox(pid))

    history = await h.fetch_history()
    assert len(history.events) < 150, len(history.events)


async def test_competent_and_not_competent_reviews(runner: ProbationRunner, new_id: str) -> None:
    today = await runner.today()
    a = await runner.start(probation_input(new_id, today, person_id="A1", name="李四"))
    b = await runner.start(probation_input(new_id, today, person_id="B2", name="王五"))
    ends = probation_end(today)
    opens = ends - timedelta(days=30)
    await runner.sleep_until(at_hour(opens, 10))

    state = await runner.update(a, "record_review", review(ReviewOutcome.COMPETENT, opens))
    assert state.review_status is ReviewStatus.COMPETENT
    assert state.time_in_post_from == today
    state = await runner.update(
        b,
        "record_review",
        review(
            ReviewOutcome.NOT_COMPETENT, opens, summary="工作不胜任", reference="组干〔2027〕8号"
        ),
    )
    assert state.status is ProbationStatus.REMOVED
    assert state.review_status is ReviewStatus.NOT_COMPETENT
    assert state.rank_restored == "正科级"

    # a second review is refused: by the rule while the probation runs, by Temporal after
    # (waiting for a result lets the test server skip time, so this comes first)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await runner.update(a, "record_review", review(ReviewOutcome.NOT_COMPETENT, opens))
    assert refusal(refused.value.cause) == (
        f"李四的试用期满考核已经登记（胜任，{opens}，考核人 {HEAD.name}）；不能再次考核"
    )
    removed = await b.result()
    assert removed.closed_on == opens
    with pytest.raises(RPCError):
        await runner.update(b, "record_review", review(ReviewOutcome.COMPETENT, opens))

    formal = await a.result()
    assert formal.status is ProbationStatus.FORMALLY_APPOINTED
    # after a review no reminder is sent any more: 60 days before, but not 7 or 0
    assert [m.days_before_end for m in formal.reminders] == [60, 30]
    b_id = probation_workflow_id(new_id, "B2")
    kinds = [e.kind for e in await runner.events(b_id)]
    assert kinds == ["opened", "reminder", "reminder", "review"]
    row = await runner.row(b_id)
    assert row is not None and row.status == "removed" and row.rank_restored == "正科级"


async def test_a_review_is_refused_before_its_window_or_from_the_wrong_role(
    runner: ProbationRunner, smtp: SmtpServer, new_id: str
) -> None:
    today = await runner.today()
    h = await runner.start(probation_input(new_id, today))
    pid = probation_workflow_id(new_id, "P001")
    ends = probation_end(today)
    opens = ends - timedelta(days=30)
    await runner.sleep_until(at_hour(opens - timedelta(days=1), 10))
    history_before = len((await h.fetch_history()).events)

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await runner.update(
            h, "record_review", review(ReviewOutcome.COMPETENT, opens - timedelta(days=1))
        )
    assert refusal(refused.value.cause) == (
        f"张三的试用期满考核自 {opens} 起进行（试用期于 {ends} 届满，提前 30 天）；"
        f"今天是 {opens - timedelta(days=1)}"
    )

    await runner.sleep_until(at_hour(opens, 10))
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await runner.update(h, "record_review", review(ReviewOutcome.COMPETENT, opens, actor=CLERK))
    assert refusal(refused.value.cause) == (
        f"试用期满考核只能由部领导登记（本地政策）；{CLERK.name}是干部科工作人员"
    )
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await runner.update(
            h, "record_review", review(ReviewOutcome.COMPETENT, opens - timedelta(days=2))
        )
    assert refusal(refused.value.cause) == (
        f"考核日期 {opens - timedelta(days=2)} 早于可考核日期 {opens}"
        f"（试用期于 {ends} 届满，提前 30 天）"
    )
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await runner.update(
            h, "record_review", review(ReviewOutcome.COMPETENT, opens + timedelta(days=1))
        )
    assert refusal(refused.value.cause) == (
        f"试用期满考核的日期（{opens + timedelta(days=1)}）晚于今天（{opens}），"
        "尚未发生的事项不能登记"
    )
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.details[0] == "dates.not_future"

    # refusals leave no trace: no update in the history, nothing recorded, nothing mailed
    history = await h.fetch_history()
    accepted = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    assert not any(e.event_type == accepted for e in history.events)
    assert len(history.events) >= history_before
    assert "review" not in [e.kind for e in await runner.events(pid)]
    assert not any("考核结果" in m.subject for m in smtp.about(pid))
    state = await runner.state(h)
    assert state.review is None and state.review_status is ReviewStatus.PENDING


async def test_serious_errors_end_the_probation_early(
    runner: ProbationRunner, smtp: SmtpServer, new_id: str
) -> None:
    today = await runner.today()
    h = await runner.start(probation_input(new_id, today))
    pid = probation_workflow_id(new_id, "P001")
    await runner.sleep_until(at_hour(today + timedelta(days=100), 10))
    decided = today + timedelta(days=99)
    end = EndEarlyInput(
        actor=HEAD,
        decided_by="县委常委会",
        decided_on=decided,
        reason="试用期内违反中央八项规定精神，造成严重不良影响",
        reference="县委〔2027〕3号",
    )
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await runner.update(h, "end_early", end.model_copy(update={"actor": CLERK}))
    assert refusal(refused.value.cause) == (
        f"提前结束试用期只能由部领导登记（本地政策）；{CLERK.name}是干部科工作人员"
    )

    state = await runner.update(h, "end_early", end)
    assert state.status is ProbationStatus.ENDED_EARLY
    assert state.review_status is ReviewStatus.NOT_HELD
    assert state.early_end is not None and state.early_end.decided_by == "县委常委会"
    result = await h.result()
    assert result.closed_on == decided and result.rank_restored == "正科级"
    events = await runner.events(pid)
    assert [e.kind for e in events] == ["opened", "ended_early"]
    assert events[-1].summary == (
        f"试用期于 {decided} 提前结束（决定机关：县委常委会）："
        "试用期内违反中央八项规定精神，造成严重不良影响；免去试任职务，恢复原职级：正科级"
    )
    assert events[-1].actor_name == HEAD.name
    mails = smtp.about(pid)
    assert sorted(r for m in mails for r in m.rcpt_tos) == sorted([SECTION_CHIEF_MAIL, HEAD_MAIL])
    assert all(m.subject == "试用期提前结束：张三（县发展和改革局副局长）" for m in mails)
    assert all("原因：试用期内违反中央八项规定精神" in m.body for m in mails)
    row = await runner.row(pid)
    assert row is not None and (row.status, row.review_status) == ("ended_early", "not_held")


async def test_an_overdue_review_climbs_each_rung(
    runner: ProbationRunner, smtp: SmtpServer, new_id: str
) -> None:
    today = await runner.today()
    h = await runner.start(probation_input(new_id, today))
    pid = probation_workflow_id(new_id, "P001")
    ends = probation_end(today)
    await runner.sleep_until(end_of_day(ends) + timedelta(hours=1))
    state = await runner.state(h)
    schedule = state.review_schedule
    assert schedule is not None and schedule.deadline_on > ends
    assert [(a.kind, a.role.value, a.rung) for a in schedule.alarms] == [
        ("reminder", "section_chief", 0),
        ("escalation", "department_head", 1),
        ("escalation", "committee_secretary", 2),
    ]
    await runner.sleep_until(schedule.alarms[-1].at + timedelta(hours=1))

    state = await runner.state(h)
    assert state.review_overdue
    events = await runner.events(pid)
    tail = [e for e in events if e.kind in ("deadline", "reminder", "overdue", "escalation")][4:]
    assert [e.kind for e in tail] == ["deadline", "reminder", "overdue", "escalation", "escalation"]
    for event, alarm in zip([tail[1], tail[3], tail[4]], schedule.alarms, strict=True):
        assert at(event.occurred_at, alarm.at)
    assert at(tail[2].occurred_at, schedule.deadline_at)
    row = await runner.row(pid)
    assert row is not None and row.review_overdue and row.review_due_on == schedule.deadline_on

    rungs = [m for m in smtp.about(pid) if m.subject.startswith("督办")]
    assert [(m.rcpt_tos, m.subject[:7]) for m in rungs] == [
        ([HEAD_MAIL], "督办（第1级）"),
        ([SECRETARY_MAIL], "督办（第2级）"),
    ]
    assert f"试用期考核已于 {schedule.deadline_on} 逾期" in rungs[0].subject
    assert f"到期日：{schedule.deadline_on}" in rungs[1].body

    # late, but still recorded: competent now means formal appointment now
    late = await runner.today()
    await runner.update(h, "record_review", review(ReviewOutcome.COMPETENT, late))
    result = await h.result()
    assert result.status is ProbationStatus.FORMALLY_APPOINTED and not result.review_overdue
    row = await runner.row(pid)
    assert row is not None and row.status == "formally_appointed" and not row.review_overdue


async def test_the_same_probation_cannot_start_twice(runner: ProbationRunner, new_id: str) -> None:
    today = await runner.today()
    first = probation_input(new_id, today)
    h = await runner.start(first)
    assert h.id == f"probation:{new_id}:P001"
    with pytest.raises(WorkflowAlreadyStartedError):
        await runner.start(first)
    with pytest.raises(WorkflowAlreadyStartedError):  # even with other details
        await runner.start(first.model_copy(update={"name": "张三丰"}))
    await runner.update(
        h,
        "end_early",
        EndEarlyInput(actor=HEAD, decided_by="县委常委会", decided_on=today, reason="严重违纪"),
    )
    await h.result()
    with pytest.raises(WorkflowAlreadyStartedError):  # nor after it ended
        await runner.start(first)


async def test_a_probation_under_another_workflow_id_is_refused(
    runner: ProbationRunner, new_id: str
) -> None:
    today = await runner.today()
    h = await runner.env.client.start_workflow(
        ProbationWorkflow.run,
        probation_input(new_id, today),
        id=f"other-{new_id}",
        task_queue=runner.settings.task_queue,
    )
    runner.started.append(h)
    with pytest.raises(Exception) as failed:
        await h.result()
    assert refusal(failed.value.__cause__) == (
        f"案件 {new_id} 中 P001 的试用期须以工作流 probation:{new_id}:P001 运行，"
        f"而不是 other-{new_id}："
        "这一编号保证同一试用期不会运行两次"
    )


async def test_a_review_deadline_without_calendar_data_waits_for_it(
    time_env, session_factory, smtp: SmtpServer, new_id: str, tmp_path
) -> None:
    supplement = tmp_path / "supplement.yaml"
    supplement.write_text("years: {}\n", "utf-8")
    async with probation_runner(
        time_env, session_factory, mail=smtp.config(), supplement=supplement
    ) as runner:
        today = await runner.today()
        ends = probation_end(today)
        if ends.year <= max(d.year for d in chinese_calendar.constants.holidays):
            pytest.skip("the calendar package already knows the year this probation ends in")
        h = await runner.start(probation_input(new_id, today))
        pid = probation_workflow_id(new_id, "P001")
        await runner.sleep_until(end_of_day(ends) + timedelta(hours=2))
        state = await runner.state(h)
        assert f"缺少 {ends.year} 年的工作日历：" in state.blocked_reason
        assert state.review_schedule is None
        (blocked,) = [m for m in smtp.about(pid) if m.subject.startswith("工作日历缺失")]
        assert blocked.rcpt_tos == ["xitong@zzb.example"]

        # an administrator adds the years; the next daily retry sets the deadline
        years = {
            y: {"source": "test data: weekdays only", "holidays": [], "workdays": []}
            for y in range(ends.year, ends.year + 2)
        }
        supplement.write_text(yaml.safe_dump({"years": years}), "utf-8")
        await runner.sleep_until(end_of_day(ends) + timedelta(days=1, hours=3))
        state = await runner.state(h)
        assert state.blocked_reason == "" and state.review_schedule is not None
        kinds = [e.kind for e in await runner.events(pid)]
        assert kinds[-2:] == ["blocked", "deadline"]
