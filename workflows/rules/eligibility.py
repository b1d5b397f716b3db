"""Who may be inspected and promoted: sanction impact periods (影响期) and the limits on
exceptional promotion (破格提拔), plus the validity of a democratic recommendation.

Convention for every period here: a period of N months from day D ends on the day
``add_months(D, N)``, and that end day is already free. A serious warning decided on
2026-03-01 (18 months) bars the candidate up to and including 2027-08-31; on 2027-09-01
the candidate is eligible again.

Every check is judged on the date of the act it gates (the case's opening, the inspection's
start, the meeting, the appointment), never on the day the case is typed in: a case brought
in late is judged on its own dates.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from workflows.rules.dates import add_months, check_not_future
from workflows.rules.errors import RuleViolation
from workflows.types import Candidate, Sanction, SanctionKind

RULE_IMPACT = "eligibility.impact"
RULE_EXCEPTIONAL = "exceptional.limits"
RULE_RECOMMENDATION = "recommendation.validity"

# National floors. Party probation counts from the day Party rights are restored, not from
# the decision. Accountability (问责) has two bars: the table's is the higher post's (提拔,
# 24; a policy may lengthen it), ``ACCOUNTABILITY_LEADING_POST_MONTHS`` any leading post's.
NATIONAL_IMPACT_MONTHS: dict[SanctionKind, int] = {
    SanctionKind.PARTY_WARNING: 12,
    SanctionKind.PARTY_SERIOUS_WARNING: 18,
    SanctionKind.PARTY_POST_REMOVAL: 24,
    SanctionKind.PARTY_PROBATION: 24,
    SanctionKind.STATE_WARNING: 6,
    SanctionKind.STATE_DEMERIT: 12,
    SanctionKind.STATE_MAJOR_DEMERIT: 18,
    SanctionKind.STATE_DEMOTION: 24,
    SanctionKind.STATE_DISMISSAL: 24,
    SanctionKind.ACCOUNTABILITY_REMOVAL: 24,
}

# 问责后一年内不安排领导职务: a lateral move into a leading post waits this long.
ACCOUNTABILITY_LEADING_POST_MONTHS = 12

# Impact periods the regulation leaves to local rules.
LOCAL_IMPACT_KINDS = (SanctionKind.ADMONISHMENT, SanctionKind.ORGANIZATIONAL_HANDLING)

NATIONAL_RECOMMENDATION_VALID_MONTHS = 12
EXCEPTIONAL_MIN_MONTHS_SINCE_PROMOTION = 12

# The English names, for the policy file's errors; a clerk reads ``glossary.SANCTIONS``.
SANCTION_NAMES: dict[SanctionKind, str] = {
    SanctionKind.PARTY_WARNING: "a Party warning (警告)",
    SanctionKind.PARTY_SERIOUS_WARNING: "a serious Party warning (严重警告)",
    SanctionKind.PARTY_POST_REMOVAL: "removal from Party posts (撤销党内职务)",
    SanctionKind.PARTY_PROBATION: "probation within the Party (留党察看)",
    SanctionKind.STATE_WARNING: "a government warning (政务警告)",
    SanctionKind.STATE_DEMERIT: "a demerit (记过)",
    SanctionKind.STATE_MAJOR_DEMERIT: "a major demerit (记大过)",
    SanctionKind.STATE_DEMOTION: "a demotion (降级)",
    SanctionKind.STATE_DISMISSAL: "a dismissal from post (撤职)",
    SanctionKind.ACCOUNTABILITY_REMOVAL: "a removal from post by accountability (问责)",
    SanctionKind.ADMONISHMENT: "an admonishment (诫勉)",
    SanctionKind.ORGANIZATIONAL_HANDLING: "an organizational handling (组织处理)",
}


def impact_months(kind: SanctionKind, months: Mapping[SanctionKind, int]) -> int:
    """The period applied to ``kind``: the configured one, never shorter than the national."""
    national = NATIONAL_IMPACT_MONTHS.get(kind)
    configured = months.get(kind)
    if configured is None:
        if national is None:
            raise ValueError(f"no impact period is configured for {SANCTION_NAMES[kind]}")
        return national
    return configured if national is None else max(configured, national)


def is_promotion(c: Candidate) -> bool:
    """Whether taking the post is a promotion (提拔) for ``c``; an exceptional promotion is one
    whatever the file says, so a contradictory file gets the stricter reading."""
    return c.promotion or c.exceptional is not None


def applied_months(
    kind: SanctionKind,
    months: Mapping[SanctionKind, int],
    *,
    promotion: bool = True,
    leading_post: bool = True,
) -> int:
    """The months ``kind`` bars this appointment; 0 when it bars nothing.

    Only accountability depends on the appointment: a higher post waits its full period
    (24 national), a lateral move into a leading post 12, a lateral non-leading post none.
    Where both apply the longer wins. Every other period bars the act whatever the post.
    """
    n = impact_months(kind, months)
    if kind is not SanctionKind.ACCOUNTABILITY_REMOVAL:
        return n
    barred = [n] if promotion else []
    if leading_post:
        barred.append(ACCOUNTABILITY_LEADING_POST_MONTHS)
    return max(barred, default=0)


def impact_period_end(
    s: Sanction,
    months: Mapping[SanctionKind, int],
    *,
    promotion: bool = True,
    leading_post: bool = True,
) -> date | None:
    """The first day after the impact period; None while it cannot end yet.

    Party probation without a restoration date has no end: its period only starts when
    Party rights are restored. An accountability period that bars nothing of this
    appointment ends on the day it was decided.
    """
    n = applied_months(s.kind, months, promotion=promotion, leading_post=leading_post)
    if s.kind is SanctionKind.PARTY_PROBATION:
        return None if s.rights_restored_on is None else add_months(s.rights_restored_on, n)
    return add_months(s.decided_on, n)


def _sanction_problem(
    name: str, s: Sanction, months: Mapping[SanctionKind, int], promotion: bool, leading_post: bool
) -> str:
    # imported here: the glossary's own imports reach this module through the policy
    from workflows.glossary import SANCTIONS

    what = SANCTIONS[s.kind]
    decided = s.decided_on.isoformat()
    n = applied_months(s.kind, months, promotion=promotion, leading_post=leading_post)
    end = impact_period_end(s, months, promotion=promotion, leading_post=leading_post)
    if end is None:
        return (
            f"{name}于 {decided} 受到{what}，尚未恢复党员权利；"
            f"影响期自恢复党员权利之日起计算 {n} 个月"
        )
    sentence = f"{name}于 {decided} 受到{what}，尚在影响期内（{end.isoformat()} 起期满"
    if s.kind is SanctionKind.ACCOUNTABILITY_REMOVAL:
        barred = "担任高于原任职务层次的职务" if promotion else "担任领导职务"
        sentence += f"；{n} 个月内不得{barred}"
    if s.rights_restored_on is not None and s.kind is SanctionKind.PARTY_PROBATION:
        sentence += f"，即 {s.rights_restored_on.isoformat()} 恢复党员权利后 {n} 个月"
    return sentence + "）"


def _exceptional_problems(c: Candidate, on: date) -> list[str]:
    ex = c.exceptional
    if ex is None:
        return []
    problems: list[str] = []
    if c.on_probation:
        problems.append(f"{c.name}在现职务试用期内；试用期内不得破格提拔")
    if c.last_promotion_on is not None:
        free_on = add_months(c.last_promotion_on, EXCEPTIONAL_MIN_MONTHS_SINCE_PROMOTION)
        if on < free_on:
            problems.append(
                f"{c.name}上次提拔于 {c.last_promotion_on.isoformat()}；提拔任职不满一年的"
                f"不得破格提拔（{free_on.isoformat()} 起方可）"
            )
    if ex.levels_skipped >= 2:
        problems.append(f"对{c.name}的破格提拔将越 {ex.levels_skipped} 级；破格提拔不得越两级")
    if ex.time_in_post_exception and ex.previous_promotion_was_time_in_post_exception:
        problems.append(f"{c.name}上次提拔已是任职年限破格；不得连续两次任职年限破格提拔")
    return problems


def eligibility_findings(
    c: Candidate, on: date, months: Mapping[SanctionKind, int], *, leading_post: bool = True
) -> list[tuple[str, str]]:
    """Every reason ``c`` cannot be inspected or appointed to the post on ``on``, each with
    its rule's code (``RULE_IMPACT``, ``RULE_EXCEPTIONAL``); empty when eligible.
    ``leading_post`` is the case's (``CaseInput.leading_post``); whether the post is a
    promotion is the candidate's (``is_promotion``).

    A sanction counts from the day it was decided: one decided after ``on`` did not bar the
    act of that day (the next gate, judged on its own date, finds it).
    """
    promotion = is_promotion(c)
    findings: list[tuple[str, str]] = []
    for s in c.sanctions:
        if s.decided_on > on:
            continue
        end = impact_period_end(s, months, promotion=promotion, leading_post=leading_post)
        if end is None or on < end:
            sentence = _sanction_problem(c.name, s, months, promotion, leading_post)
            findings.append((RULE_IMPACT, sentence))
    findings.extend((RULE_EXCEPTIONAL, p) for p in _exceptional_problems(c, on))
    return findings


def eligibility_problems(
    c: Candidate, on: date, months: Mapping[SanctionKind, int], *, leading_post: bool = True
) -> list[str]:
    """Every reason ``c`` cannot be inspected or appointed on ``on``; empty when eligible."""
    findings = eligibility_findings(c, on, months, leading_post=leading_post)
    return [sentence for _, sentence in findings]


def check_eligible_on(
    people: list[Candidate],
    on: date,
    act: str,
    refused: str,
    months: Mapping[SanctionKind, int],
    *,
    leading_post: bool = True,
) -> None:
    """Refuse an act dated ``on`` for which one of ``people`` is not eligible.

    ``act`` names the act's date in Chinese (考察开始, 常委会会议, 任职通知) and ``refused``
    what cannot be done (进行考察); the refusal names every reason and carries the first
    one's rule.
    """
    findings = [
        f for c in people for f in eligibility_findings(c, on, months, leading_post=leading_post)
    ]
    if findings:
        reasons = "；".join(sentence for _, sentence in findings)
        raise RuleViolation(
            f"{act}之日（{on.isoformat()}）：{reasons}；不能{refused}", findings[0][0]
        )


def needs_approval_before_inspection(c: Candidate) -> bool:
    """Whether the higher level must approve in writing before inspection starts.

    Skipping a level (越级) or not coming through democratic recommendation sends the report
    up before inspection; other exceptional promotions wait for consent before the vote.
    """
    ex = c.exceptional
    return ex is not None and (ex.levels_skipped >= 1 or not ex.through_democratic_recommendation)


def check_recommendation_valid(held_on: date, on: date, valid_months: int) -> None:
    """Refuse a recommendation older than its validity; exactly ``valid_months`` old is valid.

    The national year is a ceiling: a policy asking for longer still gets one year.
    """
    from workflows.glossary import field_label  # here: see _sanction_problem

    check_not_future(held_on, on, field_label("recommendation"))
    months = min(valid_months, NATIONAL_RECOMMENDATION_VALID_MONTHS)
    if on > add_months(held_on, months):
        validity = "一年" if months == 12 else f"{months} 个月"
        raise RuleViolation(
            f"{held_on.isoformat()} 的民主推荐到 {on.isoformat()} 已超过 {months} 个月；"
            f"民主推荐结果{validity}内有效",
            RULE_RECOMMENDATION,
        )
