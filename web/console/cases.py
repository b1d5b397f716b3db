"""The console's case pages: the dashboard, my tasks, a case, and a form for each step.

A step's form is made from the workflow update's input model (``web.forms``); what it sends
goes to the workflow exactly as the API sends it (``api.temporal``), with the signed-in
account as the actor. A refusal shows the rule's own sentence above the form, which keeps
what was typed.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from activities.policy import read_policy
from api import temporal
from api.deps import ServicesDep, actor_of
from api.permissions import (
    MARK_INBOX_READ,
    READ_CASES,
    READ_INBOX,
    START_CASE,
    may_mark_read,
    must_be_on_team,
)
from api.schemas import STEP_INPUTS
from store import queries
from store.console_models import SignedIn
from store.objection_models import commitment_holds, intake_of_case
from store.probation_models import ProbationListRow, list_probations
from web.console.auth import Console, PageRefused, form_of, may, require
from web.console.common import FilterText, FormPage, chosen, page
from web.templating import beijing_today as today
from workflows.glossary import awaited, step_title
from workflows.probation_types import ProbationStatus, ReviewStatus
from workflows.steps import CASE_STEPS
from workflows.types import (
    CaseInput,
    CaseStage,
    CaseState,
    CaseStatus,
    Role,
)

router = APIRouter()

# The stages in which each step is offered on a case's page (the workflow's rules decide
# whether it is taken; a step's form can still be opened by its address at any stage).
STEP_STAGES: dict[str, frozenset[CaseStage]] = {u: s.stages for u, s in CASE_STEPS.items()}

CaseId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
PAGE_SIZE = 50
# "My tasks" asks each active case what it waits for: at most this many, this many at once.
MAX_TASK_SCAN = 500
TASK_SCAN_CONCURRENCY = 8


@router.get("/", response_class=HTMLResponse)
async def dashboard(
    request: Request,
    user: Console,
    parts: ServicesDep,
    stage_text: Annotated[FilterText, Query(alias="stage")] = None,
    status_text: Annotated[FilterText, Query(alias="status")] = None,
    unit: FilterText = None,
    overdue_text: Annotated[FilterText, Query(alias="overdue")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    """Cases by stage with their next deadline; overdue cases stand out. Without a status
    filter, the active cases; with "全部", every case."""
    require(user, READ_CASES)
    stage = chosen(CaseStage, stage_text)
    status = chosen(CaseStatus, status_text, default=CaseStatus.ACTIVE)
    overdue = True if overdue_text == "true" else None
    async with parts.sessions() as s:
        counts = await queries.active_cases_by_stage(s)
        rows = await queries.list_cases(
            s,
            stage=stage.value if stage else None,
            status=status.value if status else None,
            unit=unit or None,
            overdue=overdue,
            limit=PAGE_SIZE + 1,
            offset=offset,
        )
    return page(
        request,
        user,
        "console_dashboard.html",
        counts=[(st, *counts[st]) for st in CaseStage if st in counts],
        total=sum(n for n, _ in counts.values()),
        total_overdue=sum(late for _, late in counts.values()),
        rows=rows[:PAGE_SIZE],
        more=len(rows) > PAGE_SIZE,
        offset=offset,
        page_size=PAGE_SIZE,
        filters={"stage": stage, "status": status, "unit": unit or "", "overdue": overdue},
        stages=list(CaseStage),
        statuses=list(CaseStatus),
    )


def _is_mine(user: SignedIn, state: CaseState) -> bool:
    step = state.step
    if step is None:
        return False
    if user.caller.role is Role.INSPECTION_TEAM:  # the team's own cases, while inspected
        return state.stage is CaseStage.INSPECTION and user.caller.name in state.inspection_team
    return step.responsible_role is user.caller.role


@router.get("/tasks", response_class=HTMLResponse)
async def my_tasks(request: Request, user: Console, parts: ServicesDep) -> Response:
    """What waits for the signed-in person: cases on a step of their role, and messages."""
    require(user, READ_INBOX)
    async with parts.sessions() as s:
        active = await queries.list_cases(s, status=CaseStatus.ACTIVE.value, limit=MAX_TASK_SCAN)
        messages = await queries.inbox(s, recipient_role=user.caller.role.value, limit=PAGE_SIZE)
    gate = asyncio.Semaphore(TASK_SCAN_CONCURRENCY)

    async def ask(case_id: str) -> tuple[CaseState | None, str]:
        async with gate:
            return await temporal.query_state(parts.client, case_id, open_only=True)

    answers = await asyncio.gather(*(ask(r.case_id) for r in active))
    reviews = await _reviews_for(parts, user)
    mine = [st for st, _ in answers if st is not None and _is_mine(user, st)]
    unanswered = [r.case_id for r, (st, why) in zip(active, answers, strict=True) if why]
    return page(
        request,
        user,
        "console_tasks.html",
        cases=sorted(mine, key=lambda st: (st.step.deadline_at is None, st.step.deadline_at))
        if mine
        else [],
        messages=messages,
        unanswered=unanswered,
        scanned=len(active),
        scan_limit=MAX_TASK_SCAN,
        reviews=reviews,
    )


async def _reviews_for(parts: ServicesDep, user: SignedIn) -> list[ProbationListRow]:
    """Probations whose review window is open and not yet reviewed, when the policy in force
    names this person's role as a reviewer (each probation's own policy has the last word
    when the review is recorded)."""
    snapshot = await asyncio.to_thread(read_policy, parts.settings.policy_file)
    probation = snapshot.policy.probation
    if user.caller.role not in probation.review_roles:
        return []
    opens_by = today() + timedelta(days=probation.review_window_days_before_end)
    async with parts.sessions() as s:
        running = await list_probations(s, status=ProbationStatus.ON_PROBATION.value)
    return [
        p
        for p in running
        if p.review_status == ReviewStatus.PENDING.value and p.ends_on <= opens_by
    ]


@router.post("/inbox/{message_id}/read")
async def mark_read(
    request: Request,
    user: Console,
    parts: ServicesDep,
    message_id: Annotated[int, Path(ge=1, le=2**62)],
) -> Response:
    require(user, MARK_INBOX_READ)
    await form_of(request, user)
    async with parts.sessions() as s:
        found = await queries.inbox_message(s, message_id)
        if found is None:
            raise PageRefused(404, "没有这条消息。")
        if not may_mark_read(user.caller.role, found.recipient_role.value):
            raise PageRefused(403, "这条消息不是发给您的角色的。")
        await queries.mark_read(s, message_id)
        await s.commit()
    return RedirectResponse("/console/tasks", status_code=303)


def _steps_for(user: SignedIn, state: CaseState | None) -> list[tuple[str, str, bool]]:
    """(update, title, whether the case waits for it) of the steps this person may take."""
    if state is None or state.status is not CaseStatus.ACTIVE:
        return []
    answer = awaited(state.step.step)[1] if state.step else None
    out = []
    for update in STEP_INPUTS:
        if update == "withdraw" or not may(user, update):
            continue
        if state.stage not in STEP_STAGES[update]:
            continue
        if update == "retry_blocked" and not (state.step and state.step.blocked_reason):
            continue
        if must_be_on_team(update, user.caller.role):
            if user.caller.name not in state.inspection_team:
                continue
        out.append((update, step_title(update), update == answer))
    return out


# ``/cases/new`` before ``/cases/{case_id}``, which would take "new" for a case id


START_PAGE = FormPage(
    "新建案件", "/console/cases/new", "/console/", CaseInput, skip=frozenset({"opened_by"})
)


@router.get("/cases/new", response_class=HTMLResponse)
async def start_form(request: Request, user: Console) -> Response:
    require(user, START_CASE)
    return START_PAGE.show(request, user, {})


@router.post("/cases/new")
async def start(request: Request, user: Console, parts: ServicesDep) -> Response:
    require(user, START_CASE)
    form = await form_of(request, user)

    async def send(fields: dict[str, Any]) -> None:
        case = CaseInput.model_validate({**fields, "opened_by": actor_of(user.caller)})
        await temporal.start_case(parts.client, parts.settings.task_queue, case)
        await temporal.first_state(parts.client, case.case_id)

    case_id = form.get("case_id", "").strip()
    return await START_PAGE.submit(request, user, form, send, f"/console/cases/{case_id}")


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_page(
    request: Request,
    user: Console,
    parts: ServicesDep,
    case_id: CaseId,
    done: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """A case: where it stands, its people, its dates and its recorded timeline."""
    require(user, READ_CASES)
    async with parts.sessions() as s:
        listing = await queries.get_case(s, case_id)
        history = await queries.case_history(s, case_id)
        messages = await queries.inbox(s, case_id=case_id, limit=PAGE_SIZE)
        # the board's objections as typed, with who sent them: only for those who verify them
        rows = await intake_of_case(s, case_id) if may(user, "record_objection_verdict") else []
        intake = [(row, commitment_holds(row)) for row in rows]
    state, why = await temporal.query_state(parts.client, case_id)
    if state is None and listing is None:
        if why:
            raise PageRefused(503, f"暂时无法读取案件 {case_id}：{why}")
        raise PageRefused(404, f"没有案件 {case_id}。")
    return page(
        request,
        user,
        "console_case.html",
        case_id=case_id,
        listing=listing,
        state=state,
        state_unavailable=why,
        history=history,
        messages=messages,
        intake=intake,
        steps=_steps_for(user, state),
        may_withdraw=may(user, "withdraw") and state is not None and state.status.value == "active",
        flash=f"已记录：{step_title(done)}" if done in STEP_INPUTS else "",
    )


def _step_page(case_id: str, update: str, state: CaseState | None) -> FormPage:
    return FormPage(
        step_title(update),
        f"/console/cases/{case_id}/steps/{update}",
        f"/console/cases/{case_id}",
        STEP_INPUTS[update],
        case_id=case_id,
        state=state,
    )


def _check_step(user: SignedIn, update: str, state: CaseState | None) -> None:
    if update not in STEP_INPUTS:
        raise PageRefused(404, "没有这个步骤。")
    require(user, update)
    if must_be_on_team(update, user.caller.role):
        if state is None or user.caller.name not in state.inspection_team:
            raise PageRefused(403, "您不是本案考察组成员，不能录入本案的考察材料。")


async def _live_state(parts: Any, case_id: str) -> CaseState:
    state, why = await temporal.query_state(parts.client, case_id)
    if state is None:
        raise PageRefused(503 if why else 404, why or f"没有案件 {case_id}。")
    return state


StepName = Annotated[str, Path(max_length=64, pattern=r"^[a-z_]+$")]


@router.get("/cases/{case_id}/steps/{update}", response_class=HTMLResponse)
async def step_form(
    request: Request, user: Console, parts: ServicesDep, case_id: CaseId, update: StepName
) -> Response:
    state = await _live_state(parts, case_id)
    _check_step(user, update, state)
    return _step_page(case_id, update, state).show(request, user, {})


@router.post("/cases/{case_id}/steps/{update}")
async def record_step(
    request: Request, user: Console, parts: ServicesDep, case_id: CaseId, update: StepName
) -> Response:
    form = await form_of(request, user)
    state = await _live_state(parts, case_id)
    _check_step(user, update, state)

    async def send(fields: dict[str, Any]) -> None:
        arg = STEP_INPUTS[update].model_validate({**fields, "actor": actor_of(user.caller)})
        await temporal.execute_update(parts.client, case_id, update, arg)

    done = f"/console/cases/{case_id}?done={update}"
    return await _step_page(case_id, update, state).submit(request, user, form, send, done)
