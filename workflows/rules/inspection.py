"""Inspection (考察): the team, competition, the four musts (凡提四必), democratic evaluation."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from workflows.rules.errors import RuleViolation
from workflows.types import FOUR_MUSTS, InspectionCheck

NATIONAL_TEAM_MIN_SIZE = 2

RULE_TEAM = "条例 inspection: a team of at least two people (考察组不少于两人)"
RULE_COMPETITION = "条例 competitive inspection (差额考察): more candidates than posts"
RULE_EVALUATION = "条例 inspection: democratic evaluation (民主测评)"
RULE_TIMING = "policy: the timing of inspection steps"


def check_team(members: list[str], min_size: int) -> None:
    """Distinct, named members, at least ``min_size`` and never fewer than the national two."""
    seen: set[str] = set()
    for number, member in enumerate(members, start=1):
        name = member.strip()
        if not name:
            raise RuleViolation(f"member {number} of the inspection team has no name", RULE_TEAM)
        if name in seen:
            raise RuleViolation(f"{name} is listed twice on the inspection team", RULE_TEAM)
        seen.add(name)
    required = max(min_size, NATIONAL_TEAM_MIN_SIZE)
    if len(seen) < required:
        raise RuleViolation(
            f"an inspection team needs at least {required} people, {len(seen)} given", RULE_TEAM
        )


def check_competitive(candidates: int, positions: int, one_to_one_reason: str) -> None:
    """More candidates than posts; exactly as many only with a recorded reason (等额)."""
    counted = (
        f"{candidates} candidate{'' if candidates == 1 else 's'} for "
        f"{positions} post{'' if positions == 1 else 's'}"
    )
    if candidates < positions:
        raise RuleViolation(
            f"there are fewer candidates than posts: {counted}; an inspection needs at least "
            "one candidate for each post",
            RULE_COMPETITION,
        )
    if candidates == positions and not one_to_one_reason.strip():
        raise RuleViolation(
            "a competitive inspection (差额考察) needs more candidates than posts: "
            f"{counted}; a one-to-one inspection needs a recorded reason",
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
            f"a democratic evaluation needs at least one participant, {participants} given",
            RULE_EVALUATION,
        )
    ratings = (excellent, competent, basically_competent, incompetent)
    if any(r < 0 for r in ratings):
        raise RuleViolation("a democratic evaluation cannot have a negative count", RULE_EVALUATION)
    total = sum(ratings)
    if total > participants:
        raise RuleViolation(
            f"the democratic evaluation (民主测评) has {total} ratings but only "
            f"{participants} participants",
            RULE_EVALUATION,
        )


def check_within(d: date, earliest: date, latest: date, what: str) -> None:
    if earliest > latest:
        raise ValueError(f"empty window for {what}: {earliest} is after {latest}")
    if not earliest <= d <= latest:
        raise RuleViolation(
            f"{what} ({d.isoformat()}) must fall between {earliest.isoformat()} and "
            f"{latest.isoformat()}",
            RULE_TIMING,
        )
