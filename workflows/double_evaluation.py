"""``DoubleEvaluationWorkflow``: one double evaluation (双重考核) of the county-level units'
principal leaders, from both tallies to the committee's decision on each proposal.

Started with the ID ``double_evaluation_workflow_id(evaluation)`` and both tallies of every
principal leader (``DoubleEvaluationInput``, e.g. from an imported sheet). It reads the
policy once (``cadre.double_evaluation``), ranks the leaders and decides the proposals with
the pure rule (``workflows.rules.double_evaluation``; a bad tally refuses the whole
evaluation before anything is recorded), records the ranking (every leader's places, exact
rates and reason), and for each proposed leader starts a child ``RemovalCaseWorkflow``
(``removal_case_workflow_id``; it outlives the evaluation if the evaluation is closed),
recording how each ends.

Everything is recorded in the evaluation's audit chain (``workflows.cadre_records``).
"""

import asyncio

from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from workflows.activity_refs import LOAD_POLICY, call
    from workflows.cadre_policy import DoubleEvaluationPolicy
    from workflows.cadre_records import ACTIVITY_RETRY, ACTIVITY_TIMEOUT, chain_listing, record
    from workflows.double_evaluation_types import (
        DoubleEvaluationInput,
        EvaluationState,
        RankedRow,
        RemovalCaseInput,
        RemovalState,
    )
    from workflows.glossary import zh
    from workflows.ids import removal_case_workflow_id
    from workflows.policy import PolicySnapshot
    from workflows.removal_case import RemovalCaseWorkflow
    from workflows.rules import double_evaluation as rule
    from workflows.rules.errors import RuleViolation
    from workflows.rules.sources import source
    from workflows.types import CaseRow, PolicyRequest


def ranking(data: DoubleEvaluationInput, policy: DoubleEvaluationPolicy) -> list[RankedRow]:
    """The ranking and proposals (raises ``RuleViolation`` on a bad tally): the doors call it
    to check an import before starting, the workflow to decide."""
    ranked = rule.rank_and_propose([x.leader() for x in data.leaders], policy.thresholds())
    return [
        RankedRow(
            person_id=r.leader.person_id,
            name=r.leader.name,
            unit=r.leader.unit,
            place=r.place,
            place_from_bottom=r.place_from_bottom,
            unified_excellent=rule.percent(r.leader.unified.excellent_rate),
            unified_incompetent=rule.percent(r.leader.unified.incompetent_rate),
            own_excellent=rule.percent(r.leader.own.excellent_rate),
            own_incompetent=rule.percent(r.leader.own.incompetent_rate),
            in_last_n=r.in_last_n,
            proposed=r.proposed,
            reason=r.reason,
        )
        for r in ranked
    ]


@workflow.defn
class DoubleEvaluationWorkflow:
    @workflow.init
    def __init__(self, input: DoubleEvaluationInput) -> None:
        self._state: EvaluationState | None = None

    @workflow.run
    async def run(self, input: DoubleEvaluationInput) -> EvaluationState:
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
                "双重考核的末位人数和票率界限须在政策中规定",
                type="PolicyMissing",
                non_retryable=True,
            )
        policy = cadre.double_evaluation
        try:
            rows = ranking(input, policy)
        except RuleViolation as e:
            raise ApplicationError(
                e.message, e.rule, source(e.rule), type="RuleViolation", non_retryable=True
            ) from e
        s = self._state = EvaluationState(
            chain_id=chain_id,
            evaluation_id=input.evaluation_id,
            title=input.title,
            held_on=input.held_on,
            policy_version=snapshot.policy.version,
            ranking=rows,
        )
        listing = chain_listing(chain_id, "组织部", input.title, input.held_on)
        await record(
            s,
            listing,
            "evaluation_opened",
            f"{input.title}：{input.held_on}，党政正职 {len(rows)} 人的统一测评和本单位测评"
            f"（政策版本 {snapshot.policy.version}）",
            actor=input.opened_by,
            payload={
                "input": input.model_dump(mode="json"),
                "policy_version": snapshot.policy.version,
                "policy_digest": snapshot.digest,
            },
        )
        proposed = [r for r in rows if r.proposed]
        t = policy.thresholds()
        await record(
            s,
            listing,
            "evaluation_ranked",
            f"按统一测评优秀票率排队（末 {t.last_n} 位；并列：{_ties(t.ties)}）："
            + "；".join(f"{r.place}. {r.name}（{r.unit}）{r.unified_excellent}" for r in rows)
            + f"。建议降免职 {len(proposed)} 人"
            + (f"：{'、'.join(r.name for r in proposed)}" if proposed else ""),
            payload={
                "ranking": [r.model_dump(mode="json") for r in rows],
                "proposed": [r.person_id for r in proposed],
            },
        )
        ends = await asyncio.gather(*(self._case(s, listing, input, snapshot, r) for r in proposed))
        for r, end in zip(proposed, ends, strict=True):
            s.outcomes[r.person_id] = end
        s.finished = True
        await record(
            s,
            listing,
            "evaluation_finished",
            f"{input.title}办结："
            + (
                "；".join(f"{r.name}{s.outcomes[r.person_id]}" for r in proposed)
                or "无人建议降免职"
            ),
        )
        return s

    async def _case(
        self,
        s: EvaluationState,
        listing: CaseRow,
        input: DoubleEvaluationInput,
        snapshot: PolicySnapshot,
        row: RankedRow,
    ) -> str:
        leader = next(x for x in input.leaders if x.person_id == row.person_id)
        case_id = removal_case_workflow_id(input.evaluation_id, row.person_id)
        handle = await workflow.start_child_workflow(
            RemovalCaseWorkflow.run,
            RemovalCaseInput(
                evaluation_id=input.evaluation_id,
                person_id=row.person_id,
                name=row.name,
                unit=row.unit,
                post=leader.post,
                measure=input.measure,
                reason=row.reason,
                opened_on=input.held_on,
                policy=snapshot,
            ),
            id=case_id,
            parent_close_policy=ParentClosePolicy.ABANDON,
        )
        s.cases[row.person_id] = case_id
        await record(
            s,
            listing,
            "evaluation_case_started",
            f"{row.name}（{row.unit}）降免职案件：{case_id}",
            payload={"person_id": row.person_id, "workflow_id": case_id},
        )
        end: RemovalState = await handle
        return f"：{zh(end.status)}（{zh(end.measure)}）"

    @workflow.query
    def state(self) -> EvaluationState | None:
        return self._state


def _ties(ties: rule.TieRule) -> str:
    if ties is rule.TieRule.INCLUDE:
        return "同率者同位次，跨末位线的全部计入"
    return "同率者同位次，跨末位线的全部不计入"
