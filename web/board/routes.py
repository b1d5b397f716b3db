"""The board's three addresses: the index of current notices, one notice with its objection
form, and the post of an objection, which the board files into the case on the public's
behalf."""

from __future__ import annotations

import logging
import math
import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.client_address import client_address
from api.deps import Services
from api.throttles import BOARD_POSTS_PER_ADDRESS
from web import csrf
from web.board.cache import CACHE_SECONDS
from web.board.form import (
    MAX_BODY_BYTES,
    TEXT_MAX,
    BodyTooLarge,
    ObjectionForm,
    read_form,
)
from web.board.intake import file_objection
from web.board.notices import BoardUnavailable, is_current
from web.board.pages import (
    NO_STORE,
    message_page,
    no_notice_page,
    notice_page,
    refusal_explained,
    unavailable_page,
)
from web.board.state import board_state
from web.templating import render
from workflows.types import NoticeKind

log = logging.getLogger(__name__)

router = APIRouter(prefix="/board", include_in_schema=False)

CASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # as CaseInput.case_id


def _services(request: Request) -> Services:
    parts: Services = request.app.state.services
    return parts


@router.get("/", response_class=HTMLResponse)
async def board_index(request: Request) -> HTMLResponse:
    state = board_state(request.app)
    try:
        listing = await state.cache.board(_services(request))
    except BoardUnavailable as exc:
        log.warning("board unavailable: %s", exc)
        return unavailable_page(request)
    today = state.today()
    current = [n for n in listing.notices if is_current(n, today)]
    response = render(
        request,
        "board_index.html",
        {
            "today": today,
            "partial": listing.partial,
            "pre_appointment": sorted(
                (n for n in current if n.kind is NoticeKind.PRE_APPOINTMENT),
                key=lambda n: (n.ends_on or today, n.unit, n.case_id),
            ),
            "investigation": sorted(
                (n for n in current if n.kind is NoticeKind.INVESTIGATION),
                key=lambda n: (n.published_on, n.unit, n.case_id),
                reverse=True,
            ),
        },
    )
    response.headers["Cache-Control"] = f"max-age={math.ceil(CACHE_SECONDS)}"
    return response


@router.get("/notices/{case_id}", response_class=HTMLResponse)
async def board_notice(request: Request, case_id: str) -> HTMLResponse:
    if not CASE_ID.match(case_id):
        return no_notice_page(request)
    state = board_state(request.app)
    try:
        view = await state.cache.notice(_services(request), case_id)
    except BoardUnavailable as exc:
        log.warning("board unavailable: %s", exc)
        return unavailable_page(request)
    today = state.today()
    if view is None or not is_current(view, today):
        return no_notice_page(request)
    return notice_page(request, view, today)


@router.post("/notices/{case_id}/objections", response_class=HTMLResponse)
async def board_objection(request: Request, case_id: str) -> HTMLResponse:
    state = board_state(request.app)
    wait = state.limiter.hit(client_address(request))
    if wait:
        minutes = max(1, math.ceil(wait / 60))
        limit = BOARD_POSTS_PER_ADDRESS
        return message_page(
            request,
            429,
            "提交过于频繁",
            f"同一网络地址在 {limit.minutes} 分钟内最多提交 {limit.times} 次反映。"
            f"请约 {minutes} 分钟后再提交；"
            "情况紧急的，可以直接来信、来电或来访向组织部反映。",
            headers={"Retry-After": str(math.ceil(wait))},
        )
    try:
        fields = await read_form(request)
    except BodyTooLarge:
        return message_page(
            request,
            413,
            "提交的内容过长",
            f"一次提交的内容不能超过 {MAX_BODY_BYTES // 1024} KB（反映内容最多 {TEXT_MAX} 字）。"
            "请精简后重新提交，材料较多的，请来信或来访提供。",
        )
    if fields is None:
        return message_page(request, 400, "无法识别的提交", "请使用公示页面上的反映表提交。")
    if not csrf.anonymous_ok(request, fields.get(csrf.FIELD, "")):
        return message_page(
            request,
            403,
            "页面已过期",
            "无法确认这次提交来自本公示栏的反映表（页面可能已过期，或浏览器禁用了 Cookie）。"
            "请回到公示页面，重新打开反映表后再提交。",
        )
    if not CASE_ID.match(case_id):
        return no_notice_page(request)
    parts = _services(request)
    try:
        view = await state.cache.notice(parts, case_id)
    except BoardUnavailable as exc:
        log.warning("board unavailable: %s", exc)
        return unavailable_page(request)
    if view is None:
        return no_notice_page(request)
    today = state.today()
    form = ObjectionForm.of(fields)
    problems = form.problems(view)
    if problems:
        if is_current(view, today):
            return notice_page(request, view, today, form=form, problems=problems, status=422)
        return message_page(request, 422, "请修改后再提交", "；".join(problems))

    filed = await file_objection(parts, view, form, today)
    refused = filed.refusal
    if refused is not None and refused.status == 404:
        return no_notice_page(request)
    if refused is not None and refused.status == 409:
        return message_page(
            request,
            409,
            "未能受理",
            "",
            explanation=refusal_explained(view, today),
            rule=refused.rule,
            sentence=refused.detail,
        )
    state.cache.forget(case_id)
    subject = next(p for p in view.people if p.person_id == form.person_id)
    response = render(
        request,
        "board_receipt.html",
        {"view": view, "filed": filed, "subject": subject, "text": form.text},
        status_code=200 if filed.delivered else 202,
    )
    response.headers.update(NO_STORE)
    return response
