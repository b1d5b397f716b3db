"""The probation pages (试用期): every probation with its year and review, one probation's
recorded events, and the forms of the review and of an early end."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import ServicesDep
from api.errors import ApiError
from api.permissions import (
    END_PROBATION_EARLY,
    READ_PROBATIONS,
    RECORD_PROBATION_REVIEW,
)
from api.probation_calls import INPUTS, probation_roles, record_probation_action
from api.schemas import IdPath
from store.console_models import SignedIn
from store.probation_models import list_probations, probation_history, probation_of
from web.console.auth import Console, PageRefused, form_of, may, require
from web.console.common import FilterText, FormPage, chosen, page
from web.templating import beijing_today as today
from workflows.glossary import PROBATION_STEPS
from workflows.probation_types import ProbationStatus

router = APIRouter(prefix="/probation")

PAGE_SIZE = 200
Ident = IdPath
ACTIONS = {
    "review": (RECORD_PROBATION_REVIEW, PROBATION_STEPS[RECORD_PROBATION_REVIEW]),
    "end-early": (END_PROBATION_EARLY, PROBATION_STEPS[END_PROBATION_EARLY]),
}


@router.get("", response_class=HTMLResponse)
async def probations(
    request: Request,
    user: Console,
    parts: ServicesDep,
    status_text: Annotated[FilterText, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_SIZE)] = PAGE_SIZE,
) -> Response:
    require(user, READ_PROBATIONS)
    status = chosen(ProbationStatus, status_text)
    async with parts.sessions() as s:
        rows = await list_probations(s, status=status.value if status else None, limit=limit)
    return page(
        request,
        user,
        "console_probation_list.html",
        rows=rows,
        status=status,
        statuses=list(ProbationStatus),
        today=today(),
    )


@router.get("/{case_id}/{person_id}", response_class=HTMLResponse)
async def probation(
    request: Request,
    user: Console,
    parts: ServicesDep,
    case_id: Ident,
    person_id: Ident,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    require(user, READ_PROBATIONS)
    async with parts.sessions() as s:
        row = await probation_of(s, case_id, person_id)
        # its events go by the ID it runs under, of whichever form (workflows.ids)
        events = await probation_history(s, row.probation_id) if row else []
    if row is None:
        raise PageRefused(404, f"没有案件 {case_id} 中 {person_id} 的试用期。")
    actions = [
        (slug, title)
        for slug, (action, title) in ACTIONS.items()
        if may(user, action) and await _policy_allows(parts, user, action, case_id, person_id)
    ]
    return page(
        request,
        user,
        "console_probation.html",
        row=row,
        events=events,
        actions=actions,
        flash=f"已记录：{ACTIONS[done][1]}" if done in ACTIONS else "",
    )


async def _policy_allows(
    parts: ServicesDep, user: SignedIn, action: str, case_id: str, person_id: str
) -> bool:
    """Whether the probation's own policy names this person's role for the action (the
    probation's ``roles`` query); when it cannot be asked now, the form is offered and the
    recording decides."""
    try:
        roles = await probation_roles(parts.client, case_id, person_id)
    except ApiError:
        return True
    if roles is None:
        return True
    allowed = roles.review if action == RECORD_PROBATION_REVIEW else roles.end_early
    return user.caller.role in allowed


def _form_page(case_id: str, person_id: str, slug: str) -> FormPage:
    action, title = ACTIONS[slug]
    where = f"/console/probation/{case_id}/{person_id}"
    return FormPage(title, f"{where}/{slug}", where, INPUTS[action][0], case_id=case_id)


Slug = Annotated[str, Path(pattern=r"^(review|end-early)$")]


@router.get("/{case_id}/{person_id}/{slug}", response_class=HTMLResponse)
async def action_form(
    request: Request,
    user: Console,
    parts: ServicesDep,
    case_id: Ident,
    person_id: Ident,
    slug: Slug,
) -> Response:
    action = ACTIONS[slug][0]
    require(user, action)
    if not await _policy_allows(parts, user, action, case_id, person_id):
        raise PageRefused(403, "按本试用期适用的政策，您的角色不能办理此事项。")
    return _form_page(case_id, person_id, slug).show(request, user, {})


@router.post("/{case_id}/{person_id}/{slug}")
async def record_action(
    request: Request,
    user: Console,
    parts: ServicesDep,
    case_id: Ident,
    person_id: Ident,
    slug: Slug,
) -> Response:
    action = ACTIONS[slug][0]
    require(user, action)
    form = await form_of(request, user)

    async def send(fields: dict[str, Any]) -> None:
        await record_probation_action(parts, user.caller, action, case_id, person_id, fields)

    done = f"/console/probation/{case_id}/{person_id}?done={slug}"
    return await _form_page(case_id, person_id, slug).submit(request, user, form, send, done)
