"""A capability test campaign on the time-skipping server with the real activities and the
real PostgreSQL: fail → self-study → retest fail → handling decided, and fail → retest pass.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from tests.workflows.conftest import SETTLE_SECONDS, CaseRunner
from workflows.cadre_enums import RetestStatus
from workflows.capability_campaign import CapabilityCampaignWorkflow
from workflows.capability_retest import CapabilityRetestWorkflow
from workflows.capability_types import (
    CampaignState,
    CapabilityCampaignInput,
    CapabilityResult,
    HandlingInput,
    RetestInput,
    RetestState,
)
from workflows.ids import capability_campaign_workflow_id, capability_retest_workflow_id
from workflows.rules.cadre_capability import HandlingOption, Outcome
from workflows.rules.working_days import SHANGHAI
from workflows.types import Actor, Role

CLERK = Actor(name="王科员", role=Role.CLERK)
HEAD = Actor(name="部长 赵", role=Role.DEPARTMENT_HEAD)


def result(pid: str, name: str, score: str) -> CapabilityResult:
    return CapabilityResult(
        person_id=pid, name=name, unit="县财政局", post="股长", score=Decimal(score)
    )


async def today(runner: CaseRunner) -> date:
    return (await runner.env.get_current_time()).astimezone(SHANGHAI).date()


async def start(
    runner: CaseRunner, results: list[CapabilityResult]
) -> tuple[str, WorkflowHandle[Any, CampaignState]]:
    campaign_id = f"T{uuid.uuid4().hex[:8]}"
    day = await today(runner)
    handle = await runner.env.client.start_workflow(
        CapabilityCampaignWorkflow.run,
        CapabilityCampaignInput(
            campaign_id=campaign_id,
            title="2026 年行政管理能力测试",
            tested_on=day,
            notified_on=day,
            results=results,
            opened_by=CLERK,
        ),
        id=capability_campaign_workflow_id(campaign_id),
        task_queue=runner.task_queue,
    )
    runner.started.append(handle)  # type: ignore[arg-type]  # terminated if left running
    return campaign_id, handle


async def retest_state(runner: CaseRunner, workflow_id: str) -> RetestState:
    handle = runner.env.client.get_workflow_handle(workflow_id)
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        try:
            return await handle.query(CapabilityRetestWorkflow.state)
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def until(runner: CaseRunner, workflow_id: str, status: RetestStatus) -> RetestState:
    deadline = time.monotonic() + SETTLE_SECONDS
    while (state := await retest_state(runner, workflow_id)).status is not status:
        assert time.monotonic() < deadline, state
        await asyncio.sleep(0.1)
    return state


async def test_fail_self_study_fail_again_handling(runner: CaseRunner) -> None:
    campaign_id, campaign = await start(
        runner,
        [result("P1", "张三", "59.5"), result("P2", "李四", "85"), result("P3", "王五", "60")],
    )
    retest_id = capability_retest_workflow_id(campaign_id, "P1")
    first = await until(runner, retest_id, RetestStatus.SELF_STUDY)
    notified = await today(runner)
    assert first.self_study_ends_on == first.retest_opens_on - timedelta(days=1)
    assert first.retest_opens_on > notified + timedelta(days=88)

    # a retest during the self-study is refused, and nothing enters the history
    handle = runner.env.client.get_workflow_handle(retest_id)
    before = (await retest_state(runner, retest_id)).events_recorded
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            CapabilityRetestWorkflow.record_retest,
            RetestInput(actor=CLERK, tested_on=notified, score=Decimal(70)),
        )
    assert "自学中" in str(refused.value.cause)
    assert (await retest_state(runner, retest_id)).events_recorded == before

    # three months of self-study pass on the durable timer, with its reminders
    await runner.env.sleep(first.retest_opens_on - notified + timedelta(days=1))
    waiting = await until(runner, retest_id, RetestStatus.AWAITING_RETEST)
    assert waiting.reminders_done == [30, 7, 0]
    assert waiting.retest_schedule is not None

    # a department head may not record a retest (policy: clerk, section chief)
    day = await today(runner)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            CapabilityRetestWorkflow.record_retest,
            RetestInput(actor=HEAD, tested_on=day, score=Decimal(50)),
        )
    assert "只能由干部科工作人员、科长登记" in str(refused.value.cause)

    failed = await handle.execute_update(
        CapabilityRetestWorkflow.record_retest,
        RetestInput(actor=CLERK, tested_on=day, score=Decimal("59.99")),
    )
    assert failed.status is RetestStatus.AWAITING_HANDLING
    assert failed.retest is not None and failed.retest.outcome is Outcome.HANDLING
    await asyncio.sleep(0.5)
    with pytest.raises(WorkflowUpdateFailedError):  # a clerk cannot decide the handling
        await handle.execute_update(
            CapabilityRetestWorkflow.record_handling,
            HandlingInput(
                actor=CLERK, decision=HandlingOption.DEMOTION, decided_on=day, reason="补测不合格"
            ),
        )
    handled = await handle.execute_update(
        CapabilityRetestWorkflow.record_handling,
        HandlingInput(
            actor=HEAD,
            decision=HandlingOption.NON_LEADING_POST,
            decided_on=day,
            reason="两次测试不合格",
            reference="组干〔2027〕3号",
        ),
    )
    assert handled.status is RetestStatus.HANDLED

    end = await campaign.result()
    assert end.finished
    by_id = {c.person_id: c for c in end.cadres}
    assert by_id["P1"].outcome is Outcome.SELF_STUDY
    assert by_id["P1"].final.startswith("补测不合格，改任非领导职务")
    assert by_id["P2"].outcome is Outcome.PASSED and by_id["P2"].reserve
    assert by_id["P3"].outcome is Outcome.PASSED and not by_id["P3"].reserve
    assert end.retests == [retest_id]

    # every step in the audit chains, in order
    kinds = [e.kind for e in await runner.events(retest_id)]
    assert kinds[0] == "capability_self_study"
    assert kinds.count("capability_reminder") == 3
    assert kinds.index("capability_deadline") < kinds.index("capability_retest")
    assert kinds[-1] == "capability_handling"
    handling = [e for e in await runner.events(retest_id) if e.kind == "capability_handling"]
    assert handling[0].actor_name == HEAD.name and "改任非领导职务" in handling[0].summary
    campaign_kinds = [
        e.kind for e in await runner.events(capability_campaign_workflow_id(campaign_id))
    ]
    assert campaign_kinds == [
        "capability_opened",
        "capability_result",
        "capability_result",
        "capability_result",
        "capability_retest_started",
        "capability_finished",
    ]
    row = await runner.row(retest_id)
    assert row is not None and "不是任用案件" in row.outcome_reason


async def test_fail_then_pass_the_retest(runner: CaseRunner) -> None:
    campaign_id, campaign = await start(runner, [result("P9", "赵六", "12")])
    retest_id = capability_retest_workflow_id(campaign_id, "P9")
    first = await until(runner, retest_id, RetestStatus.SELF_STUDY)
    await runner.env.sleep(first.retest_opens_on - await today(runner) + timedelta(days=2))
    await until(runner, retest_id, RetestStatus.AWAITING_RETEST)
    handle = runner.env.client.get_workflow_handle(retest_id)
    day = await today(runner)
    with pytest.raises(WorkflowUpdateFailedError) as refused:  # a score above the full mark
        await handle.execute_update(
            CapabilityRetestWorkflow.record_retest,
            RetestInput(actor=CLERK, tested_on=day, score=Decimal("100.5")),
        )
    assert "应在 0 到满分 100 分之间" in str(refused.value.cause)
    passed = await handle.execute_update(
        CapabilityRetestWorkflow.record_retest,
        RetestInput(actor=CLERK, tested_on=day, score=Decimal(60)),
    )
    assert passed.status is RetestStatus.PASSED
    end = await campaign.result()
    assert end.cadres[0].final == "补测 60 分，合格"
    assert end.cadres[0].reserve is False
    kinds = [e.kind for e in await runner.events(retest_id)]
    assert "capability_handling" not in kinds and kinds[-1] == "capability_retest"


async def test_a_score_over_the_full_mark_refuses_the_campaign(runner: CaseRunner) -> None:
    campaign_id, campaign = await start(runner, [result("P1", "张三", "101")])
    with pytest.raises(Exception) as failed:
        await campaign.result()
    assert "张三（P1）的能力测试成绩为 101" in str(failed.value.__cause__)
    assert await runner.events(capability_campaign_workflow_id(campaign_id)) == []
