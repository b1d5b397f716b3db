"""Every path of an appointment case, on the time-skipping server with real activities."""

from __future__ import annotations

from datetime import date

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from tests.workflows.conftest import CaseRunner
from tests.workflows.scenarios import (
    CLERK,
    HEAD,
    NOTICE_ENDS,
    agree,
    appointment,
    exam_case,
    inspect,
    notice,
    person,
    registration,
    regular_case,
    run_exam,
    scores,
    vote,
)
from workflows.glossary import zh
from workflows.probation_types import probation_workflow_id
from workflows.types import (
    CandidateStatus,
    CaseStage,
    CaseStatus,
    ExceptionalPromotion,
    HigherApprovalInput,
    ObjectionInput,
    ObjectionOutcome,
    ObjectionVerdictInput,
    Role,
    SelectionMethod,
    SuspensionDecisionInput,
    VoteItem,
    WithdrawInput,
)


async def refused(r: CaseRunner, h, name: str, data) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await r.update(h, name, data)
    cause = info.value.cause
    assert isinstance(cause, ApplicationError)
    return cause.message


async def finish_notice_and_appoint(r: CaseRunner, h, people: list[str]) -> None:
    await r.update(h, "record_vote", vote([agree(p) for p in people]))
    state = await r.update(h, "record_public_notice", notice())
    assert state.dates["notice_ends"] == NOTICE_ENDS
    for p in people:
        await r.update(h, "record_appointment", appointment(p))


async def test_regular_appointment_to_appointed(runner: CaseRunner) -> None:
    h = await runner.start(regular_case("reg-1"))
    state = await inspect(runner, h, ["p1", "p2"], ["p1"])
    assert state.stage is CaseStage.VOTE
    await finish_notice_and_appoint(runner, h, ["p1"])
    final = await h.result()
    assert final.status is CaseStatus.APPOINTED
    assert final.probation_required
    assert final.outcome_reason == "任职人员：张三；实行试用期"
    [p1] = [c for c in final.candidates if c.person_id == "p1"]
    assert p1.status is CandidateStatus.APPOINTED
    row = await runner.row("reg-1")
    assert row is not None and row.status == "appointed" and row.stage == "closed"
    # the post needs probation: the case started the appointee's probation, exactly once
    probation = runner.env.client.get_workflow_handle(probation_workflow_id("reg-1", "p1"))
    assert (await probation.describe()).workflow_type == "ProbationWorkflow"
    events = await runner.events("reg-1")
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    kinds = {e.kind for e in events}
    assert {"opened", "input", "transition", "deadline", "closed"} <= kinds
    # every human input records who, in which role
    inputs = [e for e in events if e.kind == "input"]
    assert all(e.actor_name and e.actor_role for e in inputs)
    # the secret ballot is stored as tallies only (and who withdrew, who did not vote at all)
    [vote_event] = [e for e in inputs if "meeting" in e.payload]
    assert set(vote_event.payload["items"][0]) == {
        "person_id",
        "agree",
        "disagree",
        "defer",
        "deferred_reason",
        "withdrawn",
    }


@pytest.mark.parametrize(
    "method", [SelectionMethod.OPEN_SELECTION, SelectionMethod.COMPETITIVE_APPOINTMENT]
)
async def test_exam_methods_to_appointed(runner: CaseRunner, method: SelectionMethod) -> None:
    case_id = f"exam-{method.value}"
    h = await runner.start(exam_case(case_id, method))
    written = {"a1": 88, "a2": 75, "a3": 59, "a4": 70, "a5": 66}
    interview = {"a1": 80, "a2": 85, "a4": 72, "a5": 50}
    state = await run_exam(runner, h, written, interview)
    by_id = {c.person_id: c for c in state.candidates}
    assert by_id["a3"].status is CandidateStatus.FAILED_EXAM  # written below 60
    assert by_id["a5"].status is CandidateStatus.FAILED_EXAM  # interview below 60
    assert by_id["a1"].total_score == pytest.approx(83.2)  # 88*0.4 + 80*0.6
    assert by_id["a2"].total_score == pytest.approx(81.0)
    assert by_id["a1"].rank == 1 and by_id["a2"].rank == 2
    in_pool = sorted(c.person_id for c in state.candidates if c.status is CandidateStatus.IN_POOL)
    assert in_pool == ["a1", "a2", "a4"]  # ratio 3:1 into inspection
    assert state.stage is CaseStage.INVESTIGATION_NOTICE
    await inspect(runner, h, in_pool, ["a1"])
    await finish_notice_and_appoint(runner, h, ["a1"])
    final = await h.result()
    assert final.status is CaseStatus.APPOINTED


