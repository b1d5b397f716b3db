"""The public notice board (公示栏), no login.

- ``GET /board/``: the notices before the public today: investigation notices (考察预告)
  while their inspection runs, pre-appointment notices (任前公示) within their period.
- ``GET /board/notices/{case_id}``: one notice, only the published fields of each person,
  and during a pre-appointment notice the objection form.
- ``POST /board/notices/{case_id}/objections``: files an objection into the case (update
  ``record_objection``) on the public's behalf and shows its number.

What a notice shows comes from the case workflow's ``public_notice`` query alone
(``PublishedPerson``), so nothing of the inspection can reach a page by accident. Whether an
objection is accepted is the workflow's decision; the board explains its refusal in Chinese.
The board owns what stands between the public and Temporal: a short cache of the notices,
and for the one form anybody may post, limits on size, field lengths and rate, and CSRF.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import secrets
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette
from temporalio.client import Client, WorkflowQueryFailedError, WorkflowQueryRejectedError
from temporalio.common import QueryRejectCondition
from temporalio.service import RPCError, RPCStatusCode

from api.deps import Services
from api.errors import ApiError
from api.temporal import execute_update
from store import queries
from web import csrf
from web.ratelimit import SlidingWindow
from web.templating import beijing_today, render
from workflows.ids import case_workflow_id
from workflows.types import (
    Actor,
    CaseStage,
    CaseStatus,
    NoticeKind,
    ObjectionInput,
    PublicNoticeView,
    Role,
)

log = logging.getLogger(__name__)

router = APIRouter(prefix="/board", include_in_schema=False)

# --------------------------------------------------------------------------- limits

# Public traffic reads the notices from this cache; Temporal is asked at most once per case
# in this time (a notice changes a few times a month).
CACHE_SECONDS = 30.0
# After Temporal or the database failed, the board says so for this long before asking again.
FAILURE_CACHE_SECONDS = 5.0
CACHE_MAX_CASES = 5_000  # cases whose notice is kept; beyond it, stale entries are dropped
BOARD_STAGES = (CaseStage.INSPECTION, CaseStage.PUBLIC_NOTICE, CaseStage.APPOINTMENT)
LISTING_PAGE = 500  # rows read from the listing table at a time
LISTING_MAX = 5_000  # active cases the board looks at, at the most (a county has ~200 a year)
QUERY_WAIT = timedelta(seconds=5)  # per case; a worker slower than this is "unanswered"
QUERY_CONCURRENCY = 8  # queries in flight at once while the board is refreshed

MAX_BODY_BYTES = 32 * 1024  # 2,000 Chinese characters url-encoded are about 18 KiB
MAX_FORM_FIELDS = 12
TEXT_MAX = 2_000  # characters of the objection itself
NAME_MAX = 50
CONTACT_MAX = 100

RATE_LIMIT_POSTS = 5  # objection posts one client address may make ...
RATE_LIMIT_WINDOW_SECONDS = 600.0  # ... in any ten minutes
RATE_LIMIT_MAX_ADDRESSES = 10_000  # addresses remembered; the oldest are forgotten first

# The board files objections on the public's behalf; the event names it as the actor.
BOARD_ACTOR = Actor(name="公示栏", role=Role.SYSTEM)
OBJECTION_PREFIX = "board-"
CASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # as CaseInput.case_id
FORM_TYPE = "application/x-www-form-urlencoded"
NO_STORE = {"Cache-Control": "no-store"}


# --------------------------------------------------------------------------- notices


class BoardUnavailable(Exception):
    """Temporal (or the database) cannot be reached, or answered for no case."""


class _Unanswered:
    """A case whose query failed while others succeeded: left off the board this time."""


UNANSWERED = _Unanswered()


def is_current(view: PublicNoticeView, today: date) -> bool:
    """Whether the notice is before the public today."""
    if view.kind is NoticeKind.INVESTIGATION:
        return view.ends_on is None  # until its inspection concludes
    return view.ends_on is not None and view.published_on <= today <= view.ends_on


async def query_notice(client: Client, case_id: str) -> PublicNoticeView | _Unanswered | None:
    """The case's notice; None when it has none or Temporal has no such open case."""
    handle = client.get_workflow_handle(case_workflow_id(case_id))
    try:
        view: PublicNoticeView | None = await handle.query(
            "public_notice",
            result_type=PublicNoticeView,
            reject_condition=QueryRejectCondition.NOT_OPEN,
            rpc_timeout=QUERY_WAIT,
        )
        return view
    except WorkflowQueryRejectedError:
        return None  # the workflow has closed: no notice
    except WorkflowQueryFailedError as exc:
        log.warning("board: query public_notice of %s failed: %s", case_id, exc)
        return UNANSWERED
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        if exc.status == RPCStatusCode.UNAVAILABLE:
            raise BoardUnavailable(exc.message) from exc
        log.warning("board: query public_notice of %s: %s", case_id, exc.message)
        return UNANSWERED
    except RuntimeError as exc:
        # a lazily connected client reports a server it cannot reach this way
        if str(exc).startswith("Failed client connect"):
            raise BoardUnavailable(str(exc).splitlines()[0]) from exc
        raise


