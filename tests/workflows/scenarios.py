"""Inputs for driving cases through their steps, with dates of outside events in the past."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from tests.workflows.conftest import CaseRunner
from workflows.types import (
    FOUR_MUSTS,
    Actor,
    Applicant,
    AppointmentInput,
    Candidate,
    CaseInput,
    CaseState,
    DemocraticEvaluationInput,
    DemocraticRecommendation,
    ExamScoresInput,
    InspectionCheckInput,
    InspectionConclusionInput,
    InspectionReportInput,
    InspectionTeamInput,
    InvestigationNoticeInput,
    Meeting,
    PublicNoticeInput,
    RegistrationInput,
    Role,
    Score,
    SelectionMethod,
    VoteInput,
    VoteItem,
    VoteMethod,
)

CLERK = Actor(name="王科员", role=Role.CLERK)
TEAM = Actor(name="考察组 李组长", role=Role.INSPECTION_TEAM)
SECRETARY = Actor(name="常委会 秘书", role=Role.COMMITTEE_SECRETARY)
HEAD = Actor(name="部长 赵", role=Role.DEPARTMENT_HEAD)

# A timeline of outside events, all before the test server's clock (the real date).
OPENED = date(2026, 8, 3)
RECOMMENDED = date(2026, 7, 20)
INVESTIGATION_NOTICE = date(2026, 9, 7)  # Monday; inspection may start 9-8 .. 9-10
INSPECTION_START = date(2026, 9, 8)
INSPECTION_DONE = date(2026, 9, 15)
MEETING_DAY = date(2026, 9, 22)
NOTICE_DAY = date(2026, 9, 29)  # 9-29, 9-30, [10-01..07 off], 10-08, 10-09, 10-10 (make-up Sat)
NOTICE_ENDS = date(2026, 10, 10)
APPOINTED_ON = date(2026, 10, 12)


def person(pid: str, name: str, **extra: Any) -> Candidate:
    return Candidate(person_id=pid, name=name, current_post="科长", current_rank="正科", **extra)


def regular_case(case_id: str, people: list[Candidate] | None = None, **extra: Any) -> CaseInput:
    fields: dict[str, Any] = {
        "case_id": case_id,
        "unit": "县环保局",
        "post": "副局长",
        "positions": 1,
        "method": SelectionMethod.REGULAR_APPOINTMENT,
        "probation_required": True,
        "candidates": people or [person("p1", "张三"), person("p2", "李四")],
        "recommendation": DemocraticRecommendation(held_on=RECOMMENDED, participants=45),
        "opened_by": CLERK,
        "opened_on": OPENED,
    }
    fields.update(extra)
    return CaseInput(**fields)


def exam_case(case_id: str, method: SelectionMethod, **extra: Any) -> CaseInput:
    fields: dict[str, Any] = {
        "case_id": case_id,
        "unit": "县财政局",
        "post": "办公室主任",
        "positions": 1,
        "method": method,
        "opened_by": CLERK,
        "opened_on": date(2026, 7, 1),
    }
    fields.update(extra)
    return CaseInput(**fields)


def registration(n: int) -> RegistrationInput:
    return RegistrationInput(
        actor=CLERK,
        announced_on=date(2026, 7, 6),
        closed_on=date(2026, 7, 17),
        applicants=[
            Applicant(
                candidate=person(f"a{i}", f"考生{i}"),
                registered_on=date(2026, 7, 10),
                qualified=True,
            )
            for i in range(1, n + 1)
        ],
    )


def scores(held_on: date, values: Mapping[str, float]) -> ExamScoresInput:
    return ExamScoresInput(
        actor=CLERK,
        held_on=held_on,
        scores=[Score(person_id=k, score=v) for k, v in values.items()],
    )


async def run_exam(
    r: CaseRunner, h: Any, written: Mapping[str, float], interview: Mapping[str, float]
) -> CaseState:
    await r.update(h, "record_registration", registration(len(written)))
    await r.update(h, "record_written_test", scores(date(2026, 7, 25), written))
    return await r.update(h, "record_interview", scores(date(2026, 8, 8), interview))


def investigation_notice(reason: str = "") -> InvestigationNoticeInput:
    return InvestigationNoticeInput(
        actor=CLERK, published_on=INVESTIGATION_NOTICE, one_to_one_reason=reason
    )


async def inspect(
    r: CaseRunner,
    h: Any,
    people: list[str],
    propose: list[str],
    reason: str = "",
    *,
    notice_sent: bool = False,
) -> CaseState:
    """The inspection from the investigation notice (unless ``notice_sent`` with the start)
    to its conclusion."""
    if not notice_sent:
        await r.update(h, "record_investigation_notice", investigation_notice(reason))
    await r.update(
        h,
        "record_inspection_team",
        InspectionTeamInput(
            actor=CLERK, members=[TEAM.name, "周干事"], started_on=INSPECTION_START
        ),
    )
    for pid in people:
        for check in FOUR_MUSTS:
            await r.update(
                h,
                "record_inspection_check",
                InspectionCheckInput(
                    actor=TEAM,
                    person_id=pid,
                    check=check,
                    completed_on=date(2026, 9, 10),
                    finding="无问题",
                ),
            )
        await r.update(
            h,
            "record_democratic_evaluation",
            DemocraticEvaluationInput(
                actor=TEAM,
                person_id=pid,
                held_on=date(2026, 9, 9),
                participants=40,
                excellent=30,
                competent=8,
                basically_competent=2,
                incompetent=0,
            ),
        )
        await r.update(
            h,
            "record_inspection_report",
            InspectionReportInput(
                actor=TEAM, person_id=pid, submitted_on=INSPECTION_DONE, summary="德才表现良好"
            ),
        )
    return await r.update(
        h,
        "conclude_inspection",
        InspectionConclusionInput(actor=CLERK, concluded_on=date(2026, 9, 16), proposed=propose),
    )


def meeting(
    held_on: date = MEETING_DAY, members: int = 11, present: int = 9, mid: str = "M1"
) -> Meeting:
    return Meeting(
        meeting_id=mid,
        held_on=held_on,
        members=members,
        present=present,
        method=VoteMethod.SECRET_BALLOT,
    )


def vote(items: list[VoteItem], **kw: Any) -> VoteInput:
    return VoteInput(actor=SECRETARY, meeting=meeting(**kw), items=items)


def agree(pid: str, yes: int = 8, present: int = 9) -> VoteItem:
    return VoteItem(person_id=pid, agree=yes, disagree=present - yes, defer=0)


def notice(published_on: date = NOTICE_DAY, nid: str = "N1") -> PublicNoticeInput:
    return PublicNoticeInput(actor=CLERK, notice_id=nid, published_on=published_on)


def appointment(pid: str, on: date = APPOINTED_ON) -> AppointmentInput:
    return AppointmentInput(
        actor=CLERK, person_id=pid, notice_issued_on=on, talk_held_on=on, talk_by="部长 赵"
    )
