"""The wire models of the API, separate from the workflow's and the database's.

Request bodies are the workflow's own inputs without the field the API fills in itself:
``actor`` of a step and ``opened_by`` of a new case come from the caller's account, never
from the request. They are derived from ``workflows.types`` so the two never drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Path, Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from api.errors import MALFORMED
from workflows.probation_types import (
    EndEarlyInput,
    ProbationState,
    ProbationStatus,
    ReviewInput,
    ReviewStatus,
)
from workflows.steps import CASE_STEPS
from workflows.types import (
    ID_MAX,
    ID_PATTERN,
    CaseInput,
    CaseStage,
    CaseState,
    CaseStatus,
    ChainKind,
    Model,
    Role,
    SelectionMethod,
    service_filled,
)

# an identifier in a URL path (a case, a campaign, a person): as the inputs take it
IdPath = Annotated[str, Path(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN)]


M = TypeVar("M", bound=BaseModel)


def without(model: type[Model], field: str | frozenset[str], name: str) -> type[Model]:
    """``model`` minus ``field`` (or several): same types, constraints and defaults; unknown
    fields (the removed ones included) are refused. Not its model validators (they may read a
    field removed): ``completed`` runs them on the whole input."""
    gone = frozenset({field}) if isinstance(field, str) else field
    fields: dict[str, Any] = {
        f: (info.annotation, info) for f, info in model.model_fields.items() if f not in gone
    }
    body: type[Model] = create_model(name, __base__=Model, __doc__=model.__doc__, **fields)
    return body


def completed(model: type[M], fields: Mapping[str, Any], **filled: Any) -> M:
    """The workflow's input: a body's ``fields`` and what the service fills in (the caller as
    ``actor`` or ``opened_by``, the path's person). What only the whole input can tell (each
    cadre once in a campaign, a kinship naming a candidate) is the request's fault: a 422 like
    any malformed body, never a 500."""
    try:
        return model.model_validate({**fields, **filled})
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        ) from None


CaseStart = without(CaseInput, "opened_by", "CaseStart")

# update name -> the workflow's input model; the body is that model without ``actor``.
STEP_INPUTS: dict[str, type[Model]] = {u: step.input for u, step in CASE_STEPS.items()}

_BODIES: dict[type[Model], type[Model]] = {}


def step_body(update: str) -> type[Model]:
    model = STEP_INPUTS[update]
    if model not in _BODIES:
        # the actor is the caller; a field the service fills is never the caller's to send
        gone = frozenset({"actor"}) | service_filled(model)
        _BODIES[model] = without(model, gone, model.__name__.removesuffix("Input") + "Body")
    return _BODIES[model]


class Problem(BaseModel):
    """Why a request was not done: a sentence for people, and for a refusal its rule: the
    rule's stable code (``vote.quorum``) and its source in Chinese."""

    detail: str
    code: str = ""
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
    chain: ChainKind  # appointment: a case; else an audit chain's listing row (not a case)


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


# --------------------------------------------------------------------------- malformed


class MalformedField(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Malformed(BaseModel):
    """A request that does not fit: nothing was sent or written. ``problems`` names each
    field (absent when the request is refused as a whole, e.g. a body that is not JSON)."""

    detail: str
    code: str = "malformed"
    rule: str = ""
    problems: list[MalformedField] = []


def nul_fields(value: Any, loc: tuple[str | int, ...] = ()) -> list[str]:
    """Where ``value`` (a model dump) holds text with U+0000, which PostgreSQL cannot store:
    accepted, such a step would be retried for ever by the activity that records it."""
    if isinstance(value, str):
        return [".".join(map(str, loc)) or "value"] if "\x00" in value else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in nul_fields(v, (*loc, k))]
    if isinstance(value, list | tuple):
        return [p for i, v in enumerate(value) for p in nul_fields(v, (*loc, i))]
    return []


def nul_refusal(body: dict[str, Any]) -> str:
    """The 422 sentence for a request body holding U+0000, or "" if it holds none."""
    bad = nul_fields(body, ("body",))
    if not bad:
        return ""
    return f"{MALFORMED}：文字中不能含空字符 NUL（U+0000）（见 {'、'.join(bad)}）"


# --------------------------------------------------------------------------- probation

ReviewBody = without(ReviewInput, "actor", "ReviewBody")
EndEarlyBody = without(EndEarlyInput, "actor", "EndEarlyBody")


