"""The daily digest lists what falls due in the capability test: a retest opening within the
reminder window (and not one further off), and a handling decision waiting; read by the
digest's own activity from the chains the real workflows wrote."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.digest import DigestActivities
from api.cadre_calls import campaign
from api.deps import Services
from gateway import cadre
from tests.cadre.conftest import Stack, settle
from workflows.cadre_enums import RetestStatus
from workflows.capability_types import (
    CapabilityCampaignInput,
    CapabilityResult,
    RetestInput,
    RetestState,
)
from workflows.digest import digest_mail
from workflows.ids import capability_retest_workflow_id
from workflows.probation_types import DigestItemKind, DigestRequest
from workflows.types import Actor, Role

CLERK = Actor(name="王科员", role=Role.CLERK)


async def test_the_digest_lists_retests_and_handling(
    stack: Stack, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    services: Services = stack.app.state.services
    campaign_id = f"D{uuid.uuid4().hex[:8]}"
    day = await stack.today()
    await cadre.start_campaign(
        stack.env.client,
        services.settings.task_queue,
        CapabilityCampaignInput(
            campaign_id=campaign_id,
            title="能力测试",
            tested_on=day,
            notified_on=day,
            results=[
                CapabilityResult(person_id="C1", name="张三", unit="县财政局", score=Decimal(30))
            ],
            opened_by=CLERK,
        ),
    )
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
    found = await digest.gather_digest(request)
    mine = [i for i in found.items if i.ref == chain]
    assert [i.kind for i in mine] == [DigestItemKind.CADRE_STEP_DUE]
    assert mine[0].detail == "待办：登记组织处理决定" and mine[0].name == "张三"
    assert mine[0].due_on == waiting.handling_schedule.deadline_on
    subject, body = digest_mail(found.model_copy(update={"items": mine}))
    assert "补测或组织处理待办" in body and "张三" in body and "0 项" in subject
