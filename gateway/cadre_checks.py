"""The checks every door makes before it starts a capability test campaign or a double
evaluation, with the workflows' own pure checks (``check_campaign``, ``ranking``) under the
policy file in force, so that an input the workflow would refuse is refused in Chinese
before anything starts. The workflow reads the policy again when it starts and has the last
word.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from activities.policy import read_policy
from gateway.errors import Refused
from sheets.problems import SheetProblems, at_row
from workflows.cadre_policy import CadrePolicy
from workflows.capability_campaign import check_campaign
from workflows.capability_types import CapabilityCampaignInput, CapabilityResult
from workflows.double_evaluation import ranking
from workflows.double_evaluation_types import DoubleEvaluationInput, RankedRow
from workflows.policy import PolicyError
from workflows.rules import cadre_capability
from workflows.rules.errors import RuleViolation

SCORE_HEADER = "成绩"  # the column a score's problem names (``sheets.columns``)


async def cadre_policy(policy_file: Path) -> CadrePolicy:
    """The policy file's ``cadre`` section (read off the event loop); ``Refused`` without it."""
    try:
        snapshot = await asyncio.to_thread(read_policy, policy_file)
    except PolicyError as exc:
        raise Refused(f"政策文件无法读取：{exc}") from exc
    if snapshot.policy.cadre is None:
        raise Refused(
            f"政策文件（{policy_file.name}，版本 {snapshot.policy.version}）缺少 cadre 一节："
            "能力测试和双重考核的标准须在政策中规定"
        )
    return snapshot.policy.cadre


def score_problems(
    rows: Sequence[tuple[int, CapabilityResult]], policy: CadrePolicy, title: str
) -> list[str]:
    """Each row whose score is outside the marks, by row (the rule's sentence)."""
    problems: list[str] = []
    for number, row in rows:
        try:
            cadre_capability.check_score(row.score, policy.capability_test.full_mark, row.name)
        except RuleViolation as e:
            problems.append(f"{title}：" + at_row(number, SCORE_HEADER, e.message))
    return problems


async def check_campaign_input(
    data: CapabilityCampaignInput,
    policy_file: Path,
    numbered: Sequence[tuple[int, CapabilityResult]] = (),
    title: str = "",
) -> None:
    """``SheetProblems`` by row when the campaign came from a sheet (``numbered``), else the
    rule's ``Refused``: what the campaign itself would refuse."""
    policy = await cadre_policy(policy_file)
    if numbered:
        problems = score_problems(numbered, policy, title)
        if problems:
            raise SheetProblems(problems)
    try:
        check_campaign(data, policy.capability_test)
    except RuleViolation as e:
        raise Refused(e.message, e.rule) from e


async def preview_evaluation(data: DoubleEvaluationInput, policy_file: Path) -> list[RankedRow]:
    """The ranking and the proposals the evaluation will record, under the policy in force
    (``Refused`` for a tally the rule refuses)."""
    policy = await cadre_policy(policy_file)
    try:
        return ranking(data, policy.double_evaluation)
    except RuleViolation as e:
        raise Refused(e.message, e.rule) from e
