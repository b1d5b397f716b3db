"""Recusal (回避): who withdraws from a candidate's matters, and how a withdrawal counts in
the vote (issue #16, class 7)."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from workflows.glossary import RELATIONSHIP_KINDS, zh
from workflows.rules import recusal
from workflows.rules.errors import RuleViolation
from workflows.rules.sources import SOURCES
from workflows.rules.vote import (
    RULE_QUORUM,
    RULE_TALLY,
    decide_item,
    describe_result,
    entitled_members,
    pass_threshold,
    quorum_required,
    voting_members,
)
from workflows.types import (
    Actor,
    Candidate,
    CaseInput,
    DeclaredRelationship,
    DemocraticRecommendation,
    Meeting,
    RelationshipKind,
    Role,
    SelectionMethod,
    VoteItem,
    VoteMethod,
    VoteResult,
)

KINDS = list(RelationshipKind)
MEMBERS = [f"常委{i}" for i in range(1, 12)]  # eleven members


def related(name: str, kind: RelationshipKind, pid: str = "p1") -> DeclaredRelationship:
    return DeclaredRelationship(person_id=pid, related_name=name, relation=kind)


def meeting(members: int = 11, present: int = 9, attendees: list[str] | None = None) -> Meeting:
    return Meeting(
        meeting_id="M1",
        held_on=date(2026, 9, 22),
        members=members,
        present=present,
        method=VoteMethod.SECRET_BALLOT,
        attendees=attendees or [],
    )


def item(agree: int, disagree: int, withdrawn: list[str], defer: int = 0) -> VoteItem:
    return VoteItem(
        person_id="p1", agree=agree, disagree=disagree, defer=defer, withdrawn=withdrawn
    )


# --------------------------------------------------------------------------- the kinships


def test_every_kind_of_the_regulation_requires_recusal_and_has_its_name():
    assert recusal.REQUIRES_RECUSAL == set(RelationshipKind)
    assert [RELATIONSHIP_KINDS[k] for k in KINDS] == [
        "夫妻关系",
        "直系血亲关系",
        "三代以内旁系血亲关系",
        "近姻亲关系",
        "其他可能影响公正的关系",
    ]


def test_every_rule_of_recusal_has_its_source():
    codes = [recusal.RULE_INSPECTION, recusal.RULE_VOTE, recusal.RULE_HANDLING]
    for code in [*codes, recusal.RULE_DECLARATION]:
        assert code in SOURCES
    assert all("回避" in SOURCES[c] for c in codes)


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_makes_the_related_person_withdraw(kind):
    declared = [related("周 干事", kind), related("李四", kind, pid="p2")]
    assert recusal.must_withdraw(declared, "p1") == [declared[0]]
    assert recusal.related_to(declared, "p1", "周干事") == declared[0]  # spaces ignored
    assert recusal.related_to(declared, "p1", "李四") is None  # related to p2, not to p1
    assert recusal.related_to(declared, "p3", "周干事") is None


@pytest.mark.parametrize("kind", KINDS)
def test_a_team_with_a_related_member_is_refused(kind):
    declared = [related("周干事", kind)]
    with pytest.raises(RuleViolation) as e:
        recusal.check_team(["李组长", "周干事"], {"p1": "张三", "p2": "李四"}, declared)
    assert e.value.rule == recusal.RULE_INSPECTION
    assert e.value.message == (
        f"考察组成员与考察对象有亲属关系，应当回避：周干事与张三有{zh(kind)}。请调整考察组成员"
    )
    assert "干部考察组成员在干部考察工作中涉及其亲属的，本人必须回避" in e.value.source


def test_a_team_is_judged_on_the_candidates_it_inspects():
    declared = [related("周干事", RelationshipKind.SPOUSE, pid="p9")]
    recusal.check_team(["李组长", "周干事"], {"p1": "张三"}, declared)  # p9 is not inspected
    recusal.check_team(["李组长", "王干事"], {"p9": "赵六"}, declared)  # nobody related


@pytest.mark.parametrize("kind", KINDS)
def test_a_related_recorder_is_refused(kind):
    declared = [related("王科员", kind, pid="p2")]
    with pytest.raises(RuleViolation) as e:
        recusal.check_recorder("王科员", {"p1": "张三", "p2": "李四"}, declared, "考察结论与提名")
    assert e.value.rule == recusal.RULE_HANDLING
    assert e.value.message == (
        f"王科员与李四有{zh(kind)}，应当回避，不能办理「考察结论与提名」；请由其他工作人员办理"
    )
    recusal.check_recorder("王科员", {"p1": "张三"}, declared, "考察结论与提名")
    recusal.check_recorder("赵科员", {"p2": "李四"}, declared, "考察结论与提名")


def test_a_kinship_is_declared_once():
    declared = [related("周干事", RelationshipKind.LINEAL)]
    with pytest.raises(RuleViolation) as e:
        recusal.check_declaration(declared, related("周 干事", RelationshipKind.SPOUSE), "张三")
    assert e.value.message == "周 干事与张三的直系血亲关系已经申报"
    assert e.value.rule == recusal.RULE_DECLARATION
    recusal.check_declaration(declared, related("周干事", RelationshipKind.SPOUSE, "p2"), "李四")


def test_a_case_file_declares_kinships_of_its_own_candidates_only():
    fields = dict(
        case_id="C1",
        unit="县环保局",
        post="副局长",
        positions=1,
        method=SelectionMethod.REGULAR_APPOINTMENT,
        candidates=[Candidate(person_id="p1", name="张三")],
        recommendation=DemocraticRecommendation(held_on=date(2026, 7, 20), participants=45),
        opened_by=Actor(name="王科员", role=Role.CLERK),
    )
    case = CaseInput(**fields, relationships=[related("周干事", RelationshipKind.SPOUSE)])
    assert case.relationships[0].relation is RelationshipKind.SPOUSE
    with pytest.raises(ValidationError) as e:
        CaseInput(**fields, relationships=[related("周干事", RelationshipKind.SPOUSE, "p7")])
    assert "申报的亲属关系涉及的人员不是本案件的人选：p7" in str(e.value)


# --------------------------------------------------------------------------- the vote


def test_eleven_members_two_withdraw_count_on_nine():
    m, i = meeting(11, 9), item(5, 2, ["常委1", "常委2"])
    assert (entitled_members(m, i), voting_members(m, i)) == (9, 7)
    assert (quorum_required(9), pass_threshold(9)) == (6, 5)
    assert decide_item(m, i) is VoteResult.PASSED  # 5 of 9; of 11 it would fail
    assert decide_item(m, item(4, 3, ["常委1", "常委2"])) is VoteResult.FAILED
    assert describe_result(m, i, VoteResult.PASSED) == (
        "通过：应到 11 人，回避 2 人（常委1、常委2），计 9 人，同意 5 人，至少须 5 人同意"
    )


def test_the_item_quorum_counts_the_entitled_members_at_its_edge():
    # 11 members, 8 present (quorate), 2 withdraw: 6 of 9 vote, exactly two thirds
    assert decide_item(meeting(11, 8), item(5, 1, ["常委1", "常委2"])) is VoteResult.PASSED
    # 3 withdraw: 5 of 8 vote, fewer than the 6 two thirds of 8 need
    with pytest.raises(RuleViolation) as e:
        decide_item(meeting(11, 8), item(5, 0, ["常委1", "常委2", "常委3"]))
    assert e.value.rule == RULE_QUORUM
    assert e.value.message == (
        "p1 的表决未达到法定到会人数：回避 3 人后应到 8 人，实到 5 人，至少须 6 人到会"
    )


def test_the_tally_counts_the_members_who_stayed():
    with pytest.raises(RuleViolation) as e:
        decide_item(meeting(11, 9), item(7, 2, ["常委1"]))
    assert e.value.rule == RULE_TALLY
    assert e.value.message == "p1 的表决票数合计 9 票，但到会 9 人、回避 1 人，应为 8 票"


def test_a_deferred_item_names_who_withdrew():
    i = VoteItem(person_id="p1", withdrawn=["常委1"], deferred_reason="有反映待查")
    assert decide_item(meeting(), i) is VoteResult.DEFERRED
    assert describe_result(meeting(), i, VoteResult.DEFERRED) == (
        "暂缓表决：有反映待查；回避 1 人（常委1）"
    )


def test_a_whole_committee_cannot_withdraw():
    with pytest.raises(RuleViolation) as e:
        decide_item(meeting(2, 2), VoteItem(person_id="p1", withdrawn=["甲", "乙"]))
    assert e.value.message == "p1 的表决：常委会成员全部回避，无人可以表决"


@pytest.mark.parametrize(
    ("attendees", "withdrawn", "message"),
    [
        (MEMBERS[:9], ["常委1", "常委 1"], "p1 的回避成员重复登记：常委 1、常委1"),
        (
            MEMBERS[:9],
            ["常委10"],
            "p1 的回避成员常委10不在到会成员名单中；回避是到会成员退出该项的讨论和表决",
        ),
        ([], [f"甲{i}" for i in range(10)], "p1 登记回避 10 人，但到会只有 9 人"),
        (MEMBERS[:8], [], "到会成员名单列出 8 人，但到会人数登记为 9 人"),
        ([*MEMBERS[:8], "常委 1"], [], "到会成员名单中每人只列一次，姓名不能为空"),
    ],
)
def test_impossible_withdrawals_and_attendance_are_refused(attendees, withdrawn, message):
    with pytest.raises(RuleViolation) as e:
        decide_item(meeting(11, 9, attendees), item(max(9 - len(withdrawn), 0), 0, withdrawn))
    assert e.value.message == message
    assert e.value.rule in (recusal.RULE_VOTE, RULE_QUORUM)


def test_a_related_member_present_must_be_recorded_as_withdrawn():
    declared = [
        related("常委1", RelationshipKind.SPOUSE),
        related("常委2", RelationshipKind.CLOSE_IN_LAW),
        related("常委10", RelationshipKind.LINEAL),  # absent: nothing to withdraw from
        related("常委3", RelationshipKind.SPOUSE, pid="p2"),  # another candidate
    ]
    m = meeting(11, 9, MEMBERS[:9])
    with pytest.raises(RuleViolation) as e:
        recusal.check_item_recusal(m, item(5, 3, ["常委1"]), "张三", declared)
    assert e.value.rule == recusal.RULE_VOTE
    assert e.value.message == (
        "到会成员常委2（近姻亲关系）与张三有亲属关系，应当回避对张三的讨论和表决，"
        "但表决记录未登记其回避"
    )
    assert "涉及与会人员本人及其亲属的，本人必须回避" in e.value.source
    recusal.check_item_recusal(m, item(5, 2, ["常委1", "常委 2"]), "张三", declared)


def test_a_declared_kinship_needs_the_attendance_named():
    declared = [related("常委1", RelationshipKind.SPOUSE)]
    with pytest.raises(RuleViolation) as e:
        recusal.check_item_recusal(meeting(), item(5, 2, ["常委1"]), "张三", declared)
    assert e.value.message == (
        "张三申报有亲属关系（常委1）：请登记到会成员名单，并在该项登记回避的成员"
    )
    recusal.check_item_recusal(meeting(), item(9, 0, []), "张三", [])  # nothing declared


@given(
    members=st.integers(1, 60),
    data=st.data(),
)
def test_withdrawals_count_as_if_the_committee_were_smaller(members, data):
    """An item with ``w`` withdrawals is decided exactly as the same item of a committee of
    ``members - w``, with ``present - w`` present; without withdrawals, as before."""
    present = data.draw(st.integers(quorum_required(members), members))
    withdrawn = data.draw(st.integers(0, present))
    agree = data.draw(st.integers(0, present - withdrawn))
    names = [f"m{i}" for i in range(withdrawn)]
    with_w = item(agree, present - withdrawn - agree, names)
    entitled, voting = members - withdrawn, present - withdrawn
    if entitled < 1 or voting * 3 < entitled * 2:
        with pytest.raises(RuleViolation) as e:
            decide_item(meeting(members, present), with_w)
        assert e.value.rule == RULE_QUORUM
        return
    result = decide_item(meeting(members, present), with_w)
    assert result is (VoteResult.PASSED if agree * 2 > entitled else VoteResult.FAILED)
    smaller = decide_item(meeting(entitled, voting), item(agree, voting - agree, []))
    assert smaller is result
    assert (agree >= pass_threshold(entitled)) is (result is VoteResult.PASSED)
