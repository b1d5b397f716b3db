"""Each gate judges on the date of the act it gates (issue #16, classes 1 and 2): the
opening on the case's opening date, the inspection on its start, the vote on the meeting,
the appointment on its notice, never on the day the case is typed in (``TODAY``)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.workflows.scenarios import (
    INSPECTION_START,
    INVESTIGATION_NOTICE,
    MEETING_DAY,
    NOTICE_ENDS,
    OPENED,
    agree,
    appointment,
    person,
    regular_case,
    scores,
    vote,
)
from tests.workflows.test_case_book import (
    CONCLUDED,
    INTERVIEW_ON,
    TODAY,
    Driver,
    exam_through_written,
    exceptional,
    recommended_on,
    refused,
    team,
)
from workflows.case_book import AwaitedStep
from workflows.rules.dates import add_months
from workflows.rules.eligibility import RULE_EXCEPTIONAL, RULE_IMPACT, RULE_RECOMMENDATION
from workflows.types import (
    AppointmentInput,
    CandidateStatus,
    CaseInput,
    CaseStage,
    Role,
    Sanction,
    SanctionKind,
    VoteItem,
)

APPOINTED = date(2026, 10, 12)  # the appointment notice of ``Driver.appoint``


def warned_on(decided_on: date, kind: SanctionKind = SanctionKind.STATE_WARNING) -> CaseInput:
    """Two candidates for one post; 张三 sanctioned on ``decided_on``."""
    p1 = person("p1", "张三", sanctions=[Sanction(kind=kind, decided_on=decided_on)])
    return regular_case("late-1", [p1, person("p2", "李四")])


def brought_in(case: CaseInput) -> Driver:
    """A case typed in on ``TODAY`` with its own past dates: the opening is judged on the
    case's opening date, as the workflow does (``book.state.opened_on``)."""
    return Driver(case, eligible_on=OPENED)


def sentence(act: str, on: date, decided_on: date, end: date, refused_what: str) -> str:
    return (
        f"{act}之日（{on}）：张三于 {decided_on} 受到政务警告，"
        f"尚在影响期内（{end} 起期满）；不能{refused_what}"
    )


# --------------------------------------------------------------------------- the gates


@pytest.mark.parametrize(
    ("decided_on", "gate"),
    [
        # a warning decided in March ends on 09-01: it covered the opening (08-03)
        (date(2026, 3, 1), "opening"),
        # decided after the opening, before the inspection started (09-08)
        (date(2026, 8, 20), "inspection"),
        # decided after the inspection, before the meeting (09-22)
        (date(2026, 9, 17), "vote"),
        # decided after the vote, before the appointment notice (10-12)
        (date(2026, 10, 11), "appointment"),
        # ended before the opening (02-01 + 6 months = 08-01): nothing stops the case
        (date(2026, 2, 1), None),
    ],
)
def test_each_gate_judges_on_its_own_date(decided_on: date, gate: str | None) -> None:
    """Typed in on 11-25, after every one of these periods ended (the warning lasts six
    months; the last ends 2027-04-11, the first 09-01): judged on 11-25, the candidate
    would go through every gate."""
    end = add_months(decided_on, 6)
    d = brought_in(warned_on(decided_on))
    if gate == "opening":
        assert d.status("p1") is CandidateStatus.INELIGIBLE
        assert d.book.candidate("p1").note == (
            f"张三于 {decided_on} 受到政务警告，尚在影响期内（{end} 起期满）"
        )
        assert d.happenings[1].payload["checked_on"] == str(OPENED)
        return
    assert d.status("p1") is CandidateStatus.IN_POOL
    d.investigation_notice()
    if gate == "inspection":
        e = refused(d.book.check_inspection_team, team("李组长", "周干事"), TODAY)
        assert e.message == sentence("考察开始", INSPECTION_START, decided_on, end, "进行考察")
        assert e.rule == RULE_IMPACT
        return
    d.team()
    d.inspect("p1")
    d.inspect("p2")
    d.conclude("p1")
    if gate == "vote":
        e = refused(d.book.check_vote, vote([agree("p1")]), TODAY)
        assert e.message == sentence("常委会会议", MEETING_DAY, decided_on, end, "提交常委会表决")
        assert e.rule == RULE_IMPACT
        return
    d.vote(agree("p1"))
    d.publish()
    d.end_notice()
    if gate == "appointment":
        e = refused(d.book.check_appointment, _appointment("p1"), TODAY)
        assert e.message == sentence("任职通知", APPOINTED, decided_on, end, "予以任职")
        assert e.rule == RULE_IMPACT
        return
    d.appoint("p1")
    assert d.stage is CaseStage.CLOSED


def _appointment(pid: str) -> AppointmentInput:  # the notice of ``Driver.appoint``
    return appointment(pid, APPOINTED)


