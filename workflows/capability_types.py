"""Typed inputs, updates and states of the capability test (行政管理能力测试) workflows:
``CapabilityCampaignWorkflow`` (one test campaign) and ``CapabilityRetestWorkflow`` (one
cadre who failed: self-study, retest, handling). New fields always get defaults, so running
workflows keep replaying.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from decimal import Decimal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from workflows.cadre_enums import RetestStatus
from workflows.policy import PolicySnapshot
from workflows.rules.cadre_capability import Attempt, HandlingOption, Outcome
from workflows.types import ID_MAX, ID_PATTERN, Actor, Line, Model, StepSchedule, Text

# a key as it goes into workflow ids and the chain's id: letters, digits and . _ -
Score = Decimal  # a score as typed, compared exactly (workflows.rules.cadre_capability)


class CapabilityResult(Model):
    """One cadre's result in a test campaign (one row of the imported sheet)."""

    person_id: Line = Field(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN)
    name: Line = Field(min_length=1, max_length=100)
    unit: Line = Field(min_length=1, max_length=200)
    post: Line = Field(default="", max_length=200)
    score: Score = Field(decimal_places=2)


class CapabilityCampaignInput(Model):
    campaign_id: Line = Field(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN)
    title: Line = Field(min_length=1, max_length=200)
    tested_on: date
    notified_on: date  # results notified: a failing cadre's self-study begins that day
    results: list[CapabilityResult] = Field(min_length=1, max_length=5_000)
    opened_by: Actor

    @model_validator(mode="after")
    def _each_cadre_once(self) -> CapabilityCampaignInput:
        counts = Counter(r.person_id for r in self.results)
        twice = sorted(pid for pid, n in counts.items() if n > 1)
        if twice:
            raise PydanticCustomError(
                "duplicate",
                "同一名干部在本次测试中有不止一个成绩：{ids}",
                {"ids": "、".join(twice)},
            )
        if self.notified_on < self.tested_on:
            raise PydanticCustomError(
                "date_order",
                "成绩通知日期（{n}）不能早于测试日期（{t}）",
                {"n": str(self.notified_on), "t": str(self.tested_on)},
            )
        return self


class CadreOutcome(Model):
    """What the first test meant for one cadre, as the campaign records it."""

    person_id: str
    name: str
    unit: str
    score: Score
    outcome: Outcome
    reserve: bool = False  # may be listed as a reserve cadre (后备干部)
    final: str = ""  # for a failing cadre, how the retest ended (in Chinese), once it has


class CampaignState(Model):
    chain_id: str
    campaign_id: str
    title: str
    tested_on: date
    notified_on: date
    policy_version: str
    cadres: list[CadreOutcome] = Field(default_factory=list)
    retests: list[str] = Field(default_factory=list)  # workflow ids of the failing cadres'
    finished: bool = False
    events_recorded: int = 0


# --------------------------------------------------------------------------- one retest


class CapabilityRetestInput(Model):
    """Started by the campaign for each cadre who failed the first test."""

    campaign_id: Line = Field(min_length=1, max_length=64)
    person_id: Line = Field(min_length=1, max_length=64)
    name: Line
    unit: Line
    post: Line = ""
    score: Score
    tested_on: date
    notified_on: date
    policy: PolicySnapshot  # the campaign's: one campaign, one policy


class RetestInput(Model):
    """补测成绩: recorded by a role of ``cadre.capability_test.retest_roles``."""

    actor: Actor
    tested_on: date
    score: Score = Field(decimal_places=2)
    note: Text = ""


class HandlingInput(Model):
    """组织处理: the department's decision for a cadre who failed the retest."""

    actor: Actor
    decision: HandlingOption
    decided_on: date
    reason: Text = Field(min_length=1)
    reference: Line = ""  # the decision's document number


class RetestRecord(Model):
    tested_on: date
    score: Score
    outcome: Outcome
    actor: Actor
    recorded_at: datetime


class HandlingRecord(Model):
    decision: HandlingOption
    decided_on: date
    reason: str
    reference: str
    actor: Actor
    recorded_at: datetime


class RetestState(Model):
    chain_id: str
    campaign_id: str
    person_id: str
    name: str
    unit: str
    post: str
    first_score: Score
    attempt: Attempt = Attempt.FIRST
    self_study_ends_on: date
    retest_opens_on: date
    status: RetestStatus = RetestStatus.SELF_STUDY
    reminders_done: list[int] = Field(default_factory=list)  # days before the retest opens
    retest_schedule: StepSchedule | None = None
    retest: RetestRecord | None = None
    handling_schedule: StepSchedule | None = None
    handling: HandlingRecord | None = None
    overdue: bool = False
    blocked_reason: str = ""
    events_recorded: int = 0

    @property
    def settled(self) -> bool:
        return self.status in (RetestStatus.PASSED, RetestStatus.HANDLED)
