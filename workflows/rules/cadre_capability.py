"""The administrative capability test (行政管理能力测试): pass or fail, self-study, retest.

The county's rule (the seed): a cadre who fails studies on his own for some months and is
retested; one who fails the retest is handled by the organization (逆向交流, 降职 or 改任非
领导职务, decided by the department); good results may put a cadre on the reserve list
(后备干部). The pass mark, the full mark, the reserve mark and the months are the policy's
(``policy.cadre.capability_test``); this module only applies them.

Scores are compared as ``Decimal`` values of the figures as typed (59.5, 85.25), never as
binary floats: 59.99 is below a pass mark of 60, 60 is at it, and a float rounding must not
move a cadre across the line. A score equal to the pass mark passes; equal to the reserve
mark is "passing well".

Only the first test can mark a reserve cadre: a cadre who passed only at the retest did not
pass well, whatever the retest score.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from workflows.rules.dates import add_months
from workflows.rules.errors import RuleViolation

RULE_SCORE = "capability.score"
RULE_RETEST = "capability.retest"


class Attempt(StrEnum):
    FIRST = "first"  # 测试
    RETEST = "retest"  # 补测


class Outcome(StrEnum):
    PASSED = "passed"  # 合格
    SELF_STUDY = "self_study"  # 不合格：自学后补测
    HANDLING = "handling"  # 补测不合格：组织处理


class HandlingOption(StrEnum):
    """What the department may decide for a cadre who failed the retest (the seed's three)."""

    REVERSE_ROTATION = "reverse_rotation"  # 逆向交流
    DEMOTION = "demotion"  # 降职
    NON_LEADING_POST = "non_leading_post"  # 改任非领导职务


def check_score(score: Decimal, full_mark: Decimal, who: str = "") -> None:
    """Refuse a score below zero or above the full mark (a typing error, not a result)."""
    if not score.is_finite() or score < 0 or score > full_mark:
        subject = f"{who}的" if who else ""
        raise RuleViolation(
            f"{subject}能力测试成绩为 {score}，应在 0 到满分 {full_mark} 分之间", RULE_SCORE
        )


def outcome(score: Decimal, attempt: Attempt, pass_mark: Decimal, full_mark: Decimal) -> Outcome:
    """Passed at or above the pass mark; below it, self-study after the first test and the
    organization's handling after the retest."""
    check_score(score, full_mark)
    if score >= pass_mark:
        return Outcome.PASSED
    return Outcome.SELF_STUDY if attempt is Attempt.FIRST else Outcome.HANDLING


def reserve_eligible(
    score: Decimal, attempt: Attempt, reserve_mark: Decimal, full_mark: Decimal
) -> bool:
    """Whether the result lets the department list the cadre as a reserve cadre (后备干部):
    the first test, at or above the reserve mark."""
    check_score(score, full_mark)
    return attempt is Attempt.FIRST and score >= reserve_mark


def self_study_ends_on(notified_on: date, months: int) -> date:
    """The last day of the self-study that begins on the day the failure is notified (day 1).

    ``months`` months end the day before the same date so many months later: notified on
    2026-03-10, three months end on 2026-06-09 (as a probation year does,
    ``probation_types.probation_end``). When the later month lacks that date, the period ends
    on its last day (the civil code's rule for periods in months): notified on 2026-11-30,
    it ends on 2027-02-28.
    """
    if months < 1:
        raise RuleViolation(f"自学期限为 {months} 个月，至少应为 1 个月", RULE_RETEST)
    same_date = add_months(notified_on, months)
    if same_date.day != notified_on.day:  # the month lacks the date: its last day
        return same_date
    return same_date - timedelta(days=1)


def retest_opens_on(notified_on: date, months: int) -> date:
    """The first day the retest may be held: the day after the self-study ends."""
    return self_study_ends_on(notified_on, months) + timedelta(days=1)


def check_retest_date(tested_on: date, notified_on: date, months: int) -> None:
    """A retest held before the self-study is over is refused: the months are the cadre's."""
    opens = retest_opens_on(notified_on, months)
    if tested_on < opens:
        raise RuleViolation(
            f"补测日期 {tested_on} 早于自学期满后的 {opens}"
            f"（自 {notified_on} 起自学 {months} 个月）",
            RULE_RETEST,
        )