@dataclass
class _Listing:
    at: float
    notices: list[PublicNoticeView]
    partial: bool


@dataclass
class NoticeCache:
    """The notices of the board and of single cases, each kept ``CACHE_SECONDS``."""

    clock: Callable[[], float] = time.monotonic
    listing: _Listing | None = None
    views: dict[str, tuple[float, PublicNoticeView | None]] = field(default_factory=dict)
    failed_at: float | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def clear(self) -> None:
        self.listing, self.failed_at = None, None
        self.views.clear()

    def _fresh(self, at: float) -> bool:
        return self.clock() - at < CACHE_SECONDS

    def _check_not_failed(self) -> None:
        if self.failed_at is not None and self.clock() - self.failed_at < FAILURE_CACHE_SECONDS:
            raise BoardUnavailable("failed a moment ago")

    def _keep(self, case_id: str, view: PublicNoticeView | None, at: float) -> None:
        if len(self.views) >= CACHE_MAX_CASES:
            self.views = {k: v for k, v in self.views.items() if self._fresh(v[0])}
            while len(self.views) >= CACHE_MAX_CASES:
                del self.views[next(iter(self.views))]
        self.views[case_id] = (at, view)

    async def board(self, parts: Services) -> _Listing:
        async with self.lock:  # one refresh at a time; the others then read its result
            if self.listing is not None and self._fresh(self.listing.at):
                return self.listing
            self._check_not_failed()
            try:
                self.listing = await self._refresh(parts)
            except BoardUnavailable:
                self.failed_at = self.clock()
                raise
            return self.listing

    async def _refresh(self, parts: Services) -> _Listing:
        ids = await _active_case_ids(parts)
        gate = asyncio.Semaphore(QUERY_CONCURRENCY)

        async def one(case_id: str) -> PublicNoticeView | _Unanswered | None:
            async with gate:
                return await query_notice(parts.client, case_id)

        at = self.clock()
        # every query runs to its end, so none is left behind when one fails
        answers = await asyncio.gather(*(one(i) for i in ids), return_exceptions=True)
        for answer in answers:
            if isinstance(answer, BaseException):
                raise answer
        unanswered = sum(1 for a in answers if a is UNANSWERED)
        if ids and unanswered == len(ids):
            raise BoardUnavailable(f"no answer for any of {len(ids)} cases")
        notices = []
        for case_id, answer in zip(ids, answers, strict=True):
            if isinstance(answer, (_Unanswered, BaseException)):
                continue
            self._keep(case_id, answer, at)
            if answer is not None:
                notices.append(answer)
        return _Listing(at, notices, partial=unanswered > 0)

    async def notice(self, parts: Services, case_id: str) -> PublicNoticeView | None:
        """One case's notice, from the cache or Temporal; None for a case unknown to the
        listing table, so made-up ids in addresses never reach Temporal."""
        kept = self.views.get(case_id)
        if kept is not None and self._fresh(kept[0]):
            return kept[1]
        self._check_not_failed()
        try:
            async with parts.sessions() as s:
                row = await queries.get_case(s, case_id)
        except (DBAPIError, OSError) as exc:
            self.failed_at = self.clock()
            raise BoardUnavailable(f"database: {exc}") from exc
        if row is None or row.status is not CaseStatus.ACTIVE:
            return None
        at = self.clock()
        try:
            answer = await query_notice(parts.client, case_id)
        except BoardUnavailable:
            self.failed_at = self.clock()
            raise
        if isinstance(answer, _Unanswered):
            raise BoardUnavailable(f"no answer for case {case_id}")
        self._keep(case_id, answer, at)
        return answer

    def forget(self, case_id: str) -> None:
        self.views.pop(case_id, None)
        self.listing = None


