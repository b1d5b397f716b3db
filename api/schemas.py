"""The wire models of the API, separate from the workflow's and the database's.

Request bodies are the workflow's own inputs without the field the API fills in itself:
``actor`` of a step and ``opened_by`` of a new case come from the caller's account, never
from the request. They are derived from ``workflows.types`` so the two never drift apart.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model

from workflows.types import (
    AppointmentInput,
    CaseInput,
    CaseStage,
    CaseState,
    CaseStatus,
    DemocraticEvaluationInput,
    ExamScoresInput,
    HigherApprovalInput,
    InspectionCheckInput,
    InspectionConclusionInput,
    InspectionReportInput,
    InspectionTeamInput,
    InvestigationNoticeInput,
    Model,
    ObjectionInput,
    ObjectionVerdictInput,
    PublicNoticeInput,
    RegistrationInput,
    RetryInput,
    Role,
    SelectionMethod,
    SuspensionDecisionInput,
    VoteInput,
    WithdrawInput,
)


def without(model: type[Model], field: str, name: str) -> type[Model]:
    """``model`` minus ``field``: same types, constraints and defaults; unknown fields (the
    removed one included) are refused."""
    fields: dict[str, Any] = {
        f: (info.annotation, info) for f, info in model.model_fields.items() if f != field
    }
    body: type[Model] = create_model(name, __base__=Model, __doc__=model.__doc__, **fields)
    return body


CaseStart = without(CaseInput, "opened_by", "CaseStart")

# update name -> the workflow's input model; the body is that model without ``actor``.
STEP_INPUTS: dict[str, type[Model]] = {
    "record_registration": RegistrationInput,
    "record_written_test": ExamScoresInput,
    "record_interview": ExamScoresInput,
    "record_investigation_notice": InvestigationNoticeInput,
    "record_inspection_team": InspectionTeamInput,
    "record_inspection_check": InspectionCheckInput,
    "record_democratic_evaluation": DemocraticEvaluationInput,
    "record_inspection_report": InspectionReportInput,
    "conclude_inspection": InspectionConclusionInput,
    "record_higher_approval": HigherApprovalInput,
    "record_vote": VoteInput,
    "record_public_notice": PublicNoticeInput,
    "record_objection": ObjectionInput,
    "record_objection_verdict": ObjectionVerdictInput,
    "decide_suspension": SuspensionDecisionInput,
    "record_appointment": AppointmentInput,
    "withdraw": WithdrawInput,
    "retry_blocked": RetryInput,
}

_BODIES: dict[type[Model], type[Model]] = {}


def step_body(update: str) -> type[Model]:
    model = STEP_INPUTS[update]
    if model not in _BODIES:
        _BODIES[model] = without(model, "actor", model.__name__.removesuffix("Input") + "Body")
    return _BODIES[model]


class Problem(BaseModel):
    """Why a request was not done: a sentence for people, and for a refusal its rule."""

    detail: str
    rule: str = ""


class _Row(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CaseSummary(_Row):
    case_id: str
    unit: str
    post: str
    method: SelectionMethod
    stage: CaseStage
    status: CaseStatus
    outcome_reason: str
    next_deadline: datetime | None
    overdue: bool
    policy_version: str
    probation_required: bool
    opened_on: date
    last_seq: int
    created_at: datetime
    updated_at: datetime


class Event(_Row):
    seq: int
    kind: str
    stage: CaseStage
    occurred_at: datetime
    actor_name: str
    actor_role: Role
    summary: str
    payload: dict[str, Any]
    recorded_at: datetime


class CaseDetail(BaseModel):
    """Where a case stands (live, from its workflow) and what happened (from the database)."""

    case_id: str
    state: CaseState | None
    state_unavailable: str = ""  # why there is no live state, when there is none
    listing: CaseSummary | None
    history: list[Event]


class Started(BaseModel):
    case_id: str
    workflow_id: str
    state: CaseState | None
    state_unavailable: str = ""


class AuditEntry(_Row):
    seq: int
    chain_index: int
    kind: str
    stage: str
    occurred_at: datetime
    actor_name: str
    actor_role: str
    summary: str
    payload: dict[str, Any]
    recorded_at: datetime
    prev_hash: str
    hash: str
    person_ids: tuple[str, ...]


class InboxMessage(_Row):
    id: int
    case_id: str
    event_seq: int
    recipient_role: Role
    recipient: str
    subject: str
    body: str
    created_at: datetime
    read_at: datetime | None
