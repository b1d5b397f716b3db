"""What a case answers to a step (办理结果): a few hundred bytes, however large the case.

Every update of a case returns a ``StepOutcome``. The whole ``CaseState`` grows with each
applicant and each objection; returned by every update it would be written into the history
again and again, and a case flooded with objections would outgrow Temporal's history limit.
Whoever needs the state afterwards asks the ``state`` query, which the history never holds.
"""

from __future__ import annotations

from workflows.types import CaseStage, CaseState, CaseStatus, Model


class StepOutcome(Model):
    case_id: str
    update: str  # the step that was recorded
    stage: CaseStage
    status: CaseStatus
    events_recorded: int  # the case's events in the audit log, this step's included
    awaited: str | None = None  # what the case now waits for (``StepState.step``)


def outcome_of(state: CaseState, update: str) -> StepOutcome:
    """The outcome of ``update`` read from the case's state after it."""
    return StepOutcome(
        case_id=state.case_id,
        update=update,
        stage=state.stage,
        status=state.status,
        events_recorded=state.events_recorded,
        awaited=state.step.step if state.step is not None else None,
    )
