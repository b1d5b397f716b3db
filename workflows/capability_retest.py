"""``CapabilityRetestWorkflow``: one cadre who failed the capability test, from the failure
to the end: self-study, retest, and the department's handling if the retest fails too.

Started by the campaign (``CapabilityCampaignWorkflow``) as a child with the ID
``capability_retest_workflow_id(campaign, person)`` (one per cadre of a campaign), under the
campaign's policy snapshot (``policy.cadre.capability_test``):

1. **Self-study** (自学) from the day the result is notified for ``self_study_months``
   months (``rules.cadre_capability.self_study_ends_on``): a durable timer. Reminders so many
   calendar days before the retest opens (``reminder_days_before_retest``), at the policy's
   reminder hour, mailed to ``reminder_roles``; one whose moment had passed is recorded as
   missed, not sent.
2. **Retest** (补测) from the day after the self-study: a step with a deadline in working
   days, reminders and an escalation ladder (``capability_test.retest``, computed by the
   calendar activity ``schedule_step`` and kept by ``workflows.deadlines.keep_deadline``).
   The update ``record_retest`` (a role of ``retest_roles``) records the score: at or above
   the pass mark, the cadre passed and the workflow ends; below it, handling.
3. **Handling** (组织处理): a step the same way (``capability_test.handling``); the update
   ``record_handling`` (a role of ``handling_roles``) records one of the policy's
   ``handling_options`` (逆向交流, 降职, 改任非领导职务), the reason and the document.

Every step is recorded in the workflow's audit chain (``workflows.cadre_records``).
History size: a few dozen events (three reminders, two steps with their ladders); nothing
loops without bound except waiting for calendar data an administrator has not supplied
(one retry a day, recorded once), so there is no continue-as-new. Changes to the order of
its commands while retests run (three months and more) go behind ``workflow.patched``.
"""

import asyncio
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.cadre_enums import RetestStatus
    from workflows.cadre_policy import CapabilityTestPolicy
    from workflows.cadre_records import chain_listing, record
    from workflows.cadre_steps import check_role, keep_step, refused, roles_text, today
    from workflows.capability_types import (
        CapabilityRetestInput,
        HandlingInput,
        HandlingRecord,
        RetestInput,
        RetestRecord,
        RetestState,
    )
    from workflows.deadlines import wait_until
    from workflows.glossary import CADRE_STEPS, zh
    from workflows.policy import Policy
    from workflows.rules import cadre_capability as rule
    from workflows.rules.dates import check_not_future
    from workflows.rules.errors import RuleViolation
    from workflows.rules.working_days import at_hour
    from workflows.types import CaseRow, StepSchedule, StepTiming

RETEST_STEP = "capability_retest"
HANDLING_STEP = "capability_handling"
RETEST = CADRE_STEPS["record_retest"]
HANDLING = CADRE_STEPS["record_handling"]


