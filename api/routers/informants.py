"""The informants of a case's objections (反映人信息), for those who verify objections, each
reading recorded with its reason before anything is shown.

The public board's objections keep their texts, names and contacts in the intake, out of
Temporal, the event log and the dossier (``store.objection_models``). This is the one door
that gives them out, to the roles of ``DISCLOSE_INFORMANTS``, for a stated reason.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import Field

from api.deps import ServicesDep, permit
from api.permissions import DISCLOSE_INFORMANTS
from api.routers.cases import ERRORS, CaseId
from store.account_models import Caller
from store.objection_models import commitment_holds, disclose
from workflows.types import Model, Text

router = APIRouter(tags=["informants"])

MIN_REASON = 4  # characters: a reason, not a placeholder


class DisclosureRequest(Model):
    reason: Text = Field(min_length=MIN_REASON, max_length=1000)


class InformantRow(Model):
    receipt: str
    person_id: str
    received_on: date
    text: str
    anonymous: bool
    name: str
    contact: str
    copies: int
    commitment: str
    commitment_holds: bool  # the row is still what the case recorded


class DisclosureAnswer(Model):
    disclosure_id: int
    case_id: str
    disclosed_at: datetime
    reason: str
    informants: list[InformantRow]


@router.post(
    "/cases/{case_id}/informants",
    response_model=DisclosureAnswer,
    responses=ERRORS,
    summary="Disclose the informants of a case's objections, for a stated reason",
)
async def informants(
    case_id: CaseId,
    body: DisclosureRequest,
    who: Annotated[Caller, Depends(permit(DISCLOSE_INFORMANTS))],
    parts: ServicesDep,
) -> JSONResponse:
    async with parts.sessions() as s:
        disclosure, rows = await disclose(s, case_id, who.name, who.role.value, body.reason)
    answer = DisclosureAnswer(
        disclosure_id=disclosure.id,
        case_id=case_id,
        disclosed_at=disclosure.disclosed_at,
        reason=disclosure.reason,
        informants=[
            InformantRow(
                receipt=r.receipt,
                person_id=r.person_id,
                received_on=r.received_on,
                text=r.text,
                anonymous=r.anonymous,
                name=r.name,
                contact=r.contact,
                copies=r.copies,
                commitment=r.commitment,
                commitment_holds=commitment_holds(r),
            )
            for r in rows
        ],
    )
    # personal data: no cache keeps a copy
    return JSONResponse(answer.model_dump(mode="json"), headers={"Cache-Control": "no-store"})
