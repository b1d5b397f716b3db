"""Probations (试用期): list them, read one (live state and recorded history), record the
review (考核) and an early end, as ``appointments probation list|show|review|end-early`` do.

The caller's account is the actor. Who may record a review or an early end is the
probation's own policy (``probation.review_roles`` / ``end_early_roles``, as the probation
started with them; a later policy file does not change a running probation): it is read from
the probation's history before the update is sent, so a role the policy does not name gets
403 and nothing is sent. The workflow checks the same again, with its other rules (the review
window, dates, a second review), and refuses with 409 and the rule.
"""

# No ``from __future__ import annotations``: FastAPI reads each endpoint's body type from
# its signature, and the body types here are made at import time.

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode

from api import temporal
from api.deps import Services, ServicesDep, SessionDep, actor_of, permit
from api.errors import ApiError
from api.permissions import (
    END_PROBATION_EARLY,
    POLICY_ACTIONS,
    READ_PROBATIONS,
    RECORD_PROBATION_REVIEW,
)
from api.routers.cases import ERRORS, CaseId
from api.schemas import (
    FIRST_DAY,
    LAST_DAY,
    NO_NUL,
    EndEarlyBody,
    Limit,
    Malformed,
    Offset,
    OutboxEntry,
    ProbationDetail,
    ProbationEvent,
    ProbationSummary,
    Problem,
    ReviewBody,
    nul_refusal,
)
from store.account_models import Caller
from store.probation_models import (
    Probation,
    ProbationListRow,
    list_probations,
    outbox,
    probation_history,
)
from workflows.policy import PolicySnapshot
from workflows.probation_types import (
    EndEarlyInput,
    ProbationInput,
    ProbationState,
    ProbationStatus,
    ReviewInput,
    probation_workflow_id,
)
from workflows.types import Model, Role

router = APIRouter(prefix="/probations", tags=["probation"])

PersonId = Annotated[str, Path(min_length=1, max_length=64, pattern=NO_NUL)]
READ_ERRORS: dict[int | str, dict[str, Any]] = {**ERRORS, 422: {"model": Malformed}}
ONE_ERRORS: dict[int | str, dict[str, Any]] = {**READ_ERRORS, 404: {"model": Problem}}
UPDATE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ONE_ERRORS,
    403: {"model": Problem, "description": "the role may not, or the probation's policy says so"},
    409: {"model": Problem, "description": "refused by a rule, or the probation has ended"},
}
# action -> (the workflow's input, the request body: that input without ``actor``)
INPUTS: dict[str, tuple[type[Model], type[Model]]] = {
    RECORD_PROBATION_REVIEW: (ReviewInput, ReviewBody),
    END_PROBATION_EARLY: (EndEarlyInput, EndEarlyBody),
}
WHAT = {RECORD_PROBATION_REVIEW: "the review", END_PROBATION_EARLY: "an early end"}
POLICY_ACTIVITY = "load_policy"  # the activity the probation reads its policy with, once

T = TypeVar("T")


def _whose(case_id: str, person_id: str) -> str:
    return f"the probation of {person_id} in case {case_id}"


def _no_such(case_id: str, person_id: str) -> ApiError:
    return ApiError(404, f"no probation of {person_id} in case {case_id}")


async def _ask(client: Client, case_id: str, person_id: str, call: Awaitable[T]) -> T:
    """One call to a probation's workflow, Temporal's failures turned into ``ApiError``s."""
    whose = _whose(case_id, person_id)
    try:
        return await asyncio.wait_for(call, temporal.UPDATE_WAIT.total_seconds())
    except WorkflowUpdateFailedError as exc:
        raise temporal._refusal(exc) from exc
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise temporal._unreachable(exc.message) from exc
        if await _has_ended(client, probation_workflow_id(case_id, person_id)):
            raise ApiError(409, f"{whose} has ended; nothing can be recorded on it") from exc
        raise _no_such(case_id, person_id) from exc
    except RuntimeError as exc:
        raise temporal._connect_problem(exc) from exc
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
        raise ApiError(
            503,
            f"{whose}: no worker answered within {temporal.UPDATE_WAIT.seconds} s; the step "
            "may still be recorded when it comes back: read the probation before sending again",
        ) from exc


