"""The case's state machine on its own: every refusal with its sentence, every transition.

Pure: no Temporal, no database. A ``CaseBook`` is built from the default policy and driven
by calling its ``check_*`` (the update validators) and ``apply_*`` (the update handlers)
directly, with the dates of ``scenarios`` and a fixed "today". Values the workflow gets
from activities (the inspection window, the end of the public notice) are passed in as
the workflow would after asking the working-day calendar.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.workflows.scenarios import (
    CLERK,
    HEAD,
    INSPECTION_DONE,
    INSPECTION_START,
    INVESTIGATION_NOTICE,
    MEETING_DAY,
    NOTICE_DAY,
    NOTICE_ENDS,
    OPENED,
    SECRETARY,
    TEAM,
    agree,
    appointment,
    exam_case,
    notice,
    person,
    regular_case,
    scores,
    vote,
)
from workflows.case_book import SYSTEM_ACTOR, CaseBook, Happening, check_case_input
from workflows.glossary import zh
from workflows.policy import PolicySnapshot, parse_policy
from workflows.rules import inspection as inspection_rules
from workflows.rules import notice as notice_rules
from workflows.rules import vote as vote_rules
from workflows.rules.dates import RULE_NOT_FUTURE, RULE_ORDER, add_months
from workflows.rules.eligibility import RULE_RECOMMENDATION
from workflows.rules.errors import RuleViolation
from workflows.rules.working_days import SHANGHAI
from workflows.types import (
    FOUR_MUSTS,
    Actor,
    Applicant,
    AppointmentInput,
    Candidate,
    CandidateStatus,
    CaseInput,
    CaseStage,
    CaseStatus,
    DeclaredRelationship,
    DemocraticEvaluationInput,
    DemocraticRecommendation,
    ExceptionalPromotion,
    HigherApprovalInput,
    InspectionCheck,
    InspectionCheckInput,
    InspectionConclusionInput,
    InspectionReportInput,
    InspectionTeamInput,
    InvestigationNoticeInput,
    NoticeKind,
    ObjectionInput,
    ObjectionOutcome,
    ObjectionVerdictInput,
    PublishedPerson,
    RegistrationInput,
    RelationshipKind,
    Role,
    Sanction,
    SanctionKind,
    SelectionMethod,
    SuspensionDecisionInput,
    VoteItem,
    VoteResult,
    WithdrawInput,
)

TODAY = date(2026, 11, 25)
POLICY_TEXT = (Path(__file__).resolve().parents[2] / "policy" / "default.yaml").read_text("utf-8")
POLICY: PolicySnapshot = parse_policy(POLICY_TEXT, "default.yaml")

# The inspection window the calendar gives for a notice published on Monday 2026-09-07
# (1 to 3 working days later).
WINDOW = (date(2026, 9, 8), date(2026, 9, 10))
CHECKS_DONE = date(2026, 9, 10)
EVALUATED = date(2026, 9, 9)
CONCLUDED = date(2026, 9, 16)

# Exam timeline (the exam case opens 2026-07-01; see ``scenarios.registration``).
ANNOUNCED = date(2026, 7, 6)
REGISTRATION_CLOSED = date(2026, 7, 17)
WRITTEN_ON = date(2026, 7, 25)
INTERVIEW_ON = date(2026, 8, 8)

ONE_DAY = timedelta(days=1)


# --------------------------------------------------------------------------- helpers


def refused(check: Callable[..., None], *args: Any) -> RuleViolation:
    with pytest.raises(RuleViolation) as info:
        check(*args)
    return info.value


def applicant(i: int, **fields: Any) -> Applicant:
    values: dict[str, Any] = {
        "candidate": person(f"a{i}", f"考生{i}"),
        "registered_on": date(2026, 7, 10),
        "qualified": True,
    }
    values.update(fields)
    return Applicant(**values)


def registering(*applicants: Applicant) -> RegistrationInput:
    return RegistrationInput(
        actor=CLERK,
        announced_on=ANNOUNCED,
        closed_on=REGISTRATION_CLOSED,
        applicants=list(applicants),
    )


def check_input(pid: str, check: InspectionCheck, on: date = CHECKS_DONE) -> InspectionCheckInput:
    return InspectionCheckInput(
        actor=TEAM, person_id=pid, check=check, completed_on=on, finding="无问题"
    )


def evaluation(pid: str, on: date = EVALUATED, **counts: int) -> DemocraticEvaluationInput:
    values = {"participants": 40, "excellent": 30, "competent": 8, "basically_competent": 2}
    values.update(counts)
    return DemocraticEvaluationInput(actor=TEAM, person_id=pid, held_on=on, incompetent=0, **values)


def report(pid: str, on: date = INSPECTION_DONE) -> InspectionReportInput:
    return InspectionReportInput(actor=TEAM, person_id=pid, submitted_on=on, summary="德才表现良好")


def conclusion(*proposed: str, on: date = CONCLUDED) -> InspectionConclusionInput:
    return InspectionConclusionInput(actor=CLERK, concluded_on=on, proposed=list(proposed))


def team(*members: str, on: date = INSPECTION_START) -> InspectionTeamInput:
    return InspectionTeamInput(actor=TEAM, members=list(members), started_on=on)


def objection(oid: str, pid: str = "p1", on: date = date(2026, 10, 8)) -> ObjectionInput:
    return ObjectionInput(
        actor=CLERK, objection_id=oid, person_id=pid, received_on=on, summary="群众来信反映问题"
    )


def verdict(oid: str, outcome: ObjectionOutcome, on: date) -> ObjectionVerdictInput:
    return ObjectionVerdictInput(
        actor=TEAM, objection_id=oid, verified_on=on, outcome=outcome, finding="核查结论"
    )


def decision(pid: str, on: date, appoint: bool) -> SuspensionDecisionInput:
    return SuspensionDecisionInput(
        actor=HEAD, person_id=pid, decided_on=on, appoint=appoint, reason="核查完毕"
    )


def withdrawal(reason: str = "机构改革，职位撤销") -> WithdrawInput:
    return WithdrawInput(actor=HEAD, reason=reason)


def exceptional(**fields: Any) -> ExceptionalPromotion:
    return ExceptionalPromotion(reason="抗洪抢险中表现突出", **fields)


class Driver:
    """A CaseBook driven the way the workflow drives it: check, then apply; all recorded."""

    def __init__(self, case: CaseInput, eligible_on: date = TODAY) -> None:
        self.book = CaseBook(case, POLICY, TODAY)
        self.inputs: list[tuple[Any, list[Happening]]] = []
        self.happenings: list[Happening] = []
        if case.method is SelectionMethod.REGULAR_APPOINTMENT:
            self.happenings += self.book.enter_inspection_phase(eligible_on)

    @property
    def stage(self) -> CaseStage:
        return self.book.state.stage

    def status(self, pid: str) -> CandidateStatus:
        return self.book.candidate(pid).status

    def do(self, step: str, data: Any, extra: Any = TODAY, today: date = TODAY) -> list[Happening]:
        getattr(self.book, f"check_{step}")(data, today)
        out: list[Happening] = getattr(self.book, f"apply_{step}")(data, extra)
        self.inputs.append((data, out))
        self.happenings += out
        return out

    def timer(self, key: str, today: date = TODAY) -> list[Happening]:
        out = self.book.on_timer(key, today)
        self.happenings += out
        return out

    # the steps of the standard timeline

    def investigation_notice(
        self, reason: str = "", on: date = INVESTIGATION_NOTICE, window: tuple[date, date] = WINDOW
    ) -> list[Happening]:
        data = InvestigationNoticeInput(actor=CLERK, published_on=on, one_to_one_reason=reason)
        return self.do("investigation_notice", data, window)

    def team(self) -> list[Happening]:
        return self.do("inspection_team", team("李组长", "周干事"))

    def inspect(
        self,
        pid: str,
        checks: tuple[InspectionCheck, ...] = FOUR_MUSTS,
        evaluated: bool = True,
        reported: bool = True,
    ) -> None:
        for c in checks:
            self.do("inspection_check", check_input(pid, c))
        if evaluated:
            self.do("democratic_evaluation", evaluation(pid))
        if reported:
            self.do("inspection_report", report(pid))

    def conclude(self, *proposed: str) -> list[Happening]:
        return self.do("inspection_conclusion", conclusion(*proposed))

    def through_inspection(
        self, inspected: list[str], proposed: list[str], reason: str = ""
    ) -> list[Happening]:
        self.investigation_notice(reason)
        self.team()
        for pid in inspected:
            self.inspect(pid)
        return self.conclude(*proposed)

    def vote(self, *items: VoteItem, **meeting: Any) -> list[Happening]:
        return self.do("vote", vote(list(items), **meeting))

    def publish(self, on: date = NOTICE_DAY, ends: date = NOTICE_ENDS) -> list[Happening]:
        return self.do("public_notice", notice(on), ends)

    def end_notice(self) -> list[Happening]:
        assert self.book.step_key() == "notice_period"
        return self.timer("notice_period")

    def appoint(self, pid: str, on: date = date(2026, 10, 12)) -> list[Happening]:
        return self.do("appointment", appointment(pid, on))


def at_vote(case: CaseInput | None = None, proposed: tuple[str, ...] = ("p1",)) -> Driver:
    d = Driver(case or regular_case("reg-1"))
    d.through_inspection(["p1", "p2"], list(proposed))
    assert d.stage is CaseStage.VOTE
    return d


def on_notice(case: CaseInput | None = None) -> Driver:
    """p1 passed the vote; the notice runs 2026-09-29 to 2026-10-10 and is not over."""
    d = at_vote(case)
    d.vote(agree("p1"))
    d.publish()
    return d


def to_appoint(case: CaseInput | None = None) -> Driver:
    d = on_notice(case)
    d.end_notice()
    assert d.stage is CaseStage.APPOINTMENT
    return d


@cache
def _vote_template() -> Driver:
    return at_vote()


def fresh_at_vote() -> Driver:
    return copy.deepcopy(_vote_template())


def exam_through_written(n: int = 5) -> Driver:
    d = Driver(exam_case("ex-1", SelectionMethod.OPEN_SELECTION))
    d.do("registration", registering(*(applicant(i) for i in range(1, n + 1))))
    d.do("written_test", scores(WRITTEN_ON, {f"a{i}": 80.0 for i in range(1, n + 1)}))
    return d


# --------------------------------------------------------------------------- case input


def test_case_input_accepts_the_standard_cases() -> None:
    check_case_input(regular_case("reg-1"), TODAY, 12)
    check_case_input(exam_case("ex-1", SelectionMethod.OPEN_SELECTION), TODAY, 12)
    check_case_input(exam_case("ex-2", SelectionMethod.COMPETITIVE_APPOINTMENT), TODAY, 12)


def test_case_input_refuses_duplicate_candidate_ids() -> None:
    people = [person("p2", "李四"), person("p1", "张三"), person("p1", "张三"), person("p2", "李")]
    e = refused(check_case_input, regular_case("reg-1", people), TODAY, 12)
    assert e.message == "人选编号不能重复；重复的有：p1、p2"
    assert e.rule == "case.file"


@pytest.mark.parametrize(
    "method", [SelectionMethod.OPEN_SELECTION, SelectionMethod.COMPETITIVE_APPOINTMENT]
)
def test_exam_case_must_not_list_candidates(method: SelectionMethod) -> None:
    case = exam_case("ex-1", method, candidates=[person("p1", "张三")])
    e = refused(check_case_input, case, TODAY, 12)
    assert e.message == (
        f"选拔方式为{zh(method)}的案件，人选由考试报名产生；案件材料中不应列出人选"
    )
    assert e.rule == "case.method"


def test_regular_case_needs_a_recommendation() -> None:
    e = refused(check_case_input, regular_case("reg-1", recommendation=None), TODAY, 12)
    assert e.message == "选拔方式为民主推荐的案件，须写明人选所经的民主推荐及其日期"
    assert e.rule == "recommendation.required"


def test_regular_case_needs_a_candidate() -> None:
    e = refused(check_case_input, regular_case("reg-1", candidates=[]), TODAY, 12)
    assert e.message == "选拔方式为民主推荐的案件至少须有一名人选"


def recommended_on(held_on: date, opened_on: date | None = None) -> CaseInput:
    return regular_case(
        "reg-1",
        recommendation=DemocraticRecommendation(held_on=held_on, participants=45),
        opened_on=opened_on,
    )


def test_recommendation_age_is_judged_on_the_case_opening_date() -> None:
    # a case brought in later is judged on its own dates, not on the day it is entered
    check_case_input(recommended_on(date(2025, 8, 3), opened_on=date(2026, 8, 3)), TODAY, 12)
    e = refused(
        check_case_input, recommended_on(date(2025, 8, 2), opened_on=date(2026, 8, 3)), TODAY, 12
    )
    assert e.message == (
        "2025-08-02 的民主推荐到 2026-08-03 已超过 12 个月；民主推荐结果一年内有效"
    )


def test_recommendation_of_exactly_twelve_months_is_accepted() -> None:
    check_case_input(recommended_on(date(2025, 11, 25)), TODAY, 12)


def test_recommendation_older_than_twelve_months_is_refused() -> None:
    e = refused(check_case_input, recommended_on(date(2025, 11, 24)), TODAY, 12)
    assert e.message == (
        "2025-11-24 的民主推荐到 2026-11-25 已超过 12 个月；民主推荐结果一年内有效"
    )
    assert e.rule == RULE_RECOMMENDATION


def test_recommendation_validity_follows_a_stricter_policy() -> None:
    check_case_input(recommended_on(date(2026, 5, 25)), TODAY, 6)
    e = refused(check_case_input, recommended_on(date(2026, 5, 24)), TODAY, 6)
    assert e.message == (
        "2026-05-24 的民主推荐到 2026-11-25 已超过 6 个月；民主推荐结果6 个月内有效"
    )


@given(st.dates(min_value=date(2024, 1, 1), max_value=TODAY))
def test_recommendation_refused_exactly_when_older_than_a_year(held_on: date) -> None:
    case = recommended_on(held_on)
    if TODAY > add_months(held_on, 12):
        assert refused(check_case_input, case, TODAY, 12).message == (
            f"{held_on} 的民主推荐到 2026-11-25 已超过 12 个月；民主推荐结果一年内有效"
        )
    else:
        check_case_input(case, TODAY, 12)


def test_recommendation_in_the_future_is_refused() -> None:
    e = refused(check_case_input, recommended_on(TODAY + ONE_DAY), TODAY, 12)
    assert e.message == (
        "民主推荐的日期（2026-11-26）晚于今天（2026-11-25），尚未发生的事项不能登记"
    )
    assert e.rule == RULE_NOT_FUTURE


@pytest.mark.parametrize(
    "case",
    [
        regular_case("reg-1", opened_on=date(2026, 11, 26)),
        exam_case("ex-1", SelectionMethod.OPEN_SELECTION, opened_on=date(2026, 11, 26)),
    ],
)
def test_opening_in_the_future_is_refused(case: CaseInput) -> None:
    e = refused(check_case_input, case, TODAY, 12)
    assert e.message == "立案的日期（2026-11-26）晚于今天（2026-11-25），尚未发生的事项不能登记"
    assert e.rule == RULE_NOT_FUTURE
    check_case_input(case.model_copy(update={"opened_on": TODAY}), TODAY, 12)


# --------------------------------------------------------------------------- opening


def test_a_new_book_mirrors_the_case() -> None:
    book = CaseBook(regular_case("reg-1"), POLICY, TODAY)
    s = book.state
    assert (s.stage, s.status, s.opened_on) == (
        CaseStage.INVESTIGATION_NOTICE,
        CaseStatus.ACTIVE,
        OPENED,
    )
    assert s.policy_version == "2026.4"
    assert s.policy_digest == POLICY.digest
    assert [(c.person_id, c.status) for c in s.candidates] == [
        ("p1", CandidateStatus.IN_POOL),
        ("p2", CandidateStatus.IN_POOL),
    ]
    assert s.dates == {"opened": OPENED}


def test_a_case_without_opening_date_opens_today() -> None:
    book = CaseBook(regular_case("reg-1", opened_on=None), POLICY, TODAY)
    assert book.state.opened_on == TODAY
    assert book.state.dates["opened"] == TODAY


def test_an_exam_case_starts_at_the_exam() -> None:
    book = CaseBook(exam_case("ex-1", SelectionMethod.OPEN_SELECTION), POLICY, TODAY)
    assert book.state.stage is CaseStage.EXAM
    step = book.awaited_step()
    assert step is not None
    assert (step.key, step.policy_step, step.responsible_role) == (
        "registration",
        "registration",
        Role.CLERK,
    )


# --------------------------------------------------------------------------- eligibility


def warned(pid: str, name: str, decided_on: date) -> Candidate:
    return person(
        pid, name, sanctions=[Sanction(kind=SanctionKind.PARTY_WARNING, decided_on=decided_on)]
    )


def test_a_sanctioned_candidate_is_ineligible_with_the_sentence() -> None:
    people = [warned("p1", "张三", date(2026, 3, 1)), person("p2", "李四"), person("p3", "王五")]
    d = Driver(regular_case("reg-1", people))
    note = "张三于 2026-03-01 受到党内警告，尚在影响期内（2027-03-01 起期满）"
    assert d.status("p1") is CandidateStatus.INELIGIBLE
    assert d.book.candidate("p1").note == note
    first, summary, moved = d.happenings
    assert (first.kind, first.summary) == ("eligibility", f"张三不符合任职条件：{note}")
    assert summary.kind == "eligibility"
    assert summary.summary == "2026-11-25 任职资格审查：符合条件的人选 2 人"
    assert summary.payload == {"checked_on": "2026-11-25", "eligible": ["p2", "p3"]}
    assert moved.kind == "transition"
    assert moved.payload["to"] == "investigation_notice"
    assert d.stage is CaseStage.INVESTIGATION_NOTICE
    assert d.book.state.status is CaseStatus.ACTIVE


def test_the_impact_period_ends_on_its_last_day() -> None:
    free = Driver(regular_case("reg-1", [warned("p1", "张三", date(2025, 11, 25))]))
    assert free.status("p1") is CandidateStatus.IN_POOL
    barred = Driver(regular_case("reg-2", [warned("p1", "张三", date(2025, 11, 26))]))
    assert barred.status("p1") is CandidateStatus.INELIGIBLE


@given(st.dates(min_value=date(2024, 6, 1), max_value=TODAY))
def test_ineligible_exactly_inside_the_impact_period(decided_on: date) -> None:
    d = Driver(regular_case("reg-1", [warned("p1", "张三", decided_on), person("p2", "李四")]))
    inside = TODAY < add_months(decided_on, 12)
    assert (d.status("p1") is CandidateStatus.INELIGIBLE) is inside


def test_fewer_eligible_than_posts_closes_the_case() -> None:
    people = [warned("p1", "张三", date(2026, 3, 1)), person("p2", "李四")]
    d = Driver(regular_case("reg-1", people, positions=2))
    closed = d.happenings[-1]
    assert closed.kind == "closed"
    assert d.book.state.status is CaseStatus.NOT_APPOINTED
    assert d.stage is CaseStage.CLOSED
    assert d.book.state.outcome_reason == "符合条件的人选（1 人）少于拟任职数（2 个）"
    assert closed.payload == {
        "from": "investigation_notice",
        "status": "not_appointed",
        "reason": "符合条件的人选（1 人）少于拟任职数（2 个）",
    }
    assert d.book.awaited_step() is None
    assert not d.book.active


def test_as_many_eligible_as_posts_goes_on() -> None:
    people = [warned("p1", "张三", date(2026, 3, 1)), person("p2", "李四")]
    d = Driver(regular_case("reg-1", people))
    assert d.stage is CaseStage.INVESTIGATION_NOTICE
    assert d.book.state.status is CaseStatus.ACTIVE


@pytest.mark.parametrize(
    ("fields", "note"),
    [
        (
            {"on_probation": True, "exceptional": exceptional()},
            "张三在现职务试用期内；试用期内不得破格提拔",
        ),
        (
            {"last_promotion_on": date(2026, 1, 10), "exceptional": exceptional()},
            "张三上次提拔于 2026-01-10；提拔任职不满一年的不得破格提拔（2027-01-10 起方可）",
        ),
        (
            {"exceptional": exceptional(levels_skipped=2)},
            "对张三的破格提拔将越 2 级；破格提拔不得越两级",
        ),
        (
            {
                "exceptional": exceptional(
                    time_in_post_exception=True,
                    previous_promotion_was_time_in_post_exception=True,
                )
            },
            "张三上次提拔已是任职年限破格；不得连续两次任职年限破格提拔",
        ),
    ],
    ids=["probation", "within-a-year", "two-levels", "two-time-exceptions"],
)
def test_limits_of_exceptional_promotion(fields: dict[str, Any], note: str) -> None:
    people = [person("p1", "张三", **fields), person("p2", "李四"), person("p3", "王五")]
    d = Driver(regular_case("reg-1", people))
    assert d.status("p1") is CandidateStatus.INELIGIBLE
    assert d.book.candidate("p1").note == note
    assert d.stage is CaseStage.INVESTIGATION_NOTICE


def test_several_exceptional_problems_are_all_named() -> None:
    p1 = person(
        "p1",
        "张三",
        on_probation=True,
        last_promotion_on=date(2026, 1, 10),
        exceptional=exceptional(),
    )
    d = Driver(regular_case("reg-1", [p1, person("p2", "李四"), person("p3", "王五")]))
    note = d.book.candidate("p1").note
    assert note == (
        "张三在现职务试用期内；试用期内不得破格提拔；"
        "张三上次提拔于 2026-01-10；提拔任职不满一年的不得破格提拔（2027-01-10 起方可）"
    )


def test_the_limits_bind_only_exceptional_promotions() -> None:
    p1 = person("p1", "张三", on_probation=True, last_promotion_on=date(2026, 1, 10))
    d = Driver(regular_case("reg-1", [p1, person("p2", "李四")]))
    assert d.status("p1") is CandidateStatus.IN_POOL


def test_exceptional_promotion_a_year_after_the_last_is_allowed() -> None:
    p1 = person("p1", "张三", last_promotion_on=date(2025, 11, 25), exceptional=exceptional())
    d = Driver(regular_case("reg-1", [p1, person("p2", "李四")]))
    assert d.status("p1") is CandidateStatus.IN_POOL
    assert d.book.candidate("p1").exceptional
    assert not d.book.candidate("p1").needs_approval_before_inspection
    assert d.stage is CaseStage.INVESTIGATION_NOTICE


# --------------------------------------------------------------------------- higher approval


def approval(
    pid: str, approved: bool, on: date, ref: str = "市组干〔2026〕12号"
) -> HigherApprovalInput:
    return HigherApprovalInput(
        actor=CLERK, person_id=pid, replied_on=on, approved=approved, reference=ref
    )


@pytest.mark.parametrize(
    "ex", [exceptional(levels_skipped=1), exceptional(through_democratic_recommendation=False)]
)
def test_skipping_a_level_waits_for_approval_before_inspection(ex: ExceptionalPromotion) -> None:
    d = Driver(regular_case("reg-1", [person("p1", "张三", exceptional=ex), person("p2", "李四")]))
    assert d.stage is CaseStage.PRE_INSPECTION_APPROVAL
    step = d.book.awaited_step()
    assert step is not None and step.policy_step == "pre_inspection_approval"
    e = refused(d.book.check_higher_approval, approval("p2", True, date(2026, 8, 20)), TODAY)
    assert e.message == "李四没有待上级审批的事项"
    assert e.rule == "exceptional.approval"
    e = refused(d.book.check_higher_approval, approval("p1", True, date(2026, 8, 2)), TODAY)
    assert e.message == "上级批复（2026-08-02）不能早于立案（2026-08-03）"
    d.do("higher_approval", approval("p1", True, date(2026, 8, 20)))
    assert d.stage is CaseStage.INVESTIGATION_NOTICE
    assert d.book.candidate("p1").approval is True
    assert d.book.state.dates["last_approval"] == date(2026, 8, 20)
    e = refused(
        d.book.check_investigation_notice,
        InvestigationNoticeInput(actor=CLERK, published_on=date(2026, 8, 19)),
        TODAY,
    )
    assert e.message == "考察预告（2026-08-19）不能早于上级批复（2026-08-20）"


def test_a_refusal_before_inspection_can_leave_too_few() -> None:
    p1 = person("p1", "张三", exceptional=exceptional(levels_skipped=1))
    d = Driver(regular_case("reg-1", [p1]))
    d.do("higher_approval", approval("p1", False, date(2026, 8, 20)))
    assert d.status("p1") is CandidateStatus.APPROVAL_REFUSED
    assert d.book.candidate("p1").note == "上级组织部门不同意（市组干〔2026〕12号）"
    assert d.book.state.status is CaseStatus.NOT_APPOINTED
    assert d.book.state.outcome_reason == "上级审批后剩余人选少于拟任职数"


def test_an_exceptional_proposal_waits_for_approval_before_the_vote() -> None:
    p1 = person("p1", "张三", exceptional=exceptional())
    d = Driver(regular_case("reg-1", [p1, person("p2", "李四")]))
    assert d.stage is CaseStage.INVESTIGATION_NOTICE
    d.through_inspection(["p1", "p2"], ["p1"])
    assert d.stage is CaseStage.HIGHER_APPROVAL
    step = d.book.awaited_step()
    assert step is not None and step.policy_step == "higher_approval"
    e = refused(d.book.check_vote, vote([agree("p1")]), TODAY)
    assert e.message == "案件 reg-1 正处于「上级审批」环节；此项办理属于「常委会票决」环节"
    assert e.rule == "case.stage_order"
    d.do("higher_approval", approval("p1", True, date(2026, 9, 18)))
    assert d.stage is CaseStage.VOTE
    e = refused(d.book.check_vote, vote([agree("p1")], held_on=date(2026, 9, 17)), TODAY)
    assert e.message == "常委会会议（2026-09-17）不能早于上级批复（2026-09-18）"
    d.vote(agree("p1"))
    assert d.status("p1") is CandidateStatus.ON_NOTICE


def test_a_refusal_before_the_vote_closes_when_nobody_is_left() -> None:
    p1 = person("p1", "张三", exceptional=exceptional())
    d = Driver(regular_case("reg-1", [p1, person("p2", "李四")]))
    d.through_inspection(["p1", "p2"], ["p1"])
    d.do("higher_approval", approval("p1", False, date(2026, 9, 18)))
    assert d.book.state.status is CaseStatus.NOT_APPOINTED
    assert d.book.state.outcome_reason == "上级组织部门未同意任何人选"


# --------------------------------------------------------------------------- exam


def test_registration_after_close_is_refused() -> None:
    d = Driver(exam_case("ex-1", SelectionMethod.OPEN_SELECTION))
    late = registering(applicant(1), applicant(2, registered_on=date(2026, 7, 18)))
    e = refused(d.book.check_registration, late, TODAY)
    assert e.message == "考生2于 2026-07-18 报名，晚于报名截止日期 2026-07-17"
    assert e.rule == "exam.registration"
    on_the_day = registering(applicant(1), applicant(2, registered_on=REGISTRATION_CLOSED))
    d.book.check_registration(on_the_day, TODAY)


def test_registration_before_the_announcement_is_refused() -> None:
    d = Driver(exam_case("ex-1", SelectionMethod.OPEN_SELECTION))
    early = registering(applicant(1, registered_on=date(2026, 7, 5)))
    e = refused(d.book.check_registration, early, TODAY)
    assert e.message == "考生1的报名（2026-07-05）不能早于考试公告（2026-07-06）"
    assert e.rule == RULE_ORDER


def test_not_qualified_needs_a_reason() -> None:
    d = Driver(exam_case("ex-1", SelectionMethod.OPEN_SELECTION))
    silent = registering(applicant(1), applicant(2, qualified=False, reason="  "))
    e = refused(d.book.check_registration, silent, TODAY)
    assert e.message == "考生2资格审查未通过，须记录理由"
    assert e.rule == "exam.qualification"
    reason = "任职年限不足"
    given_ = registering(applicant(1), applicant(2), applicant(3, qualified=False, reason=reason))
    d.do("registration", given_)
    assert d.status("a3") is CandidateStatus.NOT_QUALIFIED
    assert d.book.candidate("a3").note == reason
    assert d.status("a1") is CandidateStatus.APPLICANT
    step = d.book.awaited_step()
    assert step is not None and step.key == "written_test"


def test_an_applicant_registers_once() -> None:
    d = Driver(exam_case("ex-1", SelectionMethod.OPEN_SELECTION))
    e = refused(d.book.check_registration, registering(applicant(1), applicant(1)), TODAY)
    assert e.message == "每人只能报名一次"


def test_registration_is_recorded_once() -> None:
    d = Driver(exam_case("ex-1", SelectionMethod.OPEN_SELECTION))
    d.do("registration", registering(applicant(1), applicant(2)))
    e = refused(d.book.check_registration, registering(applicant(3)), TODAY)
    assert e.message == "报名与资格审查已经登记"
    assert e.rule == "exam.order"


def test_too_few_qualified_closes_the_case() -> None:
    d = Driver(exam_case("ex-1", SelectionMethod.OPEN_SELECTION))
    d.do("registration", registering(applicant(1), applicant(2, qualified=False, reason="学历")))
    assert d.book.state.status is CaseStatus.NOT_APPOINTED
    assert d.book.state.outcome_reason == (
        "资格审查通过人数不足：通过 1 人，拟任职数 1 个；竞争性选拔的人数须多于拟任职数"
    )


def registered(n: int) -> Driver:
    d = Driver(exam_case("ex-1", SelectionMethod.OPEN_SELECTION))
    d.do("registration", registering(*(applicant(i) for i in range(1, n + 1))))
    return d


def test_written_scores_before_registration_are_refused() -> None:
    d = Driver(exam_case("ex-1", SelectionMethod.OPEN_SELECTION))
    e = refused(d.book.check_written_test, scores(WRITTEN_ON, {"a1": 80}), TODAY)
    assert e.message == "笔试成绩须在报名与资格审查之后登记，且只登记一次"
    assert e.rule == "exam.order"


@pytest.mark.parametrize(
    ("given_scores", "message"),
    [
        ({"a1": 80, "a2": 70}, "缺少 a3 的笔试成绩"),
        ({"a1": 80, "a2": 70, "a3": 65, "x9": 90}, "x9 不是考生，却填写了笔试成绩"),
        ({"a1": 80, "a2": 70, "x9": 90}, "缺少 a3 的笔试成绩；x9 不是考生，却填写了笔试成绩"),
    ],
    ids=["missing", "stranger", "both"],
)
def test_written_scores_for_exactly_the_applicants(
    given_scores: dict[str, float], message: str
) -> None:
    d = registered(3)
    e = refused(d.book.check_written_test, scores(WRITTEN_ON, given_scores), TODAY)
    assert e.message == message
    assert e.rule == "exam.scores"


def test_one_score_per_candidate() -> None:
    d = registered(3)
    doubled = scores(WRITTEN_ON, {"a1": 80, "a2": 70, "a3": 65})
    doubled.scores.append(doubled.scores[0])
    e = refused(d.book.check_written_test, doubled, TODAY)
    assert e.message == "每名考生只能有一个笔试成绩"


def test_a_not_qualified_applicant_gets_no_score() -> None:
    d = Driver(exam_case("ex-1", SelectionMethod.OPEN_SELECTION))
    d.do(
        "registration",
        registering(applicant(1), applicant(2), applicant(3, qualified=False, reason="学历")),
    )
    e = refused(
        d.book.check_written_test, scores(WRITTEN_ON, {"a1": 80, "a2": 70, "a3": 90}), TODAY
    )
    assert e.message == "a3 不是考生，却填写了笔试成绩"


def test_a_second_written_score_record_is_refused() -> None:
    d = exam_through_written(3)
    e = refused(
        d.book.check_written_test, scores(WRITTEN_ON, {"a1": 80, "a2": 80, "a3": 80}), TODAY
    )
    assert e.message == "笔试成绩须在报名与资格审查之后登记，且只登记一次"


def test_written_test_before_registration_close_is_refused() -> None:
    d = registered(3)
    early = scores(date(2026, 7, 16), {"a1": 80, "a2": 80, "a3": 80})
    e = refused(d.book.check_written_test, early, TODAY)
    assert e.message == "笔试（2026-07-16）不能早于报名截止（2026-07-17）"


def test_interview_before_the_written_test_is_refused() -> None:
    d = registered(3)
    e = refused(d.book.check_interview, scores(INTERVIEW_ON, {"a1": 80}), TODAY)
    assert e.message == "面试成绩须在笔试成绩之后登记"
    assert e.rule == "exam.order"


def test_interview_scores_for_exactly_those_who_passed_the_written_test() -> None:
    d = registered(3)
    d.do("written_test", scores(WRITTEN_ON, {"a1": 80, "a2": 70, "a3": 50}))
    assert d.status("a3") is CandidateStatus.FAILED_EXAM
    assert d.book.candidate("a3").note == "笔试成绩 50.0 分，低于合格线 60.0 分"
    e = refused(d.book.check_interview, scores(INTERVIEW_ON, {"a1": 80, "a2": 70, "a3": 90}), TODAY)
    assert e.message == "a3 不是考生，却填写了面试成绩"
    e = refused(d.book.check_interview, scores(INTERVIEW_ON, {"a1": 80}), TODAY)
    assert e.message == "缺少 a2 的面试成绩"


def test_written_test_ratio_keeps_ties_at_the_cutoff() -> None:
    d = registered(7)
    written = {"a1": 90, "a2": 88, "a3": 86, "a4": 84, "a5": 82, "a6": 82, "a7": 70}
    d.do("written_test", scores(WRITTEN_ON, written))
    going_on = {c.person_id for c in d.book.with_status(CandidateStatus.APPLICANT)}
    assert going_on == {"a1", "a2", "a3", "a4", "a5", "a6"}  # 5 per post, and the tie
    assert d.book.candidate("a7").note == "笔试成绩未进入面试名额"
    assert d.book.candidate("a7").written_score == 70


def test_ranking_and_ratio_into_inspection() -> None:
    d = registered(5)
    d.do("written_test", scores(WRITTEN_ON, {"a1": 90, "a2": 85, "a3": 80, "a4": 75, "a5": 70}))
    out = d.do(
        "interview", scores(INTERVIEW_ON, {"a1": 80, "a2": 85, "a3": 70, "a4": 90, "a5": 50})
    )
    # totals 0.4 × written + 0.6 × interview: a2 85, a1 84, a4 84, a3 74, a5 58
    ranking = {c.person_id: (c.total_score, c.rank) for c in d.book.state.candidates}
    assert ranking == {
        "a1": (84.0, 2),  # ties a4 on total, the higher written score ranks first
        "a2": (85.0, 1),
        "a3": (74.0, 4),
        "a4": (84.0, 3),
        "a5": (58.0, 5),
    }
    pool = [c.person_id for c in d.book.with_status(CandidateStatus.IN_POOL)]
    assert sorted(pool) == ["a1", "a2", "a4"]
    assert d.book.candidate("a3").note == "综合排名第 4 名，未进入考察名额"
    assert d.book.candidate("a5").note == "面试成绩 50.0 分，低于合格线 60.0 分"
    assert d.status("a5") is CandidateStatus.FAILED_EXAM
    assert out[0].summary == (
        "登记面试成绩；5 人中 3 人进入考察"
        "（拟任职数 1 个，按 3:1 至多 3 人，与末位并列者一并进入）；"
        "1 人面试成绩低于合格线 60 分"
    )
    assert [h.kind for h in out] == ["input", "eligibility", "transition"]
    assert d.stage is CaseStage.INVESTIGATION_NOTICE
    assert d.book.state.dates["interview"] == INTERVIEW_ON


def test_ties_at_the_inspection_cutoff_all_advance() -> None:
    d = registered(5)
    same = {"a1": 90, "a2": 85, "a3": 80, "a4": 80, "a5": 70}
    d.do("written_test", scores(WRITTEN_ON, same))
    d.do("interview", scores(INTERVIEW_ON, same))
    assert [c.rank for c in d.book.state.candidates] == [1, 2, 3, 3, 5]
    pool = sorted(c.person_id for c in d.book.with_status(CandidateStatus.IN_POOL))
    assert pool == ["a1", "a2", "a3", "a4"]
    assert d.book.candidate("a5").note == "综合排名第 5 名，未进入考察名额"


def test_too_few_passing_the_interview_closes_the_case() -> None:
    d = registered(3)
    d.do("written_test", scores(WRITTEN_ON, {"a1": 80, "a2": 80, "a3": 80}))
    d.do("interview", scores(INTERVIEW_ON, {"a1": 80, "a2": 59, "a3": 40}))
    assert d.book.state.status is CaseStatus.NOT_APPOINTED
    assert d.book.state.outcome_reason == (
        "考试合格人数不足：合格 1 人，拟任职数 1 个，差额考察须多于 1 人"
    )


def test_exam_candidates_are_checked_for_eligibility() -> None:
    d = Driver(exam_case("ex-1", SelectionMethod.OPEN_SELECTION))
    sanctioned = Applicant(
        candidate=warned("a1", "考生1", date(2026, 3, 1)),
        registered_on=date(2026, 7, 10),
        qualified=True,
    )
    d.do("registration", registering(sanctioned, applicant(2), applicant(3)))
    d.do("written_test", scores(WRITTEN_ON, {"a1": 90, "a2": 80, "a3": 70}))
    d.do("interview", scores(INTERVIEW_ON, {"a1": 90, "a2": 80, "a3": 70}))
    assert d.status("a1") is CandidateStatus.INELIGIBLE
    assert d.stage is CaseStage.INVESTIGATION_NOTICE
    assert [c.person_id for c in d.book.with_status(CandidateStatus.IN_POOL)] == ["a2", "a3"]


# --------------------------------------------------------------------------- investigation notice


def test_one_candidate_for_one_post_needs_a_reason() -> None:
    d = Driver(regular_case("reg-1", [person("p1", "张三")]))
    data = InvestigationNoticeInput(actor=CLERK, published_on=INVESTIGATION_NOTICE)
    e = refused(d.book.check_investigation_notice, data, TODAY)
    assert e.message == (
        "差额考察的考察对象须多于拟任职数：拟任职数 1 个，考察对象 1 人；等额考察须写明理由"
    )
    assert e.rule == inspection_rules.RULE_COMPETITION
    reason = "民主推荐意见集中，张三得票率92%"
    d.investigation_notice(reason)
    assert d.book.state.one_to_one_reason == reason
    assert d.stage is CaseStage.INSPECTION


def test_the_investigation_notice_moves_to_inspection() -> None:
    d = Driver(regular_case("reg-1"))
    out = d.investigation_notice()
    assert d.book.state.one_to_one_reason == ""
    assert d.book.state.dates["investigation_notice"] == INVESTIGATION_NOTICE
    assert d.book.state.dates["inspection_window_start"] == WINDOW[0]
    assert d.book.state.dates["inspection_window_end"] == WINDOW[1]
    assert out[0].summary == (
        "2026-09-07 发布考察预告，考察对象：张三、李四；考察可于 2026-09-08 至 2026-09-10 开始"
    )
    assert out[1].summary == "由「考察预告」转入「差额考察」：已发布考察预告"
    assert out[1].payload == {"from": "investigation_notice", "to": "inspection"}
    step = d.book.awaited_step()
    assert step is not None
    assert (step.key, step.responsible_role) == ("inspection_team", Role.SECTION_CHIEF)


def test_investigation_notice_before_the_opening_is_refused() -> None:
    d = Driver(regular_case("reg-1"))
    data = InvestigationNoticeInput(actor=CLERK, published_on=OPENED - ONE_DAY)
    e = refused(d.book.check_investigation_notice, data, TODAY)
    assert e.message == "考察预告（2026-08-02）不能早于立案（2026-08-03）"
    assert e.rule == RULE_ORDER
    d.book.check_investigation_notice(data.model_copy(update={"published_on": OPENED}), TODAY)


def test_investigation_notice_before_the_interview_is_refused() -> None:
    d = registered(4)
    d.do("written_test", scores(WRITTEN_ON, {"a1": 90, "a2": 85, "a3": 80, "a4": 75}))
    d.do("interview", scores(INTERVIEW_ON, {"a1": 90, "a2": 85, "a3": 80, "a4": 75}))
    data = InvestigationNoticeInput(actor=CLERK, published_on=INTERVIEW_ON - ONE_DAY)
    e = refused(d.book.check_investigation_notice, data, TODAY)
    assert e.message == "考察预告（2026-08-07）不能早于面试（2026-08-08）"
    d.book.check_investigation_notice(data.model_copy(update={"published_on": INTERVIEW_ON}), TODAY)


def test_investigation_notice_in_the_future_is_refused() -> None:
    d = Driver(regular_case("reg-1"))
    data = InvestigationNoticeInput(actor=CLERK, published_on=TODAY + ONE_DAY)
    e = refused(d.book.check_investigation_notice, data, TODAY)
    assert e.message == (
        "考察预告的日期（2026-11-26）晚于今天（2026-11-25），尚未发生的事项不能登记"
    )
    assert e.rule == RULE_NOT_FUTURE
    d.book.check_investigation_notice(data.model_copy(update={"published_on": TODAY}), TODAY)


def test_investigation_notice_is_published_once() -> None:
    d = Driver(regular_case("reg-1"))
    d.investigation_notice()
    e = refused(
        d.book.check_investigation_notice,
        InvestigationNoticeInput(actor=CLERK, published_on=INVESTIGATION_NOTICE),
        TODAY,
    )
    assert e.message == "案件 reg-1 正处于「差额考察」环节；此项办理属于「考察预告」环节"


# --------------------------------------------------------------------------- inspection


def inspecting(case: CaseInput | None = None) -> Driver:
    d = Driver(case or regular_case("reg-1"))
    d.investigation_notice()
    return d


def test_a_team_of_one_is_refused() -> None:
    d = inspecting()
    e = refused(d.book.check_inspection_team, team("李组长"), TODAY)
    assert e.message == "考察组至少须 2 人，填写的是 1 人"
    assert e.rule == inspection_rules.RULE_TEAM
    e = refused(d.book.check_inspection_team, team("李组长", " 李组长 "), TODAY)
    assert e.message == "李组长在考察组名单中重复出现"
    e = refused(d.book.check_inspection_team, team("李组长", "  "), TODAY)
    assert e.message == "考察组第 2 名成员未填写姓名"


@pytest.mark.parametrize("start", [WINDOW[0] - ONE_DAY, WINDOW[1] + ONE_DAY])
def test_team_start_outside_the_window_is_refused(start: date) -> None:
    d = inspecting()
    e = refused(d.book.check_inspection_team, team("李组长", "周干事", on=start), TODAY)
    assert e.message == f"考察开始（{start}）须在 2026-09-08 至 2026-09-10 之间"
    assert e.rule == inspection_rules.RULE_TIMING


@pytest.mark.parametrize("start", [WINDOW[0], WINDOW[1]])
def test_team_start_inside_the_window_is_accepted(start: date) -> None:
    d = inspecting()
    d.do("inspection_team", team("李组长", "周干事", on=start))
    assert d.book.state.inspection_team == ["李组长", "周干事"]
    assert d.book.state.dates["inspection_started"] == start
    step = d.book.awaited_step()
    assert step is not None
    assert (step.key, step.responsible_role) == ("inspection", Role.INSPECTION_TEAM)


def test_the_team_is_recorded_once() -> None:
    d = inspecting()
    d.team()
    e = refused(d.book.check_inspection_team, team("王组长", "赵干事"), TODAY)
    assert e.message == "考察组已经登记"


@pytest.mark.parametrize(
    ("check", "data"),
    [
        ("check_inspection_check", check_input("p1", InspectionCheck.PERSONNEL_FILE)),
        ("check_democratic_evaluation", evaluation("p1")),
        ("check_inspection_report", report("p1")),
        ("check_inspection_conclusion", conclusion("p1")),
    ],
)
def test_inspection_steps_before_the_team_are_refused(check: str, data: Any) -> None:
    d = inspecting()
    e = refused(getattr(d.book, check), data, TODAY)
    assert e.message == "请先登记考察组及考察开始日期"
    assert e.rule == "inspection.order"


def test_a_duplicate_check_is_refused() -> None:
    d = inspecting()
    d.team()
    d.do("inspection_check", check_input("p1", InspectionCheck.DISCIPLINE_OPINION))
    again = check_input("p1", InspectionCheck.DISCIPLINE_OPINION, date(2026, 9, 11))
    e = refused(d.book.check_inspection_check, again, TODAY)
    assert e.message == "张三的纪检监察机关意见核查已经登记"
    assert e.rule == "inspection.four_musts"
    d.book.check_inspection_check(again.model_copy(update={"person_id": "p2"}), TODAY)


def test_checks_for_someone_not_under_inspection_are_refused() -> None:
    people = [warned("p1", "张三", date(2026, 3, 1)), person("p2", "李四"), person("p3", "王五")]
    d = inspecting(regular_case("reg-1", people))
    d.team()
    e = refused(d.book.check_inspection_check, check_input("p1", InspectionCheck.PETITIONS), TODAY)
    assert e.message == "张三不在考察中（不符合任职条件）"
    assert e.rule == "inspection.order"
    e = refused(d.book.check_inspection_check, check_input("x9", InspectionCheck.PETITIONS), TODAY)
    assert e.message == "x9 不是案件 reg-1 的人选"


def test_inspection_inputs_before_the_start_are_refused() -> None:
    d = inspecting()
    d.team()
    early = INSPECTION_START - ONE_DAY
    e = refused(
        d.book.check_inspection_check, check_input("p1", InspectionCheck.PETITIONS, early), TODAY
    )
    assert e.message == "信访举报核查（2026-09-07）不能早于考察开始（2026-09-08）"
    e = refused(d.book.check_democratic_evaluation, evaluation("p1", early), TODAY)
    assert e.message == "民主测评（2026-09-07）不能早于考察开始（2026-09-08）"
    e = refused(d.book.check_inspection_report, report("p1", early), TODAY)
    assert e.message == "考察材料（2026-09-07）不能早于考察开始（2026-09-08）"


def test_evaluation_and_report_are_recorded_once() -> None:
    d = inspecting()
    d.team()
    d.do("democratic_evaluation", evaluation("p1"))
    d.do("inspection_report", report("p1"))
    e = refused(d.book.check_democratic_evaluation, evaluation("p1"), TODAY)
    assert e.message == "张三的民主测评已经登记"
    e = refused(d.book.check_inspection_report, report("p1"), TODAY)
    assert e.message == "张三的考察材料已经登记"


def test_evaluation_with_more_ratings_than_participants_is_refused() -> None:
    d = inspecting()
    d.team()
    e = refused(d.book.check_democratic_evaluation, evaluation("p1", participants=39), TODAY)
    assert e.message == "民主测评共 40 票，但参加人数只有 39 人"
    assert e.rule == inspection_rules.RULE_EVALUATION


def test_conclusion_needs_a_report_for_every_inspected_candidate() -> None:
    d = inspecting()
    d.team()
    d.inspect("p1")
    d.inspect("p2", reported=False)
    e = refused(d.book.check_inspection_conclusion, conclusion("p1"), TODAY)
    assert e.message == "每名考察对象都须有考察材料；缺少：李四"
    assert e.rule == "inspection.report"


@pytest.mark.parametrize("skipped", FOUR_MUSTS)
def test_proposing_someone_with_a_missing_must_is_refused(skipped: InspectionCheck) -> None:
    d = inspecting()
    d.team()
    d.inspect("p1", checks=tuple(c for c in FOUR_MUSTS if c is not skipped))
    d.inspect("p2")
    e = refused(d.book.check_inspection_conclusion, conclusion("p1"), TODAY)
    assert e.message == f"张三尚不能提交常委会，尚未完成：{zh(skipped)}"
    assert e.rule == "inspection.four_musts"
    d.book.check_inspection_conclusion(conclusion("p2"), TODAY)  # only the proposed count


def test_all_missing_musts_are_named_in_order() -> None:
    d = inspecting()
    d.team()
    d.inspect("p1", checks=(InspectionCheck.PETITIONS,))
    d.inspect("p2")
    e = refused(d.book.check_inspection_conclusion, conclusion("p1"), TODAY)
    assert e.message == (
        "张三尚不能提交常委会，尚未完成：干部人事档案、个人有关事项报告、纪检监察机关意见"
    )


def test_economic_audit_is_required_when_the_case_says_so() -> None:
    d = inspecting(regular_case("reg-1", economic_audit_required=True))
    d.team()
    d.inspect("p1")
    d.inspect("p2")
    e = refused(d.book.check_inspection_conclusion, conclusion("p1"), TODAY)
    assert e.message == "张三尚不能提交常委会，尚未完成：经济责任审计"
    d.do("inspection_check", check_input("p1", InspectionCheck.ECONOMIC_AUDIT))
    d.conclude("p1")
    assert d.stage is CaseStage.VOTE


def test_economic_audit_is_not_required_otherwise() -> None:
    d = inspecting()
    d.team()
    d.inspect("p1")
    d.inspect("p2")
    d.book.check_inspection_conclusion(conclusion("p1"), TODAY)


def test_proposing_someone_without_evaluation_is_refused() -> None:
    d = inspecting()
    d.team()
    d.inspect("p1", evaluated=False)
    d.inspect("p2")
    e = refused(d.book.check_inspection_conclusion, conclusion("p1"), TODAY)
    assert e.message == "张三尚无民主测评"
    assert e.rule == "inspection.evaluation"


def test_proposing_more_than_the_posts_is_refused() -> None:
    d = inspecting()
    d.team()
    d.inspect("p1")
    d.inspect("p2")
    e = refused(d.book.check_inspection_conclusion, conclusion("p1", "p2"), TODAY)
    assert e.message == "提交常委会 2 人，拟任职数只有 1 个"
    assert e.rule == "inspection.order"


@pytest.mark.parametrize("proposed", [(), ("p1", "p1")])
def test_propose_at_least_one_each_once(proposed: tuple[str, ...]) -> None:
    d = inspecting(
        regular_case(
            "reg-1",
            positions=2,
            candidates=[person("p1", "张三"), person("p2", "李四"), person("p3", "王五")],
        )
    )
    d.team()
    for pid in ("p1", "p2", "p3"):
        d.inspect(pid)
    e = refused(d.book.check_inspection_conclusion, conclusion(*proposed), TODAY)
    assert e.message == "提交常委会的人选至少一名，每人只列一次"


def test_conclusion_before_its_inputs_is_refused() -> None:
    d = inspecting()
    d.team()
    d.inspect("p1")
    d.inspect("p2")
    e = refused(
        d.book.check_inspection_conclusion, conclusion("p1", on=INSPECTION_DONE - ONE_DAY), TODAY
    )
    assert e.message == "考察结束（2026-09-14）不能早于张三的考察各项（2026-09-15）"


def test_conclusion_moves_to_the_vote() -> None:
    d = inspecting()
    d.team()
    d.inspect("p1")
    d.inspect("p2")
    out = d.conclude("p1")
    assert d.status("p1") is CandidateStatus.PROPOSED
    assert d.status("p2") is CandidateStatus.NOT_PROPOSED
    assert d.book.state.dates["inspection_concluded"] == CONCLUDED
    assert out[0].summary == "考察结束；提交常委会：张三"
    assert out[1].summary == "由「差额考察」转入「常委会票决」：考察结束"
    assert out[1].payload == {"from": "inspection", "to": "vote"}
    step = d.book.awaited_step()
    assert step is not None
    assert (step.key, step.policy_step, step.responsible_role) == (
        "vote",
        "vote",
        Role.COMMITTEE_SECRETARY,
    )
    assert d.book.candidate("p1").checks == {c.value: CHECKS_DONE for c in FOUR_MUSTS}


# --------------------------------------------------------------------------- vote


def test_quorum_not_met_is_refused_with_the_sentence() -> None:
    d = fresh_at_vote()
    e = refused(d.book.check_vote, vote([agree("p1", 6, 7)], present=7), TODAY)
    assert e.message == "未达到法定到会人数：应到 11 人，实到 7 人，至少须 8 人到会"
    assert e.rule == vote_rules.RULE_QUORUM
    d.book.check_vote(vote([agree("p1", 6, 8)], present=8), TODAY)


def test_more_present_than_members_is_refused() -> None:
    d = fresh_at_vote()
    e = refused(d.book.check_vote, vote([agree("p1", 6, 12)], present=12), TODAY)
    assert e.message == "到会人数登记为 12 人，但常委会应到 11 人"


@given(
    st.integers(min_value=1, max_value=40).flatmap(
        lambda m: st.tuples(st.just(m), st.integers(min_value=0, max_value=m))
    )
)
def test_vote_refused_exactly_without_quorum(members_present: tuple[int, int]) -> None:
    members, present = members_present
    d = fresh_at_vote()
    data = vote([agree("p1", present, present)], members=members, present=present)
    if present * 3 < members * 2:
        e = refused(d.book.check_vote, data, TODAY)
        assert e.message == (
            f"未达到法定到会人数：应到 {members} 人，实到 {present} 人，"
            f"至少须 {vote_rules.quorum_required(members)} 人到会"
        )
        assert e.rule == vote_rules.RULE_QUORUM
    else:
        d.book.check_vote(data, TODAY)


def test_tallies_must_add_up_to_those_present() -> None:
    d = fresh_at_vote()
    item = VoteItem(person_id="p1", agree=5, disagree=2, defer=0)
    e = refused(d.book.check_vote, vote([item], present=8), TODAY)
    assert e.message == "p1 的表决票数合计 7 票，但到会 8 人"
    assert e.rule == vote_rules.RULE_TALLY


def test_a_tally_where_deferral_prevails_is_a_deferral_never_a_failure() -> None:
    d = fresh_at_vote()
    tally = VoteItem(person_id="p1", agree=2, disagree=3, defer=4)  # 9 present of 11
    e = refused(d.book.check_vote, vote([tally]), TODAY)
    assert e.rule == vote_rules.RULE_DEFERRAL
    assert "暂缓表决理由" in e.message
    d.vote(tally.model_copy(update={"deferred_reason": "重大问题尚不清楚"}))
    assert d.stage is CaseStage.VOTE
    assert d.book.candidate("p1").status is CandidateStatus.DEFERRED
    assert d.book.state.status is not CaseStatus.NOT_APPOINTED


def test_an_item_for_someone_not_before_the_committee_is_refused() -> None:
    d = fresh_at_vote()
    e = refused(d.book.check_vote, vote([agree("p1"), agree("p2")]), TODAY)
    assert e.message == "李四不是提交常委会的人选（未提名）"
    assert e.rule == "vote.subject"
    e = refused(d.book.check_vote, vote([agree("x9")]), TODAY)
    assert e.message == "x9 不是案件 reg-1 的人选"


def test_the_same_candidate_twice_is_refused() -> None:
    d = fresh_at_vote()
    e = refused(d.book.check_vote, vote([agree("p1"), agree("p1")]), TODAY)
    assert e.message == "张三重复出现；每项只表决一次"
    assert e.rule == "vote.tally"


def test_a_vote_needs_an_item() -> None:
    d = fresh_at_vote()
    e = refused(d.book.check_vote, vote([]), TODAY)
    assert e.message == "表决记录至少须有一项"


def test_the_meeting_comes_after_the_inspection() -> None:
    d = fresh_at_vote()
    e = refused(d.book.check_vote, vote([agree("p1")], held_on=CONCLUDED - ONE_DAY), TODAY)
    assert e.message == "常委会会议（2026-09-15）不能早于考察结束（2026-09-16）"
    e = refused(d.book.check_vote, vote([agree("p1")], held_on=TODAY + ONE_DAY), TODAY)
    assert e.message == (
        "常委会会议的日期（2026-11-26）晚于今天（2026-11-25），尚未发生的事项不能登记"
    )


def test_an_exceptional_candidate_without_approval_is_refused() -> None:
    # The normal path cannot reach the vote without the reply (HIGHER_APPROVAL comes first);
    # the check guards the vote itself, so the approval is taken away here by hand.
    d = fresh_at_vote()
    p1 = d.book.candidate("p1")
    p1.exceptional = True
    e = refused(d.book.check_vote, vote([agree("p1")]), TODAY)
    assert e.message == "对张三的破格提拔尚未得到上级组织部门同意，不能提交常委会表决"
    assert e.rule == "exceptional.approval"
    p1.approval = True
    d.book.check_vote(vote([agree("p1")]), TODAY)


def test_a_recommendation_expired_by_the_meeting_is_refused() -> None:
    expires = add_months(date(2025, 9, 21), 12)
    assert expires == MEETING_DAY - ONE_DAY
    d = at_vote(recommended_on(date(2025, 9, 21), opened_on=OPENED))
    e = refused(d.book.check_vote, vote([agree("p1")]), TODAY)
    assert e.message == (
        "2025-09-21 的民主推荐到 2026-09-22 已超过 12 个月；民主推荐结果一年内有效"
    )
    assert e.rule == RULE_RECOMMENDATION
    d.book.check_vote(vote([agree("p1")], held_on=expires), TODAY)
    exact = at_vote(recommended_on(date(2025, 9, 22), opened_on=OPENED))
    exact.book.check_vote(vote([agree("p1")]), TODAY)


def test_six_of_eleven_passes() -> None:
    d = fresh_at_vote()
    out = d.vote(agree("p1", 6, 9))
    p1 = d.book.candidate("p1")
    assert (p1.status, p1.vote) == (CandidateStatus.ON_NOTICE, VoteResult.PASSED)
    assert p1.note == "通过：应到 11 人，同意 6 人，至少须 6 人同意"
    assert out[0].summary == (
        "常委会会议 M1（2026-09-22，应到 11 人，实到 9 人，无记名投票）："
        "张三：通过：应到 11 人，同意 6 人，至少须 6 人同意"
    )
    assert out[1].summary == "由「常委会票决」转入「任前公示」：常委会已作出决定"
    assert out[1].payload == {"from": "vote", "to": "public_notice"}
    step = d.book.awaited_step()
    assert step is not None and step.key == "public_notice"


def test_five_of_eleven_fails_and_closes() -> None:
    d = fresh_at_vote()
    out = d.vote(agree("p1", 5, 9))
    p1 = d.book.candidate("p1")
    assert (p1.status, p1.vote) == (CandidateStatus.VOTE_FAILED, VoteResult.FAILED)
    assert p1.note == "未通过：应到 11 人，同意 5 人，至少须 6 人同意"
    assert out[-1].kind == "closed"
    assert d.book.state.status is CaseStatus.NOT_APPOINTED
    assert d.book.state.outcome_reason == "常委会未通过任何人选"
    assert out[-1].summary == "结案（未任用）：常委会未通过任何人选"


@given(
    st.integers(min_value=1, max_value=40).flatmap(
        lambda m: st.tuples(st.just(m), st.integers(min_value=0, max_value=m))
    )
)
def test_pass_exactly_with_more_than_half_of_all_members(members_agree: tuple[int, int]) -> None:
    members, yes = members_agree
    d = fresh_at_vote()
    d.vote(agree("p1", yes, members), members=members, present=members)
    passed = d.status("p1") is CandidateStatus.ON_NOTICE
    assert passed is (yes * 2 > members)
    assert d.stage is (CaseStage.PUBLIC_NOTICE if passed else CaseStage.CLOSED)


def test_deferral_keeps_the_vote_and_awaits_a_revote() -> None:
    d = fresh_at_vote()
    deferred = VoteItem(person_id="p1", deferred_reason="有反映需进一步核实")
    out = d.vote(deferred)
    p1 = d.book.candidate("p1")
    assert (p1.status, p1.vote) == (CandidateStatus.DEFERRED, VoteResult.DEFERRED)
    assert p1.note == "暂缓表决：有反映需进一步核实"
    assert [h.kind for h in out] == ["input"]
    assert d.stage is CaseStage.VOTE
    step = d.book.awaited_step()
    assert step is not None
    assert step.policy_step == "revote"
    assert step.key == "revote:2026-09-22"
    assert step.responsible_role is Role.COMMITTEE_SECRETARY
    e = refused(d.book.check_vote, vote([agree("p1")], held_on=MEETING_DAY - ONE_DAY), TODAY)
    assert e.message == "常委会会议（2026-09-21）不能早于上次常委会会议（2026-09-22）"
    d.vote(agree("p1"), held_on=date(2026, 9, 29), mid="M2")
    assert d.status("p1") is CandidateStatus.ON_NOTICE
    assert d.stage is CaseStage.PUBLIC_NOTICE


def test_a_second_deferral_awaits_another_revote() -> None:
    d = fresh_at_vote()
    d.vote(VoteItem(person_id="p1", deferred_reason="待核实"))
    d.vote(VoteItem(person_id="p1", deferred_reason="仍待核实"), held_on=date(2026, 9, 29))
    assert d.book.step_key() == "revote:2026-09-29"


def test_two_posts_one_passed_one_deferred_stays_at_the_vote() -> None:
    people = [person("p1", "张三"), person("p2", "李四"), person("p3", "王五")]
    d = Driver(regular_case("reg-1", people, positions=2))
    d.through_inspection(["p1", "p2", "p3"], ["p1", "p2"])
    d.vote(agree("p1"), VoteItem(person_id="p2", deferred_reason="待核实"))
    assert d.stage is CaseStage.VOTE
    e = refused(d.book.check_vote, vote([agree("p1")], held_on=date(2026, 9, 29)), TODAY)
    assert e.message == "张三不是提交常委会的人选（公示中）"
    d.vote(agree("p2", 3), held_on=date(2026, 9, 29))
    assert d.status("p2") is CandidateStatus.VOTE_FAILED
    assert d.stage is CaseStage.PUBLIC_NOTICE


# --------------------------------------------------------------------------- public notice


def test_publication_before_the_vote_is_refused() -> None:
    d = fresh_at_vote()
    d.vote(agree("p1"))
    e = refused(d.book.check_public_notice, notice(MEETING_DAY - ONE_DAY), TODAY)
    assert e.message == "任前公示发布（2026-09-21）不能早于常委会会议（2026-09-22）"
    assert e.rule == RULE_ORDER
    d.book.check_public_notice(notice(MEETING_DAY), TODAY)


def test_publication_at_the_vote_stage_is_refused() -> None:
    d = fresh_at_vote()
    e = refused(d.book.check_public_notice, notice(), TODAY)
    assert e.message == "案件 reg-1 正处于「常委会票决」环节；此项办理属于「任前公示」环节"


def test_publication_starts_the_notice_period() -> None:
    d = on_notice()
    s = d.book.state
    assert s.notice_id == "N1"
    assert (s.dates["notice_published"], s.dates["notice_ends"]) == (NOTICE_DAY, NOTICE_ENDS)
    assert d.inputs[-1][1][0].summary == (
        "2026-09-29 发布任前公示 N1，公示期 5 个工作日，至 2026-10-10 止"
    )
    step = d.book.awaited_step()
    assert step is not None
    assert step.key == "notice_period"
    assert step.policy_step is None
    assert step.until == datetime(2026, 10, 11, tzinfo=SHANGHAI)
    e = refused(d.book.check_public_notice, notice(nid="N2"), TODAY)
    assert e.message == "任前公示已经发布"


def test_the_notice_timer_moves_to_the_appointment() -> None:
    d = on_notice()
    out = d.end_notice()
    assert [h.kind for h in out] == ["timer", "transition"]
    assert out[0].summary == "任前公示期于 2026-10-10 届满"
    assert out[1].summary == "由「任前公示」转入「任职」：公示期满，反映均已办结"
    assert out[0].actor == SYSTEM_ACTOR
    assert d.book.state.dates["notice_over"] == NOTICE_ENDS
    assert d.status("p1") is CandidateStatus.TO_APPOINT
    assert d.stage is CaseStage.APPOINTMENT
    step = d.book.awaited_step()
    assert step is not None and step.policy_step == "appointment"


def test_unknown_timer_is_an_error() -> None:
    d = on_notice()
    with pytest.raises(ValueError, match="unknown timer nonsense"):
        d.book.on_timer("nonsense", TODAY)


def test_an_objection_before_publication_is_refused() -> None:
    d = fresh_at_vote()
    d.vote(agree("p1"))
    e = refused(d.book.check_objection, objection("O1"), TODAY)
    assert e.message == "尚未发布任前公示"


@pytest.mark.parametrize("received", [NOTICE_DAY - ONE_DAY, NOTICE_ENDS + ONE_DAY])
def test_an_objection_outside_the_period_is_refused(received: date) -> None:
    d = on_notice()
    e = refused(d.book.check_objection, objection("O1", on=received), TODAY)
    assert e.message == f"公示期间（2026-09-29 至 2026-10-10）受理反映；此件收到于 {received}"
    assert e.rule == notice_rules.RULE_OBJECTION


@pytest.mark.parametrize("received", [NOTICE_DAY, NOTICE_ENDS])
def test_an_objection_on_the_first_and_last_day_is_accepted(received: date) -> None:
    d = on_notice()
    d.do("objection", objection("O1", on=received))
    assert [o.objection_id for o in d.book.state.objections] == ["O1"]


def test_an_objection_about_someone_not_on_the_notice_is_refused() -> None:
    d = on_notice()
    e = refused(d.book.check_objection, objection("O1", "p2"), TODAY)
    assert e.message == "李四不在公示名单中（未提名）"
    assert e.rule == "notice.procedure"
    e = refused(d.book.check_objection, objection("O1", "x9"), TODAY)
    assert e.message == "x9 不是案件 reg-1 的人选"


def test_an_objection_is_recorded_once() -> None:
    d = on_notice()
    d.do("objection", objection("O1"))
    e = refused(d.book.check_objection, objection("O1", on=date(2026, 10, 9)), TODAY)
    assert e.message == "反映 O1 已经登记"
    assert e.rule == "notice.objection_recorded"


def test_an_objection_in_the_future_is_refused() -> None:
    d = on_notice()
    e = refused(d.book.check_objection, objection("O1", on=TODAY + ONE_DAY), TODAY)
    assert e.message == (
        "收到反映的日期（2026-11-26）晚于今天（2026-11-25），尚未发生的事项不能登记"
    )


def test_a_late_entered_objection_reopens_the_notice() -> None:
    d = to_appoint()
    out = d.do("objection", objection("O1", on=NOTICE_ENDS))
    assert out[-1].payload == {"from": "appointment", "to": "public_notice"}
    assert d.status("p1") is CandidateStatus.ON_NOTICE
    assert d.book.step_key() == "objection_verification:O1"
    d.do("objection_verdict", verdict("O1", ObjectionOutcome.NO_PROBLEM, date(2026, 10, 14)))
    assert d.stage is CaseStage.APPOINTMENT
    assert d.status("p1") is CandidateStatus.TO_APPOINT


def objected(outcome: ObjectionOutcome, verified: date = date(2026, 10, 15)) -> Driver:
    """An objection received during the notice, verified after it ended."""
    d = on_notice()
    d.do("objection", objection("O1"))
    out = d.end_notice()
    assert [h.kind for h in out] == ["timer"]  # nothing moves while O1 is unverified
    step = d.book.awaited_step()
    assert step is not None
    assert (step.key, step.policy_step) == ("objection_verification:O1", "objection_verification")
    d.do("objection_verdict", verdict("O1", outcome, verified))
    return d


def test_verdict_no_problem_appoints() -> None:
    d = objected(ObjectionOutcome.NO_PROBLEM)
    p1 = d.book.candidate("p1")
    assert (p1.status, p1.reminded) == (CandidateStatus.TO_APPOINT, False)
    assert d.stage is CaseStage.APPOINTMENT
    o = d.book.state.objections[0]
    assert (o.outcome, o.verified_on) == (ObjectionOutcome.NO_PROBLEM, date(2026, 10, 15))


def test_verdict_minor_shortcomings_appoints_with_a_reminder() -> None:
    d = objected(ObjectionOutcome.MINOR_SHORTCOMINGS)
    p1 = d.book.candidate("p1")
    assert (p1.status, p1.reminded) == (CandidateStatus.TO_APPOINT, True)
    assert d.stage is CaseStage.APPOINTMENT


def test_verdict_serious_confirmed_does_not_appoint() -> None:
    d = objected(ObjectionOutcome.SERIOUS_CONFIRMED)
    p1 = d.book.candidate("p1")
    assert p1.status is CandidateStatus.NOT_APPOINTED
    assert p1.note == "反映 O1：严重问题属实，不予任用"
    assert d.book.state.status is CaseStatus.NOT_APPOINTED
    assert d.book.state.outcome_reason == "任前公示后没有可任用的人选"


def test_verdict_serious_unverifiable_suspends_for_three_months() -> None:
    d = objected(ObjectionOutcome.SERIOUS_UNVERIFIABLE, date(2026, 10, 15))
    p1 = d.book.candidate("p1")
    assert p1.status is CandidateStatus.SUSPENDED
    assert p1.suspended_until == date(2027, 1, 15)
    assert p1.note == "暂缓任用至 2027-01-15"
    assert d.stage is CaseStage.PUBLIC_NOTICE
    step = d.book.awaited_step()
    assert step is not None
    assert step.key == "suspension:p1"
    # the department decides, reminded by the policy's suspension_decision, before the limit
    assert step.policy_step == "suspension_decision"
    assert step.responsible_role is Role.CLERK
    assert step.until == datetime(2027, 1, 16, tzinfo=SHANGHAI)
    assert d.book.step_started_on(step, date(2026, 12, 1)) == date(2026, 10, 15)


def test_suspension_end_at_a_month_end() -> None:
    d = objected(ObjectionOutcome.SERIOUS_UNVERIFIABLE, date(2026, 10, 31))
    assert d.book.candidate("p1").suspended_until == date(2027, 1, 31)


def test_a_verdict_during_the_notice_waits_for_its_end() -> None:
    d = on_notice()
    d.do("objection", objection("O1", on=date(2026, 9, 30)))
    out = d.do("objection_verdict", verdict("O1", ObjectionOutcome.NO_PROBLEM, date(2026, 10, 8)))
    assert [h.kind for h in out] == ["input"]
    assert d.book.step_key() == "notice_period"
    d.end_notice()
    assert d.stage is CaseStage.APPOINTMENT


def test_verdict_refusals() -> None:
    d = on_notice()
    d.do("objection", objection("O1"))
    e = refused(
        d.book.check_objection_verdict,
        verdict("O9", ObjectionOutcome.NO_PROBLEM, date(2026, 10, 9)),
        TODAY,
    )
    assert e.message == "本案件没有编号为 O9 的反映"
    e = refused(
        d.book.check_objection_verdict,
        verdict("O1", ObjectionOutcome.NO_PROBLEM, date(2026, 10, 7)),
        TODAY,
    )
    assert e.message == "核查（2026-10-07）不能早于收到反映（2026-10-08）"
    e = refused(
        d.book.check_objection_verdict,
        verdict("O1", ObjectionOutcome.NO_PROBLEM, TODAY + ONE_DAY),
        TODAY,
    )
    assert e.message == "核查的日期（2026-11-26）晚于今天（2026-11-25），尚未发生的事项不能登记"
    d.do("objection_verdict", verdict("O1", ObjectionOutcome.NO_PROBLEM, date(2026, 10, 9)))
    e = refused(
        d.book.check_objection_verdict,
        verdict("O1", ObjectionOutcome.SERIOUS_CONFIRMED, date(2026, 10, 9)),
        TODAY,
    )
    assert e.message == "反映 O1 已经核查"


def suspended() -> Driver:
    return objected(ObjectionOutcome.SERIOUS_UNVERIFIABLE, date(2026, 10, 15))


def test_a_decision_after_the_suspension_end_is_refused() -> None:
    d = suspended()
    later = date(2027, 2, 1)
    e = refused(d.book.check_suspension_decision, decision("p1", date(2027, 1, 16), True), later)
    assert e.message == "张三的暂缓任用已于 2027-01-15 期满；2027-01-16 作出的决定为时已晚"
    assert e.rule == "notice.suspension"
    d.book.check_suspension_decision(decision("p1", date(2027, 1, 15), True), later)


def test_a_decision_before_the_verification_is_refused() -> None:
    d = suspended()
    e = refused(d.book.check_suspension_decision, decision("p1", date(2026, 10, 14), True), TODAY)
    assert e.message == "决定（2026-10-14）不能早于核查（2026-10-15）"
    e = refused(d.book.check_suspension_decision, decision("p1", TODAY + ONE_DAY, True), TODAY)
    assert e.message == "决定的日期（2026-11-26）晚于今天（2026-11-25），尚未发生的事项不能登记"


def test_a_decision_on_someone_not_suspended_is_refused() -> None:
    d = on_notice()
    e = refused(d.book.check_suspension_decision, decision("p1", date(2026, 10, 15), True), TODAY)
    assert e.message == "张三未被暂缓任用"
    assert e.rule == "notice.suspension"


def test_a_decision_to_appoint_after_suspension() -> None:
    d = suspended()
    out = d.do("suspension_decision", decision("p1", date(2026, 11, 20), True))
    assert out[0].summary == "对张三的暂缓任用作出决定：予以任用"
    assert d.book.candidate("p1").note == "2026-11-20 对暂缓任用作出决定：核查完毕"
    assert d.status("p1") is CandidateStatus.TO_APPOINT
    assert d.stage is CaseStage.APPOINTMENT


def test_a_decision_not_to_appoint_after_suspension() -> None:
    d = suspended()
    d.do("suspension_decision", decision("p1", date(2026, 11, 20), False))
    assert d.status("p1") is CandidateStatus.NOT_APPOINTED
    assert d.book.state.status is CaseStatus.NOT_APPOINTED


def test_the_suspension_timer_ends_in_no_appointment() -> None:
    d = suspended()
    out = d.timer("suspension:p1", date(2027, 1, 16))
    p1 = d.book.candidate("p1")
    assert p1.status is CandidateStatus.NOT_APPOINTED
    assert p1.note == "暂缓任用于 2027-01-15 期满，未作出决定；暂缓任用最长 3 个月"
    assert out[0].kind == "timer"
    assert out[0].summary == f"张三：{p1.note}"
    assert out[-1].kind == "closed"
    assert d.book.state.outcome_reason == "任前公示后没有可任用的人选"


def test_the_earliest_suspension_is_awaited_first() -> None:
    people = [person("p1", "张三"), person("p2", "李四"), person("p3", "王五")]
    d = Driver(regular_case("reg-1", people, positions=2))
    d.through_inspection(["p1", "p2", "p3"], ["p1", "p2"])
    d.vote(agree("p1"), agree("p2"))
    d.publish()
    d.do("objection", objection("O1", "p1"))
    d.do("objection", objection("O2", "p2"))
    d.end_notice()
    assert d.book.step_key() == "objection_verification:O1,O2"
    d.do(
        "objection_verdict",
        verdict("O2", ObjectionOutcome.SERIOUS_UNVERIFIABLE, date(2026, 10, 14)),
    )
    d.do(
        "objection_verdict",
        verdict("O1", ObjectionOutcome.SERIOUS_UNVERIFIABLE, date(2026, 10, 15)),
    )
    assert d.book.step_key() == "suspension:p2"
    d.timer("suspension:p2", date(2027, 1, 15))
    assert d.book.step_key() == "suspension:p1"
    d.do("suspension_decision", decision("p1", date(2026, 11, 20), True))
    assert d.stage is CaseStage.APPOINTMENT
    assert [c.person_id for c in d.book.with_status(CandidateStatus.TO_APPOINT)] == ["p1"]


# --------------------------------------------------------------------------- appointment


@pytest.mark.parametrize(
    ("notice_on", "talk_on", "what", "when"),
    [
        (NOTICE_ENDS, date(2026, 10, 12), "任职通知", NOTICE_ENDS),
        (date(2026, 10, 12), NOTICE_ENDS, "任职谈话", NOTICE_ENDS),
        (NOTICE_DAY, date(2026, 10, 12), "任职通知", NOTICE_DAY),
    ],
)
def test_appointment_on_or_before_the_notice_end_is_refused(
    notice_on: date, talk_on: date, what: str, when: date
) -> None:
    d = to_appoint()
    data = AppointmentInput(
        actor=CLERK, person_id="p1", notice_issued_on=notice_on, talk_held_on=talk_on, talk_by="赵"
    )
    e = refused(d.book.check_appointment, data, TODAY)
    assert e.message == f"{what}（{when}）须在任前公示期满之后；任前公示至 2026-10-10 止"
    assert e.rule == "appointment.after_notice"


@given(st.dates(min_value=NOTICE_DAY, max_value=TODAY))
def test_appointment_refused_exactly_up_to_the_notice_end(on: date) -> None:
    d = copy.deepcopy(_appointment_template())
    if on <= NOTICE_ENDS:
        assert refused(d.book.check_appointment, appointment("p1", on), TODAY).message == (
            f"任职通知（{on}）须在任前公示期满之后；任前公示至 2026-10-10 止"
        )
    else:
        d.book.check_appointment(appointment("p1", on), TODAY)


@cache
def _appointment_template() -> Driver:
    return to_appoint()


def test_appointment_in_the_future_is_refused() -> None:
    d = to_appoint()
    e = refused(d.book.check_appointment, appointment("p1", TODAY + ONE_DAY), TODAY)
    assert e.message == (
        "任职通知的日期（2026-11-26）晚于今天（2026-11-25），尚未发生的事项不能登记"
    )


def test_appointing_someone_not_to_be_appointed_is_refused() -> None:
    d = to_appoint()
    e = refused(d.book.check_appointment, appointment("p2"), TODAY)
    assert e.message == "李四不是待任职人选（未提名）"
    assert e.rule == "appointment.subject"


def test_the_appointment_closes_the_case() -> None:
    d = to_appoint()
    out = d.appoint("p1")
    p1 = d.book.candidate("p1")
    assert p1.status is CandidateStatus.APPOINTED
    assert (p1.appointment_notice_on, p1.talk_on) == (date(2026, 10, 12), date(2026, 10, 12))
    assert out[0].summary == "张三任职：2026-10-12 发出任职通知，2026-10-12 由部长 赵进行任职谈话"
    assert out[1].summary == "结案（已任职）：任职人员：张三；实行试用期"
    assert out[1].kind == "closed"
    assert d.book.state.status is CaseStatus.APPOINTED
    assert d.book.state.outcome_reason == "任职人员：张三；实行试用期"
    assert d.book.awaited_step() is None


def test_without_probation_the_reason_says_nothing_of_it() -> None:
    d = to_appoint(regular_case("reg-1", probation_required=False))
    d.appoint("p1")
    assert d.book.state.outcome_reason == "任职人员：张三"


def two_posts_to_appoint() -> Driver:
    people = [person("p1", "张三"), person("p2", "李四"), person("p3", "王五")]
    d = Driver(regular_case("reg-1", people, positions=2))
    d.through_inspection(["p1", "p2", "p3"], ["p1", "p2"])
    d.vote(agree("p1"), agree("p2"))
    d.publish()
    d.end_notice()
    return d


def test_with_two_posts_the_case_closes_after_both() -> None:
    d = two_posts_to_appoint()
    out = d.appoint("p1")
    assert [h.kind for h in out] == ["input"]
    assert d.book.active
    assert d.stage is CaseStage.APPOINTMENT
    assert d.book.step_key() == "appointment"
    out = d.appoint("p2", date(2026, 10, 13))
    assert out[-1].kind == "closed"
    assert d.book.state.status is CaseStatus.APPOINTED
    assert d.book.state.outcome_reason == "任职人员：张三、李四；实行试用期"


def test_a_late_objection_about_the_second_appointee_is_still_verified() -> None:
    d = two_posts_to_appoint()
    d.appoint("p1")
    refused(d.book.check_objection, objection("O1", "p1"), TODAY)  # p1 is appointed
    d.do("objection", objection("O1", "p2"))
    assert d.stage is CaseStage.PUBLIC_NOTICE
    assert d.status("p1") is CandidateStatus.APPOINTED
    d.do("objection_verdict", verdict("O1", ObjectionOutcome.SERIOUS_CONFIRMED, date(2026, 10, 13)))
    assert d.book.state.status is CaseStatus.APPOINTED
    assert d.status("p2") is CandidateStatus.NOT_APPOINTED


# --------------------------------------------------------------------------- withdrawal


def _at_stage(stage: CaseStage) -> Driver:
    if stage is CaseStage.EXAM:
        return Driver(exam_case("reg-1", SelectionMethod.OPEN_SELECTION))
    if stage is CaseStage.PRE_INSPECTION_APPROVAL:
        p1 = person("p1", "张三", exceptional=exceptional(levels_skipped=1))
        return Driver(regular_case("reg-1", [p1, person("p2", "李四")]))
    if stage is CaseStage.INVESTIGATION_NOTICE:
        return Driver(regular_case("reg-1"))
    if stage is CaseStage.INSPECTION:
        return inspecting()
    if stage is CaseStage.HIGHER_APPROVAL:
        d = Driver(
            regular_case(
                "reg-1", [person("p1", "张三", exceptional=exceptional()), person("p2", "李四")]
            )
        )
        d.through_inspection(["p1", "p2"], ["p1"])
        return d
    if stage is CaseStage.VOTE:
        return fresh_at_vote()
    if stage is CaseStage.PUBLIC_NOTICE:
        return on_notice()
    return to_appoint()


@pytest.mark.parametrize("stage", [s for s in CaseStage if s is not CaseStage.CLOSED])
def test_withdrawal_at_any_stage(stage: CaseStage) -> None:
    d = _at_stage(stage)
    assert d.stage is stage
    data = withdrawal()
    out = d.do("withdraw", data)
    assert [h.kind for h in out] == ["input", "closed"]
    assert out[0].summary == f"在「{zh(stage)}」环节撤回案件：机构改革，职位撤销"
    assert out[1].summary == "结案（已撤回）：机构改革，职位撤销"
    assert out[1].actor == HEAD
    assert out[1].payload == {
        "from": stage.value,
        "status": "withdrawn",
        "reason": "机构改革，职位撤销",
    }
    s = d.book.state
    assert (s.stage, s.status, s.outcome_reason) == (
        CaseStage.CLOSED,
        CaseStatus.WITHDRAWN,
        "机构改革，职位撤销",
    )
    assert d.book.awaited_step() is None
    assert d.book.step_key() is None


def test_a_second_withdrawal_is_refused() -> None:
    d = Driver(regular_case("reg-1"))
    d.do("withdraw", withdrawal())
    e = refused(d.book.check_withdraw, withdrawal("again"), TODAY)
    assert e.message == "案件 reg-1 已结案（已撤回）"
    assert e.rule == "case.state"


def test_a_closed_case_refuses_every_step() -> None:
    d = Driver(regular_case("reg-1"))
    d.do("withdraw", withdrawal())
    data = InvestigationNoticeInput(actor=CLERK, published_on=INVESTIGATION_NOTICE)
    e = refused(d.book.check_investigation_notice, data, TODAY)
    assert e.message == "案件 reg-1 已结案（已撤回）"
    assert e.rule == "case.state"


def test_a_case_closed_by_the_vote_cannot_be_withdrawn() -> None:
    d = fresh_at_vote()
    d.vote(agree("p1", 2))
    e = refused(d.book.check_withdraw, withdrawal(), TODAY)
    assert e.message == "案件 reg-1 已结案（未任用）"


# --------------------------------------------------------------------------- the record


def full_regular_run() -> Driver:
    people = [person("p1", "张三"), person("p2", "李四"), person("p3", "王五")]
    d = Driver(regular_case("reg-1", people, positions=2, economic_audit_required=True))
    d.investigation_notice()
    d.team()
    for pid in ("p1", "p2", "p3"):
        d.inspect(pid, checks=(*FOUR_MUSTS, InspectionCheck.ECONOMIC_AUDIT))
    d.conclude("p1", "p2")
    d.vote(agree("p1"), VoteItem(person_id="p2", deferred_reason="待核实"))
    d.vote(agree("p2"), held_on=date(2026, 9, 28), mid="M2")
    d.publish()
    d.do("objection", objection("O1", "p1"))
    d.do("objection", objection("O2", "p2"))
    d.end_notice()
    d.do(
        "objection_verdict", verdict("O1", ObjectionOutcome.MINOR_SHORTCOMINGS, date(2026, 10, 14))
    )
    d.do(
        "objection_verdict",
        verdict("O2", ObjectionOutcome.SERIOUS_UNVERIFIABLE, date(2026, 10, 14)),
    )
    d.do("suspension_decision", decision("p2", date(2026, 11, 2), True))
    d.appoint("p1", date(2026, 11, 3))
    d.appoint("p2", date(2026, 11, 3))
    assert d.book.state.status is CaseStatus.APPOINTED
    return d


def full_exam_run() -> Driver:
    d = registered(4)
    d.do("written_test", scores(WRITTEN_ON, {"a1": 90, "a2": 85, "a3": 80, "a4": 75}))
    d.do("interview", scores(INTERVIEW_ON, {"a1": 90, "a2": 85, "a3": 80, "a4": 75}))
    d.investigation_notice(on=date(2026, 8, 10), window=(date(2026, 8, 11), date(2026, 8, 13)))
    d.do("inspection_team", team("李组长", "周干事", on=date(2026, 8, 11)))
    d.do("withdraw", withdrawal())
    return d


def approvals_run() -> Driver:
    p1 = person("p1", "张三", exceptional=exceptional(levels_skipped=1))
    d = Driver(regular_case("reg-1", [p1, person("p2", "李四")]))
    d.do("higher_approval", approval("p1", True, date(2026, 8, 20)))
    return d


def test_every_input_happening_carries_its_actor_and_a_payload_without_it() -> None:
    runs = [full_regular_run(), full_exam_run(), approvals_run()]
    steps = 0
    for d in runs:
        for data, out in d.inputs:
            inputs = [h for h in out if h.kind == "input"]
            assert len(inputs) == 1, out
            h = inputs[0]
            assert h.actor == data.actor
            assert h.actor != SYSTEM_ACTOR
            assert "actor" not in h.payload
            assert h.payload == data.model_dump(mode="json", exclude={"actor"})
            steps += 1
        assert all(
            h.actor == SYSTEM_ACTOR
            for h in d.happenings
            if h.kind in ("transition", "timer", "eligibility")
        )
    assert steps > 40


def test_the_full_run_passes_through_every_stage_in_order() -> None:
    d = full_regular_run()
    moves = [(h.payload["from"], h.payload["to"]) for h in d.happenings if h.kind == "transition"]
    moves = [m for m in moves if m[0] != m[1]]  # eligibility "moves" a regular case in place
    assert moves == [
        ("investigation_notice", "inspection"),
        ("inspection", "vote"),
        ("vote", "public_notice"),
        ("public_notice", "appointment"),
    ]
    assert d.book.candidate("p1").reminded
    assert not d.book.candidate("p2").reminded
    row = d.book.case_row(None, False)
    assert (row.stage, row.status, row.policy_version) == (
        CaseStage.CLOSED,
        CaseStatus.APPOINTED,
        "2026.4",
    )


def test_input_payloads_are_json() -> None:
    d = full_regular_run()
    vote_payload = d.inputs[[type(x).__name__ for x, _ in d.inputs].index("VoteInput")][1][
        0
    ].payload
    assert vote_payload["meeting"]["held_on"] == "2026-09-22"
    assert vote_payload["meeting"]["method"] == "secret_ballot"


def test_the_actor_of_each_input_is_the_one_given() -> None:
    d = on_notice()
    someone = Actor(name="另一科员", role=Role.SECTION_CHIEF)
    out = d.do("objection", objection("O1").model_copy(update={"actor": someone}))
    assert out[0].actor == someone
    assert out[0].payload["objection_id"] == "O1"
    assert d.inputs[0][1][0].actor == CLERK  # the investigation notice
    vote_input = next(h for data, hs in d.inputs for h in hs if data.actor == SECRETARY)
    assert vote_input.actor == SECRETARY


# --------------------------------------------------------------------------- bugs found


def test_an_unverifiable_verdict_does_not_revive_a_confirmed_serious_problem() -> None:
    d = on_notice()
    d.do("objection", objection("O1"))
    d.do("objection", objection("O2", on=date(2026, 10, 9)))
    d.end_notice()
    d.do("objection_verdict", verdict("O1", ObjectionOutcome.SERIOUS_CONFIRMED, date(2026, 10, 14)))
    assert d.status("p1") is CandidateStatus.NOT_APPOINTED
    d.do(
        "objection_verdict",
        verdict("O2", ObjectionOutcome.SERIOUS_UNVERIFIABLE, date(2026, 10, 15)),
    )
    # Today: p1 is SUSPENDED, the case waits on "suspension:p1", and a decision to appoint
    # is accepted and leads to the appointment of someone found to have a serious problem.
    assert d.status("p1") is CandidateStatus.NOT_APPOINTED
    assert d.book.state.status is CaseStatus.NOT_APPOINTED


def test_a_second_unverifiable_verdict_does_not_extend_the_suspension() -> None:
    d = on_notice()
    d.do("objection", objection("O1"))
    d.do("objection", objection("O2", on=date(2026, 10, 9)))
    d.end_notice()
    d.do(
        "objection_verdict",
        verdict("O1", ObjectionOutcome.SERIOUS_UNVERIFIABLE, date(2026, 10, 12)),
    )
    assert d.book.candidate("p1").suspended_until == date(2027, 1, 12)
    d.do(
        "objection_verdict",
        verdict("O2", ObjectionOutcome.SERIOUS_UNVERIFIABLE, date(2026, 11, 20)),
    )
    # Today: suspended_until becomes 2027-02-20, more than four months after 2026-10-12.
    assert d.book.candidate("p1").suspended_until == date(2027, 1, 12)


def test_an_objection_about_a_suspended_candidate_is_recorded() -> None:
    d = on_notice()
    d.do("objection", objection("O1"))
    d.end_notice()
    d.do(
        "objection_verdict",
        verdict("O1", ObjectionOutcome.SERIOUS_UNVERIFIABLE, date(2026, 10, 12)),
    )
    # O2 came by post on the last day of the notice and is entered after O1's verdict.
    d.book.check_objection(objection("O2", on=NOTICE_ENDS), TODAY)


# --------------------------------------------------------------------------- the public board


def test_no_notice_before_the_investigation_notice_is_published() -> None:
    d = Driver(regular_case("pub-1"))
    assert d.book.public_notice() is None


def test_investigation_notice_shows_the_people_to_be_inspected_while_they_are() -> None:
    d = Driver(regular_case("pub-2"))
    d.investigation_notice()
    d.team()
    view = d.book.public_notice()
    assert view is not None
    assert view.kind is NoticeKind.INVESTIGATION
    assert view.published_on == INVESTIGATION_NOTICE
    assert view.ends_on is None  # the inspection has not concluded
    assert [p.person_id for p in view.people] == ["p1", "p2"]
    assert view.proposed_post == "副局长" and view.unit == "县环保局"
    d.inspect("p1")
    d.inspect("p2")
    d.conclude("p1")
    assert d.book.public_notice() is None  # the committee's turn: no notice before the public


def test_pre_appointment_notice_shows_only_who_is_on_it_and_its_period() -> None:
    d = on_notice()
    view = d.book.public_notice()
    assert view is not None
    assert view.kind is NoticeKind.PRE_APPOINTMENT
    assert (view.published_on, view.ends_on) == (NOTICE_DAY, NOTICE_ENDS)
    assert [p.person_id for p in view.people] == ["p1"]  # p2 was not proposed
    d.end_notice()
    still = d.book.public_notice()
    assert still is not None and still.people == view.people


def test_published_fields_are_exactly_the_notice_fields() -> None:
    view = on_notice().book.public_notice()
    assert view is not None
    assert set(PublishedPerson.model_fields) == {
        "person_id",
        "name",
        "sex",
        "ethnicity",
        "birth_date",
        "party_member",
        "education",
        "work_started_on",
        "current_post",
        "short_cv",
        "exceptional_reason",
    }
    # nothing of the inspection (findings, sanctions, evaluation, scores) reaches the board
    dumped = view.model_dump_json()
    for private in ("sanction", "finding", "score", "excellent", "rank"):
        assert private not in dumped


def test_exceptional_promotion_notice_states_its_reason() -> None:
    people = [
        person("p1", "张三", exceptional=exceptional()),
        person("p2", "李四"),
    ]
    d = Driver(regular_case("pub-3", people))
    d.investigation_notice()
    view = d.book.public_notice()
    assert view is not None
    reasons = {p.person_id: p.exceptional_reason for p in view.people}
    assert reasons == {"p1": "抗洪抢险中表现突出", "p2": ""}


def test_no_notice_once_the_case_is_closed() -> None:
    d = on_notice()
    d.do("withdraw", withdrawal())
    assert d.book.public_notice() is None


def test_one_verdict_for_a_group_of_identical_objections() -> None:
    d = on_notice()
    for oid in ("O1", "O2", "O3"):
        d.do("objection", objection(oid))
    d.end_notice()
    assert d.book.step_key() == "objection_verification:O1,O2,O3"
    group = verdict("O1", ObjectionOutcome.NO_PROBLEM, date(2026, 10, 15))
    group = group.model_copy(update={"same_for": ["O2", "O3"]})
    [event, *after] = d.do("objection_verdict", group)
    assert event.summary == "关于张三的反映 O1、O2、O3 核查完毕：未发现问题，任用"
    assert [o.outcome for o in d.book.state.objections] == [ObjectionOutcome.NO_PROBLEM] * 3
    assert d.stage is CaseStage.APPOINTMENT and after


def test_a_group_verdict_is_refused_whole_when_one_of_it_does_not_fit() -> None:
    people = [person("p1", "张三"), person("p2", "李四"), person("p3", "王五")]
    d = Driver(regular_case("reg-1", people, positions=2))
    d.through_inspection(["p1", "p2", "p3"], ["p1", "p2"])
    d.vote(agree("p1"), agree("p2"))
    d.publish()
    d.do("objection", objection("O1"))
    d.do("objection", objection("O2"))
    d.do("objection", objection("O3", pid="p2"))
    d.do("objection_verdict", verdict("O2", ObjectionOutcome.NO_PROBLEM, date(2026, 10, 9)))
    base = verdict("O1", ObjectionOutcome.NO_PROBLEM, date(2026, 10, 9))
    cases = {
        "O2": "反映 O2 已经核查",
        "O3": "反映 O3 与反映 O1 涉及的不是同一人；一个核查结果只能涵盖关于同一人的反映",
        "O1": "反映 O1 在同一核查结果中重复列出",
        "O9": "本案件没有编号为 O9 的反映",
    }
    for other, message in cases.items():
        grouped = base.model_copy(update={"same_for": [other]})
        assert refused(d.book.check_objection_verdict, grouped, TODAY).message == message
    assert d.book.state.objections[0].outcome is None


def test_a_clerk_related_to_an_applicant_cannot_record_the_exam_scores() -> None:
    """回避: the clerk who declared 考生2 his nephew leaves the written test to a colleague."""
    d = registered(3)
    d.book.state.relationships.append(
        DeclaredRelationship(
            person_id="a2", related_name=CLERK.name, relation=RelationshipKind.COLLATERAL
        )
    )
    written = scores(WRITTEN_ON, {"a1": 80, "a2": 70, "a3": 65})
    e = refused(d.book.check_written_test, written, TODAY)
    assert e.rule.startswith("recusal.")
    assert "考生2" in e.message
    colleague = written.model_copy(update={"actor": Actor(name="孙科员", role=Role.CLERK)})
    d.book.check_written_test(colleague, TODAY)
