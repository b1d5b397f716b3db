"""Recusal (回避): who must withdraw from a candidate's matters, and the refusals when they did
not.

A person related to a candidate (``RelationshipKind``: spouse, lineal blood relatives,
collateral blood relatives within three generations, close in-laws) takes no part in that
candidate's matters: an inspection team member withdraws from the candidate's inspection, a
committee member from the discussion and vote of the candidate's item, a clerk from handling
the candidate's steps. The kinships are those the case declared (``DeclaredRelationship``:
in the case file, or with the step ``declare_relationship``); a person is matched by name as
the case writes it (team, attendance, the account recording a step), spaces ignored.

How a withdrawal counts in the vote's quorum and pass mark is the vote's rule
(``workflows.rules.vote.entitled_members``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from workflows.glossary import zh
from workflows.rules.errors import RuleViolation
from workflows.types import DeclaredRelationship, Meeting, RelationshipKind, VoteItem

RULE_INSPECTION = "recusal.inspection"
RULE_VOTE = "recusal.vote"
RULE_HANDLING = "recusal.handling"
RULE_DECLARATION = "recusal.declaration"

# Every kinship the regulation names requires withdrawal, and so does another interest that
# could affect fairness, once declared; a kind added later (a looser tie declared for the
# record only) would be left out here.
REQUIRES_RECUSAL: frozenset[RelationshipKind] = frozenset(
    {
        RelationshipKind.SPOUSE,
        RelationshipKind.LINEAL,
        RelationshipKind.COLLATERAL,
        RelationshipKind.CLOSE_IN_LAW,
        RelationshipKind.OTHER_INTEREST,
    }
)


def person_key(name: str) -> str:
    """A name as names are compared: without spaces ("考察组 李组长" is "考察组李组长")."""
    return "".join(name.split())


def must_withdraw(
    relationships: Iterable[DeclaredRelationship], person_id: str
) -> list[DeclaredRelationship]:
    """The declared kinships of candidate ``person_id`` that make the related person withdraw
    from the candidate's matters, in the order declared."""
    return [r for r in relationships if r.person_id == person_id and r.relation in REQUIRES_RECUSAL]


def related_to(
    relationships: Iterable[DeclaredRelationship], person_id: str, name: str
) -> DeclaredRelationship | None:
    """The kinship by which ``name`` must withdraw from candidate ``person_id``, or None."""
    key = person_key(name)
    for r in must_withdraw(relationships, person_id):
        if person_key(r.related_name) == key:
            return r
    return None


def check_declaration(
    relationships: Iterable[DeclaredRelationship], new: DeclaredRelationship, candidate: str
) -> None:
    """A kinship is declared once: the same person and candidate twice is refused."""
    known = related_to(relationships, new.person_id, new.related_name)
    if known is not None:
        raise RuleViolation(
            f"{new.related_name}与{candidate}的{zh(known.relation)}已经申报", RULE_DECLARATION
        )


def check_team(
    members: Iterable[str],
    inspected: Mapping[str, str],
    relationships: Collection[DeclaredRelationship],
) -> None:
    """Refuse an inspection team with a member related to a candidate it inspects.

    ``inspected`` maps each candidate the team inspects (person id) to their name.
    """
    found = [
        f"{m}与{name}有{zh(r.relation)}"
        for m in members
        for pid, name in inspected.items()
        if (r := related_to(relationships, pid, m)) is not None
    ]
    if found:
        raise RuleViolation(
            "考察组成员与考察对象有亲属关系，应当回避：" + "；".join(found) + "。请调整考察组成员",
            RULE_INSPECTION,
        )


def check_recorder(
    recorder: str,
    concerned: Mapping[str, str],
    relationships: Collection[DeclaredRelationship],
    step: str,
) -> None:
    """Refuse ``recorder`` (the name of the account recording ``step``, in Chinese) when
    related to a candidate the step concerns (``concerned``: person id → name)."""
    for pid, name in concerned.items():
        r = related_to(relationships, pid, recorder)
        if r is not None:
            raise RuleViolation(
                f"{recorder}与{name}有{zh(r.relation)}，应当回避，不能办理「{step}」；"
                "请由其他工作人员办理",
                RULE_HANDLING,
            )


def check_withdrawals(meeting: Meeting, item: VoteItem) -> None:
    """The withdrawals an item records are possible at its meeting: each member once, each
    (when the attendance is named) among those present, not more than were present."""
    keys = [person_key(n) for n in item.withdrawn]
    if any(not k for k in keys):
        raise RuleViolation(f"{item.person_id} 的回避成员姓名不能为空", RULE_VOTE)
    repeated = sorted({n for n, k in zip(item.withdrawn, keys, strict=True) if keys.count(k) > 1})
    if repeated:
        raise RuleViolation(
            f"{item.person_id} 的回避成员重复登记：{'、'.join(repeated)}", RULE_VOTE
        )
    if meeting.attendees:
        present = {person_key(a) for a in meeting.attendees}
        absent = [n for n, k in zip(item.withdrawn, keys, strict=True) if k not in present]
        if absent:
            raise RuleViolation(
                f"{item.person_id} 的回避成员{'、'.join(absent)}不在到会成员名单中；"
                "回避是到会成员退出该项的讨论和表决",
                RULE_VOTE,
            )
    elif len(item.withdrawn) > meeting.present:
        raise RuleViolation(
            f"{item.person_id} 登记回避 {len(item.withdrawn)} 人，但到会只有 {meeting.present} 人",
            RULE_VOTE,
        )


def check_attendance(meeting: Meeting) -> None:
    """The attendance, when named, is the members present: as many names as ``present``,
    each once."""
    if not meeting.attendees:
        return
    keys = [person_key(a) for a in meeting.attendees]
    if any(not k for k in keys) or len(set(keys)) != len(keys):
        raise RuleViolation("到会成员名单中每人只列一次，姓名不能为空", RULE_VOTE)
    if len(keys) != meeting.present:
        raise RuleViolation(
            f"到会成员名单列出 {len(keys)} 人，但到会人数登记为 {meeting.present} 人", RULE_VOTE
        )


def check_item_recusal(
    meeting: Meeting,
    item: VoteItem,
    candidate: str,
    relationships: Collection[DeclaredRelationship],
) -> None:
    """Refuse the record of an item whose candidate (``candidate``, the name) has a member
    related to them present who is not recorded as withdrawn; with a declared kinship, the
    meeting must name its attendance, or nobody could tell."""
    declared = must_withdraw(relationships, item.person_id)
    if not declared:
        return
    if not meeting.attendees:
        names = "、".join(r.related_name for r in declared)
        raise RuleViolation(
            f"{candidate}申报有亲属关系（{names}）：请登记到会成员名单，并在该项登记回避的成员",
            RULE_VOTE,
        )
    present = {person_key(a) for a in meeting.attendees}
    withdrawn = {person_key(n) for n in item.withdrawn}
    missing = [
        f"{r.related_name}（{zh(r.relation)}）"
        for r in declared
        if person_key(r.related_name) in present and person_key(r.related_name) not in withdrawn
    ]
    if missing:
        raise RuleViolation(
            f"到会成员{'、'.join(missing)}与{candidate}有亲属关系，应当回避对{candidate}的讨论"
            "和表决，但表决记录未登记其回避",
            RULE_VOTE,
        )
