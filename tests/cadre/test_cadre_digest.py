"""The daily digest lists what falls due in the capability test (a retest opening within the
reminder window, and not one further off; a handling decision waiting) and in the double
evaluation (a removal case's vote); read by the digest's own activity from the chains the real
workflows wrote."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.digest import DigestActivities
from api.cadre_calls import campaign
from api.deps import Services
from gateway import cadre
from store.cadre_queries import RemovalStanding, _apply_removal, vote_result
from store.models import CaseEvent
from tests.cadre.conftest import Stack, settle
from tests.workflows.test_double_evaluation import EDGE, vote_input
from workflows.cadre_enums import RemovalStatus, RetestStatus
from workflows.capability_types import (
    RetestInput,
    RetestState,
)
from workflows.digest import digest_mail
from workflows.double_evaluation_types import RemovalState
from workflows.ids import capability_retest_workflow_id, removal_case_workflow_id
from workflows.probation_types import Digest, DigestItem, DigestItemKind, DigestRequest
from workflows.types import Actor, Role, VoteResult

CLERK = Actor(name="王科员", role=Role.CLERK)


async def test_the_digest_lists_retests_and_handling(
    stack: Stack, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    services: Services = stack.app.state.services
    campaign_id = f"D{uuid.uuid4().hex[:8]}"
    day = await stack.start_campaign(campaign_id)
    chain = capability_retest_workflow_id(campaign_id, "C1")

    async def standing(status: RetestStatus) -> RetestState:
        async def check() -> RetestState | None:
            r = (await campaign(services, campaign_id)).retests.get("C1")
            return r if r is not None and r.status is status else None

        return await settle(check)

    first = await standing(RetestStatus.SELF_STUDY)
    digest = DigestActivities(session_factory)

    async def items(today_offset: int) -> dict[DigestItemKind, str]:
        today = first.retest_opens_on - timedelta(days=today_offset)
        request = DigestRequest(
            as_of=await stack.env.get_current_time(),
            today=today,
            days_ahead=7,
            retest_window_days=30,
        )
        found = await digest.gather_digest(request)
        return {i.kind: i.detail for i in found.items if i.ref == chain}

    within = await items(10)
    assert DigestItemKind.RETEST_OPENING in within
    assert f"{first.retest_opens_on} 起补测" in within[DigestItemKind.RETEST_OPENING]
    assert await items(40) == {}  # outside the reminder window

    await stack.env.sleep(first.retest_opens_on - day + timedelta(days=1))
    await standing(RetestStatus.AWAITING_RETEST)
    today = await stack.today()
    await cadre.record_retest(
        stack.env.client,
        campaign_id,
        "C1",
        RetestInput(actor=CLERK, tested_on=today, score=Decimal(20)),
    )

    async def scheduled() -> RetestState | None:
        s = await standing(RetestStatus.AWAITING_HANDLING)
        return s if s.handling_schedule is not None else None

    waiting = await settle(scheduled)
    assert waiting.handling_schedule is not None
    request = DigestRequest(
        as_of=await stack.env.get_current_time(), today=today, days_ahead=1, retest_window_days=30
    )

    async def listed() -> tuple[Digest, list[DigestItem]] | None:
        # the state shows the schedule as soon as the workflow has it; the digest reads the
        # deadline's record, which reaches PostgreSQL a moment later
        found = await digest.gather_digest(request)
        mine = [i for i in found.items if i.ref == chain]
        return (found, mine) if mine else None

    found, mine = await settle(listed)
    assert [i.kind for i in mine] == [DigestItemKind.CADRE_STEP_DUE]
    assert mine[0].detail == "待办：登记组织处理决定" and mine[0].name == "张三"
    assert mine[0].due_on == waiting.handling_schedule.deadline_on
    subject, body = digest_mail(found.model_copy(update={"items": mine}))
    assert "补测或组织处理待办" in body and "张三" in body and "0 项" in subject


async def test_the_digest_lists_a_removal_vote_until_a_vote_decides_it(
    stack: Stack, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """A proposed leader's removal case waits for the standing committee's vote: listed as due
    within the digest's days (not when its deadline is further off), as overdue after its
    deadline, still listed after a deferred vote, and gone once a vote decides it."""
    evaluation_id = f"R{uuid.uuid4().hex[:8]}"
    day = await stack.start_evaluation(evaluation_id, EDGE)
    chain = removal_case_workflow_id(evaluation_id, "L8")
    digest = DigestActivities(session_factory)

    async def items(today: date, days_ahead: int) -> list[DigestItem]:
        request = DigestRequest(
            as_of=await stack.env.get_current_time(),
            today=today,
            days_ahead=days_ahead,
            retest_window_days=30,
        )
        return [i for i in (await digest.gather_digest(request)).items if i.ref == chain]

    async def scheduled() -> RemovalState | None:
        try:
            s = await cadre.removal_state(stack.env.client, evaluation_id, "L8")
        except Exception:  # not started yet
            return None
        return s if s.schedule is not None else None

    schedule = (await settle(scheduled)).schedule
    assert schedule is not None
    due_on = schedule.deadline_on
    ahead = (due_on - day).days

    async def listed() -> list[DigestItem] | None:  # once the deadline's event is recorded
        return await items(day, ahead) or None

    [item] = await settle(listed)
    assert item.kind is DigestItemKind.REMOVAL_VOTE_DUE and item.due_on == due_on
    assert (item.name, item.unit, item.post) == ("干部L8", "县直单位L8", "局长")
    assert item.detail == "待办：登记常委会票决结果"
    assert await items(day, ahead - 1) == []  # its deadline further off than the digest's days
    [late] = await items(due_on + timedelta(days=1), 1)
    assert late.kind is DigestItemKind.REMOVAL_VOTE_OVERDUE
    subject, body = digest_mail(
        Digest(as_of=late_at(due_on), today=due_on, days_ahead=1, items=[late])
    )
    assert "降免职表决已逾期" in body and "干部L8" in body and "已逾期 1 项" in subject

    deferred = await cadre.record_removal_vote(
        stack.env.client, evaluation_id, "L8", vote_input(day, 1, 1, 7, "需查清测评组织情况")
    )
    assert deferred.status is RemovalStatus.DEFERRED
    assert [i.kind for i in await items(day, ahead)] == [DigestItemKind.REMOVAL_VOTE_DUE]
    decided = await cadre.record_removal_vote(
        stack.env.client, evaluation_id, "L8", vote_input(day, 6, 3)
    )
    assert decided.status is RemovalStatus.DECIDED
    assert await items(day, ahead) == []
    async with session_factory() as session:
        votes = [
            e.payload["result"]
            for e in await session.scalars(
                select(CaseEvent)
                .where(CaseEvent.case_id == chain, CaseEvent.kind == "removal_vote")
                .order_by(CaseEvent.seq)
            )
        ]
    assert votes == ["deferred", "passed"]


def late_at(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def test_a_vote_recorded_without_its_result_is_decided_by_the_rule() -> None:
    """Votes recorded before the result was written with them: the vote's rule decides."""
    day = date(2026, 3, 2)
    for vote, result in (
        (vote_input(day, 7, 2), VoteResult.PASSED),
        (vote_input(day, 5, 4), VoteResult.FAILED),
        (vote_input(day, 1, 1, 7, "需查清"), VoteResult.DEFERRED),
    ):
        payload = {"person_id": "L8", **vote.model_dump(mode="json")}
        assert vote_result(payload) is result
        assert vote_result({**payload, "result": result.value}) is result
        standing = RemovalStanding("removal:E:L8", deadline_on=day)
        _apply_removal(standing, "removal_vote", payload)
        assert standing.settled is (result is not VoteResult.DEFERRED)
