"""The policy's cadre section (workflows.cadre_policy): loaded, checked, in Chinese."""

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from tests.test_policy import changed, problems_of
from workflows.policy import parse_policy
from workflows.rules.cadre_capability import HandlingOption
from workflows.rules.double_evaluation import TieRule

DEFAULT = Path(__file__).resolve().parent.parent / "policy" / "default.yaml"


def test_the_default_has_the_seeds_figures():
    cadre = parse_policy(DEFAULT.read_text("utf-8"), "default.yaml").policy.cadre
    assert cadre is not None
    c = cadre.capability_test
    assert (c.pass_mark, c.full_mark, c.self_study_months) == (Decimal(60), Decimal(100), 3)
    assert c.handling_options == list(HandlingOption)
    assert cadre.rotation.years_in_same_township == 8
    d = cadre.double_evaluation
    assert d.last_n == 5 and d.ties is TieRule.INCLUDE
    t = d.thresholds()
    assert (t.excellent_min, t.incompetent_max) == (Fraction(2, 5), Fraction(1, 5))


def test_a_policy_without_the_section_loads():
    assert parse_policy(changed(("cadre", ...)), "old.yaml").policy.cadre is None


def test_marks_out_of_order_are_refused():
    problems = problems_of(
        changed(
            ("cadre.capability_test.pass_mark", 120),
            ("cadre.capability_test.reserve_mark", 50),
        )
    )
    assert "cadre.capability_test.pass_mark 为 120，高于满分 full_mark（100）" in problems
    assert any("reserve_mark 为 50，低于合格线" in p for p in problems)


def test_bad_reminders_and_timings_are_refused():
    problems = problems_of(
        changed(
            ("cadre.capability_test.reminder_days_before_retest", [7, 7, -1]),
            ("cadre.capability_test.retest.reminders_working_days_before", [30]),
            (
                "cadre.double_evaluation.vote.escalation",
                [
                    {"role": "department_head", "working_days_after": 3},
                    {"role": "committee_secretary", "working_days_after": 2},
                ],
            ),
        )
    )
    assert "cadre.capability_test.reminder_days_before_retest 中 7 出现了不止一次" in problems
    assert any("提醒天数不能为负数" in p for p in problems)
    assert any(
        p.startswith("cadre.capability_test.retest.reminders_working_days_before 中有 30")
        for p in problems
    )
    assert any(p.startswith("cadre.double_evaluation.vote.escalation") for p in problems)


def test_rates_outside_zero_and_one_and_unknown_words_are_refused():
    problems = problems_of(
        changed(
            ("cadre.double_evaluation.excellent_rate_min", 40),
            ("cadre.double_evaluation.ties", "coin_toss"),
            ("cadre.capability_test.handling_options", ["dismissal"]),
            ("cadre.rotation.years_in_same_township", 0),
        )
    )
    assert sorted(problems) == sorted(
        [
            "cadre.double_evaluation.excellent_rate_min：不能大于 1",
            "cadre.double_evaluation.ties：只能是以下之一：'include'、'exclude'",
            "cadre.capability_test.handling_options.0：只能是以下之一："
            "'reverse_rotation'、'demotion'、'non_leading_post'",
            "cadre.rotation.years_in_same_township：不能小于 1",
        ]
    )


def test_empty_rank_names_are_refused():
    problems = problems_of(changed(("cadre.rotation.ordinary_ranks", ["科员", " "])))
    assert "cadre.rotation.ordinary_ranks 中有空的职级名称" in problems
