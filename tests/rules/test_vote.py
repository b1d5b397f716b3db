from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.rules.errors import RuleViolation
from workflows.rules.vote import (
    RULE_QUORUM,
    check_quorum,
    decide_item,
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
def test_decide_item_passes_iff_more_than_half_of_all_members_agree(data, members):
    present = data.draw(st.integers(quorum_required(members), members))
    agree = data.draw(st.integers(0, present))
    disagree = data.draw(st.integers(0, present - agree))
    item = VoteItem(
        person_id="p1", agree=agree, disagree=disagree, defer=present - agree - disagree
    )
    result = decide_item(meeting(members, present), item)
    assert result is (VoteResult.PASSED if agree * 2 > members else VoteResult.FAILED)


@given(data=st.data(), members=st.integers(1, 60))
def test_decide_item_refuses_tallies_that_do_not_add_up(data, members):
    present = data.draw(st.integers(quorum_required(members), members))
    agree = data.draw(st.integers(0, members + 3))
    disagree = data.draw(st.integers(0, 3))
    defer = data.draw(st.integers(0, 3))
    total = agree + disagree + defer
    item = VoteItem(person_id="p1", agree=agree, disagree=disagree, defer=defer)
    if total == present:
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