@given(st.dates(min_value=date(2026, 8, 4), max_value=date(2026, 9, 20)))
def test_the_inspection_gate_refuses_exactly_inside_the_period(decided_on: date) -> None:
    """A warning decided after the opening: the inspection starting on 09-08 is refused
    exactly when the warning was decided by then (six months have not passed)."""
    d = brought_in(warned_on(decided_on))
    d.investigation_notice()
    barred = decided_on <= INSPECTION_START
    if barred:
        assert refused(d.book.check_inspection_team, team("李组长", "周干事"), TODAY).rule == (
            RULE_IMPACT
        )
    else:
        d.book.check_inspection_team(team("李组长", "周干事"), TODAY)


def test_the_exceptional_limits_are_judged_on_the_opening_date() -> None:
    """Promoted 2025-10-01: a year has passed by 11-25, the day the case is typed in, but
    not by its opening (08-03)."""
    p1 = person("p1", "张三", last_promotion_on=date(2025, 10, 1), exceptional=exceptional())
    case = regular_case("late-1", [p1, person("p2", "李四"), person("p3", "王五")])
    assert Driver(case).status("p1") is CandidateStatus.IN_POOL  # judged on the wrong day
    d = brought_in(case)
    assert d.status("p1") is CandidateStatus.INELIGIBLE
    assert d.book.candidate("p1").note == (
        "张三上次提拔于 2025-10-01；提拔任职不满一年的不得破格提拔（2026-10-01 起方可）"
    )


def test_the_exceptional_limits_bind_at_the_inspection_gate_too() -> None:
    # the pool judged on the opening by hand, as a case from before this gate existed was
    p1 = person("p1", "张三", last_promotion_on=date(2025, 10, 1), exceptional=exceptional())
    d = Driver(regular_case("late-1", [p1, person("p2", "李四")]))
    d.investigation_notice()
    e = refused(d.book.check_inspection_team, team("李组长", "周干事"), TODAY)
    assert e.rule == RULE_EXCEPTIONAL
    assert e.message == (
        "考察开始之日（2026-09-08）：张三上次提拔于 2025-10-01；提拔任职不满一年的"
        "不得破格提拔（2026-10-01 起方可）；不能进行考察"
    )


# --------------------------------------------------------------------------- recommendation


def test_a_recommendation_stale_by_the_inspection_stops_it() -> None:
    """Held 2025-09-01: valid at the opening (08-03), a year old on 09-01, so the
    inspection starting 09-08 is refused, before a whole inspection is run on it."""
    d = brought_in(recommended_on(date(2025, 9, 1), opened_on=OPENED))
    d.investigation_notice()
    e = refused(d.book.check_inspection_team, team("李组长", "周干事"), TODAY)
    assert e.rule == RULE_RECOMMENDATION
    assert e.message == (
        "2025-09-01 的民主推荐到 2026-09-08 已超过 12 个月；民主推荐结果一年内有效"
    )


@given(st.dates(min_value=date(2025, 8, 3), max_value=date(2025, 9, 30)))
def test_the_inspection_gate_refuses_a_recommendation_exactly_older_than_a_year(
    held_on: date,
) -> None:
    d = brought_in(recommended_on(held_on, opened_on=OPENED))
    d.investigation_notice()
    if INSPECTION_START > add_months(held_on, 12):
        e = refused(d.book.check_inspection_team, team("李组长", "周干事"), TODAY)
        assert e.rule == RULE_RECOMMENDATION
    else:
        d.book.check_inspection_team(team("李组长", "周干事"), TODAY)


def test_a_recommendation_valid_at_the_inspection_is_judged_again_at_the_vote() -> None:
    held_on = date(2025, 9, 20)  # valid on 09-08 and up to 09-20; the meeting is on 09-22
    d = brought_in(recommended_on(held_on, opened_on=OPENED))
    d.investigation_notice()
    d.team()
    d.inspect("p1")
    d.inspect("p2")
    d.conclude("p1")
    e = refused(d.book.check_vote, vote([agree("p1")]), TODAY)
    assert e.rule == RULE_RECOMMENDATION
    d.book.check_vote(vote([agree("p1")], held_on=MEETING_DAY - timedelta(days=2)), TODAY)


# --------------------------------------------------------------------------- deadlines (class 8)


def _steps_of_a_case() -> list[tuple[str, date]]:
    """Drive the standard case, noting at each awaited human step the day it started."""
    seen: list[tuple[str, date]] = []

    def note(d: Driver) -> None:
        step = d.book.awaited_step()
        assert step is not None
        seen.append((step.key, d.book.step_started_on(step, TODAY)))

    d = Driver(regular_case("dates-1"))
    note(d)  # investigation notice, from the opening
    d.investigation_notice()
    note(d)  # the team, from the notice's publication
    d.team()
    note(d)  # the inspection, from its start
    d.inspect("p1")
    d.inspect("p2")
    d.conclude("p1")
    assert d.book.state.dates["inspection_concluded"] == CONCLUDED
    note(d)  # the vote, from the conclusion
    d.vote(VoteItem(person_id="p1", deferred_reason="需进一步核实"))
    note(d)  # the vote again, from the meeting that deferred
    d.vote(agree("p1"), held_on=date(2026, 9, 25), mid="M2")
    note(d)  # the public notice, from the meeting that decided
    d.publish()
    d.end_notice()
    note(d)  # the appointment, from the notice's end
    exam = exam_through_written()
    note(exam)  # the interview, from the written test
    exam.do("interview", scores(INTERVIEW_ON, {f"a{i}": 80.0 for i in range(1, 6)}))
    note(exam)  # the investigation notice, from the interview
    return seen


