import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.rules.errors import RuleViolation
from workflows.rules.exam import (
    RankedEntry,
    TieRule,
    check_enough_for_competition,
    rank,
    select_for_inspection,
    select_for_interview,
    total_score,
)

# Scores as clerks type them: halves and quarters, with plenty of ties.
SCORE = st.sampled_from([x / 4 for x in range(0, 401)]) | st.integers(50, 70).map(float)
WEIGHT = st.sampled_from([0.3, 0.4, 0.5, 0.6])
TIE_RULE = st.sampled_from(list(TieRule))
IDS = st.lists(st.text("abcdefgh", min_size=1, max_size=3), unique=True, max_size=25)


@st.composite
def entries(draw):
    ids = draw(IDS)
    return [(pid, draw(SCORE), draw(SCORE)) for pid in ids]


def key(e: RankedEntry, tie_rule: TieRule):
    first, second = (
        (e.written, e.interview)
        if tie_rule is TieRule.WRITTEN_THEN_INTERVIEW
        else (e.interview, e.written)
    )
    return (e.total, first, second)


# --------------------------------------------------------------------------- total


def test_total_score():
    assert total_score(85.5, 90.25, 0.4) == 88.35
    assert total_score(60, 60, 0.4) == 60.0
    assert total_score(100, 0, 0.4) == 40.0


def test_total_rounds_half_up_on_the_scores_as_typed():
    # In binary floating point 70.005 is a hair below, and round() would give 70.0.
    assert total_score(70.005, 70.005, 0.5) == 70.01
    assert total_score(80.125, 80.125, 0.4) == 80.13


@pytest.mark.parametrize("weight", [0, 1, -0.1, 1.5])
def test_total_refuses_weights_outside_0_1(weight):
    with pytest.raises(ValueError):
        total_score(80, 80, weight)


@given(SCORE, SCORE, WEIGHT)
def test_total_lies_between_the_scores(w, i, weight):
    t = total_score(w, i, weight)
    assert min(w, i) - 0.005 <= t <= max(w, i) + 0.005
    assert round(t, 2) == t


# --------------------------------------------------------------------------- interview


def test_select_for_interview_cap_and_pass_mark():
    written = {"a": 90, "b": 85, "c": 80, "d": 75, "e": 59.5, "f": 70}
    assert select_for_interview(written, 1, 3, 60) == ["a", "b", "c"]
    assert select_for_interview(written, 2, 5, 60) == ["a", "b", "c", "d", "f"]


def test_select_for_interview_includes_everyone_tied_at_the_cutoff():
    written = {"a": 90, "b": 80, "c": 80, "d": 80, "e": 70}
    assert select_for_interview(written, 1, 2, 60) == ["a", "b", "c", "d"]


def test_select_for_interview_pass_mark_is_inclusive():
    assert select_for_interview({"a": 60.0, "b": 59.99}, 1, 5, 60) == ["a"]


@given(
    st.dictionaries(st.text("abcdef", min_size=1, max_size=3), SCORE, max_size=30),
    st.integers(1, 4),
    st.integers(1, 6),
    st.sampled_from([0.0, 50.0, 60.0]),
)
def test_select_for_interview_invariants(written, positions, ratio, pass_mark):
    cap = positions * ratio
    chosen = select_for_interview(written, positions, ratio, pass_mark)
    passed = [p for p, s in written.items() if s >= pass_mark]
    assert len(set(chosen)) == len(chosen)
    assert all(written[p] >= pass_mark for p in chosen)
    scores = [written[p] for p in chosen]
    assert scores == sorted(scores, reverse=True)
    assert len(chosen) >= min(cap, len(passed))
    if chosen:
        lowest = scores[-1]
        # nobody left out scored as well as the lowest admitted
        assert all(written[p] < lowest for p in passed if p not in chosen)
        # going over the cap only ever admits people tied with the cap-th
        if len(chosen) > cap:
            assert all(s == scores[cap - 1] for s in scores[cap - 1 :])
    else:
        assert not passed


# --------------------------------------------------------------------------- ranking


def test_rank_breaks_ties_by_written_then_interview():
    # a and b and c all total 80 at 40:60.
    entries_ = [("a", 80, 80), ("b", 95, 70), ("c", 65, 90), ("d", 95, 70), ("e", 90, 90)]
    ranked = rank(entries_, 0.4, TieRule.WRITTEN_THEN_INTERVIEW)
    assert [(r.person_id, r.rank) for r in ranked] == [
        ("e", 1),
        ("b", 2),
        ("d", 2),
        ("a", 4),
        ("c", 5),
    ]
    assert ranked[1].total == 80.0