@workflow.defn
class CapabilityRetestWorkflow:
    @workflow.init
    def __init__(self, input: CapabilityRetestInput) -> None:
        self._input = input
        self._lock = asyncio.Lock()
        policy = input.policy.policy
        if policy.cadre is None:
            raise ApplicationError("政策文件缺少 cadre 一节", non_retryable=True)
        self._policy: Policy = policy
        self._rules: CapabilityTestPolicy = policy.cadre.capability_test
        months = self._rules.self_study_months
        self._state = RetestState(
            chain_id=workflow.info().workflow_id,
            campaign_id=input.campaign_id,
            person_id=input.person_id,
            name=input.name,
            unit=input.unit,
            post=input.post,
            first_score=input.score,
            self_study_ends_on=rule.self_study_ends_on(input.notified_on, months),
            retest_opens_on=rule.retest_opens_on(input.notified_on, months),
        )
        self._listing: CaseRow = chain_listing(
            self._state.chain_id, input.unit, input.post or "行政管理能力测试", input.notified_on
        )

    @workflow.run
    async def run(self, input: CapabilityRetestInput) -> RetestState:
        s = self._state
        await self._record(
            "capability_self_study",
            f"{s.name}（{s.unit}）能力测试成绩 {input.score} 分，不合格：自 {input.notified_on} "
            f"起自学 {self._rules.self_study_months} 个月至 {s.self_study_ends_on}，"
            f"{s.retest_opens_on} 起补测（合格线 {self._rules.pass_mark} 分）",
            payload={
                "person_id": s.person_id,
                "campaign_id": s.campaign_id,
                "score": str(input.score),
                "self_study_ends_on": str(s.self_study_ends_on),
                "retest_opens_on": str(s.retest_opens_on),
                "policy_version": self._policy.version,
            },
        )
        await self._reminders()
        async with self._lock:
            s.status = RetestStatus.AWAITING_RETEST
        await self._step(
            RETEST_STEP, s.retest_opens_on, self._rules.retest, lambda: s.retest is not None
        )
        if s.status is RetestStatus.AWAITING_HANDLING:
            assert s.retest is not None
            await self._step(
                HANDLING_STEP,
                s.retest.tested_on,
                self._rules.handling,
                lambda: s.handling is not None,
            )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return s

    # ------------------------------------------------------------------ 1. self-study

    async def _reminders(self) -> None:
        s = self._state
        for days in sorted(set(self._rules.reminder_days_before_retest), reverse=True):
            due_on = s.retest_opens_on - timedelta(days=days)
            moment = at_hour(due_on, self._policy.reminder_hour)
            missed = moment <= workflow.now()
            if not missed:
                await wait_until(lambda: False, moment)
            s.reminders_done.append(days)
            payload = {"person_id": s.person_id, "days_before": days, "due_on": str(due_on)}
            if missed:
                await self._record(
                    "capability_reminder_missed",
                    f"补测前 {days} 天（{due_on}）的提醒未发出：启动时提醒时间已过",
                    payload=payload,
                )
                continue
            roles = self._rules.reminder_roles
            text = (
                f"{s.name}（{s.unit}）的自学期将于 {s.self_study_ends_on} 届满，"
                f"{s.retest_opens_on} 起补测"
            )
            await self._record(
                "capability_reminder",
                f"提醒{roles_text(roles)}：{text}",
                payload=payload,
                mail=(
                    roles,
                    f"能力测试补测提醒：{s.name}",
                    f"{text}。\n\n（能力测试 {s.campaign_id}）",
                ),
            )

    # ------------------------------------------------------------------ 2 and 3. the steps

    async def _step(
        self, step: str, start_on: date, timing: StepTiming, done: Callable[[], bool]
    ) -> None:
        s = self._state
        what = RETEST if step == RETEST_STEP else HANDLING

        def scheduled(schedule: StepSchedule) -> None:
            if step == RETEST_STEP:
                s.retest_schedule = schedule
            else:
                s.handling_schedule = schedule

        await keep_step(
            s,
            self._listing,
            "capability",
            step,
            what,
            start_on,
            timing,
            done,
            self._lock,
            scheduled,
        )

    # ------------------------------------------------------------------ queries and updates

    @workflow.query
    def state(self) -> RetestState:
        return self._state

    @workflow.update
    async def record_retest(self, data: RetestInput) -> RetestState:
        async with self._lock:
            self._check_retest(data)
            s = self._state
            outcome = rule.outcome(
                data.score, rule.Attempt.RETEST, self._rules.pass_mark, self._rules.full_mark
            )
            s.attempt = rule.Attempt.RETEST
            s.retest = RetestRecord(
                tested_on=data.tested_on,
                score=data.score,
                outcome=outcome,
                actor=data.actor,
                recorded_at=workflow.now(),
            )
            s.overdue = False
            passed = outcome is rule.Outcome.PASSED
            s.status = RetestStatus.PASSED if passed else RetestStatus.AWAITING_HANDLING
            then = (
                "补测合格，办结"
                if passed
                else f"补测不合格，待{zh(self._rules.handling.responsible_role)}组织处理"
            )
            summary = (
                f"{data.tested_on} 补测成绩 {data.score} 分（合格线 {self._rules.pass_mark} 分），"
                f"登记人 {data.actor.name}（{zh(data.actor.role)}）：{then}"
            )
            await self._record(
                "capability_retest",
                summary,
                actor=data.actor,
                payload={"person_id": s.person_id, **data.model_dump(mode="json")},
                mail=(
                    [self._rules.handling.responsible_role, *self._rules.reminder_roles],
                    f"能力测试补测结果：{s.name}（{s.unit}）",
                    summary,
                ),
            )
            return s

    @record_retest.validator
    def _v_retest(self, data: RetestInput) -> None:
        self._check_retest(data)

    def _check_retest(self, data: RetestInput) -> None:
        s = self._state
        check_role(data.actor, self._rules.retest_roles, RETEST, rule.RULE_RETEST)
        try:
            if s.status is not RetestStatus.AWAITING_RETEST:
                raise RuleViolation(
                    f"{s.name}现在{zh(s.status)}，不能{RETEST}"
                    + (
                        f"（{s.retest_opens_on} 起补测）"
                        if s.status is RetestStatus.SELF_STUDY
                        else ""
                    ),
                    rule.RULE_RETEST,
                )
            check_not_future(data.tested_on, today(), "补测")
            rule.check_retest_date(
                data.tested_on, self._input.notified_on, self._rules.self_study_months
            )
            rule.check_score(data.score, self._rules.full_mark, s.name)
        except RuleViolation as e:
            raise refused(e) from e

    @workflow.update
    async def record_handling(self, data: HandlingInput) -> RetestState:
        async with self._lock:
            self._check_handling(data)
            s = self._state
            s.handling = HandlingRecord(
                decision=data.decision,
                decided_on=data.decided_on,
                reason=data.reason,
                reference=data.reference,
                actor=data.actor,
                recorded_at=workflow.now(),
            )
            s.status = RetestStatus.HANDLED
            s.overdue = False
            document = f"，文号 {data.reference}" if data.reference else ""
            summary = (
                f"{data.decided_on} 组织处理决定：{zh(data.decision)}（{data.reason}{document}），"
                f"登记人 {data.actor.name}（{zh(data.actor.role)}）"
            )
            await self._record(
                "capability_handling",
                summary,
                actor=data.actor,
                payload={"person_id": s.person_id, **data.model_dump(mode="json")},
                mail=(
                    self._rules.reminder_roles,
                    f"能力测试组织处理：{s.name}（{s.unit}）",
                    summary,
                ),
            )
            return s

    @record_handling.validator
    def _v_handling(self, data: HandlingInput) -> None:
        self._check_handling(data)

    def _check_handling(self, data: HandlingInput) -> None:
        s = self._state
        check_role(data.actor, self._rules.handling_roles, HANDLING, rule.RULE_RETEST)
        try:
            if s.status is not RetestStatus.AWAITING_HANDLING or s.retest is None:
                raise RuleViolation(f"{s.name}现在{zh(s.status)}，不能{HANDLING}", rule.RULE_RETEST)
            if data.decision not in self._rules.handling_options:
                allowed = "、".join(zh(o) for o in self._rules.handling_options)
                raise RuleViolation(
                    f"组织处理方式只能是：{allowed}（本地政策），不能是{zh(data.decision)}",
                    rule.RULE_RETEST,
                )
            check_not_future(data.decided_on, today(), "组织处理决定")
            if data.decided_on < s.retest.tested_on:
                raise RuleViolation(
                    f"组织处理决定日期 {data.decided_on} 早于补测日期 {s.retest.tested_on}",
                    rule.RULE_RETEST,
                )
        except RuleViolation as e:
            raise refused(e) from e

    # ------------------------------------------------------------------ plumbing

    async def _record(self, kind: str, summary: str, **kwargs: Any) -> None:
        await record(self._state, self._listing, kind, summary, **kwargs)
