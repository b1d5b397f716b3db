"""``CapabilityCampaignWorkflow``: one administrative capability test campaign (行政管理能力
测试), from its imported results to the end of every failing cadre's retest.

Started with the ID ``capability_campaign_workflow_id(campaign)`` and the results
(``CapabilityCampaignInput``, e.g. from an imported sheet). It reads the policy once (the
campaign's, passed to each child), checks every score (``rules.cadre_capability``; one bad
score refuses the whole campaign before anything is recorded), and records:

- each cadre's result: passed, or failed (self-study then retest); a first-test score at or
  above the reserve mark marks the cadre as one the department may list as a reserve cadre
  (后备干部);
- for each failing cadre, a child ``CapabilityRetestWorkflow`` started (ID
  ``capability_retest_workflow_id``; it outlives the campaign if the campaign is closed), and
  how it ended when it does.

Everything is recorded in the campaign's audit chain (``workflows.cadre_records``).
"""

import asyncio

from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from workflows.activity_refs import LOAD_POLICY, call
    from workflows.cadre_enums import RetestStatus
    from workflows.cadre_policy import CapabilityTestPolicy
    from workflows.cadre_records import ACTIVITY_RETRY, ACTIVITY_TIMEOUT, chain_listing, record
    from workflows.capability_retest import CapabilityRetestWorkflow
    from workflows.capability_types import (
        CadreOutcome,
        CampaignState,
        CapabilityCampaignInput,
        CapabilityRetestInput,
        RetestState,
    )
    from workflows.glossary import zh
    from workflows.ids import capability_retest_workflow_id
    from workflows.policy import PolicySnapshot
    from workflows.rules import cadre_capability as rule
    from workflows.rules.errors import RuleViolation
    from workflows.rules.sources import source
    from workflows.types import CaseRow, PolicyRequest


def check_campaign(data: CapabilityCampaignInput, rules: CapabilityTestPolicy) -> None:
    """Every score within the marks; the doors call it before starting, the workflow again."""
    for r in data.results:
        rule.check_score(r.score, rules.full_mark, f"{r.name}（{r.person_id}）")


def first_outcomes(
    data: CapabilityCampaignInput, rules: CapabilityTestPolicy
) -> list[CadreOutcome]:
    first = rule.Attempt.FIRST
    return [
        CadreOutcome(
            person_id=r.person_id,
            name=r.name,
            unit=r.unit,
            score=r.score,
            outcome=rule.outcome(r.score, first, rules.pass_mark, rules.full_mark),
            reserve=rule.reserve_eligible(r.score, first, rules.reserve_mark, rules.full_mark),
        )
        for r in data.results
    ]


@workflow.defn
class CapabilityCampaignWorkflow:
    @workflow.init
    def __init__(self, input: CapabilityCampaignInput) -> None:
        self._state: CampaignState | None = None

    @workflow.run
    async def run(self, input: CapabilityCampaignInput) -> CampaignState:
        chain_id = workflow.info().workflow_id
        snapshot = await call(
            LOAD_POLICY,
            PolicyRequest(case_id=chain_id),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        cadre = snapshot.policy.cadre
        if cadre is None:
            raise ApplicationError(
                f"政策文件（{snapshot.source}，版本 {snapshot.policy.version}）缺少 cadre 一节："
                "能力测试的合格线和自学期限须在政策中规定",
                type="PolicyMissing",
                non_retryable=True,
            )
        rules = cadre.capability_test
        try:
            check_campaign(input, rules)
        except RuleViolation as e:
            raise ApplicationError(
                e.message, e.rule, source(e.rule), type="RuleViolation", non_retryable=True
            ) from e
        s = self._state = CampaignState(
            chain_id=chain_id,
            campaign_id=input.campaign_id,
            title=input.title,
            tested_on=input.tested_on,
            notified_on=input.notified_on,
            policy_version=snapshot.policy.version,
            cadres=first_outcomes(input, rules),
        )
        listing = chain_listing(chain_id, "组织部", input.title, input.tested_on)
        failing = [c for c in s.cadres if c.outcome is not rule.Outcome.PASSED]
        reserve = [c for c in s.cadres if c.reserve]
        await record(
            s,
            listing,
            "capability_opened",
            f"{input.title}：{input.tested_on} 测试，{len(s.cadres)} 人，合格 "
            f"{len(s.cadres) - len(failing)} 人，不合格 {len(failing)} 人，可列为后备干部 "
            f"{len(reserve)} 人（合格线 {rules.pass_mark} 分，后备干部 {rules.reserve_mark} 分；"
            f"政策版本 {snapshot.policy.version}）",
            actor=input.opened_by,
            payload={
                "input": input.model_dump(mode="json"),
                "policy_version": snapshot.policy.version,
                "policy_digest": snapshot.digest,
            },
        )
        for c in s.cadres:
            mark = "，可列为后备干部" if c.reserve else ""
            await record(
                s,
                listing,
                "capability_result",
                f"{c.name}（{c.unit}）{c.score} 分：{zh(c.outcome)}{mark}",
                payload={"person_id": c.person_id, **c.model_dump(mode="json")},
            )
        ends = await asyncio.gather(
            *(self._retest(s, listing, input, snapshot, c) for c in failing)
        )
        for c, end in zip(failing, ends, strict=True):
            c.final = end
        s.finished = True
        await record(
            s,
            listing,
            "capability_finished",
            f"{input.title}办结："
            + ("；".join(f"{c.name}{c.final}" for c in failing) or "全部合格"),
        )
        return s

    async def _retest(
        self,
        s: CampaignState,
        listing: CaseRow,
        input: CapabilityCampaignInput,
        snapshot: PolicySnapshot,
        c: CadreOutcome,
    ) -> str:
        result = next(r for r in input.results if r.person_id == c.person_id)
        child_id = capability_retest_workflow_id(input.campaign_id, c.person_id)
        handle = await workflow.start_child_workflow(
            CapabilityRetestWorkflow.run,
            CapabilityRetestInput(
                campaign_id=input.campaign_id,
                person_id=c.person_id,
                name=c.name,
                unit=c.unit,
                post=result.post,
                score=c.score,
                tested_on=input.tested_on,
                notified_on=input.notified_on,
                policy=snapshot,
            ),
            id=child_id,
            parent_close_policy=ParentClosePolicy.ABANDON,
        )
        s.retests.append(child_id)
        await record(
            s,
            listing,
            "capability_retest_started",
            f"{c.name}（{c.unit}）自学补测开始：{child_id}",
            payload={"person_id": c.person_id, "workflow_id": child_id},
        )
        end: RetestState = await handle
        if end.status is RetestStatus.PASSED and end.retest is not None:
            return f"补测 {end.retest.score} 分，合格"
        if end.handling is not None:
            return f"补测不合格，{zh(end.handling.decision)}（{end.handling.decided_on}）"
        return zh(end.status)

    @workflow.query
    def state(self) -> CampaignState | None:
        return self._state
