"""What an uploaded attachment must pass before it is stored: its size (the setting
``ATTACHMENT_MAX_BYTES``), its type read from its own first bytes (never the type or the
name the client claims), and the scan hook (``ATTACHMENT_SCAN_COMMAND``), a command given
the bytes on its standard input whose non-zero exit refuses the file. Every door that takes
a file (the API, the console) calls ``check``; each refusal is a sentence a clerk reads.
"""

from __future__ import annotations

import asyncio
import shlex
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.errors import ApiError
from settings import Settings
from store.attachments import not_on_case

# The types a step's documents come in, each known by its first bytes.
MEDIA_TYPES: dict[str, tuple[bytes, str]] = {
    "application/pdf": (b"%PDF-", "PDF"),
    "image/jpeg": (b"\xff\xd8\xff", "JPEG"),
    "image/png": (b"\x89PNG\r\n\x1a\n", "PNG"),
}
# a technical bound: a scanner that has not answered by then is taken as refusing
SCAN_TIMEOUT_SECONDS = 120
MAX_FILE_NAME = 200


class AttachmentRefused(ValueError):
    """A file refused before anything was stored; ``status`` is the HTTP answer's."""

    def __init__(self, message: str, status: int = 422, code: str = "attachment_refused"):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Checked:
    content: bytes
    media_type: str
    file_name: str


def media_type_of(content: bytes) -> str | None:
    for media_type, (magic, _) in MEDIA_TYPES.items():
        if content.startswith(magic):
            return media_type
    return None


def allowed_names() -> str:
    return "、".join(name for _, name in MEDIA_TYPES.values())


def file_name_of(name: str | None) -> str:
    """The name to keep: its last path part, without control characters, bounded."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    return cleaned[:MAX_FILE_NAME] or "附件"


def too_large(settings: Settings) -> AttachmentRefused:
    return AttachmentRefused(
        f"附件超过 {settings.attachment_max_bytes:,} 字节的上限，未保存",
        413,
        "attachment_too_large",
    )


async def check(settings: Settings, content: bytes, file_name: str | None) -> Checked:
    if not content:
        raise AttachmentRefused("附件是空文件，未保存", code="attachment_empty")
    if len(content) > settings.attachment_max_bytes:
        raise too_large(settings)
    media_type = media_type_of(content)
    if media_type is None:
        raise AttachmentRefused(
            f"附件的内容不是允许的类型（只收 {allowed_names()}，"
            "按文件内容判断，不看扩展名），未保存",
            415,
            "attachment_type_not_allowed",
        )
    await scan(settings, content)
    return Checked(content, media_type, file_name_of(file_name))


async def scan(settings: Settings, content: bytes) -> None:
    """Run the scan hook on the bytes; refuse on a non-zero exit, a timeout or no command."""
    if not settings.attachment_scan_command:
        return
    refused = AttachmentRefused(
        "附件未通过安全扫描（ATTACHMENT_SCAN_COMMAND），未保存", code="attachment_scan_refused"
    )
    try:
        process = await asyncio.create_subprocess_exec(
            *shlex.split(settings.attachment_scan_command),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
    except OSError:
        raise AttachmentRefused(
            "安全扫描程序（ATTACHMENT_SCAN_COMMAND）无法启动，附件未保存",
            503,
            "attachment_scan_unavailable",
        ) from None
    try:
        await asyncio.wait_for(process.communicate(content), SCAN_TIMEOUT_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise refused from None
    if process.returncode != 0:
        raise refused


async def missing_attachments(
    sessions: async_sessionmaker[AsyncSession], case_id: str, arg: BaseModel
) -> str:
    """The refusal of a step whose input names files the case was not given, or ""."""
    named: list[str] = list(getattr(arg, "attachments", None) or [])
    if not named:
        return ""
    async with sessions() as session:
        missing = await not_on_case(session, case_id, named)
    if not missing:
        return ""
    return (
        f"案件 {case_id} 没有这些附件：{'、'.join(missing)}；请先在案件中上传附件，"
        "再以其 SHA-256 摘要填写"
    )


async def check_named_attachments(
    sessions: async_sessionmaker[AsyncSession], case_id: str, arg: BaseModel
) -> None:
    """Refuse (409, nothing sent) a step whose input names files the case was not given."""
    refusal = await missing_attachments(sessions, case_id, arg)
    if refusal:
        raise ApiError(409, refusal, code="attachment_not_on_case")


# room for the multipart envelope around the file (boundaries, part headers, the file name)
ENVELOPE_BYTES = 64 * 1024


def content_disposition(file_name: str, sha256: str, media_type: str) -> str:
    """``attachment`` with an ASCII stand-in name and the real one (RFC 6266, UTF-8)."""
    extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
    fallback = f"attachment-{sha256[:12]}.{extension.get(media_type, 'bin')}"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


def missing(case_id: str, sha256: str) -> str:
    """The refusal of a file the case was not given, for every door."""
    return f"案件 {case_id} 没有摘要为 {sha256} 的附件"


def file_response(media_type: str, file_name: str, sha256: str, content: bytes) -> Response:
    """The stored file as every door hands it out: a download, never shown in the page."""
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": content_disposition(file_name, sha256, media_type),
            "X-Content-Type-Options": "nosniff",
        },
    )
