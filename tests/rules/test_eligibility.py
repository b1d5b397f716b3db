"""Impact periods use one convention: N months from day D end on add_months(D, N), and
that end day is already free. So the day before it is ineligible, the end day eligible."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.rules.dates import add_months
from workflows.rules.eligibility import (
    ACCOUNTABILITY_LEADING_POST_MONTHS,
    LOCAL_IMPACT_KINDS,
    NATIONAL_IMPACT_MONTHS,
    RULE_EXCEPTIONAL,
    RULE_IMPACT,
    applied_months,
    check_eligible_on,
    check_recommendation_valid,
    eligibility_findings,
    eligibility_problems,
    impact_period_end,
    is_promotion,
    needs_approval_before_inspection,
)
from workflows.rules.errors import RuleViolation
from workflows.types import Candidate, ExceptionalPromotion, Sanction, SanctionKind

LOCAL = {SanctionKind.ADMONISHMENT: 6, SanctionKind.ORGANIZATIONAL_HANDLING: 12}
MONTHS = {**NATIONAL_IMPACT_MONTHS, **LOCAL}
ONE_DAY = timedelta(days=1)


def candidate(*sanctions: Sanction, **fields) -> Candidate:
    return Candidate(person_id="p1", name="Li Ming", sanctions=list(sanctions), **fields)


def exceptional(**fields) -> ExceptionalPromotion:
    return ExceptionalPromotion(reason="outstanding results in flood relief", **fields)


@pytest.mark.parametrize(
    ("kind", "months"),
    [
        (SanctionKind.PARTY_WARNING, 12),
        (SanctionKind.PARTY_SERIOUS_WARNING, 18),
        (SanctionKind.PARTY_POST_REMOVAL, 24),
        (SanctionKind.PARTY_PROBATION, 24),
        (SanctionKind.STATE_WARNING, 6),
        (SanctionKind.STATE_DEMERIT, 12),
        (SanctionKind.STATE_MAJOR_DEMERIT, 18),
        (SanctionKind.STATE_DEMOTION, 24),
        (SanctionKind.STATE_DISMISSAL, 24),
        (SanctionKind.ACCOUNTABILITY_REMOVAL, 24),
    ],
)
def test_national_periods(kind, months):
    assert NATIONAL_IMPACT_MONTHS[kind] == months


def test_local_kinds_have_no_national_period():
    assert set(NATIONAL_IMPACT_MONTHS) | set(LOCAL_IMPACT_KINDS) == set(SanctionKind)
    assert not set(NATIONAL_IMPACT_MONTHS) & set(LOCAL_IMPACT_KINDS)


def test_serious_warning_message_and_boundary():
    s = Sanction(kind=SanctionKind.PARTY_SERIOUS_WARNING, decided_on=date(2026, 3, 1))
    assert impact_period_end(s, MONTHS) == date(2027, 9, 1)
    problems = eligibility_problems(candidate(s), date(2027, 8, 31), MONTHS)
    assert problems == ["Li Ming于 2026-03-01 受到党内严重警告，尚在影响期内（2027-09-01 起期满）"]
    assert eligibility_problems(candidate(s), date(2027, 9, 1), MONTHS) == []


@given(
    st.sampled_from([k for k in SanctionKind if k is not SanctionKind.PARTY_PROBATION]),
    st.dates(min_value=date(2004, 1, 1), max_value=date(2030, 12, 31)),
)
def test_every_period_boundary(kind, decided_on):
    s = Sanction(kind=kind, decided_on=decided_on)
    end = add_months(decided_on, MONTHS[kind])
    assert impact_period_end(s, MONTHS) == end
    assert eligibility_problems(candidate(s), decided_on, MONTHS)
    assert eligibility_problems(candidate(s), end - ONE_DAY, MONTHS)
    assert eligibility_problems(candidate(s), end, MONTHS) == []


def test_period_from_the_31st_ends_at_month_end():
    s = Sanction(kind=SanctionKind.STATE_WARNING, decided_on=date(2026, 8, 31))
    assert impact_period_end(s, MONTHS) == date(2027, 2, 28)


def test_party_probation_without_restoration_never_ends():
    s = Sanction(kind=SanctionKind.PARTY_PROBATION, decided_on=date(2020, 1, 1))
    assert impact_period_end(s, MONTHS) is None
    problems = eligibility_problems(candidate(s), date(2030, 1, 1), MONTHS)
    assert problems == [
        "Li Ming于 2020-01-01 受到留党察看，尚未恢复党员权利；"
        "影响期自恢复党员权利之日起计算 24 个月"
    ]


def test_party_probation_counts_from_restoration():
    s = Sanction(
        kind=SanctionKind.PARTY_PROBATION,
        decided_on=date(2024, 1, 10),
        rights_restored_on=date(2025, 1, 10),
    )
    assert impact_period_end(s, MONTHS) == date(2027, 1, 10)
    problems = eligibility_problems(candidate(s), date(2027, 1, 9), MONTHS)
    assert problems == [
        "Li Ming于 2024-01-10 受到留党察看，尚在影响期内（2027-01-10 起期满，"
        "即 2025-01-10 恢复党员权利后 24 个月）"
    ]
    assert eligibility_problems(candidate(s), date(2027, 1, 10), MONTHS) == []


def test_accountability_counts_24_months_for_promotion():
    s = Sanction(kind=SanctionKind.ACCOUNTABILITY_REMOVAL, decided_on=date(2025, 6, 1))
    assert impact_period_end(s, MONTHS) == date(2027, 6, 1)
    assert eligibility_problems(candidate(s), date(2026, 12, 1), MONTHS)


# --------------------------------------------------------------------------- accountability

REMOVED = date(2025, 6, 1)  # removed by accountability (问责)
PROMOTION_SENTENCE = (
    "Li Ming于 2025-06-01 受到问责（引咎辞职、责令辞职或免职），尚在影响期内"
    "（2027-06-01 起期满；24 个月内不得担任高于原任职务层次的职务）"
)
LEADING_SENTENCE = (
    "Li Ming于 2025-06-01 受到问责（引咎辞职、责令辞职或免职），尚在影响期内"
    "（2026-06-01 起期满；12 个月内不得担任领导职务）"
)


def removed(**fields) -> Candidate:
    return candidate(
        Sanction(kind=SanctionKind.ACCOUNTABILITY_REMOVAL, decided_on=REMOVED), **fields
    )


@pytest.mark.parametrize(
    ("promotion", "leading_post", "on", "problems"),
    [
        # a promotion into a leading post: the longer bar, 24 months
        (True, True, date(2026, 5, 31), [PROMOTION_SENTENCE]),
        (True, True, date(2026, 6, 1), [PROMOTION_SENTENCE]),
        (True, True, date(2027, 5, 31), [PROMOTION_SENTENCE]),
        (True, True, date(2027, 6, 1), []),
        # a promotion into a non-leading higher post: 24 months too
        (True, False, date(2026, 6, 1), [PROMOTION_SENTENCE]),
        (True, False, date(2027, 6, 1), []),
        # a lateral move into a leading post: 12 months
        (False, True, date(2026, 5, 31), [LEADING_SENTENCE]),
        (False, True, date(2026, 6, 1), []),
        (False, True, date(2026, 9, 1), []),
        # a lateral move into a non-leading post: accountability bars nothing
        (False, False, REMOVED, []),
        (False, False, date(2025, 12, 1), []),
    ],
)
def test_accountability_bars_a_leading_post_12_months_and_a_promotion_24(
    promotion, leading_post, on, problems
):
    c = removed(promotion=promotion)
    assert eligibility_problems(c, on, MONTHS, leading_post=leading_post) == problems


@pytest.mark.parametrize(
    ("promotion", "leading_post", "months"),
    [(True, True, 24), (True, False, 24), (False, True, 12), (False, False, 0)],
)
def test_the_months_accountability_applies(promotion, leading_post, months):
    kind = SanctionKind.ACCOUNTABILITY_REMOVAL
    assert applied_months(kind, MONTHS, promotion=promotion, leading_post=leading_post) == months
    assert ACCOUNTABILITY_LEADING_POST_MONTHS == 12


def test_a_policy_lengthens_the_promotion_bar_not_the_leading_post_bar():
    longer = {**MONTHS, SanctionKind.ACCOUNTABILITY_REMOVAL: 36}
    kind = SanctionKind.ACCOUNTABILITY_REMOVAL
    assert applied_months(kind, longer, promotion=True, leading_post=True) == 36
    assert applied_months(kind, longer, promotion=False, leading_post=True) == 12


def test_an_exceptional_promotion_is_a_promotion_whatever_the_file_says():
    c = removed(promotion=False, exceptional=exceptional())
    assert is_promotion(c)
    assert eligibility_problems(c, date(2026, 9, 1), MONTHS) == [PROMOTION_SENTENCE]


@pytest.mark.parametrize("leading_post", [True, False])
def test_other_periods_bar_a_lateral_move_too(leading_post):
    s = Sanction(kind=SanctionKind.PARTY_WARNING, decided_on=REMOVED)
    c = candidate(s, promotion=False)
    assert eligibility_problems(c, date(2026, 5, 31), MONTHS, leading_post=leading_post)
    assert not eligibility_problems(c, date(2026, 6, 1), MONTHS, leading_post=leading_post)


@given(
    st.dates(min_value=date(2004, 1, 1), max_value=date(2030, 12, 31)),
    st.integers(-60, 900),
    st.booleans(),
    st.booleans(),
)
def test_accountability_barred_exactly_inside_its_bar(decided_on, offset, promotion, leading):
    on = decided_on + timedelta(days=offset)
    s = Sanction(kind=SanctionKind.ACCOUNTABILITY_REMOVAL, decided_on=decided_on)
    months = 24 if promotion else 12 if leading else 0
    barred = decided_on <= on < add_months(decided_on, months)
    c = candidate(s, promotion=promotion)
    assert bool(eligibility_problems(c, on, MONTHS, leading_post=leading)) is barred
    # the boundaries themselves: the last barred day and the first free one
    if months:
        end = add_months(decided_on, months)
        assert eligibility_problems(c, end - ONE_DAY, MONTHS, leading_post=leading)
        assert eligibility_problems(c, end, MONTHS, leading_post=leading) == []


def test_a_lateral_move_is_refused_inside_12_months_with_the_sentence():
    with pytest.raises(RuleViolation) as e:
        check_eligible_on(
            [removed(promotion=False)],
            date(2026, 3, 3),
            "考察开始",
            "进行考察",
            MONTHS,
            leading_post=True,
        )
    assert (e.value.rule, e.value.message) == (
        RULE_IMPACT,
        f"考察开始之日（2026-03-03）：{LEADING_SENTENCE}；不能进行考察",
    )
    check_eligible_on([removed(promotion=False)], date(2026, 6, 1), "考察开始", "进行考察", MONTHS)


def test_local_periods_come_from_the_policy():
    s = Sanction(kind=SanctionKind.ADMONISHMENT, decided_on=date(2026, 1, 15))
    assert impact_period_end(s, MONTHS) == date(2026, 7, 15)
    longer = {**MONTHS, SanctionKind.ADMONISHMENT: 9}
    assert impact_period_end(s, longer) == date(2026, 10, 15)
    with pytest.raises(ValueError, match="admonishment"):
        impact_period_end(s, NATIONAL_IMPACT_MONTHS)


def test_a_policy_can_lengthen_a_national_period_but_never_shorten_it():
    s = Sanction(kind=SanctionKind.PARTY_WARNING, decided_on=date(2026, 1, 15))
    assert impact_period_end(s, {**MONTHS, SanctionKind.PARTY_WARNING: 15}) == date(2027, 4, 15)
    assert impact_period_end(s, {**MONTHS, SanctionKind.PARTY_WARNING: 3}) == date(2027, 1, 15)
    assert impact_period_end(s, LOCAL) == date(2027, 1, 15)


def test_several_sanctions_are_each_listed_and_the_longest_decides():
    warning = Sanction(kind=SanctionKind.STATE_WARNING, decided_on=date(2026, 1, 1))
    demotion = Sanction(kind=SanctionKind.STATE_DEMOTION, decided_on=date(2025, 1, 1))
    c = candidate(warning, demotion)
    assert len(eligibility_problems(c, date(2026, 3, 1), MONTHS)) == 2
    problems = eligibility_problems(c, date(2026, 8, 1), MONTHS)
    assert problems == ["Li Ming于 2025-01-01 受到降级，尚在影响期内（2027-01-01 起期满）"]
    assert eligibility_problems(c, date(2027, 1, 1), MONTHS) == []


def test_clean_candidate_is_eligible():
    assert eligibility_problems(candidate(), date(2026, 11, 25), MONTHS) == []


# --------------------------------------------------------------------------- exceptional


def test_exceptional_never_during_probation():
    c = candidate(on_probation=True, exceptional=exceptional())
    (problem,) = eligibility_problems(c, date(2026, 11, 25), MONTHS)
    assert problem == "Li Ming在现职务试用期内；试用期内不得破格提拔"
    # probation alone does not bar an ordinary promotion here
    assert eligibility_problems(candidate(on_probation=True), date(2026, 11, 25), MONTHS) == []


def test_exceptional_never_within_a_year_of_the_last_promotion():
    c = candidate(last_promotion_on=date(2026, 1, 10), exceptional=exceptional())
    (problem,) = eligibility_problems(c, date(2027, 1, 9), MONTHS)
    assert problem == (
        "Li Ming上次提拔于 2026-01-10；提拔任职不满一年的不得破格提拔（2027-01-10 起方可）"
    )
    assert eligibility_problems(c, date(2027, 1, 10), MONTHS) == []


def test_exceptional_never_two_levels_at_once():
    assert (
        eligibility_problems(
            candidate(exceptional=exceptional(levels_skipped=1)), date(2026, 11, 25), MONTHS
        )
        == []
    )
    (problem,) = eligibility_problems(
        candidate(exceptional=exceptional(levels_skipped=2)), date(2026, 11, 25), MONTHS
    )
    assert problem == "对Li Ming的破格提拔将越 2 级；破格提拔不得越两级"


def test_exceptional_never_two_time_in_post_exceptions_in_a_row():
    ex = exceptional(
        time_in_post_exception=True, previous_promotion_was_time_in_post_exception=True
    )
    (problem,) = eligibility_problems(candidate(exceptional=ex), date(2026, 11, 25), MONTHS)
    assert problem == "Li Ming上次提拔已是任职年限破格；不得连续两次任职年限破格提拔"
    for ok in (
        exceptional(time_in_post_exception=True),
        exceptional(previous_promotion_was_time_in_post_exception=True),
    ):
        assert eligibility_problems(candidate(exceptional=ok), date(2026, 11, 25), MONTHS) == []


def test_every_exceptional_problem_is_listed():
    ex = exceptional(
        levels_skipped=2,
        time_in_post_exception=True,
        previous_promotion_was_time_in_post_exception=True,
    )
    c = candidate(
        Sanction(kind=SanctionKind.PARTY_WARNING, decided_on=date(2026, 6, 1)),
        on_probation=True,
        last_promotion_on=date(2026, 6, 1),
        exceptional=ex,
    )
    assert len(eligibility_problems(c, date(2026, 11, 25), MONTHS)) == 5


def test_exceptional_limits_do_not_apply_to_ordinary_promotion():
    c = candidate(on_probation=True, last_promotion_on=date(2026, 6, 1))
    assert eligibility_problems(c, date(2026, 11, 25), MONTHS) == []


@pytest.mark.parametrize(
    ("ex", "needed"),
    [
        (None, False),
        (exceptional(), False),
        (exceptional(levels_skipped=1), True),
        (exceptional(through_democratic_recommendation=False), True),
        (exceptional(levels_skipped=1, through_democratic_recommendation=False), True),
    ],
)
def test_needs_approval_before_inspection(ex, needed):
    assert needs_approval_before_inspection(candidate(exceptional=ex)) is needed


# --------------------------------------------------------------------------- recommendation


def test_recommendation_valid_for_a_year_inclusive():
    check_recommendation_valid(date(2025, 11, 25), date(2026, 11, 25), 12)
    with pytest.raises(RuleViolation) as e:
        check_recommendation_valid(date(2025, 6, 1), date(2026, 11, 25), 12)
    assert str(e.value) == (
        "2025-06-01 的民主推荐到 2026-11-25 已超过 12 个月；民主推荐结果一年内有效"
    )
    with pytest.raises(RuleViolation):
        check_recommendation_valid(date(2025, 11, 24), date(2026, 11, 25), 12)


def test_recommendation_policy_may_be_shorter_never_longer():
    with pytest.raises(RuleViolation, match=r"民主推荐结果6 个月内有效$"):
        check_recommendation_valid(date(2026, 1, 1), date(2026, 7, 2), 6)
    with pytest.raises(RuleViolation, match=r"民主推荐结果一年内有效$"):
        check_recommendation_valid(date(2025, 1, 1), date(2026, 1, 2), 24)


@given(
    st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    st.integers(0, 800),
    st.integers(1, 12),
)
def test_recommendation_boundary(held_on, age_days, valid_months):
    on = held_on + timedelta(days=age_days)
    valid = on <= add_months(held_on, valid_months)
    try:
        check_recommendation_valid(held_on, on, valid_months)
    except RuleViolation:
        assert not valid
    else:
        assert valid


def test_recommendation_from_the_future_is_refused():
    future = r"^民主推荐的日期（2026-12-01）晚于今天（2026-11-25），尚未发生的事项不能登记$"
    with pytest.raises(RuleViolation, match=future):
        check_recommendation_valid(date(2026, 12, 1), date(2026, 11, 25), 12)


# --------------------------------------------------------------------------- the act's date


def test_a_sanction_counts_from_the_day_it_was_decided():
    s = Sanction(kind=SanctionKind.STATE_WARNING, decided_on=date(2026, 8, 20))
    assert eligibility_findings(candidate(s), date(2026, 8, 19), MONTHS) == []
    assert eligibility_findings(candidate(s), date(2026, 8, 20), MONTHS) == [
        (RULE_IMPACT, "Li Ming于 2026-08-20 受到政务警告，尚在影响期内（2027-02-20 起期满）")
    ]


@given(
    st.sampled_from([k for k in SanctionKind if k is not SanctionKind.PARTY_PROBATION]),
    st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    st.integers(-400, 1200),
)
def test_barred_exactly_from_the_decision_to_the_end_of_the_period(kind, decided_on, offset):
    on = decided_on + timedelta(days=offset)
    s = Sanction(kind=kind, decided_on=decided_on)
    barred = decided_on <= on < add_months(decided_on, MONTHS[kind])
    assert bool(eligibility_problems(candidate(s), on, MONTHS)) is barred


@pytest.mark.parametrize(
    ("fields", "on", "rule", "message"),
    [
        (
            {
                "sanctions": [
                    Sanction(kind=SanctionKind.STATE_WARNING, decided_on=date(2026, 8, 20))
                ]
            },
            date(2026, 9, 8),
            RULE_IMPACT,
            "考察开始之日（2026-09-08）：Li Ming于 2026-08-20 受到政务警告，"
            "尚在影响期内（2027-02-20 起期满）；不能进行考察",
        ),
        (
            {"last_promotion_on": date(2025, 10, 1), "exceptional": exceptional()},
            date(2026, 9, 8),
            RULE_EXCEPTIONAL,
            "考察开始之日（2026-09-08）：Li Ming上次提拔于 2025-10-01；提拔任职不满一年的"
            "不得破格提拔（2026-10-01 起方可）；不能进行考察",
        ),
        (
            {
                "sanctions": [
                    Sanction(kind=SanctionKind.PARTY_WARNING, decided_on=date(2026, 1, 5))
                ],
                "on_probation": True,
                "exceptional": exceptional(),
            },
            date(2026, 9, 8),
            RULE_IMPACT,
            "考察开始之日（2026-09-08）：Li Ming于 2026-01-05 受到党内警告，"
            "尚在影响期内（2027-01-05 起期满）；Li Ming在现职务试用期内；试用期内不得破格提拔；"
            "不能进行考察",
        ),
    ],
    ids=["impact", "exceptional-within-a-year", "both"],
)
def test_an_act_is_refused_on_its_own_date(fields, on, rule, message):
    fields = dict(fields)
    with pytest.raises(RuleViolation) as e:
        sanctions = fields.pop("sanctions", [])
        check_eligible_on([candidate(*sanctions, **fields)], on, "考察开始", "进行考察", MONTHS)
    assert (e.value.rule, e.value.message) == (rule, message)


@pytest.mark.parametrize(
    ("on", "refused"),
    [
        (date(2026, 8, 19), False),  # before the decision: the act of that day was free
        (date(2026, 8, 20), True),
        (date(2027, 2, 19), True),
        (date(2027, 2, 20), False),  # the period's end day is free
    ],
)
def test_the_same_candidate_is_judged_by_each_act_date(on, refused):
    c = candidate(Sanction(kind=SanctionKind.STATE_WARNING, decided_on=date(2026, 8, 20)))
    if refused:
        with pytest.raises(RuleViolation):
            check_eligible_on([c], on, "常委会会议", "提交常委会表决", MONTHS)
    else:
        check_eligible_on([c], on, "常委会会议", "提交常委会表决", MONTHS)
