"""The auditors' pages (审计): search the log, a case's timeline in the order of its hash
chain, the case as of a day (by the days its acts happened), its dossier for download, and
verification of the log or of a dossier file. Reads only: nothing here changes anything, so
the pages are plain GETs, except the upload of a dossier to verify (a POST with the session's
CSRF token, which writes nothing).
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi import Path as InPath
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.audit_calls import MEDIA_TYPES, DossierFormat, service_copies, service_keyring
from api.deps import ServicesDep
from api.errors import ApiError
from api.permissions import EXPORT_AUDIT, EXPORT_AUDIT_FILES, READ_AUDIT, VERIFY_AUDIT
from audit import dossier as dossiers
from audit import queries as audit_queries
from audit.dossier import bundle
from audit.keyring import Keyring
from audit.last_checks import record_check_async
from audit.verify import verify_log
from store import queries
from web.console.auth import Console, PageRefused, check_csrf, may, read_form, require
from web.console.common import day, page
from web.templating import beijing_today as today
from workflows.glossary import EVENT_KINDS, zh
from workflows.types import CaseStage, CaseStatus, ChainKind, Line

router = APIRouter(prefix="/audit")

PAGE_SIZE = 100
MAX_DOSSIER_BYTES = 20 * 1024 * 1024
Filter = Annotated[Line, Query(max_length=200)]  # one line, as common.FilterText
# a case's id, or the id of an audit chain that is not a case (``workflows.ids``: a prefix
# and keys of a case id's letters, joined by ":")
ChainId = Annotated[
    str, InPath(min_length=1, max_length=160, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
]


@router.get("", response_class=HTMLResponse)
async def search(
    request: Request,
    user: Console,
    parts: ServicesDep,
    person: Filter = "",
    actor: Filter = "",
    unit: Filter = "",
    stage: Filter = "",
    kind: Filter = "",
    from_text: Annotated[str, Query(alias="from", max_length=10)] = "",
    to_text: Annotated[str, Query(alias="to", max_length=10)] = "",
    after: Annotated[Line, Query(max_length=100)] = "",
) -> Response:
    """Events matching every filter given, oldest first, a page at a time."""
    require(user, READ_AUDIT)
    date_from, date_to = day(from_text), day(to_text)
    filters = {"person": person, "actor": actor, "unit": unit, "stage": stage, "kind": kind}
    asked = any(filters.values()) or date_from or date_to
    found, next_cursor, error = [], "", ""
    chains: dict[str, ChainKind] = {}
    if asked:
        try:
            cursor = audit_queries.Cursor.parse(after) if after else None
            search = audit_queries.Search(
                person or None,
                actor or None,
                unit or None,
                stage or None,
                kind or None,
                date_from,
                date_to,
            )
            async with parts.sessions() as s:
                result = await audit_queries.search(s, search, page_size=PAGE_SIZE, after=cursor)
                chains = await queries.chain_kinds(s, {e.case_id for e in result.events})
            found = result.events
            next_cursor = str(result.next) if result.next else ""
        except ValueError as exc:
            error = str(exc)
    return page(
        request,
        user,
        "console_audit_search.html",
        filters=filters,
        date_from=date_from,
        date_to=date_to,
        asked=asked,
        events=found,
        chains=chains,
        next_cursor=next_cursor,
        error=error,
        stages=list(CaseStage),
        kinds=list(EVENT_KINDS.items()),
        today=today(),
    )


async def _timeline(parts: ServicesDep, case_id: str) -> list[audit_queries.AuditEvent]:
    async with parts.sessions() as s:
        events = await audit_queries.timeline(s, case_id)
    if not events:
        raise PageRefused(404, f"案件 {case_id} 没有任何记录。")
    return events


@router.get("/case", response_class=HTMLResponse)
async def find_case(
    user: Console,
    case_id: Annotated[Line, Query(alias="case", min_length=1, max_length=64)],
    on: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """The "by case" box: to the timeline, or to the as-of view when a day is given."""
    require(user, READ_AUDIT)
    target = quote(case_id.strip(), safe="")
    where = f"/console/audit/cases/{target}" + (f"/as-of?on={quote(on)}" if on else "")
    return RedirectResponse(where, status_code=303)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def timeline(
    request: Request, user: Console, parts: ServicesDep, case_id: ChainId
) -> Response:
    """A case's full timeline in the order of its hash chain, so that each row's previous
    hash is the hash of the row above it (the workflow's own numbering, ``seq``, may differ
    where an event was recorded late)."""
    require(user, READ_AUDIT)
    events = sorted(await _timeline(parts, case_id), key=lambda e: e.chain_index)
    async with parts.sessions() as s:
        chain = (await queries.chain_kinds(s, [case_id])).get(case_id)
    return page(
        request,
        user,
        "console_audit_case.html",
        case_id=case_id,
        chain=chain,
        events=events,
        today=today(),
        formats=list(MEDIA_TYPES),
        with_files=may(user, EXPORT_AUDIT_FILES),
    )


@router.get("/cases/{case_id}/as-of", response_class=HTMLResponse)
async def as_of(
    request: Request, user: Console, parts: ServicesDep, case_id: ChainId, on: date
) -> Response:
    """What the case looked like at the end of a day, from its recorded events alone, each
    by the day it happened (with the moment it was typed in beside)."""
    require(user, READ_AUDIT)
    async with parts.sessions() as s:
        if not await queries.count_events(s, case_id):
            raise PageRefused(404, f"案件 {case_id} 没有任何记录。")
        view = await audit_queries.as_of(s, case_id, on)
    status = view.standing.status if view.standing else ""
    return page(
        request,
        user,
        "console_audit_as_of.html",
        case_id=case_id,
        view=view,
        status=zh(CaseStatus(status)) if status in set(CaseStatus) else status,
    )


@router.get("/cases/{case_id}/dossier.zip")
async def dossier_with_files(user: Console, parts: ServicesDep, case_id: ChainId) -> Response:
    """The case's JSON dossier with its attachments' files (a zip), each file checked against
    its hash on the way out, as the API's export gives it to the roles that may have files."""
    require(user, EXPORT_AUDIT_FILES)
    async with parts.sessions() as s:
        try:
            data = await bundle.build_bundle(s, case_id)
        except dossiers.DossierError as exc:
            raise PageRefused(500, str(exc)) from None
    if data is None:
        raise PageRefused(404, f"案件 {case_id} 没有任何记录。")
    return Response(
        content=data,
        media_type=bundle.MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="dossier-{case_id}.zip"'},
    )


