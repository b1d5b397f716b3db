"""Extension requests (延期申请) on the real PostgreSQL: a request is never deleted, its
decision is written once with who and when, what it asked never changes, one request per
case waits at a time, and the approvers' list is served from the listing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.extension_requests import (
    LAPSED_REASON,
    ExtensionRequest,
    RequestRow,
    add_request,
    decide,
    get_request,
    lapse_all_but,
    pending_of_case,
    pending_requests,
    requests_of_case,
)
from store.models import Case
from workflows.types import Actor, CaseStatus, ExtensionDecision, Role

CLERK = Actor(name="王科员", role=Role.CLERK)
CHIEF = Actor(name="科长 钱", role=Role.SECTION_CHIEF)
STARTED = date(2026, 9, 7)
DEADLINE = datetime(2026, 9, 11, 16, 0, tzinfo=UTC)


async def a_case(sessions: async_sessionmaker[AsyncSession], case_id: str, step: str) -> None:
    async with sessions() as s:
        s.add(
            Case(
                case_id=case_id,
                unit="县环保局",
                post="副局长",
                method="regular_appointment",
                stage="investigation_notice",
                status=CaseStatus.ACTIVE.value,
                opened_on=STARTED,
                awaited_step=step,
                awaited_role=Role.CLERK.value,
                last_seq=1,
            )
        )
        await s.commit()


async def filed(
    sessions: async_sessionmaker[AsyncSession], case_id: str, step: str = "investigation_notice"
) -> RequestRow:
    async with sessions() as s:
        row = await add_request(
            s,
            case_id=case_id,
            step=step,
            step_started_on=STARTED,
            deadline_before=DEADLINE,
            working_days=3,
            reason="等待上级答复",
            by=CLERK,
        )
        await s.commit()
    return row


async def test_a_decision_is_written_once_with_who_and_when(
    session_factory: async_sessionmaker[AsyncSession], new_case_id: str
) -> None:
    await a_case(session_factory, new_case_id, "investigation_notice")
    row = await filed(session_factory, new_case_id)
    assert row.decision is None and row.requested_by == CLERK.name
    assert row.requested_role is Role.CLERK
    later = datetime(2026, 9, 16, 16, 0, tzinfo=UTC)
    async with session_factory() as s:
        assert await decide(s, row.id, ExtensionDecision.APPROVED, CHIEF, deadline_after=later)
        await s.commit()
        # a second decision does nothing, whoever sends it
        assert not await decide(s, row.id, ExtensionDecision.REFUSED, CLERK, reason="晚了")
        await s.commit()
        found = await get_request(s, row.id)
    assert found is not None
    assert found.decision is ExtensionDecision.APPROVED
    assert (found.decided_by, found.decided_role) == (CHIEF.name, Role.SECTION_CHIEF)
    assert found.decided_at is not None and found.deadline_after == later
    assert found.deadline_before == DEADLINE


async def test_the_database_refuses_to_change_or_delete_a_request(
    session_factory: async_sessionmaker[AsyncSession], new_case_id: str
) -> None:
    await a_case(session_factory, new_case_id, "investigation_notice")
    row = await filed(session_factory, new_case_id)
    table = ExtensionRequest
    attempts = [
        # what was asked, while it waits
        update(table).where(table.id == row.id).values(working_days=9),
        update(table).where(table.id == row.id).values(requested_by="别人"),
        delete(table).where(table.id == row.id),
    ]
    for statement in attempts:
        async with session_factory() as s:
            with pytest.raises(DBAPIError):
                await s.execute(statement)
    async with session_factory() as s:
        with pytest.raises(DBAPIError):
            await s.execute(text("TRUNCATE extension_requests"))
    async with session_factory() as s:
        await decide(s, row.id, ExtensionDecision.WITHDRAWN, CLERK)
        await s.commit()
    # a decided request: not even its decision changes, past the conditional update
    async with session_factory() as s:
        with pytest.raises(DBAPIError, match="decided already"):
            await s.execute(update(table).where(table.id == row.id).values(decision="approved"))
    # a refusal without a reason, or a deadline moved by anything but an approval
    other = await filed(session_factory, new_case_id)
    async with session_factory() as s:
        with pytest.raises(IntegrityError):
            await decide(s, other.id, ExtensionDecision.REFUSED, CHIEF)
    async with session_factory() as s:
        with pytest.raises(IntegrityError):
            await decide(s, other.id, ExtensionDecision.LAPSED, CHIEF, deadline_after=DEADLINE)
    async with session_factory() as s:
        rows = await requests_of_case(s, new_case_id)
    assert [(r.id, r.decision) for r in rows] == [
        (other.id, None),
        (row.id, ExtensionDecision.WITHDRAWN),
    ]


async def test_one_request_per_case_waits_at_a_time(
    session_factory: async_sessionmaker[AsyncSession], new_case_id: str
) -> None:
    await a_case(session_factory, new_case_id, "investigation_notice")
    first = await filed(session_factory, new_case_id)
    with pytest.raises(IntegrityError):
        await filed(session_factory, new_case_id)
    async with session_factory() as s:
        assert (await pending_of_case(s, new_case_id)) == first
        await decide(s, first.id, ExtensionDecision.REFUSED, CHIEF, reason="理由不充分")
        await s.commit()
    second = await filed(session_factory, new_case_id)  # once decided, another may be filed
    async with session_factory() as s:
        assert (await pending_of_case(s, new_case_id)) == second


async def test_requests_for_a_step_no_longer_awaited_lapse(
    session_factory: async_sessionmaker[AsyncSession], new_case_id: str
) -> None:
    await a_case(session_factory, new_case_id, "inspection_team")
    old = await filed(session_factory, new_case_id, step="investigation_notice")
    async with session_factory() as s:
        pending = {p.request.id: p for p in await pending_requests(s, limit=1000)}
        assert pending[old.id].step_moved_on  # the listing awaits another step now
        assert await lapse_all_but(s, new_case_id, [("investigation_notice", STARTED)], CLERK) == []
        lapsed = await lapse_all_but(s, new_case_id, [("inspection_team", STARTED)], CLERK)
        await s.commit()
        assert lapsed == [old.id]
        found = await get_request(s, old.id)
        assert found is not None and found.decision is ExtensionDecision.LAPSED
        assert found.decision_reason == LAPSED_REASON
        assert old.id not in {p.request.id for p in await pending_requests(s, limit=1000)}


async def test_the_approvers_list_leaves_out_closed_cases(
    session_factory: async_sessionmaker[AsyncSession], new_case_id: str
) -> None:
    await a_case(session_factory, new_case_id, "investigation_notice")
    row = await filed(session_factory, new_case_id)
    async with session_factory() as s:
        listed = {p.request.id: p for p in await pending_requests(s, limit=1000)}
        assert listed[row.id].unit == "县环保局" and not listed[row.id].step_moved_on
        await s.execute(update(Case).where(Case.case_id == new_case_id).values(status="withdrawn"))
        await s.commit()
        assert row.id not in {p.request.id for p in await pending_requests(s, limit=1000)}
