"""The pages the board answers with besides its index and receipt: a notice with its
objection form, and the messages that explain, in Chinese, why nothing else can be shown."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from api.client_address import is_https
from web import csrf
from web.board.cache import CACHE_SECONDS
from web.board.form import CONTACT_MAX, NAME_MAX, TEXT_MAX, ObjectionForm
from web.templating import render
from workflows.types import NoticeKind, PublicNoticeView

NO_STORE = {"Cache-Control": "no-store"}


def message_page(
    request: Request,
    status: int,
    title: str,
    message: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> HTMLResponse:
    response = render(
        request,
        "board_message.html",
        {"title": title, "message": message, **extra},
        status_code=status,
    )
    response.headers.update({**NO_STORE, **(headers or {})})
    return response


def unavailable_page(request: Request) -> HTMLResponse:
    return message_page(
        request,
        503,
        "暂时无法显示",
        "公示栏暂时无法显示公示内容，也暂时不能受理反映，请稍后再试。给您带来不便，敬请谅解。",
        headers={"Retry-After": str(math.ceil(CACHE_SECONDS))},
    )


def no_notice_page(request: Request) -> HTMLResponse:
    return message_page(
        request,
        404,
        "没有找到这份公示",
        "这个案件目前没有正在公示的内容：公示可能已经结束，或者地址有误。请从公示栏首页查看当前的公示。",
    )


def notice_page(
    request: Request,
    view: PublicNoticeView,
    today: date,
    *,
    form: ObjectionForm | None = None,
    problems: Iterable[str] = (),
    status: int = 200,
) -> HTMLResponse:
    token = csrf.anonymous_token(request)
    response = render(
        request,
        "board_notice.html",
        {
            "view": view,
            "today": today,
            "open_for_objections": view.kind is NoticeKind.PRE_APPOINTMENT,
            "form": form or ObjectionForm(),
            "problems": list(problems),
            "csrf_field": csrf.FIELD,
            "csrf_token": token,
            "limits": {"text": TEXT_MAX, "name": NAME_MAX, "contact": CONTACT_MAX},
        },
        status_code=status,
    )
    response.headers.update(NO_STORE)  # carries this browser's CSRF token
    csrf.set_anonymous_cookie(response, token, secure=is_https(request))
    return response


def refusal_explained(view: PublicNoticeView, today: date) -> str:
    """Why the case may have refused an objection to this notice, in the public's words."""
    if view.kind is NoticeKind.INVESTIGATION:
        return (
            "这个案件目前处于考察预告阶段。案件只在任前公示期间受理反映，公示栏的反映表也只在"
            "任前公示期间开放；对考察对象的意见，请按考察预告所列方式向组织部反映。"
        )
    if view.ends_on is not None and not view.published_on <= today <= view.ends_on:
        return (
            f"这份任前公示的公示期为 {view.published_on.isoformat()} 至 "
            f"{view.ends_on.isoformat()}，今天（{today.isoformat()}）不在公示期内，"
            "公示栏不能受理对这份公示的反映。"
        )
    return "案件没有受理这份反映，原因见下面的系统答复。"
