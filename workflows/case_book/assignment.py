"""Giving the awaited step to a person (认领、放弃、指派): the check, and what the history keeps."""

from __future__ import annotations

from datetime import date

from workflows.case_book.core import CaseBookBase, Happening
from workflows.glossary import awaited, zh
from workflows.rules.assignment import AssignmentKind, assignment_kind
from workflows.types import AssignStepInput


class AssignmentRules(CaseBookBase):
    """The awaited step's assignee; a new step starts unassigned (its role's queue)."""

    def check_assignment(self, data: AssignStepInput, today: date) -> None:
        assignment_kind(
            self.state.step, data.actor, data.step, data.assignee, self.state.inspection_team
        )

    def apply_assignment(self, data: AssignStepInput, today: date) -> list[Happening]:
        step = self.state.step
        kind = assignment_kind(
            step, data.actor, data.step, data.assignee, self.state.inspection_team
        )
        assert step is not None
        what = f"「{awaited(step.step)[0]}」"
        who = data.actor.name
        before = step.assignee
        if kind is AssignmentKind.CLAIM:
            summary = f"{who} 认领{what}"
        elif kind is AssignmentKind.RELEASE:
            summary = f"{who} 放弃{what}，退回{zh(step.responsible_role)}待办"
        elif kind is AssignmentKind.ASSIGN:
            summary = f"{zh(data.actor.role)} {who} 将{what}指派给 {data.assignee}"
        else:
            summary = f"{zh(data.actor.role)} {who} 将{what}退回{zh(step.responsible_role)}待办"
        if before is not None and kind is not AssignmentKind.RELEASE:
            summary += f"（原由 {before} 办理）"
        if data.reason:
            summary += f"：{data.reason}"
        step.assignee = data.assignee
        happening = self._input(data.actor, summary, data)
        happening.payload.update({"kind": kind.value, "before": before})
        return [happening]