async def _active_case_ids(parts: Services) -> list[str]:
    ids: list[str] = []
    try:
        async with parts.sessions() as s:
            for stage in BOARD_STAGES:
                offset = 0
                while len(ids) < LISTING_MAX:
                    rows = await queries.list_cases(
                        s,
                        stage=stage.value,
                        status=CaseStatus.ACTIVE.value,
                        limit=LISTING_PAGE,
                        offset=offset,
                    )
                    ids += [r.case_id for r in rows]
                    if len(rows) < LISTING_PAGE:
                        break
                    offset += LISTING_PAGE
    except (DBAPIError, OSError) as exc:
        raise BoardUnavailable(f"database: {exc}") from exc
    return ids[:LISTING_MAX]


@dataclass
class BoardState:
    cache: NoticeCache = field(default_factory=NoticeCache)
    limiter: SlidingWindow = field(
        default_factory=lambda: SlidingWindow(
            RATE_LIMIT_POSTS, RATE_LIMIT_WINDOW_SECONDS, RATE_LIMIT_MAX_ADDRESSES
        )
    )
    today: Callable[[], date] = beijing_today


def board_state(app: Starlette) -> BoardState:
    """The board's cache and rate limiter, one per application."""
    found: BoardState | None = getattr(app.state, "board", None)
    if found is None:
        found = app.state.board = BoardState()
    return found


def _services(request: Request) -> Services:
    parts: Services = request.app.state.services
    return parts


# --------------------------------------------------------------------------- pages


