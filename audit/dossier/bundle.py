"""A dossier with its files (案卷及附件包): a zip of the JSON dossier and the bytes of every file
the case was given, each named by its sha256, for an authorised export.

    dossier.json                  the JSON dossier, as ``render_json`` writes it
    attachments/<sha256>          each file of the dossier's ``attachments`` list

On the way out every file's bytes are hashed again and must give the name they are stored
under (``pack`` refuses otherwise: the store was altered behind the service's back). On the
way in (``file_faults``, for ``verify``) the same check, and the files against what the
dossier proves: every file a step's event names in its chained payload (an ``attachments``
list of hashes) must be in the package, and the package holds nothing else than the files
the dossier lists. The events themselves, their chain and checkpoint are ``verify``'s.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from audit.dossier.build import build_dossier
from audit.dossier.json_format import render_json
from audit.dossier.spec import DossierError
from store.attachments import get as get_attachment

DOSSIER_NAME = "dossier.json"
FILES_DIR = "attachments/"
MEDIA_TYPE = "application/zip"
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# the entries carry no moment of their own (the dossier's ``exported_at`` says when)
ENTRY_TIME = (1980, 1, 1, 0, 0, 0)


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _named_in(payload: Any) -> Iterator[str]:
    """The hashes an event's payload names in any ``attachments`` list, at any depth (a step's
    input is recorded whole, an item's files inside the item)."""
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key == "attachments" and isinstance(value, list):
                yield from (v for v in value if isinstance(v, str) and SHA256_HEX.fullmatch(v))
            else:
                yield from _named_in(value)
    elif isinstance(payload, list):
        for value in payload:
            yield from _named_in(value)


def named_by_events(dossier: Mapping[str, Any]) -> dict[str, int]:
    """Each file the dossier's events name, by its hash: the chain index of the first event
    that names it."""
    found: dict[str, int] = {}
    for event in dossier.get("events") or []:
        if isinstance(event, dict):
            for digest in _named_in(event.get("payload")):
                found.setdefault(digest, int(event.get("chain_index", 0)))
    return found


def listed(dossier: Mapping[str, Any]) -> list[dict[str, Any]]:
    entries = dossier.get("attachments") or []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise DossierError("案卷的附件清单格式不对")
    return entries


def pack(dossier: Mapping[str, Any], files: Mapping[str, bytes]) -> bytes:
    """The package of ``dossier`` and ``files`` (by hash); DossierError if a file's bytes do
    not give its hash, or a file the dossier lists or its events name is missing."""
    wanted = {str(e.get("sha256")) for e in listed(dossier)} | set(named_by_events(dossier))
    missing = sorted(wanted - set(files))
    if missing:
        raise DossierError(f"附件不在存储中，不能导出：{'、'.join(missing)}")
    for digest, content in files.items():
        if _sha256(content) != digest:
            raise DossierError(
                f"附件 {digest} 存储的内容与其 SHA-256 不符（存储被改动过），不能导出"
            )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr(zipfile.ZipInfo(DOSSIER_NAME, ENTRY_TIME), render_json(dict(dossier)))
        for digest in sorted(wanted):
            package.writestr(zipfile.ZipInfo(FILES_DIR + digest, ENTRY_TIME), files[digest])
    return out.getvalue()


async def build_bundle(session: AsyncSession, case_id: str) -> bytes | None:
    """The package of a case's dossier and files from the database; None if no such case."""
    dossier = await build_dossier(session, case_id)
    if dossier is None:
        return None
    files: dict[str, bytes] = {}
    wanted = {str(e["sha256"]) for e in listed(dossier)} | set(named_by_events(dossier))
    for digest in sorted(wanted):
        found = await get_attachment(session, case_id, digest)
        if found is not None:
            files[digest] = found[1]
    return pack(dossier, files)


def unpack(data: bytes) -> tuple[str, dict[str, bytes], list[str]]:
    """The dossier's text, the files by the hash they are named by, and what else the package
    holds; DossierError if it is no package of a dossier."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            names = package.namelist()
            if DOSSIER_NAME not in names:
                raise DossierError(f"包中没有 {DOSSIER_NAME}")
            text = package.read(DOSSIER_NAME).decode("utf-8")
            files = {
                n[len(FILES_DIR) :]: package.read(n)
                for n in names
                if n.startswith(FILES_DIR) and n != FILES_DIR
            }
    except (zipfile.BadZipFile, UnicodeDecodeError, OSError) as exc:
        raise DossierError(f"不是完好的 zip 包：{exc}") from exc
    others = [n for n in names if n != DOSSIER_NAME and not n.startswith(FILES_DIR)]
    return text, files, others


def file_faults(dossier: Mapping[str, Any], files: Mapping[str, bytes]) -> list[str]:
    """What is wrong with the package's files: bytes that do not give their name, a file an
    event names or the dossier lists that is not there, one that nobody lists, a size that
    is not the listed one."""
    faults = []
    for name, content in sorted(files.items()):
        actual = _sha256(content)
        if actual != name:
            faults.append(
                f"附件 {name}：内容的 SHA-256 是 {actual}，与其名称不符：文件在导出后被改动过"
            )
    for digest, index in sorted(named_by_events(dossier).items(), key=lambda kv: kv[1]):
        if digest not in files:
            faults.append(f"第 {index} 条记录所依据的附件 {digest} 不在包中")
    try:
        entries = {str(e.get("sha256")): e for e in listed(dossier)}
    except DossierError as exc:
        return [*faults, str(exc)]
    for digest, entry in entries.items():
        if digest not in files:
            faults.append(f"案卷所列的附件 {digest}（{entry.get('file_name', '')}）不在包中")
        elif entry.get("size") != len(files[digest]):
            faults.append(
                f"附件 {digest}：大小为 {len(files[digest])} 字节，案卷所列为 {entry.get('size')}"
            )
    for digest in sorted(set(files) - set(entries) - set(named_by_events(dossier))):
        faults.append(f"包中的文件 {FILES_DIR}{digest} 不是案卷所列的附件")
    return faults
