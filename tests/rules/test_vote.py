from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.rules.errors import RuleViolation
from workflows.rules.vote import (
    RULE_DEFERRAL,
    RULE_QUORUM,
    check_quorum,
    decide_item,
    deferral_prevails,
    describe_result,
    pass_threshold,
    quorum_required,
    reconsideration_passes,
)
from workflows.types import Meeting, VoteItem, VoteMethod, VoteResult

MEMBERS = range(1, 61)


def meeting(members: int, present: int) -> Meeting:
    return Meeting(
        meeting_id="M1",
        held_on=date(2026, 11, 20),
        members=members,
        present=present,
        method=VoteMethod.SECRET_BALLOT,
    )


def test_eleven_members():
    assert quorum_required(11) == 8
    assert pass_threshold(11) == 6


@pytest.mark.parametrize(
    ("members", "quorum", "passing"),
    [(1, 1, 1), (2, 2, 2), (3, 2, 2), (4, 3, 3), (6, 4, 4), (9, 6, 5), (12, 8, 7), (13, 9, 7)],
)
def test_small_committees(members, quorum, passing):
    assert quorum_required(members) == quorum
    assert pass_threshold(members) == passing


@pytest.mark.parametrize("members", MEMBERS)
def test_quorum_is_two_thirds_inclusive_for_every_attendance(members):
    for present in range(members + 1):
        if present * 3 >= members * 2:
            check_quorum(members, present)
        else:
            with pytest.raises(RuleViolation) as e:
                check_quorum(members, present)
            assert e.value.rule == RULE_QUORUM
            assert str(e.value) == (
                f"未达到法定到会人数：应到 {members} 人，实到 {present} 人，"
                f"至少须 {quorum_required(members)} 人到会"
            )


@pytest.mark.parametrize("members", MEMBERS)
def test_quorum_required_is_the_smallest_quorate_attendance(members):
    q = quorum_required(members)
    assert q * 3 >= members * 2
    assert (q - 1) * 3 < members * 2


@pytest.mark.parametrize("members", MEMBERS)
def test_pass_threshold_is_the_smallest_strict_majority_of_all_members(members):
    p = pass_threshold(members)
    assert p * 2 > members
    assert (p - 1) * 2 <= members


def test_quorum_message_names_the_figures():
    with pytest.raises(
        RuleViolation, match=r"^未达到法定到会人数：应到 11 人，实到 7 人，至少须 8 人到会$"
    ):
        check_quorum(11, 7)


@pytest.mark.parametrize(("members", "present"), [(11, 12), (0, 0), (-1, 0), (5, -1)])
def test_impossible_attendance_is_refused(members, present):
    with pytest.raises(RuleViolation):
        check_quorum(members, present)


def test_no_committee_without_members():
    with pytest.raises(RuleViolation):
        quorum_required(0)
    with pytest.raises(RuleViolation):
        pass_threshold(0)


@given(data=st.data(), members=st.integers(1, 60))
def test_decide_item_reads_every_quorate_tally_as_the_members_chose(data, members):
    present = data.draw(st.integers(quorum_required(members), members))
    agree = data.draw(st.integers(0, present))
    disagree = data.draw(st.integers(0, present - agree))
    defer = present - agree - disagree
    item = VoteItem(person_id="p1", agree=agree, disagree=disagree, defer=defer)
    if defer > agree and defer > disagree:
        assert agree < pass_threshold(members)  # a prevailing deferral never hides a pass
        with pytest.raises(RuleViolation) as e:
            decide_item(meeting(members, present), item)
        assert e.value.rule == RULE_DEFERRAL
        assert "暂缓表决理由" in str(e.value)
        # with the reason, the same tally is the deferral the members chose
        reasoned = item.model_copy(update={"deferred_reason": "重大问题尚不清楚"})
        assert decide_item(meeting(members, present), reasoned) is VoteResult.DEFERRED
    else:
        result = decide_item(meeting(members, present), item)
        passed = agree >= pass_threshold(members)
        assert result is (VoteResult.PASSED if passed else VoteResult.FAILED)


@given(data=st.data(), members=st.integers(1, 60))
def test_decide_item_refuses_tallies_that_do_not_add_up(data, members):
    present = data.draw(st.integers(quorum_required(members), members))
    agree = data.draw(st.integers(0, members + 3))
    disagree = data.draw(st.integers(0, 3))
    defer = data.draw(st.integers(0, 3))
    total = agree + disagree + defer
    item = VoteItem(person_id="p1", agree=agree, disagree=disagree, defer=defer)
    if total == present:
        if not deferral_prevails(item):
            decide_item(meeting(members, present), item)
    else:
        with pytest.raises(RuleViolation, match=f"合计 {total} 票，但到会 {present} 人"):
            decide_item(meeting(members, present), item)


@given(data=st.data(), members=st.integers(1, 60))
def test_decide_item_without_quorum_is_refused_even_if_deferred(data, members):
    present = data.draw(st.integers(0, quorum_required(members) - 1))
    item = VoteItem(person_id="p1", agree=present, deferred_reason="a fact is unclear")
    with pytest.raises(RuleViolation, match=r"^未达到法定到会人数"):
        decide_item(meeting(members, present), item)