class ProbationSummary(_Row):
    """A probation's listing row: the state after its newest recorded event."""

    probation_id: str
    case_id: str
    person_id: str
    name: str
    unit: str
    post: str
    former_rank: str
    starts_on: date
    ends_on: date
    status: ProbationStatus
    review_status: ReviewStatus
    review_due_on: date | None
    review_overdue: bool
    reviewed_on: date | None
    rank_restored: str
    closed_on: date | None
    imported: bool


class ProbationEvent(_Row):
    seq: int
    kind: str
    occurred_at: datetime
    actor_name: str
    actor_role: str
    summary: str
    payload: dict[str, Any]


class OutboxEntry(_Row):
    """One mail to one recipient, as the outbox keeps it."""

    id: int
    seq: int
    recipient: str
    recipient_role: str
    subject: str
    body: str
    status: str
    note: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None


class ProbationDetail(BaseModel):
    """Where a probation stands (live, from its workflow) and what happened (database)."""

    probation_id: str
    state: ProbationState | None
    state_unavailable: str = ""  # why there is no live state, when there is none
    listing: ProbationSummary | None
    history: list[ProbationEvent]
    mail: list[OutboxEntry]


# --------------------------------------------------------------------------- audit


class AuditSearchEntry(AuditEntry):
    case_id: str


class AuditPage(BaseModel):
    """One page of a search, oldest first; ``next`` is the ``after`` of the next page."""

    events: list[AuditSearchEntry]
    next: str | None


class AuditStanding(_Row):
    """Where a case stood, derived from its events alone."""

    stage: str
    status: str
    outcome_reason: str
    unit: str
    post: str
    method: str
    policy_version: str
    last_deadline: AuditEntry | None


class AuditAsOf(_Row):
    """A case at the end of a day (Beijing time): its events until then, where they left it
    (``standing`` is null when the case had not been opened yet)."""

    case_id: str
    on: date
    until: datetime
    standing: AuditStanding | None
    events: list[AuditEntry]


class AuditFault(_Row):
    """One thing wrong, with the case or probation and the event where it first shows."""

    kind: str
    message: str
    case_id: str | None
    probation_id: str | None = None
    chain_index: int | None
    seq: int | None
    checkpoint: int | None = None  # the checkpoint's number, for a fault of the checkpoints


class AuditReport(_Row):
    """What verifying the log found; ``ok`` is false when there is any fault."""

    ok: bool
    cases: int
    probations: int = 0
    events: int  # of cases and probations
    checkpoints: list[int]  # the ids the log was compared with, newest first
    faults: list[AuditFault]
    notes: list[str]
    seconds: float
    checkpoint_chain: int = 0  # checkpoints whose signature and link were checked
    copies: int = 0  # copies of checkpoints (AUDIT_EXPORT_DIR) the database was checked against


class CheckpointLink(BaseModel):
    """The checkpoint a checkpoint of version 3 is linked to: its number and digest."""

    number: int
    digest: str


class CheckpointSummary(BaseModel):
    """A signed checkpoint: how many chains' heads it signed (not the heads themselves)."""

    id: int
    version: int
    created_at: datetime
    merkle_root: str
    event_count: int
    cases: int
    probations: int
    key_id: str
    signature: str
    previous: CheckpointLink | None = None  # version 3 on; None also for the first


# Free text in a path or a query (a filter, a person's id) is one line of text,
# ``workflows.types.Line``: U+0000, which PostgreSQL cannot compare, is refused (422) with
# every other control character, before the database is asked.
# A day in a path or a query: within what a day's bounds in Beijing time can be computed for.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9999, 12, 30)
# Paging of a listing.
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


# --------------------------------------------------------------------------- cadre work

# the answers of a route to a workflow of the cadre work (a capability test, a double
# evaluation, a rotation batch) besides its own: a list, one of them, a step sent to one
WORKFLOW_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem},
    403: {"model": Problem},
    422: {"model": Malformed},
    503: {"model": Problem},
}
WORKFLOW_ONE_ERRORS: dict[int | str, dict[str, Any]] = {**WORKFLOW_ERRORS, 404: {"model": Problem}}
WORKFLOW_STEP_ERRORS: dict[int | str, dict[str, Any]] = {
    **WORKFLOW_ONE_ERRORS,
    409: {"model": Problem, "description": "refused by a rule, or the workflow has ended"},
}


class WorkflowStarted(BaseModel):
    """A workflow of the cadre work just started: its ID."""

    workflow_id: str
