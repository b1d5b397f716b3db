"""Typed inputs, updates and states of the double evaluation (双重考核) and of the removal
case (降免职案件) it starts for each proposed leader. New fields always get defaults."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from workflows.cadre_enums import RemovalMeasure, RemovalStatus
from workflows.policy import PolicySnapshot
from workflows.rules.double_evaluation import Leader, Tally
from workflows.types import (
    ID_MAX,
    ID_PATTERN,
    Actor,
    Line,
    Meeting,
    Model,
    StepSchedule,
    Text,
    VoteItem,
    VoteResult,
)


class TallyInput(Model):
    """One evaluation of one leader. The figures are checked by the rule
    (``Tally.check``: none negative, no more votes than voters), in Chinese."""

    voters: int  # 参加测评人数
    excellent: int = 0  # 优秀
    competent: int = 0  # 称职
    basically_competent: int = 0  # 基本称职
    incompetent: int = 0  # 不称职

    def tally(self) -> Tally:
        return Tally(
            self.voters, self.excellent, self.competent, self.basically_competent, self.incompetent
        )


class LeaderTallies(Model):
    """A principal leader (党政正职) of a county-level unit, with both evaluations."""

    person_id: Line = Field(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN)
    name: Line = Field(min_length=1, max_length=100)
    unit: Line = Field(min_length=1, max_length=200)
    post: Line = Field(min_length=1, max_length=200)  # e.g. 局长, 党组书记
    unified: TallyInput  # the county's unified evaluation (统一民主测评)
    own: TallyInput  # the own unit's annual evaluation (本单位民主测评)

    def leader(self) -> Leader:
        return Leader(self.person_id, self.name, self.unit, self.unified.tally(), self.own.tally())


class DoubleEvaluationInput(Model):
    evaluation_id: Line = Field(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN)
    title: Line = Field(min_length=1, max_length=200)  # e.g. 2026 年度县直单位双重考核
    held_on: date
    leaders: list[LeaderTallies] = Field(min_length=1, max_length=1_000)
    opened_by: Actor
    measure: RemovalMeasure = RemovalMeasure.REMOVAL  # proposed to the committee by default

    @model_validator(mode="after")
    def _each_leader_once(self) -> DoubleEvaluationInput:
        counts = Counter(x.person_id for x in self.leaders)
        twice = sorted(pid for pid, n in counts.items() if n > 1)
        if twice:
            raise PydanticCustomError(
                "duplicate", "同一名干部有不止一组测评结果：{ids}", {"ids": "、".join(twice)}
            )
        return self


class RankedRow(Model):
    """One leader's place in the ranking, as the evaluation records and reports it."""

    person_id: str
    name: str
    unit: str
    place: int
    place_from_bottom: int
    unified_excellent: str  # exact rates as fractions' percentages, e.g. "40%", "33.33%"
    unified_incompetent: str
    own_excellent: str
    own_incompetent: str
    in_last_n: bool
    proposed: bool
    reason: str


class EvaluationState(Model):
    chain_id: str
    evaluation_id: str
    title: str
    held_on: date
    policy_version: str
    ranking: list[RankedRow] = Field(default_factory=list)
    cases: dict[str, str] = Field(default_factory=dict)  # person id -> removal case's id
    outcomes: dict[str, str] = Field(default_factory=dict)  # person id -> how it ended
    finished: bool = False
    events_recorded: int = 0


# --------------------------------------------------------------------------- the removal case


class RemovalCaseInput(Model):
    evaluation_id: str
    person_id: str
    name: str
    unit: str
    post: str
    measure: RemovalMeasure
    reason: str  # the rule's reason, in Chinese
    opened_on: date
    policy: PolicySnapshot  # the evaluation's


class RemovalVoteInput(Model):
    """The standing committee's vote on the proposal: attendance and tallies only."""

    actor: Actor
    meeting: Meeting
    agree: int = Field(default=0, ge=0)
    disagree: int = Field(default=0, ge=0)
    defer: int = Field(default=0, ge=0)
    deferred_reason: Text = ""
    withdrawn: list[Line] = Field(default_factory=list)

    def item(self, person_id: str) -> VoteItem:
        return VoteItem(
            person_id=person_id,
            agree=self.agree,
            disagree=self.disagree,
            defer=self.defer,
            deferred_reason=self.deferred_reason,
            withdrawn=self.withdrawn,
        )


class RemovalVoteRecord(Model):
    meeting_id: str
    held_on: date
    result: VoteResult
    note: str
    actor: Actor
    recorded_at: datetime


class RemovalState(Model):
    chain_id: str
    evaluation_id: str
    person_id: str
    name: str
    unit: str
    post: str
    measure: RemovalMeasure
    reason: str
    status: RemovalStatus = RemovalStatus.AWAITING_VOTE
    votes: list[RemovalVoteRecord] = Field(default_factory=list)
    schedule: StepSchedule | None = None
    overdue: bool = False
    blocked_reason: str = ""
    events_recorded: int = 0

    @property
    def settled(self) -> bool:
        return self.status in (RemovalStatus.DECIDED, RemovalStatus.REJECTED)
