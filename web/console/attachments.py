"""A case's attachments in the console (案件附件): the list with download links, and the
upload form for the roles that take the case's steps. The checks and the storage are the
API's (``api.attachment_checks``, ``store.attachments``): the same file is refused or kept
the same way through either door."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.attachment_checks import (
    ENVELOPE_BYTES,
    AttachmentRefused,
    check,
    file_response,
    missing,
    too_large,
)
from api.deps import ServicesDep
from api.permissions import ATTACH_FILE, READ_CASES
from store import attachments as store
from web.console.auth import Console, PageRefused, check_csrf, may, read_form, require
from web.console.cases import CaseId
from web.console.common import page

router = APIRouter(prefix="/cases/{case_id}/attachments")

Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]


@router.get("", response_class=HTMLResponse)
async def attachments_page(
    request: Request,
    user: Console,
    parts: ServicesDep,
    case_id: CaseId,
    added: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The case's files, each with its sha256 (what a step's input names) and a link."""
    require(user, READ_CASES)
    async with parts.sessions() as s:
        if not await store.case_exists(s, case_id):
            raise PageRefused(404, f"没有案件 {case_id}。")
        files = await store.case_attachments(s, case_id)
    return page(
        request,
        user,
        "console_attachments.html",
        case_id=case_id,
        files=files,
        may_upload=may(user, ATTACH_FILE),
        max_bytes=parts.settings.attachment_max_bytes,
        flash=f"已上传附件：{added}" if added else "",
    )


@router.post("", response_class=HTMLResponse)
async def upload(request: Request, user: Console, parts: ServicesDep, case_id: CaseId) -> Response:
    require(user, ATTACH_FILE)
    settings = parts.settings
    try:
        form = await read_form(request, settings.attachment_max_bytes + ENVELOPE_BYTES)
    except PageRefused as refused:
        if refused.status == 413:
            raise PageRefused(413, too_large(settings).message) from None
        raise
    check_csrf(user, form)
    file = form.get("file")
    if file is None or isinstance(file, str):
        raise PageRefused(422, "请选择要上传的文件。")
    async with parts.sessions() as s:
        if not await store.case_exists(s, case_id):
            raise PageRefused(404, f"没有案件 {case_id}。")
        try:
            checked = await check(settings, await file.read(), file.filename)
        except AttachmentRefused as refused:
            raise PageRefused(refused.status, refused.message) from None
        entry = await store.put(
            s,
            case_id,
            checked.content,
            media_type=checked.media_type,
            file_name=checked.file_name,
            uploaded_by=user.caller.name,
            uploaded_role=user.caller.role.value,
        )
    return RedirectResponse(
        f"/console/cases/{case_id}/attachments?added={entry.sha256}", status_code=303
    )


@router.get("/{sha256}")
async def download(user: Console, parts: ServicesDep, case_id: CaseId, sha256: Sha256) -> Response:
    require(user, READ_CASES)
    async with parts.sessions() as s:
        found = await store.get(s, case_id, sha256)
    if found is None:
        raise PageRefused(404, f"{missing(case_id, sha256)}。")
    entry, content = found
    return file_response(entry.media_type, entry.file_name, sha256, content)