def test_each_step_starts_on_the_recorded_date_that_opened_it() -> None:
    assert _steps_of_a_case() == [
        ("investigation_notice", OPENED),
        ("inspection_team", INVESTIGATION_NOTICE),
        ("inspection", INSPECTION_START),
        ("vote", date(2026, 9, 16)),
        ("revote:2026-09-22", MEETING_DAY),
        ("public_notice", date(2026, 9, 25)),
        ("appointment", NOTICE_ENDS),
        ("interview", date(2026, 7, 25)),
        ("investigation_notice", date(2026, 8, 8)),
    ]


def test_a_step_with_no_recorded_start_runs_from_today() -> None:
    d = Driver(regular_case("dates-2"))
    timer = AwaitedStep("notice_period", None, Role.CLERK, "公示期")
    assert d.book.step_started_on(timer, TODAY) == TODAY
    # an appointment after a suspension: the decision's day is not recorded
    d = Driver(regular_case("dates-3"))
    d.book.state.candidates[0].suspended_until = date(2027, 1, 8)
    appointment_step = AwaitedStep("appointment", "appointment", Role.CLERK, "任职")
    assert d.book.step_started_on(appointment_step, TODAY) == TODAY
    # a case opened today runs from today
    today_case = Driver(regular_case("dates-4", opened_on=None))
    step = today_case.book.awaited_step()
    assert step is not None and today_case.book.step_started_on(step, TODAY) == TODAY


# --------------------------------------------------------------------------- accountability

REMOVED = date(2025, 5, 3)  # removed by accountability (问责) 15 months before the opening


@pytest.mark.parametrize(
    ("promotion", "leading_post", "note"),
    [
        (False, True, ""),  # 12 months have passed: a lateral move into a leading post
        (False, False, ""),
        (True, True, "2027-05-03 起期满；24 个月内不得担任高于原任职务层次的职务"),
        (True, False, "2027-05-03 起期满；24 个月内不得担任高于原任职务层次的职务"),
    ],
)
def test_accountability_bars_by_the_post_and_the_move(
    promotion: bool, leading_post: bool, note: str
) -> None:
    """Issue #16, class 6: the case file says whether the post is a leading post and,
    per candidate, whether it is a promotion; only a promotion waits the 24 months."""
    p1 = person(
        "p1",
        "张三",
        promotion=promotion,
        sanctions=[Sanction(kind=SanctionKind.ACCOUNTABILITY_REMOVAL, decided_on=REMOVED)],
    )
    d = brought_in(regular_case("late-1", [p1, person("p2", "李四")], leading_post=leading_post))
    if note:
        assert d.status("p1") is CandidateStatus.INELIGIBLE
        assert d.book.candidate("p1").note == (
            f"张三于 {REMOVED} 受到问责（引咎辞职、责令辞职或免职），尚在影响期内（{note}）"
        )
        return
    assert d.status("p1") is CandidateStatus.IN_POOL
    d.investigation_notice()
    d.team()
    d.inspect("p1")
    d.inspect("p2")
    d.conclude("p1")
    d.vote(agree("p1"))
    d.publish()
    d.end_notice()
    d.appoint("p1")
    assert d.stage is CaseStage.CLOSED and d.status("p1") is CandidateStatus.APPOINTED


@given(st.dates(min_value=date(2025, 7, 1), max_value=date(2025, 10, 31)))
def test_a_lateral_move_waits_exactly_12_months_at_each_gate(removed_on: date) -> None:
    """Removed around the opening's year-ago day: a lateral move into a leading post is
    judged on the opening (08-03) and again on the inspection's start (09-08)."""
    p1 = person(
        "p1",
        "张三",
        promotion=False,
        sanctions=[Sanction(kind=SanctionKind.ACCOUNTABILITY_REMOVAL, decided_on=removed_on)],
    )
    d = brought_in(regular_case("late-1", [p1, person("p2", "李四")]))
    free_on = add_months(removed_on, 12)
    if OPENED < free_on:
        assert d.status("p1") is CandidateStatus.INELIGIBLE
        return
    assert d.status("p1") is CandidateStatus.IN_POOL
    d.investigation_notice()
    d.book.check_inspection_team(team("李组长", "周干事"), TODAY)


def test_a_case_file_without_the_new_fields_reads_as_before() -> None:
    """Saved case files and histories name neither field: a leading post, a promotion."""
    data = regular_case("late-1").model_dump(mode="json")
    del data["leading_post"]
    for c in data["candidates"]:
        del c["promotion"]
    case = CaseInput.model_validate(data)
    assert case.leading_post and all(c.promotion for c in case.candidates)
