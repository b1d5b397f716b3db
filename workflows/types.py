"""Typed inputs and outputs of the appointment-case workflow, its updates and activities.

Every workflow, update, query and activity takes exactly one of these models so that fields
can be added later without breaking running workflows (new fields always get defaults).
Dates of things that happen outside the system (a notice published, a meeting held) are
``date`` values supplied by people; instants the system itself observes are ``datetime``.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

# The longest text one field may hold (a CV, a finding, a summary are far shorter): a
# technical bound that keeps every input well inside Temporal's limit on one payload.
MAX_TEXT = 20_000


def text_problem(value: object) -> str:
    """Why text somewhere in ``value`` cannot be stored and sent, or "" if it can: U+0000
    (PostgreSQL refuses it), a lone surrogate (not Unicode, so not UTF-8 either)."""
    if isinstance(value, str):
        if "\x00" in value:
            return "text may not hold the character U+0000"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"text holds {value[exc.start]!r}, which is not a character (a lone surrogate)"
        return ""
    if isinstance(value, list | tuple | set | frozenset):
        return next((p for p in map(text_problem, value) if p), "")
    if isinstance(value, dict):
        return next((p for p in map(text_problem, [*value, *value.values()]) if p), "")
    return ""


class Model(BaseModel):
    """Base of every wire model: unknown fields are refused, so a typo never passes silently;
    text that PostgreSQL or UTF-8 cannot hold, or longer than ``MAX_TEXT``, is refused
    before it reaches a workflow (where it would stop the case's recording)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        problem = text_problem(value)
        if problem:
            raise ValueError(problem)
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise ValueError(f"text of {len(value)} characters; at most {MAX_TEXT}")
        return value


# --------------------------------------------------------------------------- enumerations


class SelectionMethod(StrEnum):
    OPEN_SELECTION = "open_selection"  # 公开选拔, with exam
    COMPETITIVE_APPOINTMENT = "competitive_appointment"  # 竞争上岗, with exam
    REGULAR_APPOINTMENT = "regular_appointment"  # no exam; candidates from 民主推荐


EXAM_METHODS = frozenset({SelectionMethod.OPEN_SELECTION, SelectionMethod.COMPETITIVE_APPOINTMENT})


class CaseStage(StrEnum):
    EXAM = "exam"
    PRE_INSPECTION_APPROVAL = "pre_inspection_approval"
    INVESTIGATION_NOTICE = "investigation_notice"
    INSPECTION = "inspection"
    HIGHER_APPROVAL = "higher_approval"
    VOTE = "vote"
    PUBLIC_NOTICE = "public_notice"
    APPOINTMENT = "appointment"
    CLOSED = "closed"


class CaseStatus(StrEnum):
    ACTIVE = "active"
    APPOINTED = "appointed"
    NOT_APPOINTED = "not_appointed"
    WITHDRAWN = "withdrawn"


class Role(StrEnum):
    CLERK = "clerk"
    SECTION_CHIEF = "section_chief"
    DEPARTMENT_HEAD = "department_head"
    INSPECTION_TEAM = "inspection_team"
    COMMITTEE_SECRETARY = "committee_secretary"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"
    SYSTEM = "system"


class SanctionKind(StrEnum):
    PARTY_WARNING = "party_warning"  # 警告
    PARTY_SERIOUS_WARNING = "party_serious_warning"  # 严重警告
    PARTY_POST_REMOVAL = "party_post_removal"  # 撤销党内职务
    PARTY_PROBATION = "party_probation"  # 留党察看
    STATE_WARNING = "state_warning"  # 政务警告
    STATE_DEMERIT = "state_demerit"  # 记过
    STATE_MAJOR_DEMERIT = "state_major_demerit"  # 记大过
    STATE_DEMOTION = "state_demotion"  # 降级
    STATE_DISMISSAL = "state_dismissal"  # 撤职
    ACCOUNTABILITY_REMOVAL = "accountability_removal"  # 问责: resigned or removed
    ADMONISHMENT = "admonishment"  # 诫勉 (local period)
    ORGANIZATIONAL_HANDLING = "organizational_handling"  # 组织处理 (local period)


class InspectionCheck(StrEnum):
    """The four musts (凡提四必) plus the economic-responsibility audit where required."""

    PERSONNEL_FILE = "personnel_file"
    PERSONAL_MATTERS_REPORT = "personal_matters_report"
    DISCIPLINE_OPINION = "discipline_opinion"
    PETITIONS = "petitions"
    ECONOMIC_AUDIT = "economic_audit"


FOUR_MUSTS = (
    InspectionCheck.PERSONNEL_FILE,
    InspectionCheck.PERSONAL_MATTERS_REPORT,
    InspectionCheck.DISCIPLINE_OPINION,
    InspectionCheck.PETITIONS,
)


class VoteMethod(StrEnum):
    ORAL = "oral"
    SHOW_OF_HANDS = "show_of_hands"
    SECRET_BALLOT = "secret_ballot"


class VoteResult(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    DEFERRED = "deferred"


class ObjectionOutcome(StrEnum):
    NO_PROBLEM = "no_problem"  # appoint
    MINOR_SHORTCOMINGS = "minor_shortcomings"  # appoint, with a reminder (提醒)
    SERIOUS_CONFIRMED = "serious_confirmed"  # do not appoint
    SERIOUS_UNVERIFIABLE = "serious_unverifiable"  # suspend (暂缓任用), at most 3 months


class CandidateStatus(StrEnum):
    APPLICANT = "applicant"  # registered for an exam
    NOT_QUALIFIED = "not_qualified"  # refused at the eligibility check of registration
    FAILED_EXAM = "failed_exam"
    IN_POOL = "in_pool"  # going to inspection
    INELIGIBLE = "ineligible"  # inside an impact period or barred from exceptional promotion
    APPROVAL_REFUSED = "approval_refused"
    INSPECTED = "inspected"
    NOT_PROPOSED = "not_proposed"
    PROPOSED = "proposed"  # put to the standing committee
    DEFERRED = "deferred"
    VOTE_FAILED = "vote_failed"
    ON_NOTICE = "on_notice"
    SUSPENDED = "suspended"
    NOT_APPOINTED = "not_appointed"
    TO_APPOINT = "to_appoint"
    APPOINTED = "appointed"


# --------------------------------------------------------------------------- people


class Actor(Model):
    """Who did something, and in which role."""

    name: str = Field(min_length=1, max_length=100)
    role: Role


class Sanction(Model):
    kind: SanctionKind
    decided_on: date
    rights_restored_on: date | None = None  # for 留党察看: the day Party rights were restored


class ExceptionalPromotion(Model):
    """A promotion outside the normal rules (破格提拔)."""

    reason: str = Field(min_length=1)
    levels_skipped: int = Field(default=0, ge=0)  # 越级: 1 needs approval before inspection
    through_democratic_recommendation: bool = True
    time_in_post_exception: bool = False  # the exception is on time in the current post
    previous_promotion_was_time_in_post_exception: bool = False


class Candidate(Model):
    person_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=100)
    sex: str | None = None
    ethnicity: str | None = None
    birth_date: date | None = None
    party_member: bool | None = None
    education: str | None = None
    work_started_on: date | None = None
    current_post: str = ""
    current_rank: str = ""
    short_cv: str = ""
    sanctions: list[Sanction] = Field(default_factory=list)
    on_probation: bool = False
    last_promotion_on: date | None = None
    exceptional: ExceptionalPromotion | None = None


class DemocraticRecommendation(Model):
    """民主推荐: where the candidates of a regular appointment come from."""

    held_on: date
    participants: int = Field(ge=1)
    summary: str = ""


# --------------------------------------------------------------------------- workflow input


class CaseInput(Model):
    """Start of one appointment case (one post, its positions, its candidates)."""

    case_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    unit: str = Field(min_length=1, max_length=200)
    post: str = Field(min_length=1, max_length=200)
    positions: int = Field(ge=1, le=100)
    method: SelectionMethod
    probation_required: bool = False
    economic_audit_required: bool = False
    candidates: list[Candidate] = Field(default_factory=list)
    recommendation: DemocraticRecommendation | None = None
    opened_by: Actor
    opened_on: date | None = None  # defaults to the day the workflow starts


# --------------------------------------------------------------------------- update inputs


class Applicant(Model):
    candidate: Candidate
    registered_on: date
    qualified: bool
    reason: str = ""  # required when not qualified


class RegistrationInput(Model):
    actor: Actor
    announced_on: date
    closed_on: date
    applicants: list[Applicant]


class Score(Model):
    person_id: str
    score: float = Field(ge=0, le=100)


class ExamScoresInput(Model):
    """Scores of the written test (笔试) or of the interview (面试)."""

    actor: Actor
    held_on: date
    scores: list[Score]


class InvestigationNoticeInput(Model):
    actor: Actor
    published_on: date
    one_to_one_reason: str = ""  # required when there are no more candidates than posts


class InspectionTeamInput(Model):
    actor: Actor
    members: list[str]
    started_on: date


class InspectionCheckInput(Model):
    actor: Actor
    person_id: str
    check: InspectionCheck
    completed_on: date
    finding: str = Field(min_length=1)


class DemocraticEvaluationInput(Model):
    actor: Actor
    person_id: str
    held_on: date
    participants: int = Field(ge=1)
    excellent: int = Field(ge=0)
    competent: int = Field(ge=0)
    basically_competent: int = Field(ge=0)
    incompetent: int = Field(ge=0)


class InspectionReportInput(Model):
    actor: Actor
    person_id: str
    submitted_on: date
    summary: str = Field(min_length=1)


class InspectionConclusionInput(Model):
    actor: Actor
    concluded_on: date
    proposed: list[str]  # person ids put forward to the standing committee


class HigherApprovalInput(Model):
    actor: Actor
    person_id: str
    replied_on: date
    approved: bool
    reference: str = Field(min_length=1)  # the reply's document number


class Meeting(Model):
    """A standing-committee meeting: its attendance is recorded once for all its items."""

    meeting_id: str = Field(min_length=1)
    held_on: date
    members: int = Field(ge=1)
    present: int = Field(ge=0)
    method: VoteMethod


class VoteItem(Model):
    """One candidate for this case's post; tallies only, never who voted how."""

    person_id: str
    agree: int = Field(default=0, ge=0)
    disagree: int = Field(default=0, ge=0)
    defer: int = Field(default=0, ge=0)
    deferred_reason: str = ""  # 暂缓表决: the item is deferred, not decided


class VoteInput(Model):
    actor: Actor
    meeting: Meeting
    items: list[VoteItem]


class PublicNoticeInput(Model):
    actor: Actor
    notice_id: str = Field(min_length=1)
    published_on: date


class ObjectionInput(Model):
    actor: Actor
    objection_id: str = Field(min_length=1)
    person_id: str
    received_on: date
    summary: str = Field(min_length=1, max_length=4000)
    anonymous: bool = False


class ObjectionVerdictInput(Model):
    actor: Actor
    objection_id: str
    verified_on: date
    outcome: ObjectionOutcome
    finding: str = Field(min_length=1)


class SuspensionDecisionInput(Model):
    actor: Actor
    person_id: str
    decided_on: date
    appoint: bool
    reason: str = Field(min_length=1)


class AppointmentInput(Model):
    actor: Actor
    person_id: str
    notice_issued_on: date  # 任职通知
    talk_held_on: date  # 任职谈话
    talk_by: str = Field(min_length=1)


class WithdrawInput(Model):
    actor: Actor
    reason: str = Field(min_length=1)


class RetryInput(Model):
    """An administrator asks a blocked case to try again (e.g. after adding calendar data)."""

    actor: Actor


# --------------------------------------------------------------------------- state (query)


class ObjectionState(Model):
    objection_id: str
    person_id: str
    received_on: date
    anonymous: bool
    outcome: ObjectionOutcome | None = None
    verified_on: date | None = None


class CandidateState(Model):
    person_id: str
    name: str
    status: CandidateStatus
    note: str = ""
    exceptional: bool = False
    needs_approval_before_inspection: bool = False
    approval: bool | None = None  # the higher level's reply, None while waiting
    written_score: float | None = None
    interview_score: float | None = None
    total_score: float | None = None
    rank: int | None = None
    checks: dict[str, date] = Field(default_factory=dict)
    evaluation_on: date | None = None
    report_on: date | None = None
    vote: VoteResult | None = None
    suspended_until: date | None = None
    reminded: bool = False  # appointed with a reminder (提醒) after a minor finding
    appointment_notice_on: date | None = None
    talk_on: date | None = None


class StepState(Model):
    """The human step the case is waiting on."""

    step: str
    responsible_role: Role
    started_on: date
    deadline_at: datetime | None = None
    overdue: bool = False
    blocked_reason: str = ""


class CaseState(Model):
    case_id: str
    unit: str
    post: str
    positions: int
    method: SelectionMethod
    stage: CaseStage
    status: CaseStatus
    outcome_reason: str = ""
    probation_required: bool = False
    economic_audit_required: bool = False
    policy_version: str = ""
    policy_digest: str = ""
    opened_on: date
    candidates: list[CandidateState] = Field(default_factory=list)
    dates: dict[str, date] = Field(default_factory=dict)  # the outside events, by name
    inspection_team: list[str] = Field(default_factory=list)
    one_to_one_reason: str = ""
    notice_id: str = ""
    objections: list[ObjectionState] = Field(default_factory=list)
    step: StepState | None = None
    events_recorded: int = 0


class NoticeKind(StrEnum):
    INVESTIGATION = "investigation"  # 考察预告
    PRE_APPOINTMENT = "pre_appointment"  # 任前公示


class PublishedPerson(Model):
    """What a notice publishes of one person: the published fields, nothing else."""

    person_id: str
    name: str
    sex: str | None = None
    ethnicity: str | None = None
    birth_date: date | None = None
    party_member: bool | None = None
    education: str | None = None
    work_started_on: date | None = None
    current_post: str = ""
    short_cv: str = ""
    exceptional_reason: str = ""  # an exceptional promotion's notice states the reasons


class PublicNoticeView(Model):
    """A notice as the public board shows it (query ``public_notice``)."""

    case_id: str
    unit: str
    proposed_post: str
    kind: NoticeKind
    published_on: date
    ends_on: date | None = None  # None while the end is not yet known
    people: list[PublishedPerson]


# --------------------------------------------------------------------------- activities


class EscalationRung(Model):
    role: Role
    working_days_after: int = Field(ge=1)


class StepTiming(Model):
    """How long a human step may take, and whom to remind and escalate to."""

    responsible_role: Role
    deadline_working_days: int = Field(ge=1)
    reminders_working_days_before: list[int] = Field(default_factory=list)
    escalation: list[EscalationRung] = Field(default_factory=list)


class ScheduleStepInput(Model):
    case_id: str
    step: str
    start_on: date
    timing: StepTiming


class Alarm(Model):
    """A moment at which the workflow reminds or escalates."""

    kind: str  # "reminder" or "escalation"
    at: datetime
    role: Role
    rung: int = 0  # 1-based escalation rung; 0 for reminders


class StepSchedule(Model):
    step: str
    deadline_on: date
    deadline_at: datetime  # end of the deadline day, Asia/Shanghai
    alarms: list[Alarm]  # sorted by time
    calendar_source: str


class WorkingDaysInput(Model):
    """The end of a period counted in working days, the first day included if it is one."""

    start_on: date
    working_days: int = Field(ge=1)


class WorkingDaysResult(Model):
    end_on: date
    end_at: datetime  # end of end_on, Asia/Shanghai
    calendar_source: str


class PolicyRequest(Model):
    case_id: str


class Notification(Model):
    """A message for the inbox (and later mail): one per key per case, however often retried."""

    recipient_role: Role
    recipient: str = ""  # a named person, where known
    subject: str
    body: str


class CaseRow(Model):
    """The listing row of a case, kept current with each recorded event."""

    unit: str
    post: str
    method: SelectionMethod
    stage: CaseStage
    status: CaseStatus
    outcome_reason: str = ""
    next_deadline: datetime | None = None
    overdue: bool = False
    policy_version: str = ""
    probation_required: bool = False
    opened_on: date


class RecordEventInput(Model):
    """One entry of a case's history; (case_id, seq) makes recording idempotent."""

    case_id: str
    seq: int = Field(ge=1)
    kind: str  # opened, transition, input, deadline, reminder, escalation, closed, blocked
    stage: CaseStage
    occurred_at: datetime
    actor_name: str
    actor_role: Role
    summary: str
    payload: dict[str, Any] = Field(default_factory=dict)
    case: CaseRow
    notification: Notification | None = None
