"""The rotation batch pages (交流批次): the list of batches, making a batch from a scan's
people decided 交流 (the scan's page holds the form), and a batch's page with each move's
state and the forms of its steps (交流文件印发, 到岗报到, 撤销交流), all through
``gateway.rotation_batch``."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.deps import ServicesDep
from api.permissions import (
    CANCEL_ROTATION_MOVE,
    MAKE_ROTATION_BATCH,
    READ_REGISTER,
    RECORD_ROTATION_ARRIVAL,
    RECORD_ROTATION_DOCUMENT,
)
from api.schemas import IdPath
from gateway import rotation_batch
from gateway.errors import GatewayError
from store.console_models import SignedIn
from store.rotation_batch_queries import batches
from web.console.auth import Console, PageRefused, check_csrf, may, read_form, require
from web.console.common import page
from web.console.refusal import page_refused
from web.forms import problems_of
from web.templating import beijing_today
from workflows.cadre_enums import MoveStatus
from workflows.glossary import CADRE_STEPS
from workflows.rotation_batch_types import (
    ArrivalInput,
    CancelMoveInput,
    DocumentInput,
)
from workflows.types import Actor

router = APIRouter(prefix="/register/rotation-batches")

Key = IdPath
Slug = Annotated[str, Path(pattern=r"^(document|arrival|cancel)$")]
# slug -> (the action, its input, its title)
STEPS: dict[str, tuple[str, type[Any], str]] = {
    "document": (RECORD_ROTATION_DOCUMENT, DocumentInput, CADRE_STEPS["record_rotation_document"]),
    "arrival": (RECORD_ROTATION_ARRIVAL, ArrivalInput, CADRE_STEPS["record_rotation_arrival"]),
    "cancel": (CANCEL_ROTATION_MOVE, CancelMoveInput, CADRE_STEPS["cancel_rotation_move"]),
}
# which step each status awaits
AWAITS = {MoveStatus.AWAITING_DOCUMENT: "document", MoveStatus.AWAITING_ARRIVAL: "arrival"}


def _actor(user: SignedIn) -> Actor:
    """Who acts: the signed-in account, never what the form says."""
    return Actor(name=user.caller.name, role=user.caller.role)


@router.get("", response_class=HTMLResponse)
async def batch_list(request: Request, user: Console, parts: ServicesDep) -> Response:
    require(user, READ_REGISTER)
    async with parts.sessions() as s:
        rows = await batches(s)
    return page(request, user, "console_rotation_batches.html", rows=rows)


@router.post("")
async def make_batch(request: Request, user: Console, parts: ServicesDep) -> Response:
    """A batch from the scan's page: the people ticked, each with the destination typed."""
    require(user, MAKE_ROTATION_BATCH)
    form = await read_form(request)
    check_csrf(user, form)
    scan_id = str(form.get("scan_id", "")).strip()
    batch_id = str(form.get("batch_id", "")).strip()
    title = str(form.get("title", "")).strip()
    picked = [str(p) for p in form.getlist("person_id")]
    if not picked:
        raise PageRefused(422, "请勾选要列入交流批次的人员。")
    moves = [
        rotation_batch.Destination(
            person_id=pid,
            to_unit=str(form.get(f"to_unit:{pid}", "")).strip(),
            to_township=str(form.get(f"to_township:{pid}", "")).strip() or None,
            to_post=str(form.get(f"to_post:{pid}", "")).strip(),
        )
        for pid in picked
    ]
    if not batch_id or not title:
        raise PageRefused(422, "请填写交流批次编号和名称。")
    try:
        await rotation_batch.make_batch(
            parts.client,
            parts.settings.task_queue,
            parts.sessions,
            parts.settings.policy_file,
            batch_id=batch_id,
            title=title,
            scan_id=scan_id,
            made_on=beijing_today(),
            moves=moves,
            opened_by=_actor(user),
        )
    except ValidationError as exc:
        raise PageRefused(422, "；".join(problems_of(exc))) from exc
    except GatewayError as exc:
        raise page_refused(exc) from exc
    done = quote(f"交流批次已编组：{len(moves)} 人")
    return RedirectResponse(
        f"/console/register/rotation-batches/{batch_id}?done={done}", status_code=303
    )


@router.get("/{batch_id}", response_class=HTMLResponse)
async def batch_page(
    request: Request,
    user: Console,
    parts: ServicesDep,
    batch_id: Key,
    done: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    require(user, READ_REGISTER)
    try:
        state = await rotation_batch.batch_state(parts.client, batch_id)
    except GatewayError as exc:
        raise page_refused(exc) from exc
    return page(
        request,
        user,
        "console_rotation_batch.html",
        state=state,
        steps={slug for slug, (action, _, _) in STEPS.items() if may(user, action)},
        titles={slug: title for slug, (_, _, title) in STEPS.items()},
        awaits=AWAITS,
        today=beijing_today(),
        flash=done,
    )


def _fields(slug: str, form: Any) -> dict[str, Any]:
    if slug == "document":
        return {"issued_on": form.get("issued_on"), "reference": form.get("reference", "")}
    if slug == "arrival":
        return {"arrived_on": form.get("arrived_on"), "note": form.get("note", "")}
    return {"reason": form.get("reason", "")}


@router.post("/{batch_id}/{person_id}/{slug}")
async def record_step(
    request: Request,
    user: Console,
    parts: ServicesDep,
    batch_id: Key,
    person_id: Key,
    slug: Slug,
) -> Response:
    action, model, title = STEPS[slug]
    require(user, action)
    form = await read_form(request)
    check_csrf(user, form)
    raw = {k: (str(v).strip() if v is not None else v) for k, v in _fields(slug, form).items()}
    try:
        data = model.model_validate({**raw, "person_id": person_id, "actor": _actor(user)})
    except ValidationError as exc:
        raise PageRefused(422, "；".join(problems_of(exc))) from exc
    try:
        if isinstance(data, DocumentInput):
            await rotation_batch.record_document(parts.client, batch_id, data)
        elif isinstance(data, ArrivalInput):
            await rotation_batch.record_arrival(parts.client, batch_id, data)
        else:
            await rotation_batch.cancel_move(parts.client, batch_id, data)
    except GatewayError as exc:
        raise page_refused(exc) from exc
    done = quote(f"已记录：{title}")
    return RedirectResponse(
        f"/console/register/rotation-batches/{batch_id}?done={done}", status_code=303
    )
