"""Typed inputs and outputs of the appointment-case workflow, its updates and activities.

Every workflow, update, query and activity takes exactly one of these models so that fields
can be added later without breaking running workflows (new fields always get defaults).
Dates of things that happen outside the system (a notice published, a meeting held) are
``date`` values supplied by people; instants the system itself observes are ``datetime``.

Text that people type enters as one of two kinds, the home of that rule for every model:
``Line`` (a name, an id, a unit, a post, a document number: one line, no control character
at all) and ``Text`` (a summary, a finding, a reason: line breaks and tabs allowed, no other
control character). Every field of an input model that a person fills in is one of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

# The longest text one field may hold (a CV, a finding, a summary are far shorter): a
# technical bound that keeps every input well inside Temporal's limit on one payload.
MAX_TEXT = 20_000

# Validation context for what Temporal recorded (``gateway.client`` reads every payload with
# it): text accepted when it entered is read back as it was, so a case or a probation that
# holds text refused today (these checks came after it) still replays and runs on.
RECORDED: dict[str, bool] = {"recorded": True}

# What an identifier a person gives looks like (a case's, a campaign's, a person's in the
# register): letters, digits and ._-, starting with a letter or a digit; at most ID_MAX long.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
ID_MAX = 64

NUL_REFUSAL = "文本不能含空字符 NUL（U+0000）"


def text_problem(value: object) -> str:
    """Why text somewhere in ``value`` cannot be stored and sent, or "" if it can: U+0000
    (PostgreSQL refuses it), a lone surrogate (not Unicode, so not UTF-8 either)."""
    kind = type(value)
    holds = _PLAIN_HOLDS.get(kind)
    if holds is None:
        holds = _holds(kind)
    if holds == _TEXT:
        text = cast(str, value)
        if "\x00" in text:
            return NUL_REFUSAL
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"text holds {text[exc.start]!r}, which is not a character (a lone surrogate)"
        return ""
    if holds == _ITEMS:
        return next((p for p in map(text_problem, cast(Iterable[object], value)) if p), "")
    if holds == _MAPPING:
        mapping = cast(dict[object, object], value)
        return next((p for p in map(text_problem, [*mapping, *mapping.values()]) if p), "")
    return ""


# What a value of a type may hold text as: nothing; itself; its items; its keys and values.
_NOTHING, _TEXT, _ITEMS, _MAPPING = range(4)
# The plain types, known without asking: ``text_problem`` runs on every field of every model
# the workflows build and read back (a case's policy alone, about 400 fields, most of them
# numbers, lists and strings), and inside the workflow sandbox every ``isinstance`` and
# ``issubclass`` is a call through the sandbox's guard. Any other type (an enumeration, a
# model, a subclass) is asked each time; nothing is remembered of it (a workflow's own module
# is imported again for each run, and its types with it).
_PLAIN_HOLDS: dict[type, int] = {
    str: _TEXT,
    list: _ITEMS,
    tuple: _ITEMS,
    set: _ITEMS,
    frozenset: _ITEMS,
    dict: _MAPPING,
    **dict.fromkeys((int, float, bool, type(None), Decimal, date, datetime), _NOTHING),
}


def _holds(kind: type) -> int:
    if issubclass(kind, str):
        return _TEXT
    if issubclass(kind, list | tuple | set | frozenset):
        return _ITEMS
    if issubclass(kind, dict):
        return _MAPPING
    return _NOTHING


# One line: no C0 or C1 control character (line feed, carriage return and tab included), no
# DEL, no Unicode line or paragraph separator. A line break in a name would end a mail header
# early (activities.mail) and split a row in every listing.
_NOT_IN_A_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Free text: line feed, carriage return and tab are allowed; no other C0 control character.
_NOT_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CHARACTER_NAMES = {
    "\x00": "空字符 NUL",
    "\t": "制表符",
    "\n": "换行符",
    "\r": "回车符",
    "\x7f": "删除符 DEL",
    "\u2028": "行分隔符",
    "\u2029": "段分隔符",
}


def _named(character: str) -> str:
    return f"{_CHARACTER_NAMES.get(character, '控制字符')}（U+{ord(character):04X}）"


def line_problem(value: str) -> str:
    """Why ``value`` is not one line of text (in Chinese, for the person who typed it), or ""."""
    found = _NOT_IN_A_LINE.search(value)
    return f"此处只能填一行文字，不能含{_named(found.group())}" if found else ""


def free_text_problem(value: str) -> str:
    """Why ``value`` cannot be free text (in Chinese), or "": a control character other than
    a line break or a tab."""
    found = _NOT_IN_TEXT.search(value)
    return f"文本不能含{_named(found.group())}（换行、回车和制表符可以）" if found else ""


def _recorded(info: ValidationInfo) -> bool:
    return isinstance(info.context, dict) and info.context.get("recorded") is True


def _one_line(value: str, info: ValidationInfo) -> str:
    if not _recorded(info) and (problem := line_problem(value)):
        raise PydanticCustomError("control_character", problem)
    return value


def _free_text(value: str, info: ValidationInfo) -> str:
    if not _recorded(info) and (problem := free_text_problem(value)):
        raise PydanticCustomError("control_character", problem)
    return value


Line = Annotated[str, AfterValidator(_one_line)]
Text = Annotated[str, AfterValidator(_free_text)]


# how many objections one verdict may cover (a limit on one input, not a rule)
MAX_OBJECTIONS_PER_VERDICT = 1_000
# A file a step relied on, named by the sha256 (hex) of its bytes: the case's attachment
# (``store.attachments``); the doors check the case has it before sending the step.
AttachmentHash = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
# how many files one step may name (a limit on one input, not a rule)
MAX_ATTACHMENTS_PER_STEP = 100


def attachments_field() -> Any:
    """A step's ``attachments``: none by default, and left out of the step's recorded payload
    when none, so a step without files is recorded exactly as before the field existed."""
    return Field(default_factory=list, max_length=MAX_ATTACHMENTS_PER_STEP, exclude_if=_none)


def _none(value: list[str]) -> bool:
    return not value


def _unset(value: object) -> bool:
    return value is None


# A field the service fills from its own records (the stored request an approval grants),
# never from what a caller sends: every door leaves it out of its forms, bodies and files
# (``service_filled``). Left out of the recorded payload when unset, so an input without it
# is recorded exactly as before the field existed.
SERVICE_FILLED: dict[str, Any] = {"service_filled": True}


def service_filled(model: type[BaseModel]) -> frozenset[str]:
    """The fields of ``model`` that only the service fills."""
    return frozenset(
        name
        for name, f in model.model_fields.items()
        if isinstance(f.json_schema_extra, dict) and f.json_schema_extra.get("service_filled")
    )


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


class ChainKind(StrEnum):
    """What a chain of the case kind records (``cases.chain``): an appointment case, or one of
    the audit chains that are not (each locked through a ``cases`` row of its own). Its id
    says which (``workflows.ids.chain_kind_of``); every listing and count of cases goes by it."""

    APPOINTMENT = "appointment"
    CADRE_REGISTER = "cadre_register"
    CAPABILITY_CAMPAIGN = "capability_campaign"
    CAPABILITY_RETEST = "capability_retest"
    DOUBLE_EVALUATION = "double_evaluation"
    REMOVAL = "removal"
    ROTATION_BATCH = "rotation_batch"


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


class RelationshipKind(StrEnum):
    """The kinships that make a person withdraw (回避) from a candidate's matters; their rule
    is ``workflows.rules.recusal``."""

    SPOUSE = "spouse"
    LINEAL = "lineal"  # lineal blood relatives: parents, children, grandparents ...
    COLLATERAL = "collateral"  # collateral blood relatives within three generations
    CLOSE_IN_LAW = "close_in_law"  # a spouse's parents and siblings, a child's spouse ...
    # another interest that could affect fairness, declared and handled the same way
    OTHER_INTEREST = "other_interest"


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

    name: Line = Field(min_length=1, max_length=100)
    role: Role
    # 代理: the person this one acts for, set by the service only while a substitution
    # (store.substitutes) covers the day; the record shows "李四 代 张三"
    on_behalf_of: Line | None = Field(default=None, min_length=1, max_length=100)


class Sanction(Model):
    kind: SanctionKind
    decided_on: date
    rights_restored_on: date | None = None  # for 留党察看: the day Party rights were restored


class ExceptionalPromotion(Model):
    """A promotion outside the normal rules (破格提拔)."""

    reason: Text = Field(min_length=1)
    levels_skipped: int = Field(default=0, ge=0)  # 越级: 1 needs approval before inspection
    through_democratic_recommendation: bool = True
    time_in_post_exception: bool = False  # the exception is on time in the current post
    previous_promotion_was_time_in_post_exception: bool = False


class Candidate(Model):
    person_id: Line = Field(min_length=1, max_length=64)
    name: Line = Field(min_length=1, max_length=100)
    sex: Line | None = None
    ethnicity: Line | None = None
    birth_date: date | None = None
    party_member: bool | None = None
    education: Line | None = None
    work_started_on: date | None = None
    current_post: Line = ""
    current_rank: Line = ""
    short_cv: Text = ""
    sanctions: list[Sanction] = Field(default_factory=list)
    on_probation: bool = False
    last_promotion_on: date | None = None
    exceptional: ExceptionalPromotion | None = None
    # the post is higher than the candidate's present one (提拔); False for a lateral move
    # (平级交流). Accountability's 24 months bar a promotion only (eligibility.applied_months)
    promotion: bool = True
    # 干部名册: the register person whose facts these are. Every door that starts a case fills
    # the facts from the register as of the case's day (``store.register_cases``) and the
    # version it read (``SERVICE_FILLED``); both left out of the payload when unset, so a
    # candidate typed in is recorded exactly as before the fields existed.
    register_id: Line | None = Field(default=None, min_length=1, max_length=64, exclude_if=_unset)
    register_version: int | None = Field(
        default=None, ge=1, json_schema_extra=SERVICE_FILLED, exclude_if=_unset
    )

    @model_validator(mode="before")
    @classmethod
    def _person_id_of_register(cls, data: Any) -> Any:
        """A candidate named by the register needs no person id of its own: it is the
        register's."""
        if isinstance(data, dict) and data.get("register_id") and data.get("person_id") is None:
            return {**data, "person_id": data["register_id"]}  # an empty one stays refused
        return data


