"""The audit trail for those who check the work, as ``appointments audit search|as-of|export|
verify`` do: searching the log, a case as of a day, a case's dossier, verifying the log, the
signed checkpoints. Nothing here changes anything (no checkpoint is signed from the API:
that is the worker's schedule and ``appointments audit checkpoint``).

Verifying uses the service's own keyring (AUDIT_KEYRING, or the public half of
AUDIT_SIGNING_KEY) and its copies of the checkpoints (AUDIT_EXPORT_DIR). An auditor who wants
to rely on nothing the service holds verifies an exported dossier offline with the published
public key (``appointments audit verify-dossier``), and the database against the copies mailed
to them (``appointments audit verify --against``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from sqlalchemy import select

from api.audit_calls import MEDIA_TYPES, DossierFormat, service_copies, service_keyring
from api.deps import ServicesDep, SessionDep, permit
from api.errors import ApiError, no_history
from api.permissions import EXPORT_AUDIT, EXPORT_AUDIT_FILES, READ_AUDIT, VERIFY_AUDIT
from api.routers.cases import ERRORS, CaseId
from api.schemas import (
    FIRST_DAY,
    LAST_DAY,
    AuditAsOf,
    AuditPage,
    AuditReport,
    AuditSearchEntry,
    CheckpointSummary,
    Limit,
    Malformed,
    Offset,
    Problem,
)
from audit import dossier as dossiers
from audit import queries as audit_queries
from audit.checkpoints import Checkpoint
from audit.dossier import bundle
from audit.last_checks import record_check_async
from audit.verify import verify_log
from store import queries
from store.account_models import Caller
from store.models import AuditCheckpoint
from workflows.types import Line

router = APIRouter(prefix="/audit", tags=["audit"])

READ_ERRORS: dict[int | str, dict[str, Any]] = {**ERRORS, 422: {"model": Malformed}}
CASE_ERRORS: dict[int | str, dict[str, Any]] = {**READ_ERRORS, 404: {"model": Problem}}


def _filter(description: str) -> Any:
    return Query(min_length=1, max_length=200, description=description)


def _no_case(case_id: str) -> ApiError:
    return no_history(case_id)


@router.get(
    "/events",
    response_model=AuditPage,
    responses=READ_ERRORS,
    summary="Search the log: events matching every filter, oldest first, a page at a time",
)
async def search(
    _: Annotated[Caller, Depends(permit(READ_AUDIT))],
    session: SessionDep,
    person: Annotated[Line | None, _filter("a person id named anywhere in the event")] = None,
    actor: Annotated[Line | None, _filter("who did it, exactly as recorded")] = None,
    unit: Annotated[Line | None, _filter("the case's unit, exactly as written")] = None,
    stage: Annotated[Line | None, _filter("the stage the event happened in")] = None,
    kind: Annotated[Line | None, _filter("opened, transition, input, deadline, ...")] = None,
    date_from: Annotated[
        date | None,
        Query(alias="from", ge=FIRST_DAY, le=LAST_DAY, description="from the start of this day"),
    ] = None,
    date_to: Annotated[
        date | None,
        Query(alias="to", ge=FIRST_DAY, le=LAST_DAY, description="to the end of this day"),
    ] = None,
    page_size: Annotated[int, Query(ge=1, le=audit_queries.MAX_PAGE_SIZE)] = 50,
    after: Annotated[
        Line | None,
        Query(max_length=100, description="the `next` of the previous page"),
    ] = None,
) -> AuditPage:
    try:
        cursor = audit_queries.Cursor.parse(after) if after else None
        if cursor is not None and not FIRST_DAY <= cursor.occurred_at.date() <= LAST_DAY:
            raise ValueError(f"{after!r} 不是翻页标记（其中的时间超出范围）")
        filters = audit_queries.Search(person, actor, unit, stage, kind, date_from, date_to)
        page = await audit_queries.search(session, filters, page_size=page_size, after=cursor)
    except ValueError as exc:  # an empty range, a cursor that is not one
        raise ApiError(422, str(exc), code="bad_search") from exc
    return AuditPage(
        events=[AuditSearchEntry.model_validate(e) for e in page.events],
        next=str(page.next) if page.next else None,
    )


@router.get(
    "/cases/{case_id}/as-of/{on}",
    response_model=AuditAsOf,
    responses=CASE_ERRORS,
    summary="A case as it stood at the end of a day (Beijing time), from its events alone",
)
async def as_of(
    _: Annotated[Caller, Depends(permit(READ_AUDIT))],
    case_id: CaseId,
    on: Annotated[date, Path(ge=FIRST_DAY, le=LAST_DAY, description="YYYY-MM-DD")],
    session: SessionDep,
) -> AuditAsOf:
    if not await queries.count_events(session, case_id):
        raise _no_case(case_id)
    return AuditAsOf.model_validate(await audit_queries.as_of(session, case_id, on))


@router.get(
    "/cases/{case_id}/dossier",
    response_class=Response,
    responses={
        **CASE_ERRORS,
        200: {
            "description": (
                "the dossier, to be saved as it is and verified offline with "
                "`appointments audit verify-dossier FILE --public-key KEY.pub.pem`"
            ),
            "content": {media: {} for media in MEDIA_TYPES.values()},
            "headers": {
                "Content-Disposition": {
                    "description": 'attachment; filename="dossier-CASE.FORMAT"',
                    "schema": {"type": "string"},
                },
                "X-Dossier-Events": {
                    "description": "how many events the dossier holds",
                    "schema": {"type": "integer"},
                },
                "X-Dossier-Covered-Through": {
                    "description": (
                        "the last event a signed checkpoint vouches for (0: none); fewer "
                        "than the events means the newest are not signed yet"
                    ),
                    "schema": {"type": "integer"},
                },
            },
        },
    },
    summary="Export a case's dossier (JSON, CSV or printable HTML), verifiable offline",
)
async def export(
    _: Annotated[Caller, Depends(permit(EXPORT_AUDIT))],
    case_id: CaseId,
    session: SessionDep,
    fmt: Annotated[DossierFormat, Query(alias="format")] = "json",
) -> Response:
    dossier = await dossiers.build_dossier(session, case_id)
    if dossier is None:
        raise _no_case(case_id)
    text = dossiers.render(dossier, fmt)
    # as `audit export` writes it: the CSV with a byte-order mark, for spreadsheet programs
    content = text.encode("utf-8-sig" if fmt == "csv" else "utf-8")
    return Response(
        content=content,
        media_type=MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="dossier-{case_id}.{fmt}"',
            "X-Dossier-Events": str(len(dossier["events"])),
            "X-Dossier-Covered-Through": str(dossiers.covered_through(dossier)),
        },
    )


@router.get(
    "/cases/{case_id}/dossier.zip",
    response_class=Response,
    responses={
        **CASE_ERRORS,
        200: {
            "description": (
                "the JSON dossier and every file it lists, named by sha256 (a zip), each file "
                "checked against its hash on the way out; verified offline like a dossier"
            ),
            "content": {bundle.MEDIA_TYPE: {}},
        },
        500: {"model": Problem, "description": "a stored file no longer gives its hash"},
    },
    summary="Export a case's dossier with its attachments' files, verifiable offline",
)
async def export_with_files(
    _: Annotated[Caller, Depends(permit(EXPORT_AUDIT_FILES))],
    case_id: CaseId,
    session: SessionDep,
) -> Response:
    try:
        data = await bundle.build_bundle(session, case_id)
    except dossiers.DossierError as exc:
        raise ApiError(500, str(exc), code="attachment_altered") from None
    if data is None:
        raise _no_case(case_id)
    return Response(
        content=data,
        media_type=bundle.MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="dossier-{case_id}.zip"'},
    )


@router.get(
    "/verify",
    response_model=AuditReport,
    responses={
        **READ_ERRORS,
        200: {"description": "the report; `ok` is false, and `faults` says where, if any"},
    },
    summary="Verify every chain of the log (or one case's), the chain of checkpoints and the "
    "newest checkpoints",
)
async def verify(
    _: Annotated[Caller, Depends(permit(VERIFY_AUDIT))],
    parts: ServicesDep,
    session: SessionDep,
    case_id: Annotated[
        Line | None,
        Query(alias="case", min_length=1, max_length=64, description="only it"),
    ] = None,
    checkpoints: Annotated[
        int, Query(ge=0, le=100_000, description="how many of the newest to check (0: all)")
    ] = 1,
) -> AuditReport:
    """As `appointments audit verify`: a fault found is a report with `ok` false (200), not
    an error; only a log that cannot be read at all is. The whole chain of checkpoints is
    checked every time, and against the service's copies of them."""
    keyring = await service_keyring(parts.settings)
    report = await verify_log(
        session,
        keyring,
        checkpoints=checkpoints or None,
        case_id=case_id,
        copies=service_copies(parts.settings),
    )
    if case_id is None:  # the whole log: its outcome for monitoring (/metrics)
        await record_check_async(parts.settings.data_dir, "verify", report.ok, len(report.faults))
    return AuditReport.model_validate(report)


@router.get(
    "/checkpoints",
    response_model=list[CheckpointSummary],
    responses=READ_ERRORS,
    summary="The signed checkpoints, newest first",
)
async def checkpoints(
    _: Annotated[Caller, Depends(permit(VERIFY_AUDIT))],
    session: SessionDep,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[CheckpointSummary]:
    query = select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(limit).offset(offset)
    signed = map(Checkpoint.of, await session.scalars(query))
    return [
        CheckpointSummary.model_validate(
            {
                **cp.to_json(with_heads=False),
                "cases": len(cp.case_heads),
                "probations": len(cp.probation_heads),
            }
        )
        for cp in signed
    ]