def test_pass_counts_all_members_not_those_present():
    # 8 of 11 present, 5 agree: a majority of those present, not of the committee.
    item = VoteItem(person_id="p1", agree=5, disagree=3)
    assert decide_item(meeting(11, 8), item) is VoteResult.FAILED
    item = VoteItem(person_id="p1", agree=6, disagree=2)
    assert decide_item(meeting(11, 8), item) is VoteResult.PASSED


def test_tally_message():
    item = VoteItem(person_id="Li Ming", agree=5, disagree=3, defer=1)
    with pytest.raises(RuleViolation) as e:
        decide_item(meeting(11, 10), item)
    assert str(e.value) == "Li Ming 的表决票数合计 9 票，但到会 10 人"


# 11 members (quorum 8, pass 6), 9 present unless said otherwise
@pytest.mark.parametrize(
    ("present", "agree", "disagree", "defer", "prevails", "result"),
    [
        (9, 3, 1, 5, True, None),  # a majority of those present deferred
        (9, 2, 3, 4, True, None),  # a plurality, not a majority, is enough
        (9, 0, 0, 9, True, None),  # every member deferred
        (9, 4, 0, 5, True, None),  # one vote ahead of agree
        (9, 3, 3, 3, False, VoteResult.FAILED),  # a three-way tie: nothing prevails
        (9, 2, 4, 3, False, VoteResult.FAILED),  # disagree prevails: rejected
        (9, 1, 4, 4, False, VoteResult.FAILED),  # a tie with disagree is no choice to defer
        (9, 4, 1, 4, False, VoteResult.FAILED),  # a tie with agree neither
        (8, 5, 2, 1, False, VoteResult.FAILED),  # agree short of the pass mark by one defer
        (9, 5, 0, 4, False, VoteResult.FAILED),  # agree leads but falls short of the pass mark
        (9, 6, 0, 3, False, VoteResult.PASSED),
    ],
)
def test_deferral_prevails_table(present, agree, disagree, defer, prevails, result):
    item = VoteItem(person_id="p1", agree=agree, disagree=disagree, defer=defer)
    assert deferral_prevails(item) is prevails
    if result is None:
        with pytest.raises(RuleViolation) as e:
            decide_item(meeting(11, present), item)
        assert e.value.rule == RULE_DEFERRAL
        assert e.value.source.endswith("暂缓表决，查清后再行表决")
    else:
        assert decide_item(meeting(11, present), item) is result


def test_prevailing_deferral_without_reason_asks_for_it():
    item = VoteItem(person_id="Li Ming", agree=3, disagree=1, defer=5)
    with pytest.raises(RuleViolation) as e:
        decide_item(meeting(11, 9), item)
    assert str(e.value) == (
        "Li Ming 的表决中缓议 5 票，多于同意 3 票和不同意 1 票，应暂缓表决而不是未通过："
        "请在“暂缓表决理由”中写明需要查清的问题，查清后再次表决"
    )


def test_prevailing_deferral_with_reason_is_deferred():
    item = VoteItem(person_id="p1", agree=3, disagree=1, defer=5, deferred_reason="举报待核实")
    assert decide_item(meeting(11, 9), item) is VoteResult.DEFERRED
    assert describe_result(meeting(11, 9), item, VoteResult.DEFERRED) == "暂缓表决：举报待核实"


def test_a_tally_that_does_not_add_up_is_refused_before_deferral_is_read():
    item = VoteItem(person_id="p1", agree=1, disagree=0, defer=5)
    with pytest.raises(RuleViolation, match="合计 6 票，但到会 9 人"):
        decide_item(meeting(11, 9), item)


def test_deferred_item_is_not_decided():
    item = VoteItem(person_id="p1", deferred_reason="the petition is still being checked")
    assert decide_item(meeting(11, 9), item) is VoteResult.DEFERRED


def test_blank_deferral_reason_is_no_deferral():
    item = VoteItem(person_id="p1", agree=9, deferred_reason="   ")
    assert decide_item(meeting(11, 9), item) is VoteResult.PASSED


def test_describe_result():
    m = meeting(11, 9)
    passed = VoteItem(person_id="p1", agree=7, disagree=2)
    assert describe_result(m, passed, VoteResult.PASSED) == (
        "通过：应到 11 人，同意 7 人，至少须 6 人同意"
    )
    failed = VoteItem(person_id="p1", agree=5, disagree=4)
    assert describe_result(m, failed, VoteResult.FAILED) == (
        "未通过：应到 11 人，同意 5 人，至少须 6 人同意"
    )
    deferred = VoteItem(person_id="p1", deferred_reason="a fact is unclear")
    assert describe_result(m, deferred, VoteResult.DEFERRED) == ("暂缓表决：a fact is unclear")


@pytest.mark.parametrize("members", MEMBERS)
def test_reconsideration_needs_more_than_half_of_all_members(members):
    for agree in range(members + 1):
        assert reconsideration_passes(members, agree) is (agree * 2 > members)


def test_reconsideration_refuses_impossible_counts():
    with pytest.raises(RuleViolation):
        reconsideration_passes(11, 12)
    with pytest.raises(RuleViolation):
        reconsideration_passes(0, 0)


def test_rule_violation_pickles_and_keeps_its_rule():
    import pickle

    e = RuleViolation("未达到法定到会人数：应到 11 人，实到 7 人，至少须 8 人到会", RULE_QUORUM)
    copy = pickle.loads(pickle.dumps(e))
    assert (copy.message, copy.rule, str(copy)) == (e.message, e.rule, str(e))
    assert isinstance(copy, ValueError)
