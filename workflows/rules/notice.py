"""The pre-appointment public notice (任前公示): its length, objections and their outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from workflows.rules.dates import add_months
from workflows.rules.errors import RuleViolation
from workflows.types import ObjectionOutcome

NATIONAL_MIN_NOTICE_WORKING_DAYS = 5
NATIONAL_MAX_SUSPENSION_MONTHS = 3

RULE_NOTICE = "notice.period"
RULE_OBJECTION = "notice.objection"
RULE_SUSPENSION = "notice.suspension"
# A refusal other programs act on: the board takes it as "delivered before" (web.board.intake).
RULE_OBJECTION_RECORDED = "notice.objection_recorded"


def check_objection_in_period(received_on: date, published_on: date, ends_on: date) -> None:
    if not published_on <= received_on <= ends_on:
        raise RuleViolation(
            f"公示期间（{published_on.isoformat()} 至 {ends_on.isoformat()}）受理反映；"
            f"此件收到于 {received_on.isoformat()}",
            RULE_OBJECTION,
        )


def suspension_ends(verified_on: date, max_months: int) -> date:
    """The day by which a suspended appointment must be decided."""
    if not 1 <= max_months <= NATIONAL_MAX_SUSPENSION_MONTHS:
        raise RuleViolation(
            f"暂缓任用期限为 1 至 {NATIONAL_MAX_SUSPENSION_MONTHS} 个月，不能为 {max_months} 个月",
            RULE_SUSPENSION,
        )
    return add_months(verified_on, max_months)


@dataclass(frozen=True)
class OutcomeEffect:
    appoint: bool | None  # None: not decided yet (suspended)
    reminded: bool  # appointed with a reminder (提醒)
    suspend: bool


_EFFECTS = {
    ObjectionOutcome.NO_PROBLEM: OutcomeEffect(appoint=True, reminded=False, suspend=False),
    ObjectionOutcome.MINOR_SHORTCOMINGS: OutcomeEffect(appoint=True, reminded=True, suspend=False),
    ObjectionOutcome.SERIOUS_CONFIRMED: OutcomeEffect(appoint=False, reminded=False, suspend=False),
    ObjectionOutcome.SERIOUS_UNVERIFIABLE: OutcomeEffect(
        appoint=None, reminded=False, suspend=True
    ),
}


def effect_of(outcome: ObjectionOutcome) -> OutcomeEffect:
    return _EFFECTS[outcome]