class RegisterReading(Model):
    """A register-linked candidate's facts as the register gave them on the day a step
    judges the candidate again, and the version read: filled by the door that sends the step
    (``store.register_cases``), never by the person; the case records a version it did not
    hold before it uses it (名册已更新)."""

    person_id: Line = Field(min_length=1, max_length=64)
    version: int = Field(ge=1)
    candidate: Candidate


def register_readings_field() -> Any:
    """The ``register_readings`` of a step that judges candidates again: service-filled,
    and left out of the payload when empty (a case without register candidates records as
    before)."""
    return Field(default_factory=list, json_schema_extra=SERVICE_FILLED, exclude_if=_none)


class DeclaredRelationship(Model):
    """A kinship between a candidate and a person who may take part in the candidate's matters
    (an inspection team member, a committee member, a clerk), as the cadre reported it or the
    person declared it. ``related_name`` is written as that person appears in the case: as a
    team member, in the meeting's attendance, as the name of an account recording a step."""

    person_id: Line = Field(min_length=1, max_length=64)
    related_name: Line = Field(min_length=1, max_length=100)
    relation: RelationshipKind


class DemocraticRecommendation(Model):
    """民主推荐: where the candidates of a regular appointment come from."""

    held_on: date
    participants: int = Field(ge=1)
    summary: Text = ""


