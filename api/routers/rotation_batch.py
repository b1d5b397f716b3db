"""Rotation batches (交流批次) through the API: list them, make one from a scan's people the
department decided to rotate, read one with each move's state, and record a move's steps
(交流文件印发, 到岗报到) or cancel it — as ``appointments rotation …`` and the console do,
through ``gateway.rotation_batch``.

The caller's account is the actor, never what a body says. Who may record a step is the
batch's policy: a role it does not name is refused 403 by the workflow, nothing recorded;
its rules refuse with 409 and the rule.
"""

# No ``from __future__ import annotations``: FastAPI reads each endpoint's body type from
# its signature, and the body types here are made at import time.

from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.deps import ServicesDep, SessionDep, actor_of, permit
from api.permissions import (
    CANCEL_ROTATION_MOVE,
    MAKE_ROTATION_BATCH,
    READ_REGISTER,
    RECORD_ROTATION_ARRIVAL,
    RECORD_ROTATION_DOCUMENT,
)
from api.schemas import (
    WORKFLOW_ERRORS,
    WORKFLOW_ONE_ERRORS,
    WORKFLOW_STEP_ERRORS,
    IdPath,
    Limit,
    Problem,
    WorkflowStarted,
    completed,
    without,
)
from api.temporal import answer
from gateway import rotation_batch
from store.account_models import Caller
from store.rotation_batch_queries import batches
from workflows.rotation_batch import MAX_MOVES
from workflows.rotation_batch_types import (
    ArrivalInput,
    CancelMoveInput,
    DocumentInput,
    MoveState,
    RotationBatchState,
)
from workflows.rules.working_days import SHANGHAI
from workflows.types import ID_MAX, ID_PATTERN, Line, Model

router = APIRouter(prefix="/register/rotation-batches", tags=["register"])

S = TypeVar("S", DocumentInput, ArrivalInput, CancelMoveInput)
Key = IdPath
Person = IdPath

_SERVER = frozenset({"actor", "person_id"})  # the caller, and the path's person
DocumentBody = without(DocumentInput, _SERVER, "DocumentBody")
ArrivalBody = without(ArrivalInput, _SERVER, "ArrivalBody")
CancelBody = without(CancelMoveInput, _SERVER, "CancelBody")


class MoveIn(Model):
    """Where one person of the scan goes: the rest of the move comes from the scan."""

    person_id: Line = Field(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN)
    to_unit: Line = Field(min_length=1, max_length=200)
    to_township: Line | None = Field(default=None, max_length=100)
    to_post: Line = Field(default="", max_length=200)


class BatchIn(Model):
    batch_id: Line = Field(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN)
    title: Line = Field(min_length=1, max_length=200)
    scan_id: Line = Field(min_length=1, max_length=200)
    moves: list[MoveIn] = Field(min_length=1, max_length=MAX_MOVES)


class BatchOut(BaseModel):
    chain_id: str
    batch_id: str
    title: str
    scan_id: str
    made_on: date
    people: int
    opened_by: str
    opened_at: datetime
    finished: bool


def _step(model: type[S], body: Any, person_id: str, who: Caller) -> S:
    """The step's input: the body's fields, the path's person, the caller as the actor."""
    fields = body.model_dump()
    return completed(model, fields, person_id=person_id, actor=actor_of(who))


@router.get(
    "",
    response_model=list[BatchOut],
    responses=WORKFLOW_ERRORS,
    summary="List the rotation batches, the newest first",
)
async def list_batches(
    _: Annotated[Caller, Depends(permit(READ_REGISTER))], session: SessionDep, limit: Limit = 200
) -> list[BatchOut]:
    return [BatchOut.model_validate(b, from_attributes=True) for b in await batches(session, limit)]


@router.post(
    "",
    status_code=201,
    response_model=WorkflowStarted,
    responses={**WORKFLOW_ONE_ERRORS, 409: {"model": Problem}},
    summary="Make a rotation batch from a scan's people decided 交流; the caller makes it",
)
async def make_batch(
    who: Annotated[Caller, Depends(permit(MAKE_ROTATION_BATCH))],
    body: BatchIn,
    parts: ServicesDep,
) -> WorkflowStarted:
    workflow_id = await answer(
        rotation_batch.make_batch(
            parts.client,
            parts.settings.task_queue,
            parts.sessions,
            parts.settings.policy_file,
            batch_id=body.batch_id,
            title=body.title,
            scan_id=body.scan_id,
            made_on=datetime.now(SHANGHAI).date(),
            moves=[
                rotation_batch.Destination(m.person_id, m.to_unit, m.to_township, m.to_post)
                for m in body.moves
            ],
            opened_by=actor_of(who),
        )
    )
    return WorkflowStarted(workflow_id=workflow_id)


@router.get(
    "/{batch_id}",
    response_model=RotationBatchState,
    responses=WORKFLOW_ONE_ERRORS,
    summary="Read a rotation batch: each move with its steps",
)
async def get_batch(
    _: Annotated[Caller, Depends(permit(READ_REGISTER))], batch_id: Key, parts: ServicesDep
) -> RotationBatchState:
    return await answer(rotation_batch.batch_state(parts.client, batch_id))


@router.post(
    "/{batch_id}/{person_id}/document",
    response_model=MoveState,
    responses=WORKFLOW_STEP_ERRORS,
    summary="Record a move's rotation document (交流文件印发)",
)
async def record_document(
    who: Annotated[Caller, Depends(permit(RECORD_ROTATION_DOCUMENT))],
    batch_id: Key,
    person_id: Person,
    body: DocumentBody,  # type: ignore[valid-type]
    parts: ServicesDep,
) -> MoveState:
    data = _step(DocumentInput, body, person_id, who)
    return await answer(rotation_batch.record_document(parts.client, batch_id, data))


@router.post(
    "/{batch_id}/{person_id}/arrival",
    response_model=MoveState,
    responses=WORKFLOW_STEP_ERRORS,
    summary="Record a cadre's arrival at the new post (到岗报到); the register gets the post",
)
async def record_arrival(
    who: Annotated[Caller, Depends(permit(RECORD_ROTATION_ARRIVAL))],
    batch_id: Key,
    person_id: Person,
    body: ArrivalBody,  # type: ignore[valid-type]
    parts: ServicesDep,
) -> MoveState:
    data = _step(ArrivalInput, body, person_id, who)
    return await answer(rotation_batch.record_arrival(parts.client, batch_id, data))


@router.post(
    "/{batch_id}/{person_id}/cancel",
    response_model=MoveState,
    responses=WORKFLOW_STEP_ERRORS,
    summary="Cancel a move not yet arrived (撤销交流), with the reason",
)
async def cancel_move(
    who: Annotated[Caller, Depends(permit(CANCEL_ROTATION_MOVE))],
    batch_id: Key,
    person_id: Person,
    body: CancelBody,  # type: ignore[valid-type]
    parts: ServicesDep,
) -> MoveState:
    data = _step(CancelMoveInput, body, person_id, who)
    return await answer(rotation_batch.cancel_move(parts.client, batch_id, data))
