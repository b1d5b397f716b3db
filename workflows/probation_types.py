"""Typed inputs and outputs of the probation (试用期) and digest workflows and their activities.

Like ``workflows.types``: every workflow, update, query and activity takes exactly one of
these models, and new fields always get defaults so running probations keep replaying.
The pure date rules of probation live here too (``probation_end``, ``review_opens_on``),
so the workflow, the command line and the tests compute the same dates.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import Field

from workflows.ids import probation_workflow_id
from workflows.policy import PolicySnapshot
from workflows.rules.dates import add_months
from workflows.types import ID_MAX, ID_PATTERN, Actor, Line, Model, Role, StepSchedule, Text

# National: the probation lasts one year, counted from the trial appointment notice.
PROBATION_MONTHS = 12
# Technical: a run whose history reaches this many events continues as new (see
# workflows/probation.py); a full year needs about a tenth of it.
DEFAULT_HISTORY_LIMIT = 1000


def probation_end(starts_on: date) -> date:
    """The last day of the probation year that begins on ``starts_on`` (day 1).

    The year ends the day before the same date a year later: 2026-03-01 → 2027-02-28,
    2026-11-26 → 2027-11-25. A year begun on 29 February ends on 28 February, the last day
    before the anniversary that the next year lacks.
    """
    anniversary = add_months(starts_on, PROBATION_MONTHS)
    if anniversary.day != starts_on.day:  # 29 February: add_months clamped to the 28th
        return anniversary
    return anniversary - timedelta(days=1)


def review_opens_on(ends_on: date, window_days: int) -> date:
    """The first day the review may be recorded."""
    return ends_on - timedelta(days=window_days)


# --------------------------------------------------------------------------- enumerations


class ProbationStatus(StrEnum):
    ON_PROBATION = "on_probation"  # 试用中
    FORMALLY_APPOINTED = "formally_appointed"  # 正式任职
    REMOVED = "removed"  # 免去试任职务
    ENDED_EARLY = "ended_early"  # 提前结束试用期


class ReviewStatus(StrEnum):
    PENDING = "pending"  # no review yet
    COMPETENT = "competent"  # 胜任
    NOT_COMPETENT = "not_competent"  # 不胜任
    NOT_HELD = "not_held"  # the probation ended early, without a review


class ReviewOutcome(StrEnum):
    COMPETENT = "competent"
    NOT_COMPETENT = "not_competent"


class ReminderOutcome(StrEnum):
    SENT = "sent"
    MISSED = "missed"  # its moment had passed when the probation was brought in


# --------------------------------------------------------------------------- updates


class ReviewInput(Model):
    """The review (考核) at the end of the year, as decided and recorded."""

    actor: Actor
    outcome: ReviewOutcome
    reviewed_on: date
    summary: Text = Field(min_length=1, max_length=4000)
    reference: Line = ""  # the decision's document number, where there is one


class EndEarlyInput(Model):
    """Serious errors during probation end it early (试用期内出现严重问题)."""

    actor: Actor  # who records it
    decided_by: Line = Field(min_length=1, max_length=200)  # who decided (e.g. 县委常委会)
    decided_on: date
    reason: Text = Field(min_length=1, max_length=4000)
    reference: Line = ""


# --------------------------------------------------------------------------- state


class ReviewRecord(Model):
    outcome: ReviewOutcome
    reviewed_on: date
    actor: Actor
    summary: str
    reference: str = ""
    recorded_at: datetime


class EarlyEndRecord(Model):
    decided_on: date
    decided_by: str
    reason: str
    actor: Actor
    reference: str = ""
    recorded_at: datetime


class ReminderMark(Model):
    days_before_end: int
    due_on: date
    outcome: ReminderOutcome


class ProbationState(Model):
    """Where one probation stands; also what a run hands to the next on continue-as-new."""

    probation_id: str
    case_id: str
    person_id: str
    name: str
    unit: str
    post: str
    former_rank: str = ""
    former_post: str = ""
    imported: bool = False
    starts_on: date
    ends_on: date
    review_opens_on: date
    status: ProbationStatus = ProbationStatus.ON_PROBATION
    review_status: ReviewStatus = ReviewStatus.PENDING
    review: ReviewRecord | None = None
    early_end: EarlyEndRecord | None = None
    # the review's deadline and ladder, computed once the year is over without a review
    review_schedule: StepSchedule | None = None
    review_overdue: bool = False
    blocked_reason: str = ""
    # the outcome in the record
    time_in_post_from: date | None = None  # competent: the year counts toward time in post
    rank_restored: str = ""  # not competent: the former rank, restored
    closed_on: date | None = None
    reminders: list[ReminderMark] = Field(default_factory=list)
    alarms_done: list[str] = Field(default_factory=list)  # "<kind>-<rung>-<instant>" keys
    events_recorded: int = 0  # also the seq of the newest recorded event
    runs: int = 1  # how many runs (continue-as-new) this probation has had

    @property
    def review_due_on(self) -> date | None:
        return self.review_schedule.deadline_on if self.review_schedule else None

    def row(self) -> ProbationRow:
        return ProbationRow(
            case_id=self.case_id,
            person_id=self.person_id,
            name=self.name,
            unit=self.unit,
            post=self.post,
            former_rank=self.former_rank,
            former_post=self.former_post,
            starts_on=self.starts_on,
            ends_on=self.ends_on,
            status=self.status,
            review_status=self.review_status,
            review_due_on=self.review_due_on,
            review_overdue=self.review_overdue,
            reviewed_on=self.review.reviewed_on if self.review else None,
            rank_restored=self.rank_restored,
            closed_on=self.closed_on,
            imported=self.imported,
        )


class ProbationRoles(Model):
    """Who may record a review and an early end, by the policy the probation runs under."""

    review: list[Role]
    end_early: list[Role]


class ProbationCarry(Model):
    """What a run passes to the next when it continues as new."""

    state: ProbationState
    policy: PolicySnapshot  # the policy the probation started with stays its policy


class ProbationInput(Model):
    """Start of one probation: the appointee, the post, and the day the year begins."""

    case_id: Line = Field(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN)
    person_id: Line = Field(min_length=1, max_length=64)
    name: Line = Field(min_length=1, max_length=100)
    unit: Line = Field(min_length=1, max_length=200)
    post: Line = Field(min_length=1, max_length=200)
    starts_on: date  # the trial appointment notice (试用期任职通知)
    former_rank: Line = ""
    former_post: Line = ""
    imported: bool = False  # brought in at deployment, already on probation
    history_limit: int = Field(default=DEFAULT_HISTORY_LIMIT, ge=40)
    carry: ProbationCarry | None = None  # set only by continue-as-new

    @property
    def workflow_id(self) -> str:
        return probation_workflow_id(self.case_id, self.person_id)


# --------------------------------------------------------------------------- activities


class ProbationRow(Model):
    """The listing row of a probation, kept current with each recorded event."""

    case_id: str
    person_id: str
    name: str
    unit: str
    post: str
    former_rank: str = ""
    former_post: str = ""
    starts_on: date
    ends_on: date
    status: ProbationStatus
    review_status: ReviewStatus
    review_due_on: date | None = None
    review_overdue: bool = False
    reviewed_on: date | None = None
    rank_restored: str = ""
    closed_on: date | None = None
    imported: bool = False


class ProbationEventInput(Model):
    """One entry of a probation's history; (probation_id, seq) makes recording idempotent."""

    probation_id: str
    seq: int = Field(ge=1)
    kind: str  # opened, reminder, reminder_missed, review, formal, removed, ended_early, ...
    occurred_at: datetime
    actor_name: str
    actor_role: Role
    summary: str
    payload: dict[str, Any] = Field(default_factory=dict)
    row: ProbationRow


