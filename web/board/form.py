"""The objection form, the one form anybody may post: its fields and their cleaning, its
limits (body size, field count, field lengths; posts per address are ``api.throttles``),
its validation (what it becomes in the case: ``web.board.intake``)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from urllib.parse import parse_qs

from fastapi import Request

from workflows.types import Actor, PublicNoticeView, Role

MAX_BODY_BYTES = 32 * 1024  # 2,000 Chinese characters url-encoded are about 18 KiB
MAX_FORM_FIELDS = 12
TEXT_MAX = 2_000  # characters of the objection itself
NAME_MAX = 50
CONTACT_MAX = 100

# The board files objections on the public's behalf; the event names it as the actor.
BOARD_ACTOR = Actor(name="公示栏", role=Role.SYSTEM)
FORM_TYPE = "application/x-www-form-urlencoded"


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


def _clean(value: str, multiline: bool = False) -> str:
    """Trimmed, line ends as \\n, without control characters (a textarea's line breaks and
    tabs stay)."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    kept = "\n\t" if multiline else ""
    return "".join(
        ch for ch in value if ch in kept or unicodedata.category(ch) not in ("Cc", "Cf")
    ).strip()


class BodyTooLarge(Exception):
    """The posted body is (or declares itself) larger than ``MAX_BODY_BYTES``."""


async def read_form(request: Request) -> dict[str, str] | None:
    """The posted form's fields (the first value of each); None when the body is not a
    well-formed url-encoded form. Raises ``BodyTooLarge`` before anything is parsed."""
    body = await _read_capped(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return _parse_form(body) if content_type == FORM_TYPE else None


async def _read_capped(request: Request) -> bytes:
    """The body, refused before parsing when larger than ``MAX_BODY_BYTES``: the declared
    length is checked first, and no more than the limit is ever read."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BodyTooLarge
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
