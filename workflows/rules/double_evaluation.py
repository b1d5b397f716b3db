"""Double evaluation (双重考核): which principal leaders are proposed for demotion or removal.

The county's rule (the seed): "对党政正职优秀票率排在最后5位，优秀票票率未达40%或不称职率超过20%，
且在其所在单位年度考核民主测评中优秀率未过40%或不称职超过20%的，给予降免职处理". Each principal
leader (党政正职) of a county-level unit is evaluated twice: in the county's unified
evaluation (统一民主测评) and in the own unit's annual evaluation (本单位民主测评). A leader is
proposed when all three hold:

1. ranked among the last ``last_n`` by the excellent-vote rate of the unified evaluation;
2. in the unified evaluation, the excellent rate is below ``excellent_min`` or the
   incompetent rate above ``incompetent_max``;
3. likewise in the own unit's evaluation.

The figures are the policy's (``policy.cadre.double_evaluation``). The seed says "未达" for
the first evaluation and "未过" for the second; the issue reads both as "likewise", so one
threshold serves both, strictly: exactly 40 % excellent is not below 40 %, and exactly 20 %
incompetent is not above 20 %.

A rate is the votes for the grade over the voters who took part (参加测评人数), as an exact
``Fraction``: 2 of 5 is exactly 2/5, so it equals 0.40 and is never a hair below it as a
float might be. A tally with more votes than voters, or a negative figure, is refused.

Ties (``TieRule``): leaders with the same excellent rate share a place. Counted from the
bottom, a leader's place is one more than the number of leaders with a strictly lower rate
(competition ranking from the bottom, ``TieRule.INCLUDE``): leaders tied across the N-th
place from the bottom are all in the last N, as equal results are treated alike and the
rate conditions still stand between them and a proposal. ``TieRule.EXCLUDE`` counts a
leader's place as the number of leaders with a rate lower or equal, so a tie across the
cutoff puts all of them out. Either way, nobody is in or out by the order of the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from workflows.rules.errors import RuleViolation

RULE_TALLY = "double_evaluation.tally"
RULE_LEADERS = "double_evaluation.leaders"


class TieRule(StrEnum):
    INCLUDE = "include"  # ties across the cutoff are all in the last N
    EXCLUDE = "exclude"  # ties across the cutoff are all out of it


@dataclass(frozen=True)
class Tally:
    """One evaluation of one leader: voters and the votes for each grade."""

    voters: int  # 参加测评人数
    excellent: int  # 优秀
    competent: int  # 称职
    basically_competent: int  # 基本称职
    incompetent: int  # 不称职

    def check(self, what: str) -> None:
        """Refuse figures that cannot be a tally; ``what`` names it in Chinese."""
        figures = {
            "参加测评人数": self.voters,
            "优秀票": self.excellent,
            "称职票": self.competent,
            "基本称职票": self.basically_competent,
            "不称职票": self.incompetent,
        }
        negative = [f"{name} {value}" for name, value in figures.items() if value < 0]
        if negative:
            raise RuleViolation(f"{what}的票数不能为负数：{'，'.join(negative)}", RULE_TALLY)
        if self.voters < 1:
            raise RuleViolation(f"{what}的参加测评人数为 0，无法计算票率", RULE_TALLY)
        votes = self.excellent + self.competent + self.basically_competent + self.incompetent
        if votes > self.voters:
            raise RuleViolation(
                f"{what}的票数合计 {votes} 票（优秀 {self.excellent}、称职 {self.competent}、"
                f"基本称职 {self.basically_competent}、不称职 {self.incompetent}），"
                f"多于参加测评人数 {self.voters} 人",
                RULE_TALLY,
            )

    @property
    def excellent_rate(self) -> Fraction:
        return Fraction(self.excellent, self.voters)

    @property
    def incompetent_rate(self) -> Fraction:
        return Fraction(self.incompetent, self.voters)


@dataclass(frozen=True)
class Leader:
    """A principal leader with both tallies."""

    person_id: str
    name: str
    unit: str
    unified: Tally  # the county's unified evaluation
    own: Tally  # the own unit's annual evaluation


@dataclass(frozen=True)
class Thresholds:
    last_n: int
    excellent_min: Fraction  # the excellent rate must reach this
    incompetent_max: Fraction  # the incompetent rate must not exceed this
    ties: TieRule


@dataclass(frozen=True)
class Ranked:
    leader: Leader
    place: int  # by excellent rate in the unified evaluation, 1 = highest; ties share it
    place_from_bottom: int  # as ``ties`` counts it, 1 = lowest
    in_last_n: bool
    unified_short: bool  # condition 2
    own_short: bool  # condition 3
    proposed: bool
    reason: str  # in Chinese


def below(tally: Tally, t: Thresholds) -> bool:
    """Excellent below the minimum, or incompetent above the maximum (exact fractions)."""
    return tally.excellent_rate < t.excellent_min or tally.incompetent_rate > t.incompetent_max


def percent(rate: Fraction) -> str:
    """A rate as people read it: 40%, 33.33% (two decimals at most, rounded half up)."""
    hundredths = (rate * 10000 + Fraction(1, 2)).__floor__()
    whole, part = divmod(hundredths, 100)
    return f"{whole}%" if part == 0 else f"{whole}.{part:02d}".rstrip("0") + "%"


def check_thresholds(t: Thresholds) -> None:
    if t.last_n < 1:
        raise RuleViolation(f"末位人数为 {t.last_n}，至少应为 1", RULE_LEADERS)
    for name, rate in (("优秀率下限", t.excellent_min), ("不称职率上限", t.incompetent_max)):
        if not 0 <= rate <= 1:
            raise RuleViolation(f"{name}为 {rate}，应在 0 到 1 之间", RULE_LEADERS)


def check_leaders(leaders: Sequence[Leader]) -> None:
    seen: set[str] = set()
    for leader in leaders:
        if leader.person_id in seen:
            raise RuleViolation(
                f"{leader.name}（{leader.person_id}）有不止一组测评结果", RULE_LEADERS
            )
        seen.add(leader.person_id)
        leader.unified.check(f"{leader.name}（{leader.unit}）的统一民主测评")
        leader.own.check(f"{leader.name}（{leader.unit}）的本单位民主测评")


def _describe(tally: Tally) -> str:
    return f"优秀率 {percent(tally.excellent_rate)}、不称职率 {percent(tally.incompetent_rate)}"


def rank_and_propose(leaders: Sequence[Leader], t: Thresholds) -> list[Ranked]:
    """Every leader ranked by unified excellent rate (highest first; equal rates in the
    order of person id, sharing their place) with whether he is proposed and why."""
    check_thresholds(t)
    check_leaders(leaders)
    rates = [leader.unified.excellent_rate for leader in leaders]
    ordered = sorted(leaders, key=lambda x: (-x.unified.excellent_rate, x.person_id))
    ranked: list[Ranked] = []
    for leader in ordered:
        rate = leader.unified.excellent_rate
        place = 1 + sum(1 for r in rates if r > rate)
        if t.ties is TieRule.INCLUDE:
            from_bottom = 1 + sum(1 for r in rates if r < rate)
        else:
            from_bottom = sum(1 for r in rates if r <= rate)
        in_last = from_bottom <= t.last_n
        unified_short = below(leader.unified, t)
        own_short = below(leader.own, t)
        proposed = in_last and unified_short and own_short
        ranked.append(
            Ranked(
                leader=leader,
                place=place,
                place_from_bottom=from_bottom,
                in_last_n=in_last,
                unified_short=unified_short,
                own_short=own_short,
                proposed=proposed,
                reason=_reason(leader, t, in_last, from_bottom, unified_short, own_short),
            )
        )
    return ranked


def _reason(
    leader: Leader,
    t: Thresholds,
    in_last: bool,
    from_bottom: int,
    unified_short: bool,
    own_short: bool,
) -> str:
    limits = (
        f"（优秀率须达到 {percent(t.excellent_min)}、不称职率不超过 {percent(t.incompetent_max)}）"
    )
    place = f"统一测评优秀票率倒数第 {from_bottom} 位" + (
        f"，在末 {t.last_n} 位" if in_last else f"，不在末 {t.last_n} 位"
    )
    unified = f"统一测评{_describe(leader.unified)}" + ("，未达标" if unified_short else "，达标")
    own = f"本单位测评{_describe(leader.own)}" + ("，未达标" if own_short else "，达标")
    verdict = "建议降免职" if in_last and unified_short and own_short else "不建议降免职"
    return f"{verdict}：{place}；{unified}；{own}{limits}"


def proposed(ranked: Sequence[Ranked]) -> list[Leader]:
    return [r.leader for r in ranked if r.proposed]
