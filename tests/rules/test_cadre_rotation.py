from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.rules.cadre_rotation import (
    RULE_POSTS,
    Post,
    rotation_due,
    stint_start,
    years_completed_on,
)
from workflows.rules.errors import RuleViolation

ORDINARY = ["科员", "一级主任科员"]
YEARS = 8


def due(posts, as_of):
    return rotation_due(posts, as_of, YEARS, ORDINARY)


def one(since, to_on=None, township="城关镇", rank="科员"):
    return Post(township=township, rank=rank, from_on=since, to_on=to_on)


# --------------------------------------------------------------------------- the edges


@pytest.mark.parametrize(
    ("since", "as_of", "is_due"),
    [
        (date(2018, 3, 1), date(2026, 3, 1), True),  # exactly 8 years
        (date(2018, 3, 1), date(2026, 2, 28), False),  # 7 years 364 days
        (date(2018, 3, 2), date(2026, 3, 1), False),  # 7 years 364 days
        (date(2018, 3, 1), date(2031, 1, 1), True),  # well over
        (date(2016, 2, 29), date(2024, 2, 29), True),  # leap day to leap day
        (date(2016, 2, 29), date(2024, 2, 28), False),
        (date(2020, 2, 29), date(2028, 2, 29), True),
        (date(2019, 3, 1), date(2027, 3, 1), True),  # across 29 Feb 2020 and 2024
        (date(2019, 3, 1), date(2027, 2, 28), False),
    ],
)
def test_years_in_one_stint(since, as_of, is_due):
    check = due([one(since)], as_of)
    assert check.due is is_due
    assert check.since == since
    assert check.township == "城关镇"


def test_leap_day_start_with_years_that_end_in_a_common_year():
    # 9 years from 29 Feb 2016 end in 2025, which has no 29 February: 28 February
    assert years_completed_on(date(2016, 2, 29), 9) == date(2025, 2, 28)
    posts = [one(date(2016, 2, 29))]
    assert rotation_due(posts, date(2025, 2, 28), 9, ORDINARY).due
    assert not rotation_due(posts, date(2025, 2, 27), 9, ORDINARY).due


def test_consecutive_posts_in_the_same_township_join():
    posts = [
        one(date(2018, 3, 1), date(2021, 6, 30), rank="科员"),
        Post("城关镇", "一级主任科员", date(2021, 7, 1), None),  # next day, another rank
    ]
    check = due(posts, date(2026, 3, 1))
    assert check.due and check.since == date(2018, 3, 1)


def test_a_gap_of_one_day_starts_the_count_again():
    posts = [
        one(date(2018, 3, 1), date(2021, 6, 29)),
        one(date(2021, 7, 1)),  # 30 June not in a post there
    ]
    check = due(posts, date(2026, 3, 1))
    assert not check.due
    assert check.since == date(2021, 7, 1)
    assert check.due_on == date(2029, 7, 1)


def test_two_stints_in_the_same_township_interrupted_do_not_add_up():
    posts = [
        one(date(2010, 1, 1), date(2015, 12, 31)),  # 6 years
        one(date(2016, 1, 1), date(2017, 12, 31), township="太和镇"),
        one(date(2018, 1, 1)),  # back, 4 years by 2022
    ]
    check = due(posts, date(2022, 1, 1))
    assert not check.due and check.since == date(2018, 1, 1)


def test_overlapping_posts_in_the_township_join():
    posts = [
        one(date(2018, 3, 1), date(2024, 1, 1)),
        one(date(2020, 1, 1), date(2023, 1, 1)),  # held at once (a second duty)
        one(date(2023, 6, 1)),  # begins inside the first: no gap
    ]
    assert due(posts, date(2026, 3, 1)).due


def test_a_post_elsewhere_now_does_not_count_the_old_township():
    posts = [one(date(2010, 1, 1), date(2025, 12, 31)), one(date(2026, 1, 1), township="太和镇")]
    check = due(posts, date(2026, 3, 1))
    assert not check.due and check.township == "太和镇"


def test_not_an_ordinary_cadre_is_never_due():
    posts = [one(date(2010, 1, 1), rank="副镇长")]
    check = due(posts, date(2026, 3, 1))
    assert not check.due and not check.ordinary
    assert "不是一般干部（职级：副镇长）" in check.reason


def test_also_holding_a_leading_rank_is_not_ordinary():
    posts = [one(date(2010, 1, 1)), one(date(2012, 1, 1), rank="副镇长")]
    assert not due(posts, date(2026, 3, 1)).ordinary


def test_county_unit_and_no_post():
    assert not due([one(date(2010, 1, 1), township=None)], date(2026, 3, 1)).due
    assert "不在乡镇工作" in due([one(date(2010, 1, 1), township="")], date(2026, 3, 1)).reason
    gone = due([one(date(2010, 1, 1), date(2020, 1, 1))], date(2026, 3, 1))
    assert not gone.due and "未在任何职务上" in gone.reason


def test_a_post_ending_on_the_day_asked_still_counts():
    posts = [one(date(2018, 3, 1), date(2026, 3, 1))]
    assert due(posts, date(2026, 3, 1)).due
    assert not due(posts, date(2026, 3, 2)).due


def test_future_posts_are_ignored():
    posts = [one(date(2018, 3, 1), date(2026, 2, 28)), one(date(2026, 4, 1))]
    assert not due(posts, date(2026, 3, 1)).due


def test_reasons_in_chinese():
    check = due([one(date(2018, 3, 1))], date(2026, 3, 1))
    assert check.reason == "应交流：自 2018-03-01 起在城关镇连续工作，2026-03-01 满 8 年"


def test_bad_posts_are_refused():
    with pytest.raises(RuleViolation) as e:
        due([one(date(2018, 3, 1), date(2018, 2, 28))], date(2026, 3, 1))
    assert e.value.rule == RULE_POSTS
    assert "止日 2018-02-28 早于起日 2018-03-01" in e.value.message
    with pytest.raises(RuleViolation, match="至少应为 1 年"):
        rotation_due([one(date(2018, 3, 1))], date(2026, 3, 1), 0, ORDINARY)


# --------------------------------------------------------------------------- properties

DAY = st.dates(date(2000, 1, 1), date(2030, 12, 31))


@given(DAY, st.integers(0, 4000))
def test_one_stint_is_due_exactly_from_the_anniversary(since, days):
    as_of = since + timedelta(days=days)
    check = due([one(since)], as_of)
    assert check.due is (as_of >= years_completed_on(since, YEARS))
    # the day before the anniversary is never due
    before = years_completed_on(since, YEARS) - timedelta(days=1)
    assert not due([one(since)], before).due


@given(DAY, st.lists(st.integers(1, 900), min_size=1, max_size=6), st.integers(0, 5))
def test_splitting_a_stint_into_consecutive_posts_changes_nothing(since, lengths, extra):
    posts, start = [], since
    for n in lengths:
        posts.append(one(start, start + timedelta(days=n - 1)))
        start += timedelta(days=n)
    last_day = start - timedelta(days=1)
    as_of = last_day - timedelta(days=min(extra, sum(lengths) - 1))
    assert stint_start(posts, "城关镇", as_of) == since
    whole = due([one(since, last_day)], as_of)
    split = due(posts, as_of)
    assert (split.due, split.since, split.due_on) == (whole.due, whole.since, whole.due_on)
