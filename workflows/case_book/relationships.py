"""Declared kinships (申报亲属关系) and the recusal (回避) they impose on the case's steps.

The case keeps every kinship it was told of in ``CaseState.relationships``: those of the case
file when it opens, then each one the step ``declare_relationship`` records. The rule of who
withdraws from what is ``workflows.rules.recusal``; the stages call ``check_recorder`` for
the person recording a step, the inspection team and the vote check their own people.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from workflows.case_book.core import CaseBookBase, Happening
from workflows.glossary import field_label, step_title, zh
from workflows.policy import PolicySnapshot
from workflows.rules import recusal
from workflows.types import (
    Actor,
    CandidateState,
    CandidateStatus,
    CaseInput,
    CaseStage,
    CaseState,
    RelationshipInput,
    Role,
)

OPEN_STAGES = tuple(s for s in CaseStage if s is not CaseStage.CLOSED)


def check_recorder(
    state: CaseState, actor: Actor, concerned: Iterable[CandidateState], update: str
) -> None:
    """Refuse ``actor`` recording step ``update`` when related to a candidate it concerns;
    the system (the public board) is nobody's relative."""
    if actor.role is Role.SYSTEM:
        return
    recusal.check_recorder(
        actor.name,
        {c.person_id: c.name for c in concerned},
        state.relationships,
        step_title(update),
    )


class RelationshipRules(CaseBookBase):
    """Declaring a kinship while the case runs."""

    def __init__(self, case: CaseInput, snapshot: PolicySnapshot, today: date) -> None:
        super().__init__(case, snapshot, today)
        self.state.relationships = list(case.relationships)

    def check_relationship(self, data: RelationshipInput, today: date) -> None:
        self._require_stage(*OPEN_STAGES)
        c = self.candidate(data.person_id)
        self._check_date(data.declared_on, today, field_label("declared_on"), "opened")
        recusal.check_declaration(self.state.relationships, data.relationship(), c.name)

    def apply_relationship(self, data: RelationshipInput, today: date) -> list[Happening]:
        r = data.relationship()
        self.state.relationships.append(r)
        c = self.candidate(r.person_id)
        summary = (
            f"{data.declared_on} 申报亲属关系：{r.related_name}与{c.name}有{zh(r.relation)}，"
            f"应当回避{c.name}的考察、讨论决定和有关事项的办理"
        )
        team = [m for m in self.state.inspection_team if recusal.related_to([r], c.person_id, m)]
        if team and c.status is CandidateStatus.IN_POOL:
            summary += f"；{team[0]}是考察组成员，不能再办理对{c.name}的考察事项"
        return [self._input(data.actor, summary, data)]