async def test_exam_with_too_few_passing_the_written_test(runner: CaseRunner) -> None:
    h = await runner.start(exam_case("exam-few-written", SelectionMethod.OPEN_SELECTION))
    await runner.update(h, "record_registration", registration(3))
    state = await runner.update(
        h, "record_written_test", scores(date(2026, 7, 25), {"a1": 70, "a2": 50, "a3": 40})
    )
    assert state.status is CaseStatus.NOT_APPOINTED
    assert state.outcome_reason == (
        "考试合格人数不足：合格 1 人，拟任职数 1 个，差额考察须多于 1 人"
    )
    final = await h.result()
    assert final.stage is CaseStage.CLOSED


async def test_exam_with_too_few_passing_the_interview(runner: CaseRunner) -> None:
    h = await runner.start(exam_case("exam-few-interview", SelectionMethod.OPEN_SELECTION))
    state = await run_exam(
        runner, h, {"a1": 70, "a2": 65, "a3": 61}, {"a1": 75, "a2": 55, "a3": 40}
    )
    assert state.status is CaseStatus.NOT_APPOINTED
    assert state.outcome_reason == (
        "考试合格人数不足：合格 1 人，拟任职数 1 个，差额考察须多于 1 人"
    )
    assert [c.status for c in state.candidates].count(CandidateStatus.FAILED_EXAM) == 2


async def test_vote_failing_ends_not_appointed(runner: CaseRunner) -> None:
    h = await runner.start(regular_case("vote-fail"))
    await inspect(runner, h, ["p1", "p2"], ["p1"])
    state = await runner.update(h, "record_vote", vote([agree("p1", yes=5)]))
    assert state.status is CaseStatus.NOT_APPOINTED
    [p1] = [c for c in state.candidates if c.person_id == "p1"]
    assert p1.status is CandidateStatus.VOTE_FAILED
    assert p1.note == "未通过：应到 11 人，同意 5 人，至少须 6 人同意"


async def test_quorum_missing_is_refused_and_leaves_no_trace(runner: CaseRunner) -> None:
    h = await runner.start(regular_case("no-quorum"))
    await inspect(runner, h, ["p1", "p2"], ["p1"])
    # (the steps' dates are past: their overdue alarms may still be recorded meanwhile)
    inputs = [e for e in await runner.events("no-quorum") if e.kind == "input"]
    message = await refused(runner, h, "record_vote", vote([agree("p1", 6, 7)], present=7))
    assert message == "未达到法定到会人数：应到 11 人，实到 7 人，至少须 8 人到会"
    assert [e for e in await runner.events("no-quorum") if e.kind == "input"] == inputs
    history = await h.fetch_history()
    assert "未达到法定到会人数" not in history.to_json()
    assert (await runner.state(h)).stage is CaseStage.VOTE


async def test_deferral_then_revote(runner: CaseRunner) -> None:
    h = await runner.start(regular_case("defer"))
    await inspect(runner, h, ["p1", "p2"], ["p1"])
    deferred = VoteItem(person_id="p1", deferred_reason="举报线索需进一步核实")
    state = await runner.update(h, "record_vote", vote([deferred]))
    assert state.stage is CaseStage.VOTE
    assert state.candidates[0].status is CandidateStatus.DEFERRED
    # the vote's step (overdue: its date is past) is left once its alarm is recorded
    assert state.step is None or state.step.step in ("vote", "revote:2026-09-22")
    # a re-vote at an earlier date than the first meeting is refused
    msg = await refused(
        runner, h, "record_vote", vote([agree("p1")], held_on=date(2026, 9, 21), mid="M2")
    )
    assert msg == "常委会会议（2026-09-21）不能早于上次常委会会议（2026-09-22）"
    state = await runner.update(
        h, "record_vote", vote([agree("p1")], held_on=date(2026, 9, 25), mid="M2")
    )
    assert state.stage is CaseStage.PUBLIC_NOTICE


