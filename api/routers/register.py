"""The cadre register (干部名册) through the API: the list and its search, a person's record
with every version (who changed it, when, why), the import of an ``.xlsx`` sheet, and the
rotation scans (交流排查) with the department's decision on each person listed.

The routes call the register's own functions (``store.register``, ``store.register_queries``),
as the console and the command line do; who imports or decides comes from the caller's token,
never from the body. The roles are the permission table's (``api.permissions``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from api.deps import ServicesDep, SessionDep, actor_of, permit
from api.errors import ApiError
from api.permissions import CHANGE_REGISTER, DECIDE_ROTATION, READ_REGISTER
from api.routers.cases import ERRORS
from api.schemas import Malformed, Problem
from sheets.problems import NOT_IMPORTED, SheetProblems
from store.account_models import Caller
from store.register import RegisterRefused, decide_rotation, import_xlsx
from store.register_queries import (
    ListedPerson,
    VersionRow,
    list_register,
    person_history,
    rotation_listing,
    rotation_scan,
    rotation_scans,
)
from workflows.register_types import PersonRecord, RegisterSection, RotationDecision
from workflows.rules.working_days import SHANGHAI
from workflows.types import Line, Role, Text

router = APIRouter(prefix="/register", tags=["register"])

Ident = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
READ: dict[int | str, dict[str, Any]] = {**ERRORS, 422: {"model": Malformed}}
CHANGE: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    409: {"model": Problem, "description": "refused by the register"},
    422: {"model": Problem, "description": "the file's rows, each problem named"},
}


class PersonOut(BaseModel):
    """A person as the register stands: the newest version."""

    person_id: str
    name: str
    version: int
    current_post: str  # the posts held today (Beijing), 、-joined
    changed_at: datetime


class VersionOut(BaseModel):
    version: int
    record: PersonRecord
    sections: list[RegisterSection]
    reason: str
    changed_by: str
    changed_role: Role
    changed_at: datetime


class PersonHistoryOut(BaseModel):
    person_id: str
    name: str
    versions: list[VersionOut]  # the first first


class ImportOut(BaseModel):
    kind: str
    changed: dict[str, int]  # person id -> the new version
    unchanged: list[str]


class ScanOut(BaseModel):
    scan_id: str
    as_of: date
    threshold_years: int
    scanned: int
    due: int


class ListedOut(BaseModel):
    person_id: str
    name: str
    register_version: int
    township: str
    since: date
    years: int
    decision: RotationDecision | None
    note: str
    decided_by: str
    decided_at: datetime | None


class ScanDetailOut(ScanOut):
    listed: list[ListedOut]


class DecisionIn(BaseModel):
    """The department's decision on a person a scan listed (a reason unless 交流)."""

    model_config = {"extra": "forbid"}

    decision: RotationDecision
    note: Text = Field(default="", max_length=2000)


def _today() -> date:
    return datetime.now(SHANGHAI).date()


def _person(row: VersionRow) -> PersonOut:
    return PersonOut(
        person_id=row.person_id,
        name=row.record.person.name,
        version=row.version,
        current_post=row.current_post(_today()),
        changed_at=row.changed_at,
    )


def _no_scan(scan_id: str) -> ApiError:
    return ApiError(404, f"没有交流排查 {scan_id}", code="no_scan")


def _refused(exc: RegisterRefused) -> ApiError:
    return ApiError(409, str(exc), code="register_refused")


def _listed(p: ListedPerson) -> ListedOut:
    return ListedOut.model_validate({name: getattr(p, name) for name in ListedOut.model_fields})


