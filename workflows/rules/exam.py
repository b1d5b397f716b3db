"""The exam of an open selection or competitive appointment (公开选拔 / 竞争上岗).

Written test (笔试) → interview (面试) → ranking by weighted total → the best go on to
inspection. The weights, pass marks and ratios are local policy; the rule that a
competitive inspection needs more candidates than posts is national.

Ties (the rule stated to candidates): candidates with the same total are ordered by the
higher written score (``TieRule.WRITTEN_THEN_INTERVIEW``) or the higher interview score
(``TieRule.INTERVIEW_THEN_WRITTEN``), then by the other score. Candidates still tied on
all three share a rank, and if they straddle a cutoff (the number going on to the interview
or to inspection) all of them go on: nobody is dropped by a coin toss.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from workflows.rules.errors import RuleViolation

RULE_COMPETITION = "inspection.competition"
RULE_SCORES = "exam.scores"

_CENT = Decimal("0.01")


class TieRule(StrEnum):
    WRITTEN_THEN_INTERVIEW = "written_then_interview"
    INTERVIEW_THEN_WRITTEN = "interview_then_written"


def total_score(written: float, interview: float, written_weight: float) -> float:
    """The weighted total, rounded half up to 2 decimals as it is published.

    Decimal arithmetic on the scores as typed, so 85.5 and 90.25 never turn into binary
    fractions that round the wrong way on the published list.
    """
    if not 0 < written_weight < 1:
        raise ValueError(f"the written weight lies strictly between 0 and 1, not {written_weight}")
    w = Decimal(repr(written_weight))
    total = Decimal(repr(written)) * w + Decimal(repr(interview)) * (1 - w)
    return float(total.quantize(_CENT, rounding=ROUND_HALF_UP))


def _cap(positions: int, ratio: int) -> int:
    if positions < 1 or ratio < 1:
        raise ValueError(f"positions and ratio must be at least 1, not {positions} and {ratio}")
    return positions * ratio


def select_for_interview(
    written: Mapping[str, float], positions: int, ratio: int, pass_mark: float
) -> list[str]:
    """Who goes on to the interview, best written score first.

    Those at or above the pass mark, at most positions*ratio of them, except that everyone
    tied with the last one admitted is admitted too.
    """
    cap = _cap(positions, ratio)
    passed = sorted(
        (pid for pid, score in written.items() if score >= pass_mark),
        key=lambda pid: (-written[pid], pid),
    )
    if len(passed) <= cap:
        return passed
    cutoff = written[passed[cap - 1]]
    return [pid for pid in passed if written[pid] >= cutoff]


@dataclass(frozen=True)
class RankedEntry:
    person_id: str
    written: float
    interview: float
    total: float
    rank: int  # 1 is best; fully tied candidates share a rank (1, 2, 2, 4)


def rank(
    entries: Sequence[tuple[str, float, float]], written_weight: float, tie_rule: TieRule
) -> list[RankedEntry]:
    """Rank (person_id, written, interview) triples by total, ties broken by ``tie_rule``."""
    seen: set[str] = set()
    for person_id, _, _ in entries:
        if person_id in seen:
            raise RuleViolation(f"{person_id} 有不止一组成绩", RULE_SCORES)
        seen.add(person_id)

    def key(e: tuple[str, float, float, float]) -> tuple[float, float, float]:
        _, w, i, t = e
        first, second = (w, i) if tie_rule is TieRule.WRITTEN_THEN_INTERVIEW else (i, w)
        return (-t, -first, -second)

    scored = [(p, w, i, total_score(w, i, written_weight)) for p, w, i in entries]
    scored.sort(key=lambda e: (*key(e), e[0]))
    ranked: list[RankedEntry] = []
    for position, e in enumerate(scored, start=1):
        if ranked and key(e) == key(scored[position - 2]):
            place = ranked[-1].rank
        else:
            place = position
        ranked.append(RankedEntry(e[0], e[1], e[2], e[3], place))
    return ranked


@dataclass(frozen=True)
class ExamOutcome:
    selected: list[str]  # going on to inspection, in rank order
    failed: list[str]  # everyone else, in rank order
    ranked: list[RankedEntry]
    message: str


def select_for_inspection(
    ranked: Sequence[RankedEntry], positions: int, ratio: int, interview_pass_mark: float
) -> ExamOutcome:
    """Who goes on to inspection: interview at or above the pass mark, best rank first.

    At most positions*ratio, except that everyone sharing the rank of the last one admitted
    is admitted too.
    """
    cap = _cap(positions, ratio)
    ordered = sorted(ranked, key=lambda e: (e.rank, e.person_id))
    passed = [e for e in ordered if e.interview >= interview_pass_mark]
    if len(passed) > cap:
        cutoff_rank = passed[cap - 1].rank
        passed = [e for e in passed if e.rank <= cutoff_rank]
    chosen = {e.person_id for e in passed}
    selected = [e.person_id for e in passed]
    failed = [e.person_id for e in ordered if e.person_id not in chosen]
    below = sum(1 for e in ordered if e.interview < interview_pass_mark)
    message = (
        f"{len(ordered)} 人中 {len(selected)} 人进入考察（拟任职数 {positions} 个，按 {ratio}:1 "
        f"至多 {cap} 人，与末位并列者一并进入）；{below} 人面试成绩低于合格线 "
        f"{interview_pass_mark:g} 分"
    )
    return ExamOutcome(selected=selected, failed=failed, ranked=list(ordered), message=message)


def check_enough_for_competition(selected_count: int, positions: int) -> None:
    if selected_count <= positions:
        raise RuleViolation(
            f"考试合格人数不足：合格 {selected_count} 人，拟任职数 {positions} 个，"
            f"差额考察须多于 {positions} 人",
            RULE_COMPETITION,
        )
