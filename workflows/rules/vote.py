"""The standing-committee vote (常委会票决): quorum, pass mark, deferral, reconsideration.

Both thresholds count all members who should attend, not those present: a decision taken
by a thin meeting must still carry more than half of the whole committee.
"""

from __future__ import annotations

from workflows.rules.errors import RuleViolation
from workflows.types import Meeting, VoteItem, VoteResult

RULE_QUORUM = "条例 quorum: two thirds of members (应到会成员三分之二以上到会)"
RULE_PASS = "条例 decision: more than half of all members agree (超过应到会成员半数同意)"
RULE_TALLY = "条例 vote: each member present states agree, disagree or defer (逐一表决)"
RULE_RECONSIDER = "条例 reconsideration (复议): more than half of all members agree"


def _check_members(members: int) -> None:
    if members < 1:
        raise RuleViolation(
            f"a standing committee needs at least one member, {members} given", RULE_QUORUM
        )


def quorum_required(members: int) -> int:
    """The fewest members present for a valid meeting: the smallest a with a*3 >= members*2."""
    _check_members(members)
    return (members * 2 + 2) // 3


def pass_threshold(members: int) -> int:
    """The fewest agreeing members for a decision: the smallest a with a*2 > members."""
    _check_members(members)
    return members // 2 + 1


def check_quorum(members: int, present: int) -> None:
    _check_members(members)
    if present < 0 or present > members:
        raise RuleViolation(
            f"{present} members are recorded as present, but the committee has {members}",
            RULE_QUORUM,
        )
    required = quorum_required(members)
    if present < required:
        raise RuleViolation(
            f"quorum not met: {present} of {members} present, at least {required} required",
            RULE_QUORUM,
        )


def decide_item(meeting: Meeting, item: VoteItem) -> VoteResult:
    """The result of one item (one candidate for one post), after checking the meeting.

    A deferred item (暂缓表决) is not decided, whatever its tallies; it must be voted again.
    """
    check_quorum(meeting.members, meeting.present)
    if item.deferred_reason.strip():
        return VoteResult.DEFERRED
    stated = item.agree + item.disagree + item.defer
    if stated != meeting.present:
        raise RuleViolation(
            f"the tallies for {item.person_id} add up to {stated}, but {meeting.present} "
            "members are present",
            RULE_TALLY,
        )
    return VoteResult.PASSED if item.agree * 2 > meeting.members else VoteResult.FAILED


def describe_result(meeting: Meeting, item: VoteItem, result: VoteResult) -> str:
    if result is VoteResult.DEFERRED:
        return f"deferred (暂缓表决): {item.deferred_reason.strip()}"
    required = pass_threshold(meeting.members)
    return (
        f"{result.value}: {item.agree} of {meeting.members} members agreed, "
        f"at least {required} required"
    )


def reconsideration_passes(members: int, agree: int) -> bool:
    """Whether a motion to reconsider (复议) a decision carries."""
    _check_members(members)
    if agree < 0 or agree > members:
        raise RuleViolation(
            f"{agree} members are recorded as agreeing, but the committee has {members}",
            RULE_RECONSIDER,
        )
    return agree * 2 > members
