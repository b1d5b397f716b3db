"""How an objection from the board reaches its case: written into the intake first
(``store.objection_models``), then sent to the case in its compact form.

The case gets the receipt number, the person, the day and the objection's commitment
(``store.objection_models.commitment_of``), never the text, the name or the contact: those
stay in the intake, where the console shows them to the staff who verify objections. A
copy of an objection already taken in is counted, not sent again.
An objection the case could not be reached for stays in the intake, undelivered, and is sent
before the next objection to the same case.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from api.deps import Services
from api.errors import ApiError
from api.temporal import execute_update
from store.objection_models import Intake, mark_delivered, mark_refused, take_in, undelivered
from web.board.form import BOARD_ACTOR, ObjectionForm
from workflows.rules.notice import RULE_OBJECTION_RECORDED
from workflows.types import ObjectionInput, PublicNoticeView

log = logging.getLogger(__name__)

# undelivered objections of a case sent again before a new one (each is one update)
REDELIVER_AT_ONCE = 20
# The case's refusal of an objection it holds, by its rule's code; a worker from before the
# codes said it in English.
ALREADY_RECORDED = "is already recorded"


def _already_recorded(exc: ApiError) -> bool:
    return exc.code == RULE_OBJECTION_RECORDED or ALREADY_RECORDED in exc.detail


@dataclass(frozen=True)
class Filed:
    intake: Intake
    delivered: bool  # the case has it (False: kept in the intake, to be sent again)
    refusal: ApiError | None = None  # the case refused it


def compact(intake: Intake) -> ObjectionInput:
    """The objection as the case records it."""
    return ObjectionInput(
        actor=BOARD_ACTOR,
        objection_id=intake.receipt,
        person_id=intake.person_id,
        received_on=intake.received_on,
        summary=(
            f"经公示栏提交，原文 {len(intake.text)} 字及反映人信息存于反映受理登记"
            f"（受理编号 {intake.receipt}，承诺值 {intake.commitment}）"
        ),
        anonymous=intake.anonymous,
    )


async def _deliver(parts: Services, intake: Intake) -> Filed:
    try:
        await execute_update(parts.client, intake.case_id, "record_objection", compact(intake))
    except ApiError as exc:
        if exc.status == 409 and _already_recorded(exc):
            pass  # sent before, its answer lost
        elif exc.status == 409:
            async with parts.sessions() as s:
                await mark_refused(s, intake.receipt, exc.detail)
            return Filed(intake, False, exc)
        elif exc.status in (404, 503):
            log.warning("board: objection %s kept undelivered: %s", intake.receipt, exc.detail)
            return Filed(intake, False, exc)
        else:
            raise
    async with parts.sessions() as s:
        await mark_delivered(s, intake.receipt)
    return Filed(intake, True)


async def file_objection(
    parts: Services, view: PublicNoticeView, form: ObjectionForm, today: date
) -> Filed:
    """Take the objection in, then send it (and any the case has not got yet) to the case."""
    async with parts.sessions() as s:
        intake = await take_in(
            s,
            case_id=view.case_id,
            notice_published_on=view.published_on,
            person_id=form.person_id,
            text=form.text,
            anonymous=form.anonymous,
            name=form.name,
            contact=form.contact,
            received_on=today,
        )
        waiting = await undelivered(s, view.case_id, REDELIVER_AT_ONCE)
    for earlier in waiting:
        if earlier.receipt == intake.receipt:
            continue
        result = await _deliver(parts, earlier)
        if result.refusal is not None and result.refusal.status == 503:
            break  # the case cannot be reached now; the rest wait for the next time
    if intake.delivered:
        return Filed(intake, True)
    if intake.refusal is not None:
        return Filed(intake, False, ApiError(409, intake.refusal))
    return await _deliver(parts, intake)
