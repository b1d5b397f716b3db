"""Inspection (考察): the team, competition, the four musts (凡提四必), democratic evaluation."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from workflows.rules.errors import RuleViolation
from workflows.types import FOUR_MUSTS, InspectionCheck

NATIONAL_TEAM_MIN_SIZE = 2

RULE_TEAM = "inspection.team"
RULE_COMPETITION = "inspection.competition"
RULE_EVALUATION = "inspection.evaluation"
RULE_TIMING = "inspection.timing"


def check_team(members: list[str], min_size: int) -> None:
    """Distinct, named members, at least ``min_size`` and never fewer than the national two."""
    seen: set[str] = set()
    for number, member in enumerate(members, start=1):
        name = member.strip()
        if not name:
            raise RuleViolation(f"考察组第 {number} 名成员未填写姓名", RULE_TEAM)
        if name in seen:
            raise RuleViolation(f"{name}在考察组名单中重复出现", RULE_TEAM)
        seen.add(name)
    required = max(min_size, NATIONAL_TEAM_MIN_SIZE)
    if len(seen) < required:
        raise RuleViolation(f"考察组至少须 {required} 人，填写的是 {len(seen)} 人", RULE_TEAM)


def check_competitive(candidates: int, positions: int, one_to_one_reason: str) -> None:
    """More candidates than posts; exactly as many only with a recorded reason (等额)."""
    counted = f"拟任职数 {positions} 个，考察对象 {candidates} 人"
    if candidates < positions:
        raise RuleViolation(
            f"考察对象少于拟任职数：{counted}；每个职位至少须有一名考察对象",
            RULE_COMPETITION,
        )
    if candidates == positions and not one_to_one_reason.strip():
        raise RuleViolation(
            f"差额考察的考察对象须多于拟任职数：{counted}；等额考察须写明理由",
            RULE_COMPETITION,
        )


def missing_checks(
    done: Iterable[InspectionCheck], economic_audit_required: bool
) -> list[InspectionCheck]:
    """The checks still to do before the vote, in the regulation's order."""
    required = list(FOUR_MUSTS)
    if economic_audit_required:
        required.append(InspectionCheck.ECONOMIC_AUDIT)
    completed = set(done)
    return [check for check in required if check not in completed]


def check_evaluation(
    participants: int, excellent: int, competent: int, basically_competent: int, incompetent: int
) -> None:
    """Ratings may fall short of the participants (blank ballots), never exceed them."""
    if participants < 1:
        raise RuleViolation(
            f"民主测评至少须 1 人参加，填写的是 {participants} 人",
            RULE_EVALUATION,
        )
    ratings = (excellent, competent, basically_competent, incompetent)
    if any(r < 0 for r in ratings):
        raise RuleViolation("民主测评的票数不能为负数", RULE_EVALUATION)
    total = sum(ratings)
    if total > participants:
        raise RuleViolation(
            f"民主测评共 {total} 票，但参加人数只有 {participants} 人",
            RULE_EVALUATION,
        )


def check_within(d: date, earliest: date, latest: date, what: str) -> None:
    if earliest > latest:
        raise ValueError(f"empty window for {what}: {earliest} is after {latest}")
    if not earliest <= d <= latest:
        raise RuleViolation(
            f"{what}（{d.isoformat()}）须在 {earliest.isoformat()} 至 {latest.isoformat()} 之间",
            RULE_TIMING,
        )