@router.get("/cases/{case_id}/dossier.{fmt}")
async def dossier(
    user: Console, parts: ServicesDep, case_id: ChainId, fmt: DossierFormat
) -> Response:
    """The case's dossier to save, as ``audit export`` writes it."""
    require(user, EXPORT_AUDIT)
    async with parts.sessions() as s:
        built = await dossiers.build_dossier(s, case_id)
    if built is None:
        raise PageRefused(404, f"案件 {case_id} 没有任何记录。")
    text = dossiers.render(built, fmt)
    return Response(
        content=text.encode("utf-8-sig" if fmt == "csv" else "utf-8"),
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="dossier-{case_id}.{fmt}"'},
    )


@router.get("/verify", response_class=HTMLResponse)
async def verify(
    request: Request,
    user: Console,
    parts: ServicesDep,
    case_id: Annotated[Line, Query(alias="case", max_length=64)] = "",
    run: bool = False,
) -> Response:
    """Verify every chain (or one case's), the chain of checkpoints and its copies, and the
    newest checkpoint, with the service's keyring."""
    require(user, VERIFY_AUDIT)
    report, error = None, ""
    if run:
        try:
            keyring = await service_keyring(parts.settings)
            async with parts.sessions() as s:
                report = await verify_log(
                    s,
                    keyring,
                    checkpoints=1,
                    case_id=case_id or None,
                    copies=service_copies(parts.settings),
                )
            if not case_id:  # the whole log: its outcome for monitoring (/metrics)
                await record_check_async(
                    parts.settings.data_dir, "verify", report.ok, len(report.faults)
                )
        except ApiError as exc:
            error = exc.detail
    return page(
        request,
        user,
        "console_audit_verify.html",
        case_id=case_id,
        report=report,
        dossier_report=None,
        error=error,
    )


@router.post("/verify-dossier", response_class=HTMLResponse)
async def verify_dossier(request: Request, user: Console, parts: ServicesDep) -> Response:
    """Verify an exported dossier file (JSON, CSV or HTML) against the service's key:
    what ``audit verify-dossier`` does offline, for an auditor holding only the file."""
    require(user, VERIFY_AUDIT)
    form = await read_form(request, MAX_DOSSIER_BYTES)
    check_csrf(user, form)
    upload = form.get("dossier")
    if upload is None or isinstance(upload, str):
        raise PageRefused(422, "请选择要核验的档案文件。")
    raw = await upload.read()
    name = (upload.filename or "dossier")[:200]
    report, error = None, ""
    try:
        keyring = await service_keyring(parts.settings)
        report = await asyncio.to_thread(_verify_bytes, raw, keyring, name)
    except ApiError as exc:
        error = exc.detail
    return page(
        request,
        user,
        "console_audit_verify.html",
        case_id="",
        report=None,
        dossier_report=report,
        dossier_name=name,
        error=error,
    )


def _verify_bytes(raw: bytes, keyring: Keyring, name: str) -> dossiers.DossierReport:
    """Verify the uploaded bytes exactly as ``audit verify-dossier`` verifies a file; the
    faults name the uploaded file, not the temporary one."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "dossier"
        path.write_bytes(raw)
        report = dossiers.verify_dossier_file(path, keyring)
    report.faults = [f.replace(str(path), name) for f in report.faults]
    return report
