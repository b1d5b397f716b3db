"""The register pages (干部名册): the list and its search, a person's record with every
version (who, when, why), the import of a sheet (.xlsx), and the rotation scans with the
department's decision on each person listed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import ServicesDep
from api.permissions import CHANGE_REGISTER, DECIDE_ROTATION, MAKE_ROTATION_BATCH, READ_REGISTER
from sheets.columns import REGISTER_SHEETS
from sheets.problems import SheetProblems
from store.console_models import SignedIn
from store.register import RegisterRefused, decide_rotation, import_xlsx
from store.register_queries import (
    list_register,
    person_history,
    rotation_listing,
    rotation_scan,
    rotation_scans,
)
from web.console.auth import Console, PageRefused, check_csrf, may, read_form, require
from web.console.common import FilterText, page
from web.templating import beijing_today as today
from workflows.register_types import RotationDecision
from workflows.types import Actor

router = APIRouter(prefix="/register")

PAGE_SIZE = 200
Ident = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]


def _actor(user: SignedIn) -> Actor:
    """Who changes the register: the signed-in account, never what the form says."""
    return Actor(name=user.caller.name, role=user.caller.role)


@router.get("", response_class=HTMLResponse)
async def register_list(
    request: Request,
    user: Console,
    parts: ServicesDep,
    search: Annotated[FilterText, Query(alias="q")] = None,
    done: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    require(user, READ_REGISTER)
    async with parts.sessions() as s:
        rows = await list_register(s, search or None, PAGE_SIZE)
        scans = await rotation_scans(s, 10)
    return page(
        request,
        user,
        "console_register_list.html",
        rows=rows,
        search=search or "",
        today=today(),
        sheets=REGISTER_SHEETS,
        may_import=may(user, CHANGE_REGISTER),
        scans=scans,
        flash=done,
        problems=[],
    )


@router.post("/import")
async def register_import(request: Request, user: Console, parts: ServicesDep) -> Response:
    require(user, CHANGE_REGISTER)
    form = await read_form(request)
    check_csrf(user, form)
    kind = str(form.get("kind", ""))
    reason = str(form.get("reason", "")).strip()
    upload = form.get("file")
    data = await upload.read() if upload is not None and not isinstance(upload, str) else b""
    problems: list[str] = []
    if not data:
        problems = ["请选择要导入的 .xlsx 文件"]
    else:
        try:
            outcome = await import_xlsx(parts.sessions, kind, data, _actor(user), reason)
        except SheetProblems as exc:
            problems = exc.told()
        except RegisterRefused as exc:
            problems = [str(exc)]
        else:
            flash = (
                f"已导入：{len(outcome.changed)} 人有变更，{len(outcome.unchanged)} 人与名册相同"
            )
            return RedirectResponse(f"/console/register?done={flash}", status_code=303)
    async with parts.sessions() as s:
        rows = await list_register(s, None, PAGE_SIZE)
        scans = await rotation_scans(s, 10)
    return page(
        request,
        user,
        "console_register_list.html",
        status_code=422,
        rows=rows,
        search="",
        today=today(),
        sheets=REGISTER_SHEETS,
        may_import=True,
        scans=scans,
        flash="",
        problems=problems,
    )


@router.get("/people/{person_id}", response_class=HTMLResponse)
async def register_person(
    request: Request, user: Console, parts: ServicesDep, person_id: Ident
) -> Response:
    require(user, READ_REGISTER)
    async with parts.sessions() as s:
        history = await person_history(s, person_id)
    if not history:
        raise PageRefused(404, f"干部名册中没有 {person_id}。")
    return page(
        request,
        user,
        "console_register_person.html",
        newest=history[-1],
        history=list(reversed(history)),
        today=today(),
    )


@router.get("/rotations/{scan_id}", response_class=HTMLResponse)
async def rotation_page(
    request: Request,
    user: Console,
    parts: ServicesDep,
    scan_id: Ident,
    done: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    require(user, READ_REGISTER)
    async with parts.sessions() as s:
        scan = await rotation_scan(s, scan_id)
        listed = await rotation_listing(s, scan_id)
    if scan is None:
        raise PageRefused(404, f"没有交流排查 {scan_id}。")
    return page(
        request,
        user,
        "console_register_rotation.html",
        scan=scan,
        listed=listed,
        decisions=list(RotationDecision),
        may_decide=may(user, DECIDE_ROTATION),
        may_batch=may(user, MAKE_ROTATION_BATCH),
        rotate=RotationDecision.ROTATE,
        flash=done,
    )


@router.post("/rotations/{scan_id}/{person_id}")
async def rotation_decide(
    request: Request, user: Console, parts: ServicesDep, scan_id: Ident, person_id: Ident
) -> Response:
    require(user, DECIDE_ROTATION)
    form = await read_form(request)
    check_csrf(user, form)
    try:
        decision = RotationDecision(str(form.get("decision", "")))
    except ValueError as exc:
        raise PageRefused(422, "请选择交流决定。") from exc
    note = str(form.get("note", "")).strip()
    try:
        async with parts.sessions() as s, s.begin():
            await decide_rotation(s, scan_id, person_id, decision, note, _actor(user))
    except RegisterRefused as exc:
        raise PageRefused(422, str(exc)) from exc
    return RedirectResponse(
        f"/console/register/rotations/{scan_id}?done=已记录 {person_id} 的决定", status_code=303
    )
