"""The policy's ``cadre`` section (干部管理): capability test, rotation, double evaluation.

All three are the county's own practice (the seed), with no national figure: every number
is set in the policy file and checked here for sense (a pass mark within the full mark, a
retest deadline whose reminders come before it). ``workflows.policy.Policy`` holds the
section as ``cadre``; a policy without it loads (the snapshots of running cases), and the
workflows that need it refuse to start, saying the section is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

from pydantic import Field

from workflows.rules.cadre_capability import HandlingOption
from workflows.rules.double_evaluation import Thresholds, TieRule
from workflows.types import Model, Role, StepTiming


class CapabilityTestPolicy(Model):
    """行政管理能力测试: marks, the self-study before the retest, and the steps after."""

    full_mark: Decimal = Field(gt=0)
    pass_mark: Decimal = Field(ge=0)  # at or above: passed
    reserve_mark: Decimal = Field(ge=0)  # at or above, at the first test: may be a 后备干部
    self_study_months: int = Field(ge=1, le=24)
    # calendar days before the retest opens (the day after the self-study) that the cadre
    # and the roles below are reminded; 0 is the day it opens
    reminder_days_before_retest: list[int] = Field(default_factory=list)
    reminder_roles: list[Role] = Field(min_length=1)
    retest_roles: list[Role] = Field(min_length=1)  # who records a retest score
    retest: StepTiming  # from the day the retest opens: deadline, reminders, escalation
    handling_roles: list[Role] = Field(min_length=1)  # who records the handling decision
    handling: StepTiming  # from the day the retest failed
    handling_options: list[HandlingOption] = Field(min_length=1)


class RotationBatchPolicy(Model):
    """交流批次: each move's two steps (the rotation document, the cadre reporting at the new
    post), who records each, and who may cancel a move."""

    document_roles: list[Role] = Field(min_length=1)  # who records 交流文件印发
    document: StepTiming  # from the day the batch is made
    arrival_roles: list[Role] = Field(min_length=1)  # who records 到岗报到
    arrival: StepTiming  # from the day the document is issued
    cancel_roles: list[Role] = Field(min_length=1)  # who may cancel a move (撤销交流)


class RotationPolicy(Model):
    """交流: ordinary cadres so many years in the same township are due to move."""

    years_in_same_township: int = Field(ge=1, le=40)
    ordinary_ranks: list[str] = Field(min_length=1)  # the ranks that count as 一般干部
    # the day of each month the register is scanned (at the policy's reminder hour); 28 at
    # most, so that every month has it
    scan_day_of_month: int = Field(default=1, ge=1, le=28)
    # the batches' steps; a policy from before batches (the snapshots of scans run under
    # 2026.3) has none, and a batch refuses to start under it
    batch: RotationBatchPolicy | None = None


class DoubleEvaluationPolicy(Model):
    """双重考核: the last N by unified excellent rate, and the two rate limits."""

    last_n: int = Field(ge=1)
    excellent_rate_min: Decimal = Field(ge=0, le=1)  # must reach it (0.40: 40 %)
    incompetent_rate_max: Decimal = Field(ge=0, le=1)  # must not exceed it (0.20: 20 %)
    ties: TieRule
    vote: StepTiming  # the standing committee's vote on each proposal
    vote_roles: list[Role] = Field(min_length=1)  # who records the committee's vote

    def thresholds(self) -> Thresholds:
        """The limits as exact fractions: 0.40 from the file is exactly 2/5."""
        return Thresholds(
            last_n=self.last_n,
            excellent_min=Fraction(self.excellent_rate_min),
            incompetent_max=Fraction(self.incompetent_rate_max),
            ties=self.ties,
        )


class CadrePolicy(Model):
    capability_test: CapabilityTestPolicy
    rotation: RotationPolicy
    double_evaluation: DoubleEvaluationPolicy


TimingCheck = Callable[[str, StepTiming], list[str]]


def cadre_problems(cadre: CadrePolicy | None, timing_problems: TimingCheck) -> list[str]:
    """Every inconsistency of the section, one Chinese sentence each; ``timing_problems`` is
    the policy's own check of a step's timing (``workflows.policy._timing_problems``)."""
    if cadre is None:
        return []
    where = "cadre.capability_test"
    c = cadre.capability_test
    problems: list[str] = []
    if c.pass_mark > c.full_mark:
        problems.append(f"{where}.pass_mark 为 {c.pass_mark}，高于满分 full_mark（{c.full_mark}）")
    if c.reserve_mark > c.full_mark:
        problems.append(
            f"{where}.reserve_mark 为 {c.reserve_mark}，高于满分 full_mark（{c.full_mark}）"
        )
    if c.reserve_mark < c.pass_mark:
        problems.append(
            f"{where}.reserve_mark 为 {c.reserve_mark}，低于合格线 pass_mark（{c.pass_mark}）："
            "列为后备干部的成绩至少应合格"
        )
    days = c.reminder_days_before_retest
    for k in days:
        if k < 0:
            problems.append(f"{where}.reminder_days_before_retest 中有 {k}，提醒天数不能为负数")
    for k in sorted({k for k in days if days.count(k) > 1}):
        problems.append(f"{where}.reminder_days_before_retest 中 {k} 出现了不止一次")
    if len(set(c.handling_options)) != len(c.handling_options):
        problems.append(f"{where}.handling_options 中有重复的处理方式")
    problems.extend(timing_problems(f"{where}.retest", c.retest))
    problems.extend(timing_problems(f"{where}.handling", c.handling))
    ranks = [r.strip() for r in cadre.rotation.ordinary_ranks]
    if any(not r for r in ranks):
        problems.append("cadre.rotation.ordinary_ranks 中有空的职级名称")
    batch = cadre.rotation.batch
    if batch is not None:
        problems.extend(timing_problems("cadre.rotation.batch.document", batch.document))
        problems.extend(timing_problems("cadre.rotation.batch.arrival", batch.arrival))
    d = cadre.double_evaluation
    problems.extend(timing_problems("cadre.double_evaluation.vote", d.vote))
    return problems