async def test_a_tally_where_deferral_prevails_asks_for_the_reason_then_defers(
    runner: CaseRunner,
) -> None:
    h = await runner.start(regular_case("defer-tally"))
    await inspect(runner, h, ["p1", "p2"], ["p1"])
    # (the steps' dates are past: their overdue alarms may still be recorded meanwhile)
    before = [e for e in await runner.events("defer-tally") if e.kind == "input"]
    tally = VoteItem(person_id="p1", agree=3, disagree=1, defer=5)  # 9 present of 11
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await runner.update(h, "record_vote", vote([tally]))
    cause = info.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.message == (
        "p1 的表决中缓议 5 票，多于同意 3 票和不同意 1 票，应暂缓表决而不是未通过："
        "请在“暂缓表决理由”中写明需要查清的问题，查清后再次表决"
    )
    assert cause.details[0] == "vote.deferral"
    # refused, not failed: nothing recorded, the candidate still before the committee
    assert [e for e in await runner.events("defer-tally") if e.kind == "input"] == before
    state = await runner.state(h)
    assert state.stage is CaseStage.VOTE
    assert state.candidates[0].status is CandidateStatus.PROPOSED
    # with the reason, the same tally is the deferral the committee chose
    reasoned = tally.model_copy(update={"deferred_reason": "意见分歧较大，群众反映问题待查清"})
    state = await runner.update(h, "record_vote", vote([reasoned]))
    assert state.stage is CaseStage.VOTE
    [p1] = [c for c in state.candidates if c.person_id == "p1"]
    assert p1.status is CandidateStatus.DEFERRED
    assert p1.note == "暂缓表决：意见分歧较大，群众反映问题待查清"
    assert state.status is not CaseStatus.NOT_APPOINTED


async def test_exceptional_promotion_blocked_without_approval_then_approved(
    runner: CaseRunner,
) -> None:
    star = person(
        "p1",
        "破格者",
        exceptional=ExceptionalPromotion(reason="实绩特别突出"),
    )
    h = await runner.start(regular_case("exceptional", [star, person("p2", "李四")]))
    state = await inspect(runner, h, ["p1", "p2"], ["p1"])
    assert state.stage is CaseStage.HIGHER_APPROVAL
    # no reply: the vote is refused (the case is not at the vote stage)
    msg = await refused(runner, h, "record_vote", vote([agree("p1")]))
    assert msg == "案件 exceptional 正处于「上级审批」环节；此项办理属于「常委会票决」环节"
    approval = HigherApprovalInput(
        actor=HEAD,
        person_id="p1",
        replied_on=date(2026, 9, 18),
        approved=True,
        reference="市组干〔2026〕12号",
    )
    state = await runner.update(h, "record_higher_approval", approval)
    assert state.stage is CaseStage.VOTE
    state = await runner.update(h, "record_vote", vote([agree("p1")]))
    assert state.stage is CaseStage.PUBLIC_NOTICE


async def test_exceptional_promotion_refused_by_higher_level(runner: CaseRunner) -> None:
    star = person("p1", "破格者", exceptional=ExceptionalPromotion(reason="实绩突出"))
    h = await runner.start(regular_case("exceptional-no", [star, person("p2", "李四")]))
    await inspect(runner, h, ["p1", "p2"], ["p1"])
    refusal = HigherApprovalInput(
        actor=HEAD,
        person_id="p1",
        replied_on=date(2026, 9, 18),
        approved=False,
        reference="市组干〔2026〕13号",
    )
    state = await runner.update(h, "record_higher_approval", refusal)
    assert state.status is CaseStatus.NOT_APPOINTED
    assert state.candidates[0].status is CandidateStatus.APPROVAL_REFUSED


async def test_skip_level_promotion_waits_for_approval_before_inspection(
    runner: CaseRunner,
) -> None:
    star = person("p1", "越级者", exceptional=ExceptionalPromotion(reason="急需", levels_skipped=1))
    h = await runner.start(regular_case("skip-level", [star, person("p2", "李四")]))
    state = await runner.state(h)
    assert state.stage is CaseStage.PRE_INSPECTION_APPROVAL
    approval = HigherApprovalInput(
        actor=HEAD,
        person_id="p1",
        replied_on=date(2026, 9, 1),
        approved=True,
        reference="市组干〔2026〕9号",
    )
    state = await runner.update(h, "record_higher_approval", approval)
    assert state.stage is CaseStage.INVESTIGATION_NOTICE
    state = await inspect(runner, h, ["p1", "p2"], ["p1"])
    assert state.stage is CaseStage.VOTE  # the written approval before inspection is the consent