# --------------------------------------------------------------------------- workflow input


class CaseInput(Model):
    """Start of one appointment case (one post, its positions, its candidates)."""

    case_id: Line = Field(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN)
    unit: Line = Field(min_length=1, max_length=200)
    post: Line = Field(min_length=1, max_length=200)
    positions: int = Field(ge=1, le=100)
    method: SelectionMethod
    probation_required: bool = False
    economic_audit_required: bool = False
    # the post is a leading post (领导职务): accountability bars it for 12 months even laterally
    leading_post: bool = True
    candidates: list[Candidate] = Field(default_factory=list)
    recommendation: DemocraticRecommendation | None = None
    opened_by: Actor
    opened_on: date | None = None  # defaults to the day the workflow starts
    # kinships known when the case opens (the cadres' own reports); later ones are declared
    # with the step ``declare_relationship``
    relationships: list[DeclaredRelationship] = Field(default_factory=list)

    @field_validator("case_id")
    @classmethod
    def _not_another_chains_id(cls, value: str) -> str:
        """The id of an audit chain of another kind (the cadre register's) is not a case's."""
        from workflows.ids import chain_kind_of  # ids reads this module's ChainKind

        kind = chain_kind_of(value)
        if kind is not ChainKind.APPOINTMENT:
            raise PydanticCustomError(
                "reserved_case_id",
                "案件编号 {value} 已用作另一类审计链的编号，请另选一个",
                {"value": value},
            )
        return value

    @model_validator(mode="after")
    def _relationships_of_candidates(self) -> CaseInput:
        ids = {c.person_id for c in self.candidates}
        unknown = sorted({r.person_id for r in self.relationships} - ids)
        if unknown:
            raise PydanticCustomError(
                "relationship",
                "申报的亲属关系涉及的人员不是本案件的人选：{unknown}（考试产生的人选，报名后再申报）",
                {"unknown": "、".join(unknown)},
            )
        return self


