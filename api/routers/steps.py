"""The human steps of a case: one endpoint per workflow update, ``POST
/cases/{case_id}/steps/{update}``, whose body is the update's input without ``actor``.

The caller's account is the actor. A body that does not fit is refused (422) before anything
is sent; a step the workflow refuses is 409 with the rule's sentence and source. An
inspection-team member records inspection inputs only on a case whose inspection team (as
the case's live state has it) names the member's account; otherwise 403, and nothing is sent.
"""

# No ``from __future__ import annotations``: FastAPI reads each endpoint's body type from
# its signature, and the body types here are made at import time.

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from temporalio.client import Client

from api import temporal
from api.attachment_checks import check_named_attachments
from api.deps import Services, ServicesDep, permit
from api.errors import ApiError, no_case, unavailable
from api.permissions import must_be_on_team
from api.routers.cases import ERRORS, CaseId
from api.schemas import STEP_INPUTS, Malformed, Problem, completed, nul_refusal, step_body
from store.account_models import Caller
from store.register_cases import with_register
from store.substitutes import actor_on_case
from workflows.rules.working_days import SHANGHAI
from workflows.types import Actor, CaseState, Model

router = APIRouter(prefix="/cases/{case_id}", tags=["steps"])

STEP_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    403: {"model": Problem, "description": "the role may not, or the caller is not on the team"},
    404: {"model": Problem},
    409: {"model": Problem, "description": "refused by a rule, or the case has ended"},
    422: {"model": Malformed},
}


async def check_on_team(client: Client, case_id: str, who: Caller) -> None:
    """403 unless the caller's account is a member of the case's inspection team."""
    state, why = await temporal.query_state(client, case_id)
    if state is None:
        raise unavailable(why) if why else no_case(case_id)
    if who.name not in state.inspection_team:
        team = "、".join(state.inspection_team)
        on_record = f"考察组为 {team}" if team else "尚未登记考察组"
        raise ApiError(
            403,
            f"{who.name} 不是案件 {case_id} 考察组的成员（{on_record}）："
            "只有考察组成员才能登记考察情况",
            code="not_on_team",
        )


async def acting(parts: Services, who: Caller, case_id: str) -> Actor:
    """The caller as the actor; on the assignee's behalf while a substitution of the
    assignee by the caller covers today (代理: the service decides, never the body)."""
    today = datetime.now(SHANGHAI).date()
    async with parts.sessions() as s:
        return await actor_on_case(s, who.name, who.role, case_id, today)


def _endpoint(update: str) -> Callable[..., Awaitable[CaseState]]:
    body_model = step_body(update)
    input_model = STEP_INPUTS[update]

    async def record(
        who: Annotated[Caller, Depends(permit(update))],
        case_id: CaseId,
        body: body_model,  # type: ignore[valid-type]
        parts: ServicesDep,
    ) -> CaseState:
        data: Model = body
        fields = data.model_dump()
        if refusal := nul_refusal(fields):
            raise ApiError(422, refusal)
        if must_be_on_team(update, who.role):
            await check_on_team(parts.client, case_id, who)
        arg = completed(input_model, fields, actor=await acting(parts, who, case_id))
        async with parts.sessions() as s:  # a step judging candidates again: the register's facts
            arg = await with_register(s, case_id, arg)
        await check_named_attachments(parts.sessions, case_id, arg)
        return await temporal.state_after(parts.client, case_id, update, arg)

    record.__name__ = update
    record.__doc__ = (input_model.__doc__ or "").strip() or None
    return record


for _update in STEP_INPUTS:
    router.add_api_route(
        f"/steps/{_update}",
        _endpoint(_update),
        methods=["POST"],
        response_model=CaseState,
        responses=STEP_ERRORS,
        summary=_update.replace("_", " ").capitalize(),
        operation_id=f"step_{_update}",
    )

# Withdrawing is also reachable by its own name: it ends the case rather than advancing it.
router.add_api_route(
    "/withdraw",
    _endpoint("withdraw"),
    methods=["POST"],
    response_model=CaseState,
    responses=STEP_ERRORS,
    summary="Withdraw the case (it closes as withdrawn)",
    operation_id="withdraw_case",
    tags=["cases"],
)