@pytest.mark.parametrize(
    ("outcome", "appointed", "reminded"),
    [
        (ObjectionOutcome.NO_PROBLEM, True, False),
        (ObjectionOutcome.MINOR_SHORTCOMINGS, True, True),
        (ObjectionOutcome.SERIOUS_CONFIRMED, False, False),
    ],
)
async def test_objection_outcomes(
    runner: CaseRunner, outcome: ObjectionOutcome, appointed: bool, reminded: bool
) -> None:
    case_id = f"objection-{outcome.value}"
    h = await runner.start(regular_case(case_id))
    await inspect(runner, h, ["p1", "p2"], ["p1"])
    await runner.update(h, "record_vote", vote([agree("p1")]))
    await runner.update(h, "record_public_notice", notice())
    late = ObjectionInput(
        actor=CLERK,
        objection_id="O0",
        person_id="p1",
        received_on=date(2026, 10, 12),
        summary="迟到的反映",
    )
    assert await refused(runner, h, "record_objection", late) == (
        "公示期间（2026-09-29 至 2026-10-10）受理反映；此件收到于 2026-10-12"
    )
    objection = ObjectionInput(
        actor=CLERK,
        objection_id="O1",
        person_id="p1",
        received_on=date(2026, 10, 8),
        summary="反映其作风问题",
    )
    await runner.update(h, "record_objection", objection)
    verdict = ObjectionVerdictInput(
        actor=CLERK,
        objection_id="O1",
        verified_on=date(2026, 10, 10),
        outcome=outcome,
        finding="经核查",
    )
    state = await runner.update(h, "record_objection_verdict", verdict)
    if appointed:
        assert state.stage is CaseStage.APPOINTMENT
        state = await runner.update(h, "record_appointment", appointment("p1"))
        assert state.status is CaseStatus.APPOINTED
        assert state.candidates[0].reminded is reminded
    else:
        assert state.status is CaseStatus.NOT_APPOINTED
        assert state.candidates[0].status is CandidateStatus.NOT_APPOINTED


async def _suspended_case(runner: CaseRunner, case_id: str):
    h = await runner.start(regular_case(case_id))
    await inspect(runner, h, ["p1", "p2"], ["p1"])
    await runner.update(h, "record_vote", vote([agree("p1")]))
    await runner.update(h, "record_public_notice", notice())
    await runner.update(
        h,
        "record_objection",
        ObjectionInput(
            actor=CLERK,
            objection_id="O1",
            person_id="p1",
            received_on=date(2026, 10, 8),
            summary="举报",
        ),
    )
    verified = date(2026, 11, 20)
    state = await runner.update(
        h,
        "record_objection_verdict",
        ObjectionVerdictInput(
            actor=CLERK,
            objection_id="O1",
            verified_on=verified,
            outcome=ObjectionOutcome.SERIOUS_UNVERIFIABLE,
            finding="一时难以查实",
        ),
    )
    return h, state


async def test_suspension_decided_to_appoint(runner: CaseRunner) -> None:
    h, state = await _suspended_case(runner, "suspend-decide")
    assert state.candidates[0].status is CandidateStatus.SUSPENDED
    assert state.candidates[0].suspended_until == date(2027, 2, 20)
    too_early = SuspensionDecisionInput(
        actor=HEAD, person_id="p1", decided_on=date(2026, 11, 19), appoint=True, reason="查清"
    )
    assert await refused(runner, h, "decide_suspension", too_early) == (
        "决定（2026-11-19）不能早于核查（2026-11-20）"
    )
    decision = SuspensionDecisionInput(
        actor=HEAD,
        person_id="p1",
        decided_on=date(2026, 11, 21),
        appoint=True,
        reason="问题已查清，不影响任用",
    )
    state = await runner.update(h, "decide_suspension", decision)
    assert state.stage is CaseStage.APPOINTMENT