# --------------------------------------------------------------------------- update inputs


class Applicant(Model):
    candidate: Candidate
    registered_on: date
    qualified: bool
    reason: Text = ""  # required when not qualified


class RegistrationInput(Model):
    actor: Actor
    announced_on: date
    closed_on: date
    applicants: list[Applicant]


class Score(Model):
    person_id: Line
    score: float = Field(ge=0, le=100)


class ExamScoresInput(Model):
    """Scores of the written test (笔试) or of the interview (面试)."""

    actor: Actor
    held_on: date
    scores: list[Score]


class InvestigationNoticeInput(Model):
    actor: Actor
    published_on: date
    one_to_one_reason: Text = ""  # required when there are no more candidates than posts


class InspectionTeamInput(Model):
    actor: Actor
    members: list[Line]
    started_on: date
    register_readings: list[RegisterReading] = register_readings_field()

    def facts_day(self) -> date:
        """The day this step judges the candidates again (the inspection starts)."""
        return self.started_on


class InspectionCheckInput(Model):
    actor: Actor
    person_id: Line
    check: InspectionCheck
    completed_on: date
    finding: Text = Field(min_length=1)


class DemocraticEvaluationInput(Model):
    actor: Actor
    person_id: Line
    held_on: date
    participants: int = Field(ge=1)
    excellent: int = Field(ge=0)
    competent: int = Field(ge=0)
    basically_competent: int = Field(ge=0)
    incompetent: int = Field(ge=0)


class InspectionReportInput(Model):
    actor: Actor
    person_id: Line
    submitted_on: date
    summary: Text = Field(min_length=1)
    attachments: list[AttachmentHash] = attachments_field()


class InspectionConclusionInput(Model):
    actor: Actor
    concluded_on: date
    proposed: list[Line]  # person ids put forward to the standing committee


class HigherApprovalInput(Model):
    actor: Actor
    person_id: Line
    replied_on: date
    approved: bool
    reference: Line = Field(min_length=1)  # the reply's document number
    attachments: list[AttachmentHash] = attachments_field()


class Meeting(Model):
    """A standing-committee meeting: its attendance is recorded once for all its items."""

    meeting_id: Line = Field(min_length=1)
    held_on: date
    members: int = Field(ge=1)
    present: int = Field(ge=0)
    method: VoteMethod
    # the names of the members present; required when a candidate voted on has a declared
    # kinship, so the record shows that a related member present withdrew
    attendees: list[Line] = Field(default_factory=list)


class VoteItem(Model):
    """One candidate for this case's post; tallies only, never who voted how."""

    person_id: Line
    agree: int = Field(default=0, ge=0)
    disagree: int = Field(default=0, ge=0)
    defer: int = Field(default=0, ge=0)
    deferred_reason: Text = ""  # 暂缓表决: the item is deferred, not decided
    # members who withdrew from this item (回避): not entitled to vote on it
    withdrawn: list[Line] = Field(default_factory=list)


class VoteInput(Model):
    actor: Actor
    meeting: Meeting
    items: list[VoteItem]
    attachments: list[AttachmentHash] = attachments_field()
    register_readings: list[RegisterReading] = register_readings_field()

    def facts_day(self) -> date:
        """The day this step judges the candidates again (the meeting)."""
        return self.meeting.held_on


class RelationshipInput(Model):
    """A kinship declared while the case runs (申报亲属关系)."""

    actor: Actor
    person_id: Line
    related_name: Line = Field(min_length=1, max_length=100)
    relation: RelationshipKind
    declared_on: date

    def relationship(self) -> DeclaredRelationship:
        return DeclaredRelationship(
            person_id=self.person_id, related_name=self.related_name, relation=self.relation
        )


class PublicNoticeInput(Model):
    actor: Actor
    notice_id: Line = Field(min_length=1)
    published_on: date


class ObjectionInput(Model):
    actor: Actor
    objection_id: Line = Field(min_length=1)
    person_id: Line
    received_on: date
    summary: Text = Field(min_length=1, max_length=4000)
    anonymous: bool = False


class ObjectionVerdictInput(Model):
    """The verification of an objection (核查结果); ``same_for`` gives the same verdict to
    further objections about the same person (identical ones, verified together)."""

    actor: Actor
    objection_id: Line
    verified_on: date
    outcome: ObjectionOutcome
    finding: Text = Field(min_length=1)
    same_for: list[Line] = Field(default_factory=list, max_length=MAX_OBJECTIONS_PER_VERDICT)
    attachments: list[AttachmentHash] = attachments_field()