async def _has_ended(client: Client, workflow_id: str) -> bool:
    """Whether the workflow is there and closed (servers say "not found" of an update sent to
    a closed workflow in different words)."""
    try:
        described = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise temporal._unreachable(exc.message) from exc
    return described.status not in (None, WorkflowExecutionStatus.RUNNING)


async def _probations(
    session: AsyncSession,
    *,
    status: ProbationStatus | None,
    due_before: date | None,
    person_id: str | None,
    case_id: str | None,
    limit: int,
    offset: int,
) -> list[ProbationListRow]:
    """The listing with the API's filters and paging (``store.probation_models`` has status
    and id only), the nearest end of year first."""
    query = select(Probation)
    if status is not None:
        query = query.where(Probation.status == status.value)
    if due_before is not None:
        query = query.where(Probation.ends_on < due_before)
    if person_id is not None:
        query = query.where(Probation.person_id == person_id)
    if case_id is not None:
        query = query.where(Probation.case_id == case_id)
    query = query.order_by(Probation.ends_on, Probation.probation_id).limit(limit).offset(offset)
    rows = await session.scalars(query.execution_options(populate_existing=True))
    return [ProbationListRow.of(p) for p in rows]


@router.get(
    "",
    response_model=list[ProbationSummary],
    responses=READ_ERRORS,
    summary="List probations, the nearest end of year first",
)
async def list_all(
    _: Annotated[Caller, Depends(permit(READ_PROBATIONS))],
    session: SessionDep,
    status: ProbationStatus | None = None,
    due_before: Annotated[
        date | None,
        Query(ge=FIRST_DAY, le=LAST_DAY, description="only years ending before this day"),
    ] = None,
    person: Annotated[str | None, Query(max_length=64, pattern=NO_NUL)] = None,
    case_id: Annotated[str | None, Query(alias="case", max_length=64, pattern=NO_NUL)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[ProbationSummary]:
    """Probations matching every filter given, with the review's standing."""
    rows = await _probations(
        session,
        status=status,
        due_before=due_before,
        person_id=person,
        case_id=case_id,
        limit=limit,
        offset=offset,
    )
    return [ProbationSummary.model_validate(r) for r in rows]


@router.get(
    "/{case_id}/{person_id}",
    response_model=ProbationDetail,
    responses=ONE_ERRORS,
    summary="Read a probation: its live state, its history and its mail",
)
async def get_one(
    _: Annotated[Caller, Depends(permit(READ_PROBATIONS))],
    case_id: CaseId,
    person_id: PersonId,
    parts: ServicesDep,
    session: SessionDep,
) -> ProbationDetail:
    pid = probation_workflow_id(case_id, person_id)
    rows = await list_probations(session, probation_id=pid)
    history = await probation_history(session, pid)
    mail = await outbox(session, source=pid)
    handle = parts.client.get_workflow_handle(pid)
    state: ProbationState | None = None
    why = ""
    try:
        state = await _ask(
            parts.client,
            case_id,
            person_id,
            handle.query("state", result_type=ProbationState, rpc_timeout=temporal.QUERY_WAIT),
        )
    except ApiError as exc:
        if exc.status != 404:
            why = exc.detail
    except (WorkflowQueryFailedError, WorkflowQueryRejectedError) as exc:
        why = str(exc)
    if state is None and not rows:
        # with Temporal silent and nothing in the database, whether it exists is unknown
        raise ApiError(503, why) if why else _no_such(case_id, person_id)
    if state is None and not why:
        why = f"Temporal has no workflow {pid}"
    return ProbationDetail(
        probation_id=pid,
        state=state,
        state_unavailable=why,
        listing=ProbationSummary.model_validate(rows[0]) if rows else None,
        history=[ProbationEvent.model_validate(e) for e in history],
        mail=[OutboxEntry.model_validate(m) for m in mail],
    )


async def probation_policy(client: Client, case_id: str, person_id: str) -> PolicySnapshot | None:
    """The policy a probation runs under, from its current run's history: carried over by
    continue-as-new, or the result of its one ``load_policy``. None while it is still being
    read (the workflow then decides alone)."""
    handle = client.get_workflow_handle(probation_workflow_id(case_id, person_id))
    history = await _ask(client, case_id, person_id, handle.fetch_history())
    decode = client.data_converter.decode
    try:
        started = history.events[0].workflow_execution_started_event_attributes
        [first] = await decode(started.input.payloads, [ProbationInput])
        if first.carry is not None:
            carried: PolicySnapshot = first.carry.policy
            return carried
        scheduled = None
        for event in history.events:
            if event.HasField("activity_task_scheduled_event_attributes"):
                attributes = event.activity_task_scheduled_event_attributes
                if attributes.activity_type.name == POLICY_ACTIVITY:
                    scheduled = event.event_id
            elif event.HasField("activity_task_completed_event_attributes"):
                done = event.activity_task_completed_event_attributes
                if scheduled is not None and done.scheduled_event_id == scheduled:
                    [snapshot] = await decode(done.result.payloads, [PolicySnapshot])
                    found: PolicySnapshot = snapshot
                    return found
    except (IndexError, ValueError, TypeError):
        pass  # a history this version cannot read: the workflow's own check still holds
    return None


async def record_probation_action(
    parts: Services,
    who: Caller,
    action: str,
    case_id: str,
    person_id: str,
    fields: dict[str, Any],
) -> ProbationState:
    """Record ``action`` (a review, an early end) on a probation as ``who``: ``fields`` are
    the update's input without ``actor`` (``ValidationError`` if they do not fit), the role
    is checked against the probation's own policy (403), then the update is sent. The
    caller has checked the table (``permit``); the web console records through this too."""
    update, roles_field = POLICY_ACTIONS[action]
    input_model, _ = INPUTS[action]
    arg = input_model.model_validate({**fields, "actor": actor_of(who)})
    if refusal := nul_refusal(fields):
        raise ApiError(422, refusal)
    snapshot = await probation_policy(parts.client, case_id, person_id)
    if snapshot is not None:
        roles: list[Role] = getattr(snapshot.policy.probation, roles_field)
        if who.role not in roles:
            raise ApiError(
                403,
                f"{WHAT[action]} of {_whose(case_id, person_id)} can be recorded only by "
                f"{', '.join(r.value for r in roles)} (its policy {snapshot.policy.version}, "
                f"probation.{roles_field}); {who.name} is {who.role.value}",
            )
    handle = parts.client.get_workflow_handle(probation_workflow_id(case_id, person_id))
    return await _ask(
        parts.client,
        case_id,
        person_id,
        handle.execute_update(update, arg, result_type=ProbationState),
    )


def _endpoint(action: str) -> Callable[..., Awaitable[ProbationState]]:
    input_model, body_model = INPUTS[action]

    async def record(
        who: Annotated[Caller, Depends(permit(action))],
        case_id: CaseId,
        person_id: PersonId,
        body: body_model,  # type: ignore[valid-type]
        parts: ServicesDep,
    ) -> ProbationState:
        data: Model = body
        return await record_probation_action(
            parts, who, action, case_id, person_id, data.model_dump()
        )

    record.__name__ = action
    record.__doc__ = (input_model.__doc__ or "").strip() or None
    return record


for _action, (_path, _summary) in {
    RECORD_PROBATION_REVIEW: ("review", "Record the review (考核) at the end of the year"),
    END_PROBATION_EARLY: ("end-early", "End the probation early (serious errors)"),
}.items():
    router.add_api_route(
        f"/{{case_id}}/{{person_id}}/{_path}",
        _endpoint(_action),
        methods=["POST"],
        response_model=ProbationState,
        responses=UPDATE_ERRORS,
        summary=_summary,
        operation_id=_action,
    )
