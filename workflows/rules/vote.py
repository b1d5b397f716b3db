"""The standing-committee vote (常委会票决): quorum, pass mark, deferral, reconsideration.

Both thresholds count all members who should attend, not those present: a decision taken
by a thin meeting must still carry more than half of the whole committee.

A tally is read as what the members chose. When more of them said defer (缓议) than agree
and than disagree, the committee chose to defer, not to reject: the item is a deferral
(暂缓表决), which the regulation grants because opinions diverge or a major fact is unclear
and which ends in a vote again once that question is cleared up. The record must therefore
say what is to be cleared up: such a tally without a deferral reason is refused, asking for
it, and is never turned into a failure.

A member who withdrew from an item (回避, ``workflows.rules.recusal``) is not counted among
the members who should attend that item (``entitled_members``): the item's quorum, tally and
pass mark count the committee less its withdrawals.
"""

from __future__ import annotations

from workflows.glossary import field_label, zh
from workflows.rules import recusal
from workflows.rules.errors import RuleViolation
from workflows.types import Meeting, VoteItem, VoteResult

RULE_QUORUM = "vote.quorum"
RULE_PASS = "vote.pass"
RULE_TALLY = "vote.tally"
RULE_RECONSIDER = "vote.reconsider"
RULE_DEFERRAL = "vote.deferral"


def _check_members(members: int) -> None:
    if members < 1:
        raise RuleViolation(f"常委会组成人数至少为 1 人，填写的是 {members} 人", RULE_QUORUM)


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
            f"到会人数登记为 {present} 人，但常委会应到 {members} 人",
            RULE_QUORUM,
        )
    required = quorum_required(members)
    if present < required:
        raise RuleViolation(
            f"未达到法定到会人数：应到 {members} 人，实到 {present} 人，至少须 {required} 人到会",
            RULE_QUORUM,
        )


def entitled_members(meeting: Meeting, item: VoteItem) -> int:
    """The members who should attend (应到会成员) one item: the committee less the members who
    withdrew from it.

    The regulation counts both the quorum and the pass mark on the members who should attend
    (``vote.quorum``, ``vote.pass``). A member related to the candidate is barred from the
    item's discussion and vote by the regulation itself (``recusal.vote``): for that item they
    are not one who should attend. Counted, each withdrawal would weigh as a vote against, so a
    kinship would bear on the very decision the recusal keeps it out of. The meeting's own
    quorum, for all its items, still counts the whole committee (``check_quorum``).
    """
    return meeting.members - len(item.withdrawn)


def voting_members(meeting: Meeting, item: VoteItem) -> int:
    """The members present who vote on the item: a member who withdrew was present and left
    (``recusal.check_withdrawals``)."""
    return meeting.present - len(item.withdrawn)


def check_item_quorum(meeting: Meeting, item: VoteItem) -> None:
    """After its withdrawals, an item still has two thirds of its entitled members present."""
    recusal.check_withdrawals(meeting, item)
    entitled = entitled_members(meeting, item)
    voting = voting_members(meeting, item)
    if entitled < 1:
        raise RuleViolation(
            f"{item.person_id} 的表决：常委会成员全部回避，无人可以表决", RULE_QUORUM
        )
    required = quorum_required(entitled)
    if voting < required:
        raise RuleViolation(
            f"{item.person_id} 的表决未达到法定到会人数：回避 {len(item.withdrawn)} 人后应到 "
            f"{entitled} 人，实到 {voting} 人，至少须 {required} 人到会",
            RULE_QUORUM,
        )


def deferral_prevails(item: VoteItem) -> bool:
    """Whether defer (缓议) is what the members chose: strictly more defer votes than agree
    votes and than disagree votes.

    Strictly: a tie with disagree (or agree) is no choice for deferral, and the item is
    decided by the pass mark like any other. A plurality, not "agree fell short of the pass
    mark because of the defers": that reading would let one defer in a thin meeting turn a
    committee that mostly disagreed into a deferral. Such a tally can never pass: passing
    needs more than half of all members, hence of those present, to agree.
    """
    return item.defer > item.agree and item.defer > item.disagree


def decide_item(meeting: Meeting, item: VoteItem) -> VoteResult:
    """The result of one item (one candidate for one post), after checking the meeting.

    A deferred item (暂缓表决) is not decided, whatever its tallies; it must be voted again.
    A tally in which deferral prevails (``deferral_prevails``) is a deferral too, and is
    refused until the reason is given: it is never read as a failure.
    """
    check_quorum(meeting.members, meeting.present)
    recusal.check_attendance(meeting)
    if item.withdrawn:
        check_item_quorum(meeting, item)
    if item.deferred_reason.strip():
        return VoteResult.DEFERRED
    stated = item.agree + item.disagree + item.defer
    voting = voting_members(meeting, item)
    if stated != voting:
        withdrawn = f"、回避 {len(item.withdrawn)} 人，应为 {voting} 票" if item.withdrawn else ""
        raise RuleViolation(
            f"{item.person_id} 的表决票数合计 {stated} 票，但到会 {meeting.present} 人{withdrawn}",
            RULE_TALLY,
        )
    if deferral_prevails(item):
        raise RuleViolation(
            f"{item.person_id} 的表决中{field_label('defer')} {item.defer} 票，"
            f"多于{field_label('agree')} {item.agree} 票和{field_label('disagree')} "
            f"{item.disagree} 票，应暂缓表决而不是未通过：请在“{field_label('deferred_reason')}”"
            "中写明需要查清的问题，查清后再次表决",
            RULE_DEFERRAL,
        )
    passed = item.agree * 2 > entitled_members(meeting, item)
    return VoteResult.PASSED if passed else VoteResult.FAILED


def describe_result(meeting: Meeting, item: VoteItem, result: VoteResult) -> str:
    """The vote's note on one item, e.g. "通过：应到 11 人，同意 8 人，至少须 6 人同意"; with
    withdrawals, "通过：应到 11 人，回避 2 人（甲、乙），计 9 人，同意 5 人，至少须 5 人同意"."""
    withdrawn = ""
    if item.withdrawn:
        withdrawn = f"回避 {len(item.withdrawn)} 人（{'、'.join(item.withdrawn)}）"
    if result is VoteResult.DEFERRED:
        return f"{zh(result)}：{item.deferred_reason.strip()}" + (
            f"；{withdrawn}" if withdrawn else ""
        )
    entitled = entitled_members(meeting, item)
    required = pass_threshold(entitled)
    counted = f"{withdrawn}，计 {entitled} 人，" if withdrawn else ""
    return (
        f"{zh(result)}：应到 {meeting.members} 人，{counted}同意 {item.agree} 人，"
        f"至少须 {required} 人同意"
    )


def reconsideration_passes(members: int, agree: int) -> bool:
    """Whether a motion to reconsider (复议) a decision carries."""
    _check_members(members)
    if agree < 0 or agree > members:
        raise RuleViolation(
            f"同意人数登记为 {agree} 人，但常委会应到 {members} 人",
            RULE_RECONSIDER,
        )
    return agree * 2 > members