class SuspensionDecisionInput(Model):
    actor: Actor
    person_id: Line
    decided_on: date
    appoint: bool
    reason: Text = Field(min_length=1)


class AppointmentInput(Model):
    actor: Actor
    person_id: Line
    notice_issued_on: date  # 任职通知
    talk_held_on: date  # 任职谈话
    talk_by: Line = Field(min_length=1)
    register_readings: list[RegisterReading] = register_readings_field()

    def facts_day(self) -> date:
        """The day this step judges the candidate again (the notice issued)."""
        return self.notice_issued_on


class WithdrawInput(Model):
    actor: Actor
    reason: Text = Field(min_length=1)


class RetryInput(Model):
    """An administrator asks a blocked case to try again (e.g. after adding calendar data)."""

    actor: Actor


class ExtendDeadlineInput(Model):
    """延期: the awaited step's deadline extended by so many working days, with a reason, by
    an approver the policy names (``Policy.extension``)."""

    actor: Actor
    step: Line = Field(min_length=1)  # the awaited step's key, as the case shows it
    working_days: int = Field(ge=1)
    reason: Text = Field(min_length=1)
    decided_on: date
    # 延期申请: the stored request this approval grants and who filed it, filled by the
    # service from the request (``SERVICE_FILLED``); None when the approver extends directly
    request_id: int | None = Field(
        default=None, ge=1, json_schema_extra=SERVICE_FILLED, exclude_if=_unset
    )
    requested_by: Line | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        json_schema_extra=SERVICE_FILLED,
        exclude_if=_unset,
    )


class ExtensionDecision(StrEnum):
    """What became of an extension request (延期申请); its Chinese name is the glossary's."""

    APPROVED = "approved"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"  # by the person who filed it
    LAPSED = "lapsed"  # the step it was filed for is no longer awaited


class AssignStepInput(Model):
    """认领 / 放弃 / 指派: the awaited step given to a person (``assignee``), or back to its
    responsible role's queue (None); who may do which is ``workflows.rules.assignment``."""

    actor: Actor
    step: Line = Field(min_length=1)  # the awaited step's key, as the case shows it
    assignee: Line | None = Field(default=None, min_length=1, max_length=100)
    reason: Text = ""


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
    # 干部名册: the register person and the version whose facts the case holds (None: typed in)
    register_id: str | None = None
    register_version: int | None = None


class StepState(Model):
    """The human step the case is waiting on."""

    step: str
    responsible_role: Role
    started_on: date
    deadline_at: datetime | None = None
    overdue: bool = False
    blocked_reason: str = ""
    # 延期: the working days added to the policy's deadline, and how many extensions
    extended_working_days: int = 0
    extensions: int = 0
    # 认领/指派: the person the step is given to; None: its responsible role's queue
    assignee: str | None = None
    # 延期申请 whose approval moved this step's deadline (each moves it once)
    extension_requests: list[int] = Field(default_factory=list)


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
    relationships: list[DeclaredRelationship] = Field(default_factory=list)  # declared kinships
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
    # local hour (Asia/Shanghai) its reminders and escalations go out; left out of a policy
    # file, the policy's reminder_hour (``Policy`` fills it in, so it reaches schedule_step)
    reminder_hour: int | None = Field(default=None, ge=0, le=23)


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


class WorkingDaysEndsInput(Model):
    """The ends of several periods counted in working days from the same first day (the
    first day included if it is one), read from the calendar at once."""

    start_on: date
    working_days: list[Annotated[int, Field(ge=1)]] = Field(min_length=1, max_length=8)


class WorkingDaysEndsResult(Model):
    ends_on: list[date]  # in the order of the periods asked
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
    # the awaited step (its key), its responsible role and its assignee (None: the queue)
    awaited_step: str | None = None
    awaited_role: Role | None = None
    assignee: str | None = None
    # what the chain is (histories recorded before it was kept lack it: appointment cases)
    chain: ChainKind = ChainKind.APPOINTMENT


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


class RecordedEvent(Model):
    """One event of a step's batch (``RecordEventsInput``): an entry without the listing row."""

    seq: int = Field(ge=1)
    kind: str
    stage: CaseStage
    occurred_at: datetime
    actor_name: str
    actor_role: Role
    summary: str
    payload: dict[str, Any] = Field(default_factory=dict)
    notification: Notification | None = None


class RecordEventsInput(Model):
    """The events of one step, recorded in one transaction with the listing row they leave;
    each keyed by (case_id, seq) as ``RecordEventInput`` is."""

    case_id: str
    case: CaseRow
    events: list[RecordedEvent] = Field(min_length=1)
