from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.rules.double_evaluation import (
    RULE_LEADERS,
    RULE_TALLY,
    Leader,
    Tally,
    Thresholds,
    TieRule,
    below,
    percent,
    proposed,
    rank_and_propose,
)
from workflows.rules.errors import RuleViolation

SEED = Thresholds(
    last_n=5, excellent_min=Fraction(2, 5), incompetent_max=Fraction(1, 5), ties=TieRule.INCLUDE
)


def tally(excellent: int, incompetent: int = 0, voters: int = 100) -> Tally:
    rest = voters - excellent - incompetent
    return Tally(voters, excellent, max(rest, 0), 0, incompetent)


def leader(pid: str, unified: Tally, own: Tally | None = None) -> Leader:
    return Leader(pid, f"干部{pid}", f"单位{pid}", unified, own or tally(30))


def proposed_ids(leaders, t=SEED) -> list[str]:
    return sorted(x.person_id for x in proposed(rank_and_propose(leaders, t)))


def field(*rates: int) -> list[Leader]:
    """Leaders L1.. with these unified excellent votes (of 100), all short in their own unit."""
    return [leader(f"L{i:02d}", tally(r)) for i, r in enumerate(rates, start=1)]


# --------------------------------------------------------------------------- the thresholds


@pytest.mark.parametrize(
    ("excellent", "incompetent", "voters", "short"),
    [
        (40, 0, 100, False),  # exactly 40 %: not below
        (39, 0, 100, True),
        (2, 0, 5, False),  # 2 of 5 is exactly 40 %
        (3999, 0, 10000, True),  # 39.99 %
        (40, 20, 100, False),  # exactly 20 % incompetent: not over
        (40, 21, 100, True),
        (1, 1, 5, True),  # 20 % excellent
        (2, 1, 5, False),  # 40 % and 20 %, both exactly
        (4, 2, 10, False),
        (4, 3, 10, True),  # 30 % incompetent
        (100, 0, 100, False),
        (0, 0, 100, True),
        (67, 33, 100, True),  # excellent fine, incompetent over
    ],
)
def test_below_the_limits_table(excellent, incompetent, voters, short):
    t = Tally(voters, excellent, voters - excellent - incompetent, 0, incompetent)
    assert below(t, SEED) is short


def test_a_rate_of_0_40_from_three_thirds_is_exact():
    # 0.1 + 0.1 + 0.2 in floats is not 0.4; as fractions of voters it is
    assert Tally(15, 6, 9, 0, 0).excellent_rate == Fraction(2, 5)
    assert not below(Tally(15, 6, 6, 0, 3), SEED)  # 40 % and exactly 20 %


# --------------------------------------------------------------------------- the proposals


def test_only_the_last_five_are_considered():
    # ten leaders, all short in both; the last five by unified rate are proposed
    leaders = field(39, 38, 37, 36, 35, 34, 33, 32, 31, 30)
    assert proposed_ids(leaders) == ["L06", "L07", "L08", "L09", "L10"]


def test_in_the_last_five_but_at_the_limits_is_not_proposed():
    leaders = [
        leader("A", tally(90)),
        leader("B", tally(80)),
        leader("C", tally(70)),
        leader("D", tally(40, 20)),  # exactly 40 % and exactly 20 %: not short
        leader("E", tally(39)),  # short in both
        leader("F", tally(39), own=tally(40, 20)),  # own unit exactly at the limits
        leader("G", tally(50, 21), own=tally(45, 21)),  # incompetent over in both
        leader("H", tally(10), own=tally(39)),
    ]
    ranked = rank_and_propose(leaders, SEED)
    last = {r.leader.person_id for r in ranked if r.in_last_n}
    assert last == {"D", "E", "F", "G", "H"}
    assert proposed_ids(leaders) == ["E", "G", "H"]


def test_not_proposed_when_only_one_evaluation_is_short():
    leaders = [leader("A", tally(10), own=tally(41)), leader("B", tally(41), own=tally(10))]
    assert proposed_ids(leaders) == []


def test_fewer_leaders_than_five_are_all_in_the_last_five():
    leaders = field(39, 10)
    assert all(r.in_last_n for r in rank_and_propose(leaders, SEED))
    assert proposed_ids(leaders) == ["L01", "L02"]


def test_ties_at_the_fifth_place_include():
    # 8 leaders; from the bottom: 10, 20, 30, 35, then 36 ×3 tied at the fifth place
    leaders = field(90, 36, 36, 36, 35, 30, 20, 10)
    ranked = {r.leader.person_id: r for r in rank_and_propose(leaders, SEED)}
    assert [ranked[p].place_from_bottom for p in ("L02", "L03", "L04")] == [5, 5, 5]
    assert ranked["L01"].place_from_bottom == 8 and not ranked["L01"].in_last_n
    assert proposed_ids(leaders) == ["L02", "L03", "L04", "L05", "L06", "L07", "L08"]


def test_ties_at_the_fifth_place_exclude():
    leaders = field(90, 36, 36, 36, 35, 30, 20, 10)
    t = Thresholds(5, SEED.excellent_min, SEED.incompetent_max, TieRule.EXCLUDE)
    ranked = {r.leader.person_id: r for r in rank_and_propose(leaders, t)}
    assert [ranked[p].place_from_bottom for p in ("L02", "L03", "L04")] == [7, 7, 7]
    assert proposed_ids(leaders, t) == ["L05", "L06", "L07", "L08"]


