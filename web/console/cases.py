"""The console's case pages: the dashboard, my tasks, a case, and a form for each step.

A step's form is made from the workflow update's input model (``web.forms``); what it sends
goes to the workflow exactly as the API sends it (``api.temporal``), with the signed-in
account as the actor. A refusal shows the rule's own sentence above the form, which keeps
what was typed. A list of people is a table of rows with Chinese headers: its button adds
rows (no script), an ``.xlsx`` sent with the form fills it (``sheets``), and its empty
template is downloaded from ``/console/sheets/KIND.xlsx``. A new case first asks for its
selection method, then only for what a case of that method is started with.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from activities.policy import read_policy
from api import temporal
from api.attachment_checks import check_named_attachments
from api.deps import ServicesDep, actor_of
from api.permissions import (
    MARK_INBOX_READ,
    READ_CASES,
    READ_INBOX,
    START_CASE,
    must_be_on_team,
)
from api.schemas import STEP_INPUTS, IdPath
from sheets.columns import SHEETS
from sheets.xlsx import CONTENT_TYPE as XLSX_TYPE
from sheets.xlsx import template_xlsx
from store import queries
from store.account_models import list_accounts
from store.attachments import case_attachments
from store.console_models import SignedIn
from store.objection_models import commitment_holds, intake_of_case
from store.probation_models import ProbationListRow, list_probations
from store.register_cases import RegisterRefusal, fill_candidates, with_register
from store.substitutes import actor_for, covered
from store.tasks import inbox_of, tasks_of
from web.console import extension_requests as extension_pages
from web.console.assignment import choices as assignment_choices
from web.console.auth import Console, PageRefused, form_of, may, require
from web.console.bulk import MAX_BULK, read_message
from web.console.cadre_tasks import cadre_tasks_for
from web.console.calendar_years import next_year_missing
from web.console.common import FilterText, FormPage, chosen, page
from web.forms import SHEET_FILE, FormProblem, import_sheets, more_rows
from web.templating import beijing_today as today
from workflows.glossary import awaited, field_label, step_title, zh
from workflows.policy import ProbationPolicy
from workflows.probation_types import ProbationStatus, ReviewStatus
from workflows.steps import CASE_STEPS
from workflows.types import (
    EXAM_METHODS,
    CaseInput,
    CaseStage,
    CaseState,
    CaseStatus,
    SelectionMethod,
    service_filled,
)

router = APIRouter()

# The stages in which each step is offered on a case's page (the workflow's rules decide
# whether it is taken; a step's form can still be opened by its address at any stage).
STEP_STAGES: dict[str, frozenset[CaseStage]] = {u: s.stages for u, s in CASE_STEPS.items()}

CaseId = IdPath
PAGE_SIZE = 50


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
        calendar_missing=await next_year_missing(parts, user),
    )


@router.get("/tasks", response_class=HTMLResponse)
async def my_tasks(request: Request, user: Console, parts: ServicesDep) -> Response:
    """What waits for the signed-in person, from the listing alone (no case is asked): the
    steps assigned to them, their role's unassigned queue, the steps of the people they
    substitute for today, the probations and the cadre work waiting for their role, and the
    messages to them and to those people."""
    require(user, READ_INBOX)
    me = user.caller
    async with parts.sessions() as s:
        covering = await covered(s, me.name, today())
        found = await tasks_of(s, me.name, me.role, [name for name, _ in covering])
        messages = await inbox_of(s, me.role, covering, limit=PAGE_SIZE)
    policy = (await asyncio.to_thread(read_policy, parts.settings.policy_file)).policy
    reviews = await _reviews_for(parts, user, policy.probation)
    cadre = await cadre_tasks_for(parts, user, policy.cadre, today())
    return page(
        request,
        user,
        "console_tasks.html",
        extension_pending=await extension_pages.pending_for(parts, user),
        tasks=found,
        covering=covering,
        messages=messages,
        reviews=reviews,
        cadre_tasks=cadre,
        may_assign=may(user, "assign_step"),
        may_withdraw=may(user, "withdraw"),
        bulk_limit=MAX_BULK,
    )


async def _reviews_for(
    parts: ServicesDep, user: SignedIn, probation: ProbationPolicy
) -> list[ProbationListRow]:
    """Probations whose review window is open and not yet reviewed, when the policy in force
    (its ``probation``) names this person's role as a reviewer (each probation's own policy
    has the last word when the review is recorded)."""
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
    await read_message(parts, user, message_id)
    return RedirectResponse("/console/tasks", status_code=303)


def _steps_for(user: SignedIn, state: CaseState | None) -> list[tuple[str, str, bool]]:
    """(update, title, whether the case waits for it) of the steps this person may take."""
    if state is None or state.status is not CaseStatus.ACTIVE:
        return []
    answer = awaited(state.step.step)[1] if state.step else None
    out = []
    for update in STEP_INPUTS:
        # withdrawing has its own link; assignment its own buttons (web.console.assignment)
        if update in ("withdraw", "assign_step") or not may(user, update):
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


# What a case of each selection method is started with, beyond the post: the exam's
# candidates come from its registration, a regular appointment's from its recommendation.
EXAM_CASE_SKIPS = frozenset({"candidates", "recommendation", "relationships"})


def _start_page(method: SelectionMethod) -> FormPage:
    """The new-case form of ``method``: only what a case of that method is started with."""
    skip = frozenset({"opened_by", "method"})
    if method in EXAM_METHODS:
        skip |= EXAM_CASE_SKIPS
    return FormPage(
        f"新建案件（{zh(method)}）",
        f"/console/cases/new?method={method.value}",
        "/console/cases/new",
        CaseInput,
        skip=skip,
    )


def _method_choices() -> list[tuple[SelectionMethod, str, str]]:
    """(method, its name, what its case is started with) for the new-case page."""
    registration = step_title("record_registration")
    exam = (
        "人选由考试报名产生：立案时只填岗位信息，"
        f"报名人员在“{registration}”一步录入（可从 Excel 导入）。"
    )
    regular = (
        f"人选经{field_label('recommendation')}产生：立案时填写推荐情况和人选名单"
        "（可逐行填写，也可从 Excel 导入）。"
    )
    return [
        (m, zh(m), exam if m in EXAM_METHODS else regular)
        for m in (
            SelectionMethod.REGULAR_APPOINTMENT,
            SelectionMethod.OPEN_SELECTION,
            SelectionMethod.COMPETITIVE_APPOINTMENT,
        )
    ]


@router.get("/cases/new", response_class=HTMLResponse)
async def start_form(
    request: Request,
    user: Console,
    method_text: Annotated[FilterText, Query(alias="method")] = None,
) -> Response:
    """The choice of the selection method, then the form of the method chosen."""
    require(user, START_CASE)
    method = chosen(SelectionMethod, method_text)
    if method is None:
        sheets = [(s.kind, s.title) for s in SHEETS.values() if s.group == "case"]
        return page(
            request, user, "console_case_new.html", methods=_method_choices(), sheets=sheets
        )
    return _start_page(method).show(request, user, {})


@router.post("/cases/new")
async def start(
    request: Request,
    user: Console,
    parts: ServicesDep,
    method_text: Annotated[FilterText, Query(alias="method")] = None,
) -> Response:
    require(user, START_CASE)
    form = await form_of(request, user)
    # the method is in the form's address; a form sent without it may name it as a field
    method = chosen(SelectionMethod, method_text or form.get("method", "").strip())
    if method is None:
        raise PageRefused(422, "请先选择选拔方式。")

    async def send(fields: dict[str, Any]) -> None:
        case = CaseInput.model_validate(
            {**fields, "method": method.value, "opened_by": actor_of(user.caller)}
        )
        try:
            async with parts.sessions() as s:
                case = await fill_candidates(s, case, today())
        except RegisterRefusal as exc:
            raise FormProblem(*exc.problems) from exc
        await temporal.start_case(parts.client, parts.settings.task_queue, case)
        await temporal.first_state(parts.client, case.case_id)

    case_id = form.get("case_id", "").strip()
    done = f"/console/cases/{case_id}"
    return await _send_with_tables(request, user, _start_page(method), form, send, done)


async def _sheets_sent(request: Request) -> dict[str, bytes]:
    """The ``.xlsx`` files sent with a form (read and checked already by ``form_of``), by
    the name of their input."""
    out: dict[str, bytes] = {}
    for name, value in (await request.form()).multi_items():
        if isinstance(value, UploadFile) and name.startswith(SHEET_FILE):
            data = await value.read()
            if data:
                out[name] = data
    return out


async def _send_with_tables(
    request: Request,
    user: SignedIn,
    form_page: FormPage,
    form: dict[str, str],
    send: Callable[[dict[str, Any]], Awaitable[object]],
    done: str,
) -> Response:
    """A form with tables of rows: shown again with more rows when its button asked for
    them; else the rows of its Excel files added to its tables (a bad row in a file: every
    problem shown, nothing sent), then sent as any form."""
    grown = more_rows(form)
    if grown is not None:
        return form_page.show(request, user, grown)
    try:
        files = await _sheets_sent(request)
        # reading a workbook is work for a thread, not for the loop serving every page
        form = await asyncio.to_thread(
            import_sheets, form_page.model, form, files, skip=form_page.skip
        )
    except FormProblem as exc:
        return form_page.show(request, user, form, problems=exc.problems, status_code=422)
    return await form_page.submit(request, user, form, send, done)


@router.get("/sheets/{kind}.xlsx")
async def sheet_template(user: Console, kind: Annotated[str, Path(max_length=32)]) -> Response:
    """The empty Excel template of a list (its Chinese headers, how to fill each in)."""
    sheet = SHEETS.get(kind)
    if sheet is None:
        raise PageRefused(404, "没有这种表格模板。")
    data = await asyncio.to_thread(template_xlsx, sheet)
    name = quote(f"{sheet.title}模板.xlsx")
    return Response(
        data,
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_page(
    request: Request,
    user: Console,
    parts: ServicesDep,
    case_id: CaseId,
    done: Annotated[str, Query(max_length=64)] = "",
    extension: Annotated[str, Query(max_length=16)] = "",
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
        files = await case_attachments(s, case_id)
        people = await list_accounts(s) if may(user, "assign_step") else []
    state, why = await temporal.query_state(parts.client, case_id)
    if state is None and listing is None:
        if why:
            raise PageRefused(503, f"暂时无法读取案件 {case_id}：{why}")
        raise PageRefused(404, f"没有案件 {case_id}。")
    now = datetime.now(UTC)
    requests = await extension_pages.panel(parts, user, case_id, state, history, now)
    return page(
        request,
        user,
        "console_case.html",
        extension=requests,
        case_id=case_id,
        listing=listing,
        state=state,
        state_unavailable=why,
        history=history,
        messages=messages,
        intake=intake,
        attachments=files,
        steps=_steps_for(user, state),
        assign=assignment_choices(user, state, people) if people else None,
        may_withdraw=may(user, "withdraw") and state is not None and state.status.value == "active",
        flash=f"已记录：{step_title(done)}"
        if done in STEP_INPUTS
        else extension_pages.FLASH.get(extension, ""),
    )


def _step_page(case_id: str, update: str, state: CaseState | None) -> FormPage:
    return FormPage(
        step_title(update),
        f"/console/cases/{case_id}/steps/{update}",
        f"/console/cases/{case_id}",
        STEP_INPUTS[update],
        # a field the service fills (the request an approval grants) is no one's to type
        skip=frozenset({"actor"}) | service_filled(STEP_INPUTS[update]),
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
        # 代理: on the assignee's behalf when a substitution covers today (the server's word)
        assignee = state.step.assignee if state.step is not None else None
        async with parts.sessions() as s:
            actor = await actor_for(s, user.caller.name, user.caller.role, assignee, today())
            arg = STEP_INPUTS[update].model_validate({**fields, "actor": actor})
            # a step that judges candidates again takes the register's facts of its day
            arg = await with_register(s, case_id, arg)
        await check_named_attachments(parts.sessions, case_id, arg)
        await temporal.execute_update(parts.client, case_id, update, arg)

    done = f"/console/cases/{case_id}?done={update}"
    return await _send_with_tables(
        request, user, _step_page(case_id, update, state), form, send, done
    )