class MailRequest(Model):
    """A message to roles; (source, seq) names it, so a retry never mails twice.

    Addresses are looked up by the activity when the message is first written to the
    outbox, from the policy file as it is then (people change during a year-long probation).
    """

    source: str = Field(min_length=1)  # a probation id, or the digest run's workflow id
    seq: int = Field(ge=1)
    roles: list[Role] = Field(min_length=1)
    subject: str = Field(min_length=1)
    body: str


class MailResult(Model):
    sent: list[str] = Field(default_factory=list)  # addresses mailed by this call
    already_sent: list[str] = Field(default_factory=list)  # mailed by an earlier attempt
    not_sent: list[str] = Field(default_factory=list)  # "<address or role>: <why>"


class DigestInput(Model):
    days_ahead: int | None = Field(default=None, ge=1, le=90)  # None: the policy's value


class DigestRequest(Model):
    as_of: datetime  # the digest's moment (the workflow's clock)
    today: date  # its day in China
    days_ahead: int = Field(ge=1)
    # retests opening within this many days are listed (the policy's widest reminder before
    # a retest, ``cadre.capability_test.reminder_days_before_retest``); 0: within days_ahead
    retest_window_days: int = Field(default=0, ge=0)


class DigestItemKind(StrEnum):
    CASE_OVERDUE = "case_overdue"  # a step of a case is past its deadline
    CASE_DUE = "case_due"  # a step of a case falls due within the window
    PROBATION_ENDING = "probation_ending"  # a probation year ends within the window
    REVIEW_DUE = "review_due"  # a probation review's deadline falls within the window
    REVIEW_OVERDUE = "review_overdue"  # a probation review is past its deadline
    # the cadre workflows (issue 19): a retest opening within the reminder window, a retest
    # or handling step due or overdue, a cadre listed as due for rotation and not yet decided
    RETEST_OPENING = "retest_opening"
    CADRE_STEP_DUE = "cadre_step_due"
    CADRE_STEP_OVERDUE = "cadre_step_overdue"
    ROTATION_DUE = "rotation_due"
    ROTATION_MOVE_DUE = "rotation_move_due"  # a step of a rotation batch's move falls due
    ROTATION_MOVE_OVERDUE = "rotation_move_overdue"  # … is past its deadline
    # a proposed leader's removal case (降免职) awaiting the standing committee's vote
    REMOVAL_VOTE_DUE = "removal_vote_due"
    REMOVAL_VOTE_OVERDUE = "removal_vote_overdue"


class DigestItem(Model):
    kind: DigestItemKind
    ref: str  # a case id or a probation id
    unit: str
    post: str
    name: str = ""  # the appointee, for probations
    due_on: date
    detail: str = ""


class Digest(Model):
    as_of: datetime
    today: date
    days_ahead: int
    items: list[DigestItem] = Field(default_factory=list)
    mail: MailResult | None = None  # None when nothing was mailed
