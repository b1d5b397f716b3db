"""The pre-appointment public notice (任前公示): its length, objections and their outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from workflows.rules.dates import add_months
from workflows.rules.errors import RuleViolation
from workflows.types import ObjectionOutcome

NATIONAL_MIN_NOTICE_WORKING_DAYS = 5
NATIONAL_MAX_SUSPENSION_MONTHS = 3

RULE_NOTICE = "条例 public notice (任前公示): at least five working days (不少于五个工作日)"
RULE_OBJECTION = "条例 public notice: objections received during the notice are verified"
RULE_SUSPENSION = "条例 public notice: suspension (暂缓任用) of at most three months"


def check_objection_in_period(received_on: date, published_on: date, ends_on: date) -> None:
    if not published_on <= received_on <= ends_on:
        raise RuleViolation(
            f"objections are accepted during the notice, {published_on.isoformat()} to "
            f"{ends_on.isoformat()}; this one was received on {received_on.isoformat()}",
            RULE_OBJECTION,
        )


def suspension_ends(verified_on: date, max_months: int) -> date:
    """The day by which a suspended appointment must be decided."""
    if not 1 <= max_months <= NATIONAL_MAX_SUSPENSION_MONTHS:
        raise RuleViolation(
            f"a suspension lasts 1 to {NATIONAL_MAX_SUSPENSION_MONTHS} months, not {max_months}",
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