async def test_suspension_running_out(runner: CaseRunner) -> None:
    h, state = await _suspended_case(runner, "suspend-expire")
    until = state.candidates[0].suspended_until
    assert until is not None
    final = await h.result()  # the server skips time to the suspension's end
    assert final.status is CaseStatus.NOT_APPOINTED
    assert final.candidates[0].note == (
        "暂缓任用于 2027-02-20 期满，未作出决定；暂缓任用最长 3 个月"
    )
    # the department was reminded and escalated to as the policy's suspension_decision says,
    # and the lapse is recorded as such, naming whom the case told
    events = await runner.events("suspend-expire")
    [deadline] = [e for e in events if e.kind == "deadline"][-1:]
    assert deadline.summary.startswith("暂缓任用期满决定：张三：须于 ")
    assert "（50 个工作日" in deadline.summary
    reminders = [e for e in events if e.kind == "reminder" and e.seq > deadline.seq]
    escalations = [e for e in events if e.kind == "escalation" and e.seq > deadline.seq]
    assert len(reminders) == 3  # 10, 3 and 1 working days before
    assert [e.payload["role"] for e in escalations] == ["section_chief", "department_head"]
    [lapse] = [e for e in events if e.kind == "timer" and e.payload.get("lapse")]
    told_roles = "、".join(zh(r) for r in (CLERK.role, Role.SECTION_CHIEF, Role.DEPARTMENT_HEAD))
    assert lapse.summary == (
        "张三：暂缓任用于 2027-02-20 期满，未作出决定；暂缓任用最长 3 个月，"
        f"按不予任用处理；期间已提醒或督办：{told_roles}"
    )
    assert lapse.payload["person_id"] == "p1"
    assert [a["kind"] for a in lapse.payload["told"]] == ["reminder"] * 3 + ["escalation"] * 2
    assert lapse.seq > escalations[-1].seq
    inbox = await runner.inbox("suspend-expire")
    told = [m for m in inbox if m.subject.startswith("期满未决")]
    assert [m.recipient_role for m in told] == [Role.DEPARTMENT_HEAD]


@pytest.mark.parametrize("stage", ["exam", "investigation_notice", "vote", "public_notice"])
async def test_withdrawal_at_several_stages(runner: CaseRunner, stage: str) -> None:
    case_id = f"withdraw-{stage}"
    if stage == "exam":
        h = await runner.start(exam_case(case_id, SelectionMethod.COMPETITIVE_APPOINTMENT))
    else:
        h = await runner.start(regular_case(case_id))
    if stage in ("vote", "public_notice"):
        await inspect(runner, h, ["p1", "p2"], ["p1"])
    if stage == "public_notice":
        await runner.update(h, "record_vote", vote([agree("p1")]))
    assert (await runner.state(h)).stage.value == stage
    state = await runner.update(
        h, "withdraw", WithdrawInput(actor=CLERK, reason="岗位调整，取消本次选任")
    )
    assert state.status is CaseStatus.WITHDRAWN
    assert state.outcome_reason == "岗位调整，取消本次选任"
    final = await h.result()
    assert final.stage is CaseStage.CLOSED
    events = await runner.events(case_id)
    [closed] = [e for e in events if e.kind == "closed"]
    assert closed.actor_name == CLERK.name
    # a step overdue at once (past dates) may be withdrawn while its overdue mark is being
    # recorded: no reminder or escalation follows the closing
    after = [e.kind for e in events if e.seq > closed.seq]
    assert not {"reminder", "escalation"} & set(after), after
    row = await runner.row(case_id)
    assert row is not None and row.status == "withdrawn"


async def test_a_notice_whose_period_is_over_ends_it_when_published(runner: CaseRunner) -> None:
    """Published with a date whose five working days are already past, the notice is over
    in the same step: the answer says so, and the appointment sent next is taken at once."""
    h = await runner.start(regular_case("over-1"))
    await inspect(runner, h, ["p1", "p2"], ["p1"])
    await runner.update(h, "record_vote", vote([agree("p1")]))
    state = await runner.update(h, "record_public_notice", notice())
    assert state.stage is CaseStage.APPOINTMENT
    assert state.dates["notice_over"] == NOTICE_ENDS
    events = await runner.events("over-1")
    assert any(e.kind == "timer" and e.summary == "任前公示期于 2026-10-10 届满" for e in events)
    await runner.update(h, "record_appointment", appointment("p1"))
    assert (await h.result()).status is CaseStatus.APPOINTED
