"""``RemovalCaseWorkflow``: one leader proposed for demotion or removal (降免职) by the double
evaluation, decided by the standing committee's vote like any other cadre decision.

Started by ``DoubleEvaluationWorkflow`` as a child with the ID
``removal_case_workflow_id(evaluation, person)``, under the evaluation's policy snapshot:

1. **Proposal**: recorded with the rule's reason (the leader's places and rates).
2. **Vote** (常委会票决): a step with the deadline, reminders and escalation ladder of
   ``cadre.double_evaluation.vote``; the update ``record_vote`` (a role of ``vote_roles``)
   records the meeting and the tallies, decided by ``workflows.rules.vote`` (quorum, pass
   mark on the members who should attend, withdrawals, deferral). Passed: the measure
   (降职 or 免职) is decided; failed: no demotion or removal; deferred (暂缓表决): voted
   again, on the same step.
3. **Decision** recorded; the workflow ends.

Every step is recorded in the case's audit chain (``workflows.cadre_records``).
"""

import asyncio
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.cadre_enums import RemovalStatus
    from workflows.cadre_records import chain_listing, record
    from workflows.cadre_steps import check_role, keep_step, refused, today
    from workflows.double_evaluation_types import (
        RemovalCaseInput,
        RemovalState,
        RemovalVoteInput,
        RemovalVoteRecord,
    )
    from workflows.glossary import CADRE_STEPS, zh
    from workflows.rules import vote
    from workflows.rules.dates import check_not_future
    from workflows.rules.errors import RuleViolation
    from workflows.types import StepSchedule, VoteResult

VOTE_STEP = "removal_vote"
VOTE = CADRE_STEPS["record_removal_vote"]


@workflow.defn
class RemovalCaseWorkflow:
    @workflow.init
    def __init__(self, input: RemovalCaseInput) -> None:
        cadre = input.policy.policy.cadre
        if cadre is None:
            raise ApplicationError("政策文件缺少 cadre 一节", non_retryable=True)
        self._rules = cadre.double_evaluation
        self._lock = asyncio.Lock()
        self._state = RemovalState(
            chain_id=workflow.info().workflow_id,
            evaluation_id=input.evaluation_id,
            person_id=input.person_id,
            name=input.name,
            unit=input.unit,
            post=input.post,
            measure=input.measure,
            reason=input.reason,
        )
        self._listing = chain_listing(self._state.chain_id, input.unit, input.post, input.opened_on)

    @workflow.run
    async def run(self, input: RemovalCaseInput) -> RemovalState:
        s = self._state
        await self._record(
            "removal_opened",
            f"双重考核 {s.evaluation_id}：提请常委会对{s.name}（{s.unit}{s.post}）"
            f"作{zh(s.measure)}处理。{s.reason}",
            payload={"person_id": s.person_id, **input.model_dump(mode="json", exclude={"policy"})},
            mail=(
                [self._rules.vote.responsible_role],
                f"双重考核降免职提请表决：{s.name}（{s.unit}）",
                s.reason,
            ),
        )

        def scheduled(schedule: StepSchedule) -> None:
            s.schedule = schedule

        await keep_step(
            s,
            self._listing,
            "removal",
            VOTE_STEP,
            VOTE,
            input.opened_on,
            self._rules.vote,
            lambda: s.settled,
            self._lock,
            scheduled,
        )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return s

    @workflow.query
    def state(self) -> RemovalState:
        return self._state

    @workflow.update
    async def record_vote(self, data: RemovalVoteInput) -> RemovalState:
        async with self._lock:
            result = self._decide(data)
            s = self._state
            item = data.item(s.person_id)
            note = vote.describe_result(data.meeting, item, result)
            s.votes.append(
                RemovalVoteRecord(
                    meeting_id=data.meeting.meeting_id,
                    held_on=data.meeting.held_on,
                    result=result,
                    note=note,
                    actor=data.actor,
                    recorded_at=workflow.now(),
                )
            )
            if result is VoteResult.PASSED:
                s.status = RemovalStatus.DECIDED
                outcome = f"决定对{s.name}{zh(s.measure)}"
            elif result is VoteResult.FAILED:
                s.status = RemovalStatus.REJECTED
                outcome = f"不予{zh(s.measure)}"
            else:
                s.status = RemovalStatus.DEFERRED
                outcome = "暂缓表决，查清后再次表决"
            s.overdue = False
            summary = (
                f"{data.meeting.held_on} 常委会（{data.meeting.meeting_id}）表决{s.name}"
                f"（{s.unit}{s.post}）的{zh(s.measure)}：{note}；{outcome}"
            )
            await self._record(
                "removal_vote",
                summary,
                actor=data.actor,
                # the result as decided, so a reader of the chain (the digest, an auditor)
                # need not decide it again; votes recorded before it was written lack it
                payload={
                    "person_id": s.person_id,
                    **data.model_dump(mode="json"),
                    "result": result.value,
                },
                mail=(
                    [self._rules.vote.responsible_role, *self._rules.vote_roles],
                    f"双重考核降免职表决结果：{s.name}（{s.unit}）",
                    summary,
                ),
            )
            return s

    @record_vote.validator
    def _v_vote(self, data: RemovalVoteInput) -> None:
        self._decide(data)

    def _decide(self, data: RemovalVoteInput) -> VoteResult:
        """The vote's result, or the refusal: who records, the case's state, the vote's rules."""
        s = self._state
        check_role(data.actor, self._rules.vote_roles, VOTE, vote.RULE_PASS)
        try:
            if s.settled:
                raise RuleViolation(f"{s.name}的降免职已经表决（{zh(s.status)}）", "case.state")
            check_not_future(data.meeting.held_on, today(), "常委会会议")
            return vote.decide_item(data.meeting, data.item(s.person_id))
        except RuleViolation as e:
            raise refused(e) from e

    async def _record(self, kind: str, summary: str, **kwargs: Any) -> None:
        await record(self._state, self._listing, kind, summary, **kwargs)