@router.get("", response_model=list[PersonOut], responses=READ, summary="The register, searched")
async def list_people(
    _: Annotated[Caller, Depends(permit(READ_REGISTER))],
    session: SessionDep,
    q: Annotated[
        Line | None, Query(max_length=200, description="a person id or part of a name")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[PersonOut]:
    return [_person(r) for r in await list_register(session, q or None, limit)]


@router.get(
    "/people/{person_id}",
    response_model=PersonHistoryOut,
    responses={**READ, 404: {"model": Problem}},
    summary="A person's record, every version",
)
async def person(
    _: Annotated[Caller, Depends(permit(READ_REGISTER))],
    session: SessionDep,
    person_id: Ident,
) -> PersonHistoryOut:
    history = await person_history(session, person_id)
    if not history:
        raise ApiError(404, f"干部名册中没有 {person_id}", code="no_person")
    return PersonHistoryOut(
        person_id=person_id,
        name=history[-1].record.person.name,
        versions=[
            VersionOut(
                version=v.version,
                record=v.record,
                sections=v.sections,
                reason=v.reason,
                changed_by=v.changed_by,
                changed_role=Role(v.changed_role),
                changed_at=v.changed_at,
            )
            for v in history
        ],
    )


@router.post(
    "/import/{kind}",
    response_model=ImportOut,
    responses=CHANGE,
    summary="Import an .xlsx register sheet (the request body), whole or not at all",
)
async def import_sheet(
    who: Annotated[Caller, Depends(permit(CHANGE_REGISTER))],
    parts: ServicesDep,
    request: Request,
    kind: Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[a-z-]+$")],
    reason: Annotated[Text, Query(min_length=1, max_length=2000, description="why it changes")],
) -> ImportOut:
    data = await request.body()
    if not data:
        raise ApiError(422, "请求正文应为要导入的 .xlsx 文件，现为空", code="no_file")
    try:
        outcome = await import_xlsx(parts.sessions, kind, data, actor_of(who), reason)
    except SheetProblems as exc:
        detail = NOT_IMPORTED + "；".join(exc.problems)
        raise ApiError(422, detail, code="sheet_problems") from exc
    except RegisterRefused as exc:
        raise _refused(exc) from exc
    return ImportOut(kind=kind, changed=dict(outcome.changed), unchanged=outcome.unchanged)


@router.get(
    "/rotations",
    response_model=list[ScanOut],
    responses=READ,
    summary="Rotation scans, newest first",
)
async def scans(
    _: Annotated[Caller, Depends(permit(READ_REGISTER))],
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[ScanOut]:
    return [
        ScanOut.model_validate(s, from_attributes=True)
        for s in await rotation_scans(session, limit)
    ]


@router.get(
    "/rotations/{scan_id}",
    response_model=ScanDetailOut,
    responses={**READ, 404: {"model": Problem}},
    summary="A rotation scan: the persons listed, each with the newest decision",
)
async def scan(
    _: Annotated[Caller, Depends(permit(READ_REGISTER))],
    session: SessionDep,
    scan_id: Ident,
) -> ScanDetailOut:
    found = await rotation_scan(session, scan_id)
    if found is None:
        raise _no_scan(scan_id)
    base = ScanOut.model_validate(found, from_attributes=True)
    listed = [_listed(p) for p in await rotation_listing(session, scan_id)]
    return ScanDetailOut(**base.model_dump(), listed=listed)


@router.post(
    "/rotations/{scan_id}/{person_id}",
    response_model=ScanDetailOut,
    responses={**CHANGE, 404: {"model": Problem}},
    summary="Record the department's decision on a person a scan listed",
)
async def decide(
    who: Annotated[Caller, Depends(permit(DECIDE_ROTATION))],
    parts: ServicesDep,
    scan_id: Ident,
    person_id: Ident,
    body: DecisionIn,
) -> ScanDetailOut:
    try:
        async with parts.sessions() as s, s.begin():
            if await rotation_scan(s, scan_id) is None:
                raise _no_scan(scan_id)
            await decide_rotation(s, scan_id, person_id, body.decision, body.note, actor_of(who))
    except RegisterRefused as exc:
        raise _refused(exc) from exc
    async with parts.sessions() as s:
        return await scan(who, s, scan_id)
