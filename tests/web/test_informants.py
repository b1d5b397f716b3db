"""An informant's identity, from the public board to the one door that gives it out: not in
the default dossier, given only to those who verify objections (and the head), only for a
stated reason, and every such reading recorded before anything is shown."""

from __future__ import annotations

import json

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.objection_models import disclosures_of
from tests.api.conftest import make_account
from tests.web.test_board import CONTACT, OBJECTION_TEXT, Board, Timeline, board, case_on
from workflows.types import Role

__all__ = ["board"]  # the fixture, for this module's tests

INFORMANT = "刘群众"


async def test_an_informant_is_disclosed_only_for_a_reason_and_the_reading_is_recorded(
    board: Board,
    new_case_id: str,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    now = Timeline.current()
    await board.on_notice(case_on(now, new_case_id), now)
    token = await board.token(new_case_id)
    filed = await board.object(
        new_case_id,
        csrf=token,
        person_id="p1",
        text=OBJECTION_TEXT,
        anonymous="0",
        name=INFORMANT,
        contact=CONTACT,
    )
    assert filed.status_code == 200, filed.text
    clerk = await make_account(session_factory, Role.CLERK)
    auditor = await make_account(session_factory, Role.AUDITOR)
    url = f"/cases/{new_case_id}/informants"

    # the default dossier, as an auditor exports it, holds none of it
    dossier = await board.http.get(
        f"/audit/cases/{new_case_id}/dossier?format=json", headers=auditor.headers
    )
    assert dossier.status_code == 200, dossier.text
    for private in (INFORMANT, CONTACT, OBJECTION_TEXT):
        assert private not in dossier.text

    # no reason, a placeholder, the wrong role: refused, and nothing recorded
    assert (await board.http.post(url, json={}, headers=clerk.headers)).status_code == 422
    short = await board.http.post(url, json={"reason": "看看"}, headers=clerk.headers)
    assert short.status_code == 422
    denied = await board.http.post(url, json={"reason": "核查需要"}, headers=auditor.headers)
    assert denied.status_code == 403
    async with session_factory() as s:
        assert await disclosures_of(s, new_case_id) == []

    reason = "核实反映问题，需与反映人联系"
    given = await board.http.post(url, json={"reason": reason}, headers=clerk.headers)
    assert given.status_code == 200, given.text
    assert given.headers["cache-control"] == "no-store"
    answer = given.json()
    [row] = answer["informants"]
    assert (row["name"], row["contact"], row["text"]) == (INFORMANT, CONTACT, OBJECTION_TEXT)
    assert row["commitment_holds"] is True and answer["reason"] == reason
    async with session_factory() as s:
        [recorded] = await disclosures_of(s, new_case_id)
    assert (recorded.account, recorded.role, recorded.reason) == (clerk.name, "clerk", reason)
    assert recorded.receipts == [row["receipt"]] and recorded.id == answer["disclosure_id"]
    assert INFORMANT not in json.dumps([e.payload for e in await board.runner.events(new_case_id)])
