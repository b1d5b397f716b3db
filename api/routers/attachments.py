"""A case's attachments (附件): upload a file a step relies on, list them, download one.

``POST /cases/{case_id}/attachments`` takes one file (multipart, field ``file``) from a role
that takes any of a case's steps, checks it (``api.attachment_checks``: size, type by its
own bytes, the scan hook) and stores it by its sha256 (``store.attachments``); the same file
again answers with the entry it already has (200 instead of 201). A step's input then names
the file by its sha256 (``attachments``), and that step's event in the case's hash-chained log
carries the name. Reading the list and downloading a file are for the roles that read cases.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from api.attachment_checks import (
    ENVELOPE_BYTES,
    AttachmentRefused,
    check,
    file_response,
    missing,
    too_large,
)
from api.deps import ServicesDep, SessionDep, permit
from api.errors import ApiError, no_case
from api.permissions import ATTACH_FILE, READ_CASES
from api.routers.cases import ERRORS, CaseId
from api.schemas import Problem
from store import attachments as store
from store.account_models import Caller

router = APIRouter(prefix="/cases/{case_id}/attachments", tags=["attachments"])

Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]


class AttachmentOut(BaseModel):
    number: int
    sha256: str
    file_name: str
    media_type: str
    size: int
    uploaded_by: str
    uploaded_role: str
    uploaded_at: str


def _out(entry: store.Listed) -> AttachmentOut:
    return AttachmentOut.model_validate(entry.to_json())


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise AttachmentRefused("", 413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise AttachmentRefused("", 413)
    return bytes(body)


async def uploaded_file(request: Request, max_bytes: int) -> tuple[bytes, str | None, str | None]:
    """The bytes and the claimed name of the one file of a multipart request (field
    ``file``), read with the attachment limit, and the sha256 the sender computed (field
    ``sha256``, optional, 64 hex digits); ApiError when there is no file or the hash is not
    one."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError(
            415, "请以 multipart/form-data 上传附件（字段名 file）", code="not_multipart"
        )
    body = await _read_limited(request, max_bytes + ENVELOPE_BYTES)

    async def stream() -> Any:
        yield body

    try:
        form = await MultiPartParser(request.headers, stream(), max_files=1, max_fields=5).parse()
    except MultiPartException:
        raise ApiError(
            422, "上传内容无法读取：不是完整的 multipart 表单", code="bad_multipart"
        ) from None
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise ApiError(422, "上传内容中没有文件（字段名须为 file）", code="no_file")
    content = await file.read()
    expected = form.get("sha256")
    await form.close()
    if expected is not None and not (
        isinstance(expected, str) and store.SHA256_HEX.fullmatch(expected.strip().lower())
    ):
        raise ApiError(422, "字段 sha256 须为 64 位十六进制的 SHA-256 值", code="bad_sha256")
    return content, file.filename, expected.strip().lower() if expected is not None else None


@router.post(
    "",
    status_code=201,
    response_model=AttachmentOut,
    responses={
        **ERRORS,
        200: {"model": AttachmentOut, "description": "the case already had this file"},
        404: {"model": Problem},
        413: {"model": Problem},
        415: {"model": Problem},
        422: {"model": Problem},
    },
    summary="Attach a file (PDF, JPEG, PNG) to a case, stored by its sha256",
)
async def upload(
    who: Annotated[Caller, Depends(permit(ATTACH_FILE))],
    case_id: CaseId,
    request: Request,
    parts: ServicesDep,
    session: SessionDep,
) -> Response:
    settings = parts.settings
    if not await store.case_exists(session, case_id):
        raise no_case(case_id)
    try:
        content, name, expected = await uploaded_file(request, settings.attachment_max_bytes)
        checked = await check(settings, content, name)
    except AttachmentRefused as refused:
        if refused.status == 413:
            refused = too_large(settings)
        raise ApiError(refused.status, refused.message, code=refused.code) from None
    try:
        entry = await store.put(
            session,
            case_id,
            checked.content,
            media_type=checked.media_type,
            file_name=checked.file_name,
            uploaded_by=who.name,
            uploaded_role=who.role.value,
            expected_sha256=expected,
        )
    except store.HashMismatch as mismatch:
        raise ApiError(422, str(mismatch), code="hash_mismatch") from None
    return JSONResponse(_out(entry).model_dump(), status_code=201 if entry.new else 200)


@router.get(
    "",
    response_model=list[AttachmentOut],
    responses={**ERRORS, 404: {"model": Problem}},
    summary="The case's attachments, in the order they were given",
)
async def list_attachments(
    who: Annotated[Caller, Depends(permit(READ_CASES))],
    case_id: CaseId,
    session: SessionDep,
) -> list[AttachmentOut]:
    if not await store.case_exists(session, case_id):
        raise no_case(case_id)
    return [_out(e) for e in await store.case_attachments(session, case_id)]


@router.get(
    "/{sha256}",
    response_class=Response,
    responses={
        **ERRORS,
        200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}}},
        404: {"model": Problem},
    },
    summary="Download one of the case's attachments by its sha256",
)
async def download(
    who: Annotated[Caller, Depends(permit(READ_CASES))],
    case_id: CaseId,
    sha256: Sha256,
    session: SessionDep,
) -> Response:
    found = await store.get(session, case_id, sha256)
    if found is None:
        raise ApiError(404, missing(case_id, sha256), code="no_such_attachment")
    entry, content = found
    return file_response(entry.media_type, entry.file_name, sha256, content)


__all__ = ["router", "uploaded_file"]