def test_a_tie_inside_the_last_five_is_the_same_under_both_rules():
    leaders = field(90, 80, 70, 30, 30, 20, 10)  # the 30s are 4th and 5th from the bottom
    t = Thresholds(5, SEED.excellent_min, SEED.incompetent_max, TieRule.EXCLUDE)
    assert proposed_ids(leaders) == proposed_ids(leaders, t) == ["L04", "L05", "L06", "L07"]


def test_places_from_the_top_share_ties():
    ranked = rank_and_propose(field(50, 40, 40, 30), SEED)
    assert [(r.leader.person_id, r.place) for r in ranked] == [
        ("L01", 1),
        ("L02", 2),
        ("L03", 2),
        ("L04", 4),
    ]


def test_the_reason_says_why_in_chinese():
    [r] = rank_and_propose([leader("A", tally(39, 0), own=tally(40, 21))], SEED)
    assert r.proposed
    assert r.reason == (
        "建议降免职：统一测评优秀票率倒数第 1 位，在末 5 位；"
        "统一测评优秀率 39%、不称职率 0%，未达标；"
        "本单位测评优秀率 40%、不称职率 21%，未达标（优秀率须达到 40%、不称职率不超过 20%）"
    )


@pytest.mark.parametrize(
    ("rate", "text"),
    [
        (Fraction(2, 5), "40%"),
        (Fraction(1, 3), "33.33%"),
        (Fraction(2, 3), "66.67%"),
        (Fraction(81, 200), "40.5%"),
    ],
)
def test_percent(rate, text):
    assert percent(rate) == text


# --------------------------------------------------------------------------- bad tallies


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        (Tally(10, 6, 5, 0, 0), "票数合计 11 票"),
        (Tally(10, 0, 0, 0, 11), "多于参加测评人数 10 人"),
        (Tally(10, -1, 5, 0, 0), "不能为负数：优秀票 -1"),
        (Tally(-3, 0, 0, 0, 0), "不能为负数：参加测评人数 -3"),
        (Tally(0, 0, 0, 0, 0), "参加测评人数为 0"),
    ],
)
def test_bad_tallies_are_refused_in_chinese(bad, words):
    for leaders in ([leader("A", bad)], [leader("A", tally(30), own=bad)]):
        with pytest.raises(RuleViolation) as e:
            rank_and_propose(leaders, SEED)
        assert e.value.rule == RULE_TALLY
        assert words in e.value.message
        assert "干部A（单位A）" in e.value.message


def test_a_leader_twice_is_refused():
    with pytest.raises(RuleViolation) as e:
        rank_and_propose([leader("A", tally(30)), leader("A", tally(20))], SEED)
    assert e.value.rule == RULE_LEADERS


@pytest.mark.parametrize(
    "t",
    [
        Thresholds(0, Fraction(2, 5), Fraction(1, 5), TieRule.INCLUDE),
        Thresholds(5, Fraction(3, 2), Fraction(1, 5), TieRule.INCLUDE),
        Thresholds(5, Fraction(2, 5), Fraction(-1, 5), TieRule.INCLUDE),
    ],
)
def test_bad_thresholds_are_refused(t):
    with pytest.raises(RuleViolation):
        rank_and_propose(field(10), t)


# --------------------------------------------------------------------------- properties


@st.composite
def tallies(draw):
    voters = draw(st.integers(1, 12))
    excellent = draw(st.integers(0, voters))
    incompetent = draw(st.integers(0, voters - excellent))
    return Tally(voters, excellent, voters - excellent - incompetent, 0, incompetent)


@st.composite
def fields(draw):
    n = draw(st.integers(0, 14))
    return [
        Leader(f"P{i}", f"人{i}", f"单位{i}", draw(tallies()), draw(tallies())) for i in range(n)
    ]


TIES = st.sampled_from(list(TieRule))


@given(fields(), st.integers(1, 8), TIES, st.randoms())
def test_the_rule_by_its_definition(leaders, last_n, ties, rnd):
    t = Thresholds(last_n, Fraction(2, 5), Fraction(1, 5), ties)
    shuffled = list(leaders)
    rnd.shuffle(shuffled)
    got = proposed_ids(shuffled, t)
    assert got == proposed_ids(leaders, t)  # the order of the rows never matters

    def rate(x):
        return Fraction(x.unified.excellent, x.unified.voters)

    def short(tl):
        return tl.excellent * 5 < tl.voters * 2 or tl.incompetent * 5 > tl.voters  # integers only

    expected = []
    for x in leaders:
        lower = sum(1 for y in leaders if rate(y) < rate(x))
        lower_or_equal = sum(1 for y in leaders if rate(y) <= rate(x))
        in_last = (lower + 1 if ties is TieRule.INCLUDE else lower_or_equal) <= last_n
        if in_last and short(x.unified) and short(x.own):
            expected.append(x.person_id)
    assert got == sorted(expected)


@given(fields(), st.integers(1, 8))
def test_include_takes_at_least_n_and_exclude_at_most_n(leaders, last_n):
    inc = Thresholds(last_n, Fraction(2, 5), Fraction(1, 5), TieRule.INCLUDE)
    exc = Thresholds(last_n, Fraction(2, 5), Fraction(1, 5), TieRule.EXCLUDE)
    n_inc = sum(r.in_last_n for r in rank_and_propose(leaders, inc))
    n_exc = sum(r.in_last_n for r in rank_and_propose(leaders, exc))
    assert n_exc <= min(last_n, len(leaders)) <= n_inc
    assert set(proposed_ids(leaders, exc)) <= set(proposed_ids(leaders, inc))