def test_rank_breaks_ties_by_interview_then_written():
    entries_ = [("a", 80, 80), ("b", 95, 70), ("c", 65, 90)]
    ranked = rank(entries_, 0.4, TieRule.INTERVIEW_THEN_WRITTEN)
    assert [(r.person_id, r.rank) for r in ranked] == [("c", 1), ("a", 2), ("b", 3)]


def test_rank_refuses_two_score_sets_for_one_person():
    with pytest.raises(RuleViolation, match=r"^a 有不止一组成绩$"):
        rank([("a", 80, 80), ("a", 70, 70)], 0.4, TieRule.WRITTEN_THEN_INTERVIEW)


@given(entries(), WEIGHT, TIE_RULE)
def test_rank_invariants(entries_, weight, tie_rule):
    ranked = rank(entries_, weight, tie_rule)
    assert sorted(r.person_id for r in ranked) == sorted(p for p, _, _ in entries_)
    for r in ranked:
        assert r.total == total_score(r.written, r.interview, weight)
        # standard competition ranking: 1 + the number of candidates strictly ahead
        ahead = sum(1 for o in ranked if key(o, tie_rule) > key(r, tie_rule))
        assert r.rank == 1 + ahead
    keys = [key(r, tie_rule) for r in ranked]
    assert keys == sorted(keys, reverse=True)
    assert [r.rank for r in ranked] == sorted(r.rank for r in ranked)


@given(entries(), WEIGHT, TIE_RULE)
def test_rank_does_not_depend_on_input_order(entries_, weight, tie_rule):
    forward = rank(entries_, weight, tie_rule)
    backward = rank(list(reversed(entries_)), weight, tie_rule)
    assert forward == backward


# --------------------------------------------------------------------------- inspection


def test_select_for_inspection():
    ranked = rank(
        [("a", 90, 90), ("b", 85, 85), ("c", 80, 50), ("d", 75, 75), ("e", 70, 70)],
        0.4,
        TieRule.WRITTEN_THEN_INTERVIEW,
    )
    outcome = select_for_inspection(ranked, 1, 3, 60)
    assert outcome.selected == ["a", "b", "d"]
    assert outcome.failed == ["e", "c"]  # in rank order: e totals 70, c only 62
    assert outcome.ranked == ranked
    assert outcome.message == (
        "5 人中 3 人进入考察（拟任职数 1 个，按 3:1 至多 3 人，与末位并列者一并进入）；"
        "1 人面试成绩低于合格线 60 分"
    )


def test_select_for_inspection_includes_full_ties_at_the_cutoff():
    ranked = rank(
        [("a", 90, 90), ("b", 80, 80), ("c", 80, 80), ("d", 70, 70)],
        0.4,
        TieRule.WRITTEN_THEN_INTERVIEW,
    )
    outcome = select_for_inspection(ranked, 1, 2, 60)
    assert outcome.selected == ["a", "b", "c"]
    assert outcome.failed == ["d"]


@given(entries(), WEIGHT, TIE_RULE, st.integers(1, 3), st.integers(2, 4))
def test_select_for_inspection_invariants(entries_, weight, tie_rule, positions, ratio):
    ranked = rank(entries_, weight, tie_rule)
    cap = positions * ratio
    outcome = select_for_inspection(ranked, positions, ratio, 60)
    by_id = {r.person_id: r for r in ranked}
    assert sorted(outcome.selected + outcome.failed) == sorted(by_id)
    assert not set(outcome.selected) & set(outcome.failed)
    assert all(by_id[p].interview >= 60 for p in outcome.selected)
    passed = [r for r in ranked if r.interview >= 60]
    assert len(outcome.selected) >= min(cap, len(passed))
    ranks = [by_id[p].rank for p in outcome.selected]
    assert ranks == sorted(ranks)
    if outcome.selected:
        worst = ranks[-1]
        assert all(r.rank > worst for r in passed if r.person_id not in outcome.selected)
        if len(ranks) > cap:
            assert all(x == ranks[cap - 1] for x in ranks[cap - 1 :])


@pytest.mark.parametrize(("count", "positions"), [(0, 1), (1, 1), (2, 2), (3, 4)])
def test_too_few_for_competition(count, positions):
    with pytest.raises(RuleViolation):
        check_enough_for_competition(count, positions)


def test_too_few_for_competition_message():
    with pytest.raises(RuleViolation) as e:
        check_enough_for_competition(1, 1)
    assert str(e.value) == ("考试合格人数不足：合格 1 人，拟任职数 1 个，差额考察须多于 1 人")
    with pytest.raises(RuleViolation, match=r"拟任职数 2 个，差额考察须多于 2 人$"):
        check_enough_for_competition(2, 2)


@pytest.mark.parametrize(("count", "positions"), [(2, 1), (3, 2), (10, 3)])
def test_enough_for_competition(count, positions):
    check_enough_for_competition(count, positions)
