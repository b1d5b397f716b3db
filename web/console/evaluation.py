"""The double evaluation pages (双重考核): the evaluations, the import of both tallies
(.xlsx or .csv) with the ranking and the proposals shown before anything starts, an
evaluation's ranking with each removal case and the form of the committee's vote on it, and
the ranking as CSV or .xlsx."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from api import cadre_calls
from api.deps import ServicesDep, actor_of
from api.errors import ApiError
from api.permissions import READ_CADRE_WORK, RECORD_REMOVAL_VOTE, START_DOUBLE_EVALUATION
from api.schemas import IdPath
from sheets.cadre_imports import Upload, read_leaders
from sheets.columns import EVALUATION_OWN, EVALUATION_UNIFIED
from sheets.problems import SheetProblems
from store import cadre_queries
from store.console_models import SignedIn
from web.console.auth import Console, PageRefused, check_csrf, form_of, may, read_form, require
from web.console.cadre_reports import download, ranking_report
from web.console.common import FormPage, page
from web.console.refusal import shown
from web.forms import problems_of
from web.templating import beijing_today
from workflows.cadre_enums import RemovalMeasure
from workflows.double_evaluation_types import DoubleEvaluationInput, RemovalVoteInput
from workflows.glossary import CADRE_STEPS

router = APIRouter(prefix="/evaluation")

Key = IdPath
Fmt = Annotated[str, Path(pattern=r"^(csv|xlsx)$")]
FIELDS = ("evaluation_id", "title", "held_on", "measure")
VOTE = CADRE_STEPS["record_removal_vote"]
DATA = "data"  # the preview's confirmed input, as JSON, without who opens it


async def _list(
    request: Request,
    user: SignedIn,
    parts: ServicesDep,
    *,
    problems: list[str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    async with parts.sessions() as s:
        rows = await cadre_queries.evaluations(s)
    return page(
        request,
        user,
        "console_evaluation_list.html",
        status_code=status_code,
        rows=rows,
        may_start=may(user, START_DOUBLE_EVALUATION),
        sheets=(EVALUATION_UNIFIED, EVALUATION_OWN),
        measures=list(RemovalMeasure),
        problems=problems or [],
        values=values or {"measure": RemovalMeasure.REMOVAL.value},
        today=beijing_today(),
    )


@router.get("", response_class=HTMLResponse)
async def evaluations(request: Request, user: Console, parts: ServicesDep) -> Response:
    require(user, READ_CADRE_WORK)
    return await _list(request, user, parts)


async def _upload(form: FormData, name: str) -> Upload | None:
    sent = form.get(name)
    if not isinstance(sent, UploadFile) or not sent.filename:
        return None
    return Upload(sent.filename, await sent.read())


def _input(user: SignedIn, fields: dict[str, Any]) -> DoubleEvaluationInput:
    return DoubleEvaluationInput.model_validate({**fields, "opened_by": actor_of(user.caller)})


@router.post("/preview", response_class=HTMLResponse)
async def preview(request: Request, user: Console, parts: ServicesDep) -> Response:
    """Both tallies read and ranked under the policy in force, shown with the proposals;
    nothing starts until the preview is confirmed."""
    require(user, START_DOUBLE_EVALUATION)
    form = await read_form(request)
    check_csrf(user, form)
    values = {k: str(form.get(k, "")).strip() for k in FIELDS}
    unified, own = await _upload(form, "unified"), await _upload(form, "own")
    problems: list[str] = []
    if unified is None or own is None:
        problems.append("请选择两张测评表（.xlsx 或 .csv）：统一民主测评和本单位民主测评")
    else:
        try:
            leaders = read_leaders(unified, own)
        except SheetProblems as exc:
            problems += exc.told()
        else:
            fields: dict[str, Any] = {k: v for k, v in values.items() if v}
            try:
                data = _input(user, {**fields, "leaders": leaders})
                ranked = await cadre_calls.preview_evaluation(parts, data)
            except ValidationError as exc:
                problems += problems_of(exc)
            except ApiError as exc:
                problems.append(exc.detail)
            else:
                return page(
                    request,
                    user,
                    "console_evaluation_preview.html",
                    data=data,
                    ranked=ranked,
                    confirmed=data.model_dump_json(exclude={"opened_by"}),
                    data_field=DATA,
                )
    return await _list(request, user, parts, problems=problems, values=values, status_code=422)


@router.post("")
async def start_evaluation(request: Request, user: Console, parts: ServicesDep) -> Response:
    """Start the evaluation the preview showed (read and checked again: a changed policy or a
    changed page is caught here)."""
    require(user, START_DOUBLE_EVALUATION)
    form = await form_of(request, user)
    try:
        data = _input(user, json.loads(form.get(DATA, "")))
        await cadre_calls.start_evaluation(parts, data)
    except (ValueError, TypeError) as exc:  # ValidationError is a ValueError
        problems = problems_of(exc) if isinstance(exc, ValidationError) else ["导入内容无法读取"]
        return await _list(request, user, parts, problems=problems, status_code=422)
    except ApiError as exc:
        return await _list(request, user, parts, problems=[exc.detail], status_code=exc.status)
    done = quote(f"双重考核开始：{len(data.leaders)} 人")
    return RedirectResponse(f"/console/evaluation/{data.evaluation_id}?done={done}", 303)


async def _evaluation(parts: ServicesDep, evaluation_id: str) -> cadre_calls.Evaluation:
    return await shown(cadre_calls.evaluation(parts, evaluation_id))


@router.get("/{evaluation_id}", response_class=HTMLResponse)
async def evaluation(
    request: Request,
    user: Console,
    parts: ServicesDep,
    evaluation_id: Key,
    done: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    require(user, READ_CADRE_WORK)
    found = await _evaluation(parts, evaluation_id)
    return page(
        request,
        user,
        "console_evaluation.html",
        evaluation_id=evaluation_id,
        state=found.state,
        cases=found.cases,
        unavailable=found.unavailable,
        may_vote=may(user, RECORD_REMOVAL_VOTE),
        flash=done,
    )


@router.get("/{evaluation_id}/report.{fmt}")
async def evaluation_download(
    user: Console, parts: ServicesDep, evaluation_id: Key, fmt: Fmt
) -> Response:
    require(user, READ_CADRE_WORK)
    found = await _evaluation(parts, evaluation_id)
    if found.state is None:
        raise PageRefused(404, "双重考核正在启动，尚无排队结果。")
    return download(ranking_report(found.state), fmt)


async def _vote_page(parts: ServicesDep, evaluation_id: str, person_id: str) -> FormPage:
    found = await _evaluation(parts, evaluation_id)
    case = found.cases.get(person_id)
    if case is None:
        raise PageRefused(404, f"双重考核 {evaluation_id} 中没有 {person_id} 的降免职案件。")
    where = f"/console/evaluation/{evaluation_id}"
    return FormPage(
        f"{VOTE} · {case.name}（{case.unit}{case.post}）",
        f"{where}/{person_id}/vote",
        where,
        RemovalVoteInput,
    )


@router.get("/{evaluation_id}/{person_id}/vote", response_class=HTMLResponse)
async def vote_form(
    request: Request, user: Console, parts: ServicesDep, evaluation_id: Key, person_id: Key
) -> Response:
    require(user, RECORD_REMOVAL_VOTE)
    form = await _vote_page(parts, evaluation_id, person_id)
    return form.show(request, user, {"meeting.held_on": beijing_today().isoformat()})


@router.post("/{evaluation_id}/{person_id}/vote")
async def record_vote(
    request: Request, user: Console, parts: ServicesDep, evaluation_id: Key, person_id: Key
) -> Response:
    require(user, RECORD_REMOVAL_VOTE)
    form = await form_of(request, user)
    form_page = await _vote_page(parts, evaluation_id, person_id)

    async def send(fields: dict[str, Any]) -> None:
        await cadre_calls.record_removal_vote(parts, user.caller, evaluation_id, person_id, fields)

    done = f"/console/evaluation/{evaluation_id}?done=" + quote(f"已记录：{VOTE}")
    return await form_page.submit(request, user, form, send, done)
