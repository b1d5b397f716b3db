"""The console's 认领 / 放弃 / 指派 buttons and the substitutes page (代理设置).

A button sends the workflow's ``assign_step`` update as the signed-in account; whether it
may is the rule's (``workflows.rules.assignment``), which also decides which buttons a page
shows. Someone a step is given to must hold an active account of the step's responsible
role: the console checks that before it asks the case. Substitutions are kept in
``store.substitutes``; a person sets their own, an administrator anyone's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api import temporal
from api.deps import Services, ServicesDep
from api.errors import ApiError
from api.permissions import SET_SUBSTITUTE
from api.schemas import IdPath
from store.account_models import AccountRow, list_accounts
from store.console_models import SignedIn
from store.substitutes import (
    SubstitutionRefused,
    end_substitution,
    name_substitute,
    substitutions,
)
from web.console.auth import Console, PageRefused, form_of, require
from web.console.common import page
from web.templating import beijing_today as today
from workflows.rules.assignment import ASSIGNERS, AssignmentKind, assignment_kind
from workflows.rules.errors import RuleViolation
from workflows.types import Actor, AssignStepInput, CaseState, Role

router = APIRouter()

ASSIGN = "assign_step"
CaseId = IdPath
# where a button leads back to: the case's page or "my tasks"
BACK_TO_TASKS = "tasks"


@dataclass(frozen=True)
class AssignChoices:
    """What the signed-in person may do with a case's awaited step, for its page."""

    step: str
    assignee: str | None
    claim: bool
    release: bool
    assign_to: list[str]  # people the step may be given to (the leadership only)


def _allowed(user: SignedIn, state: CaseState, assignee: str | None) -> AssignmentKind | None:
    me = Actor(name=user.caller.name, role=user.caller.role)
    assert state.step is not None
    try:
        return assignment_kind(state.step, me, state.step.step, assignee, state.inspection_team)
    except RuleViolation:
        return None


def choices(user: SignedIn, state: CaseState | None, people: list[AccountRow]) -> AssignChoices:
    """The buttons of a case's awaited step (none when it waits on nothing)."""
    if state is None or state.step is None:
        return AssignChoices("", None, False, False, [])
    step = state.step
    leader = user.caller.role in ASSIGNERS
    eligible = [
        a.name
        for a in people
        if a.role is step.responsible_role and a.disabled_at is None and a.name != step.assignee
    ]
    return AssignChoices(
        step=step.step,
        assignee=step.assignee,
        claim=_allowed(user, state, user.caller.name) is AssignmentKind.CLAIM,
        release=step.assignee is not None and _allowed(user, state, None) is not None,
        assign_to=eligible if leader else [],
    )


async def check_assignee(parts: Services, name: str, role: Role) -> None:
    async with parts.sessions() as s:
        accounts = {a.name: a for a in await list_accounts(s)}
    found = accounts.get(name)
    if found is None or found.disabled_at is not None:
        raise PageRefused(422, f"没有名为“{name}”的在用账户，不能指派。")
    if found.role is not role:
        raise PageRefused(422, f"{name} 不是办理这一事项的角色，不能指派给他（她）。")


@router.post("/cases/{case_id}/assign")
async def assign(request: Request, user: Console, parts: ServicesDep, case_id: CaseId) -> Response:
    """认领 (assignee = me), 放弃/收回 (no assignee) or 指派 (someone), as the form says."""
    require(user, ASSIGN)
    form = await form_of(request, user)
    action = form.get("action", "")
    if action not in ("claim", "release", "assign"):
        raise PageRefused(422, "请选择认领、放弃或指派。")
    assignee: str | None = None
    if action == "claim":
        assignee = user.caller.name
    elif action == "assign":
        assignee = form.get("assignee", "").strip()
        if not assignee:
            raise PageRefused(422, "请选择指派给谁。")
    state, why = await temporal.query_state(parts.client, case_id)
    if state is None or state.step is None:
        raise PageRefused(409, why or f"案件 {case_id} 当前没有待办事项。")
    if action == "assign" and assignee is not None:
        await check_assignee(parts, assignee, state.step.responsible_role)
    try:
        arg = AssignStepInput(
            actor=Actor(name=user.caller.name, role=user.caller.role),
            step=form.get("step", ""),
            assignee=assignee,
            reason=form.get("reason", "").strip(),
        )
    except ValidationError:
        raise PageRefused(422, "认领或指派的内容不完整或含有不允许的字符。") from None
    try:
        await temporal.execute_update(parts.client, case_id, ASSIGN, arg)
    except ApiError as exc:
        raise PageRefused(exc.status, exc.detail) from exc
    if form.get("back") == BACK_TO_TASKS:
        return RedirectResponse("/console/tasks", status_code=303)
    return RedirectResponse(f"/console/cases/{case_id}?done={ASSIGN}", status_code=303)


# ---------------------------------------------------------------------------- substitutes


@router.get("/substitutes", response_class=HTMLResponse)
async def substitutes_page(request: Request, user: Console, parts: ServicesDep) -> Response:
    return await _substitutes(request, user, parts)


async def _substitutes(
    request: Request, user: SignedIn, parts: Services, error: str = "", status_code: int = 200
) -> Response:
    """The substitutions that name me (an administrator: all), and a form to add one."""
    require(user, SET_SUBSTITUTE)
    admin = user.caller.role is Role.ADMINISTRATOR
    async with parts.sessions() as s:
        rows = await substitutions(s, None if admin else user.caller.name)
        people = [a.name for a in await list_accounts(s) if a.disabled_at is None]
    return page(
        request,
        user,
        "console_substitutes.html",
        status_code=status_code,
        rows=rows,
        people=people,
        admin=admin,
        today=today(),
        error=error,
    )


def _date(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise SubstitutionRefused(f"{what}“{text}”不是日期（应为 YYYY-MM-DD）。") from None


@router.post("/substitutes")
async def set_substitute(request: Request, user: Console, parts: ServicesDep) -> Response:
    require(user, SET_SUBSTITUTE)
    form = await form_of(request, user)
    me = Actor(name=user.caller.name, role=user.caller.role)
    try:
        async with parts.sessions() as s:
            await name_substitute(
                s,
                person=form.get("person", "").strip() or me.name,
                substitute=form.get("substitute", "").strip(),
                from_date=_date(form.get("from_date", ""), "开始日期"),
                to_date=_date(form.get("to_date", ""), "结束日期"),
                reason=form.get("reason", ""),
                set_by=me,
                today=today(),
            )
            await s.commit()
    except SubstitutionRefused as exc:
        return await _substitutes(request, user, parts, error=str(exc), status_code=422)
    return RedirectResponse("/console/substitutes", status_code=303)


@router.post("/substitutes/{substitution_id}/end")
async def end(
    request: Request,
    user: Console,
    parts: ServicesDep,
    substitution_id: Annotated[int, Path(ge=1, le=2**62)],
) -> Response:
    require(user, SET_SUBSTITUTE)
    await form_of(request, user)
    try:
        async with parts.sessions() as s:
            await end_substitution(
                s, substitution_id, Actor(name=user.caller.name, role=user.caller.role)
            )
            await s.commit()
    except SubstitutionRefused as exc:
        return await _substitutes(request, user, parts, error=str(exc), status_code=409)
    return RedirectResponse("/console/substitutes", status_code=303)