def _message(
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


def _unavailable(request: Request) -> HTMLResponse:
    return _message(
        request,
        503,
        "暂时无法显示",
        "公示栏暂时无法显示公示内容，也暂时不能受理反映，请稍后再试。给您带来不便，敬请谅解。",
        headers={"Retry-After": str(math.ceil(CACHE_SECONDS))},
    )


def _no_notice(request: Request) -> HTMLResponse:
    return _message(
        request,
        404,
        "没有找到这份公示",
        "这个案件目前没有正在公示的内容：公示可能已经结束，或者地址有误。请从公示栏首页查看当前的公示。",
    )


@router.get("/", response_class=HTMLResponse)
async def board_index(request: Request) -> HTMLResponse:
    state = board_state(request.app)
    try:
        listing = await state.cache.board(_services(request))
    except BoardUnavailable as exc:
        log.warning("board unavailable: %s", exc)
        return _unavailable(request)
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


@dataclass
class ObjectionForm:
    """What the public typed into the form, cleaned; never shown to anybody else."""

    person_id: str = ""
    text: str = ""
    anonymous: bool = False
    name: str = ""
    contact: str = ""

    @classmethod
    def of(cls, fields: dict[str, str]) -> ObjectionForm:
        return cls(
            person_id=fields.get("person_id", "").strip(),
            text=_clean(fields.get("text", ""), multiline=True),
            anonymous=fields.get("anonymous", "") == "1",
            name=_clean(fields.get("name", "")),
            contact=_clean(fields.get("contact", "")),
        )

    def problems(self, view: PublicNoticeView) -> list[str]:
        out = []
        if self.person_id not in {p.person_id for p in view.people}:
            out.append("请选择反映对象（公示中的人员）。")
        if not self.text:
            out.append("请填写反映内容。")
        elif len(self.text) > TEXT_MAX:
            out.append(f"反映内容最多 {TEXT_MAX} 字，现在是 {len(self.text)} 字，请精简后再提交。")
        if not self.anonymous and not self.name:
            out.append("署名反映请填写姓名；不愿署名的，请选择“匿名反映”。")
        if len(self.name) > NAME_MAX:
            out.append(f"姓名最多 {NAME_MAX} 字。")
        if len(self.contact) > CONTACT_MAX:
            out.append(f"联系方式最多 {CONTACT_MAX} 字。")
        return out

    def summary(self) -> str:
        """The objection as the case records it: the text, then who sent it."""
        who = "（匿名）" if self.anonymous else f"反映人：{self.name}"
        contact = f"；联系方式：{self.contact}" if self.contact else ""
        return f"{self.text}\n——{who}{contact}（经公示栏提交）"


def _clean(value: str, multiline: bool = False) -> str:
    """Trimmed, line ends as \\n, without control characters (a textarea's line breaks and
    tabs stay)."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    kept = "\n\t" if multiline else ""
    return "".join(
        ch for ch in value if ch in kept or unicodedata.category(ch) not in ("Cc", "Cf")
    ).strip()


def _notice_page(
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
    csrf.set_anonymous_cookie(response, token, secure=request.url.scheme == "https")
    return response


@router.get("/notices/{case_id}", response_class=HTMLResponse)
async def board_notice(request: Request, case_id: str) -> HTMLResponse:
    if not CASE_ID.match(case_id):
        return _no_notice(request)
    state = board_state(request.app)
    try:
        view = await state.cache.notice(_services(request), case_id)
    except BoardUnavailable as exc:
        log.warning("board unavailable: %s", exc)
        return _unavailable(request)
    today = state.today()
    if view is None or not is_current(view, today):
        return _no_notice(request)
    return _notice_page(request, view, today)


class _TooLarge(Exception):
    pass


async def _read_capped(request: Request) -> bytes:
    """The body, refused before parsing when larger than ``MAX_BODY_BYTES``: the declared
    length is checked first, and no more than the limit is ever read."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise _TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise _TooLarge
    return bytes(body)


def _parse_form(body: bytes) -> dict[str, str] | None:
    """The url-encoded form's fields (the first value of each), or None if malformed."""
    try:
        parsed = parse_qs(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=bool(body),
            max_num_fields=MAX_FORM_FIELDS,
            errors="strict",
        )
    except (UnicodeDecodeError, ValueError):
        return None
    return {k: v[0] for k, v in parsed.items()}


def _refusal_explained(view: PublicNoticeView, today: date) -> str:
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


@router.post("/notices/{case_id}/objections", response_class=HTMLResponse)
async def board_objection(request: Request, case_id: str) -> HTMLResponse:
    state = board_state(request.app)
    address = request.client.host if request.client else "unknown"
    wait = state.limiter.hit(address)
    if wait:
        minutes = max(1, math.ceil(wait / 60))
        return _message(
            request,
            429,
            "提交过于频繁",
            f"同一网络地址在 {int(RATE_LIMIT_WINDOW_SECONDS // 60)} 分钟内最多提交 "
            f"{RATE_LIMIT_POSTS} 次反映。请约 {minutes} 分钟后再提交；"
            "情况紧急的，可以直接来信、来电或来访向组织部反映。",
            headers={"Retry-After": str(math.ceil(wait))},
        )
    try:
        body = await _read_capped(request)
    except _TooLarge:
        return _message(
            request,
            413,
            "提交的内容过长",
            f"一次提交的内容不能超过 {MAX_BODY_BYTES // 1024} KB（反映内容最多 {TEXT_MAX} 字）。"
            "请精简后重新提交，材料较多的，请来信或来访提供。",
        )
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fields = _parse_form(body) if content_type == FORM_TYPE else None
    if fields is None:
        return _message(request, 400, "无法识别的提交", "请使用公示页面上的反映表提交。")
    if not csrf.anonymous_ok(request, fields.get(csrf.FIELD, "")):
        return _message(
            request,
            403,
            "页面已过期",
            "无法确认这次提交来自本公示栏的反映表（页面可能已过期，或浏览器禁用了 Cookie）。"
            "请回到公示页面，重新打开反映表后再提交。",
        )
    if not CASE_ID.match(case_id):
        return _no_notice(request)
    parts = _services(request)
    try:
        view = await state.cache.notice(parts, case_id)
    except BoardUnavailable as exc:
        log.warning("board unavailable: %s", exc)
        return _unavailable(request)
    if view is None:
        return _no_notice(request)
    today = state.today()
    form = ObjectionForm.of(fields)
    problems = form.problems(view)
    if problems:
        if is_current(view, today):
            return _notice_page(request, view, today, form=form, problems=problems, status=422)
        return _message(request, 422, "请修改后再提交", "；".join(problems))

    objection = ObjectionInput(
        actor=BOARD_ACTOR,
        objection_id=OBJECTION_PREFIX + secrets.token_hex(6),
        person_id=form.person_id,
        received_on=today,
        summary=form.summary(),
        anonymous=form.anonymous,
    )
    try:
        await execute_update(parts.client, case_id, "record_objection", objection)
    except ApiError as exc:
        if exc.status == 404:
            return _no_notice(request)
        if exc.status == 503:
            log.warning("board: objection to %s not filed: %s", case_id, exc.detail)
            return _unavailable(request)
        return _message(
            request,
            409,
            "未能受理",
            "",
            explanation=_refusal_explained(view, today),
            rule=exc.rule,
            sentence=exc.detail,
        )
    state.cache.forget(case_id)
    subject = next(p for p in view.people if p.person_id == form.person_id)
    response = render(
        request,
        "board_receipt.html",
        {"view": view, "objection": objection, "subject": subject, "text": form.text},
    )
    response.headers.update(NO_STORE)
    return response
