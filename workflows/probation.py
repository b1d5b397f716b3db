"""``ProbationWorkflow``: one appointee's probation year (任职试用期), notice to review.

Started by the appointment case, as a child workflow, when the post requires probation
(or by ``appointments probation import`` for cadres already on probation at deployment),
with the ID ``probation_workflow_id(case_id, person_id)`` (``workflows.ids``: one ID per
appointee, never shared by two) and ID reuse rejected, so one appointee's probation can
never run twice; one started under the old form of ID runs on under it. The year begins on
the trial appointment notice (``starts_on``, day 1) and ends on ``probation_end(starts_on)``,
the day before the same date a year later.

What it does, in order:

1. **Reminders** so many calendar days before the last day (policy
   ``probation.reminder_days_before_end``, e.g. 60, 30, 7 and 0), at the policy's
   reminder hour, mailed to ``probation.reminder_roles``. A reminder whose moment had
   already passed when the probation started (an import) is recorded as missed, not sent.
2. **Review** (考核): the update ``record_review``, accepted from
   ``review_window_days_before_end`` days before the end, once, from a role of
   ``probation.review_roles``. Competent → formal appointment (正式任职) when the year is
   over, the year counting toward time in post; not competent → removed from the trial post
   (免去试任职务) at once, the former rank restored in the record.
3. **Early end**: the update ``end_early`` (serious errors), with the reason and who decided.
4. **Overdue review**: no review by the end of the year → a deadline so many working days
   later (``probation.review``, computed by the calendar activity ``schedule_step``) with
   its reminders and escalation ladder (``workflows.deadlines.keep_deadline``).

Every step is recorded in ``probation_events`` (idempotent by (probation_id, seq)) and every
notification is mailed through ``activities.mail`` with the same key.

History size: a full year (four reminders, the review, the formal appointment) is about
120 events; one that also climbs the whole overdue ladder about 190; far below Temporal's
limits (``tests/probation/test_long_run.py`` keeps a full year under 150). The only loop
that can grow without bound is waiting for calendar data an administrator has not
supplied (one retry a day); it, and every phase boundary, continues as new once the
history reaches ``ProbationInput.history_limit`` events or Temporal suggests it. All
state that must survive lives in ``ProbationState`` and travels in ``ProbationInput.carry``
together with the policy snapshot the probation started with.

Changing this workflow while probations run (each runs for a year, so there always are):
any change in the order or number of activities, timers, or child commands breaks replay
of the running ones. Guard such a change with ``workflow.patched("probation-<change-id>")``
and keep the old branch until no running probation needs it (after at most a year and the
review's ladder, or sooner by continue-as-new: a new run starts on the new code). New
fields of the models get defaults. Before release, replay the saved histories:
``tests/histories/probation_*.json`` (``tests/probation/test_replay.py``) fails the build
when a change is not guarded; regenerate them with
``tests/histories/make_probation_histories.py`` only for a deliberate, guarded change.
"""

import asyncio
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.activity_refs import (
        LOAD_POLICY,
        RECORD_PROBATION_EVENT,
        SCHEDULE_STEP,
        SEND_MAIL,
        ActivityRef,
        call,
    )
    from workflows.deadlines import keep_deadline, wait_until
    from workflows.glossary import PROBATION_STATUSES, PROBATION_STEPS, REVIEW_OUTCOMES, zh
    from workflows.ids import probation_id_accepted
    from workflows.policy import Policy, PolicySnapshot
    from workflows.probation_letters import (
        formal_appointment_mail,
        letter,
        reminder_mail,
        review_alarm_mail,
        who,
    )
    from workflows.probation_types import (
        EarlyEndRecord,
        EndEarlyInput,
        MailRequest,
        MailResult,
        ProbationCarry,
        ProbationEventInput,
        ProbationInput,
        ProbationRoles,
        ProbationState,
        ProbationStatus,
        ReminderMark,
        ReminderOutcome,
        ReviewInput,
        ReviewOutcome,
        ReviewRecord,
        ReviewStatus,
        probation_end,
        review_opens_on,
    )
    from workflows.rules.dates import RULE_NOT_FUTURE, check_not_future
    from workflows.rules.errors import RuleViolation
    from workflows.rules.sources import source
    from workflows.rules.working_days import SHANGHAI, at_hour, end_of_day
    from workflows.steps import NOT_PERMITTED
    from workflows.types import (
        Actor,
        Alarm,
        PolicyRequest,
        Role,
        ScheduleStepInput,
        StepSchedule,
    )

# Technical limits of calls to activities (not regulation values, which come from the policy).
In = TypeVar("In")
Out = TypeVar("Out")
ACTIVITY_TIMEOUT = timedelta(seconds=30)
ACTIVITY_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1))
MAIL_TIMEOUT = timedelta(seconds=120)
# About an hour of tries; then the message stays "pending" in the outbox with its last
# error, and the probation goes on (a mail server outage must not stop the year).
MAIL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=12,
)
CALENDAR_RETRY_EVERY = timedelta(days=1)
REVIEW_STEP = "probation_review"

SYSTEM = Actor(name="系统", role=Role.SYSTEM)

RULE_REVIEW = "probation.review"
RULE_END_EARLY = "probation.end_early"
RULE_DATES = RULE_NOT_FUTURE
# The steps a clerk takes on a probation, by their names in the glossary.
REVIEW = PROBATION_STEPS["record_probation_review"]
END_EARLY = PROBATION_STEPS["end_probation_early"]


def _refuse(message: str, rule: str) -> ApplicationError:
    """A refusal as Temporal carries it: the sentence, then the rule's code and source."""
    return ApplicationError(message, rule, source(rule), type="RuleViolation", non_retryable=True)


def _not_future(d: date, today: date, what: str) -> None:
    try:
        check_not_future(d, today, what)
    except RuleViolation as e:
        raise _refuse(e.message, e.rule) from e


def _calendar_problem(e: ActivityError) -> str | None:
    cause = e.cause
    if isinstance(cause, ApplicationError) and cause.type == "CalendarYearMissing":
        return cause.message
    return None


def _alarm_key(alarm: Alarm) -> str:
    return f"{alarm.kind}-{alarm.rung}-{alarm.at.isoformat()}"


def end_of_year(s: ProbationState) -> datetime:
    """The instant the probation year is over (the end of its last day, in China)."""
    return end_of_day(s.ends_on)


def _roles(roles: list[Role]) -> str:
    return "、".join(zh(r) for r in roles)


# --------------------------------------------------------------------------- the workflow


@workflow.defn
class ProbationWorkflow:
    @workflow.init
    def __init__(self, input: ProbationInput) -> None:
        self._input = input
        self._lock = asyncio.Lock()
        carry = input.carry
        self._snapshot: PolicySnapshot | None = carry.policy if carry else None
        self._state: ProbationState | None = carry.state if carry else None
        if self._state is not None:
            self._state.runs += 1
        self._ready = self._state is not None

    # ------------------------------------------------------------------ run

    @workflow.run
    async def run(self, input: ProbationInput) -> ProbationState:
        if self._state is None:
            async with self._lock:
                await self._open(input)
        await self._reminders()
        await self._continue_as_new_if_long()
        await wait_until(lambda: not self._active(), end_of_year(self.s))
        if self._active() and self.s.review is None:
            await self._review_deadline()
        async with self._lock:
            if self._active() and self.s.review_status is ReviewStatus.COMPETENT:
                await self._formal_appointment()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.s

    async def _open(self, input: ProbationInput) -> None:
        # The ID it runs under is its name everywhere (events, mail, the listing): a
        # probation started under the old form of ID keeps that one (workflows.ids).
        probation_id = workflow.info().workflow_id
        if not probation_id_accepted(probation_id, input.case_id, input.person_id):
            raise ApplicationError(
                f"案件 {input.case_id} 中 {input.person_id} 的试用期须以工作流 "
                f"{input.workflow_id} 运行，而不是 {probation_id}：这一编号保证同一试用期不会"
                "运行两次",
                type="ProbationIdMismatch",
                non_retryable=True,
            )
        snapshot = await self._activity(LOAD_POLICY, PolicyRequest(case_id=probation_id))
        today = self._today()
        if input.starts_on > today:
            raise ApplicationError(
                f"{input.name}的试用期将从 {input.starts_on} 开始，晚于今天（{today}）："
                "试用期自试任职通知之日起计算，该通知须已发出",
                type="RuleViolation",
                non_retryable=True,
            )
        self._snapshot = snapshot
        ends_on = probation_end(input.starts_on)
        window = snapshot.policy.probation.review_window_days_before_end
        s = self._state = ProbationState(
            probation_id=probation_id,
            case_id=input.case_id,
            person_id=input.person_id,
            name=input.name,
            unit=input.unit,
            post=input.post,
            former_rank=input.former_rank,
            former_post=input.former_post,
            imported=input.imported,
            starts_on=input.starts_on,
            ends_on=ends_on,
            review_opens_on=review_opens_on(ends_on, window),
        )
        how = "补录（引入时已在试用期中）" if input.imported else "开始"
        await self._record(
            "opened",
            f"试用期{how}：{s.name}（{s.person_id}），{s.unit}{s.post}，"
            f"{s.starts_on} 至 {s.ends_on}；{s.review_opens_on} 起可考核；"
            f"政策版本 {snapshot.policy.version}",
            payload={
                "input": input.model_dump(mode="json", exclude={"carry"}),
                "policy_version": snapshot.policy.version,
                "policy_digest": snapshot.digest,
                "policy_source": snapshot.source,
            },
        )
        self._ready = True

    # ------------------------------------------------------------------ 1. reminders

    async def _reminders(self) -> None:
        s = self.s
        done = {m.days_before_end for m in s.reminders}
        for days in sorted(set(self.policy.probation.reminder_days_before_end), reverse=True):
            if days in done:
                continue
            if self._settled():
                return
            await self._continue_as_new_if_long()
            due_on = s.ends_on - timedelta(days=days)
            moment = at_hour(due_on, self.policy.reminder_hour)
            missed = moment <= workflow.now()
            if not missed and await wait_until(self._settled, moment):
                return
            async with self._lock:
                if self._settled():
                    return
                await self._remind(days, due_on, missed)

    async def _remind(self, days: int, due_on: date, missed: bool) -> None:
        s = self.s
        outcome = ReminderOutcome.MISSED if missed else ReminderOutcome.SENT
        s.reminders.append(ReminderMark(days_before_end=days, due_on=due_on, outcome=outcome))
        payload = {"days_before_end": days, "due_on": due_on.isoformat(), "ends_on": str(s.ends_on)}
        if missed:
            await self._record(
                "reminder_missed",
                f"届满前 {days} 天（{due_on}）的提醒未发出：补录（或开始）试用期时提醒时间已过",
                payload=payload,
            )
            return
        roles = self.policy.probation.reminder_roles
        subject, body = reminder_mail(s, days)
        await self._record(
            "reminder",
            f"提醒{_roles(roles)}：试用期将于 {s.ends_on} 届满（{due_on} 起还有 {days} 天）；"
            f"{s.review_opens_on} 起可考核",
            payload=payload,
            mail=(roles, subject, body),
        )

    # ------------------------------------------------------------------ 4. overdue review

    async def _review_deadline(self) -> None:
        s = self.s
        if s.review_schedule is None:
            schedule = await self._review_schedule()
            if schedule is None:
                return
            async with self._lock:
                if self._settled():
                    return
                s.review_schedule, s.blocked_reason = schedule, ""
                await self._record(
                    "deadline",
                    f"试用期已于 {s.ends_on} 届满，尚未考核：考核须于 {schedule.deadline_on} "
                    f"日终前完成（{self.policy.probation.review.deadline_working_days} 个工作日；"
                    f"工作日历：{schedule.calendar_source}）",
                    payload=schedule.model_dump(mode="json"),
                )
        await self._continue_as_new_if_long()
        schedule = s.review_schedule
        assert schedule is not None
        # after continue-as-new, only what the previous runs did not do yet
        pending = schedule.model_copy(
            update={"alarms": [a for a in schedule.alarms if _alarm_key(a) not in s.alarms_done]}
        )

        async def on_alarm(alarm: Alarm) -> None:
            await self._review_alarm(schedule, alarm)

        await keep_deadline(pending, self._settled, on_alarm, self._review_overdue)

    async def _review_schedule(self) -> StepSchedule | None:
        """The review's deadline; while the calendar lacks a year, retry daily (and say so)."""
        s = self.s
        request = ScheduleStepInput(
            case_id=s.probation_id,
            step=REVIEW_STEP,
            start_on=s.ends_on,
            timing=self.policy.probation.review,
        )
        while True:
            try:
                result = await self._activity(SCHEDULE_STEP, request)
                return result
            except ActivityError as e:
                problem = _calendar_problem(e)
                if problem is None:
                    raise
            async with self._lock:
                if self._settled():
                    return None
                if s.blocked_reason != problem:
                    s.blocked_reason = problem
                    await self._record(
                        "blocked",
                        f"无法计算考核期限：{problem}；每日重试",
                        mail=(
                            [Role.ADMINISTRATOR],
                            f"工作日历缺失：试用期 {s.probation_id} 无法计算考核期限",
                            letter(s, f"无法计算试用期考核期限：{problem}"),
                        ),
                    )
            if await wait_until(self._settled, workflow.now() + CALENDAR_RETRY_EVERY):
                return None
            await self._continue_as_new_if_long()

    async def _review_alarm(self, schedule: StepSchedule, alarm: Alarm) -> None:
        async with self._lock:
            s = self.s
            key = _alarm_key(alarm)
            if self._settled() or key in s.alarms_done:
                return
            s.alarms_done.append(key)
            due = schedule.deadline_on
            subject, body = review_alarm_mail(s, alarm, due)
            if alarm.kind == "reminder":
                summary = f"提醒{zh(alarm.role)}：{REVIEW}将于 {due} 到期"
            else:
                summary = (
                    f"第{alarm.rung}级督办，报{zh(alarm.role)}：{REVIEW}应于 {due} 完成，至今未登记"
                )
            await self._record(
                alarm.kind,
                summary,
                payload=alarm.model_dump(mode="json"),
                mail=([alarm.role], subject, body),
            )

    async def _review_overdue(self) -> None:
        async with self._lock:
            s = self.s
            if self._settled() or s.review_overdue:
                return
            s.review_overdue = True
            await self._record(
                "overdue", f"{REVIEW}已于 {s.review_due_on} 逾期（试用期于 {s.ends_on} 届满）"
            )

    # ------------------------------------------------------------------ closing

    async def _formal_appointment(self) -> None:
        s = self.s
        s.status = ProbationStatus.FORMALLY_APPOINTED
        s.review_overdue = False
        s.closed_on = max(self._today(), s.ends_on)
        subject, body = formal_appointment_mail(s)
        await self._record(
            "formal",
            f"{PROBATION_STATUSES[s.status]}：试用期于 {s.ends_on} 届满，考核{s.name}"
            f"{REVIEW_OUTCOMES[ReviewOutcome.COMPETENT]}；任职时间自 {s.starts_on} 起计算",
            mail=(self.policy.probation.reminder_roles, subject, body),
        )

    # ------------------------------------------------------------------ queries

    @workflow.query
    def state(self) -> ProbationState:
        return self.s

    @workflow.query
    def roles(self) -> ProbationRoles | None:
        """Who may record a review and an early end (None while the policy is read): doors
        ask this to offer a form, the validators decide."""
        if self._snapshot is None:
            return None
        probation = self._snapshot.policy.probation
        return ProbationRoles(review=probation.review_roles, end_early=probation.end_early_roles)

    # ------------------------------------------------------------------ updates

    @workflow.update
    async def record_review(self, data: ReviewInput) -> ProbationState:
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            self._check_review(data)  # again: the probation may have changed meanwhile
            s = self.s
            now = workflow.now()
            s.review = ReviewRecord(
                outcome=data.outcome,
                reviewed_on=data.reviewed_on,
                actor=data.actor,
                summary=data.summary,
                reference=data.reference,
                recorded_at=now,
            )
            label = REVIEW_OUTCOMES[data.outcome]
            lines = [f"考核日期：{data.reviewed_on}", f"考核意见：{data.summary}"]
            if data.reference:
                lines.append(f"文号：{data.reference}")
            if data.outcome is ReviewOutcome.COMPETENT:
                s.review_status = ReviewStatus.COMPETENT
                s.time_in_post_from = s.starts_on
                outcome = (
                    f"{label}：试用期于 {s.ends_on} 届满后正式任职，"
                    f"试用期自 {s.starts_on} 起计入任职时间"
                )
                if self._today() > s.ends_on:
                    outcome = f"{label}：即行正式任职（试用期已于 {s.ends_on} 届满）"
                headline = (
                    f"{s.name}同志试用期满考核结果：胜任。试用期满后正式任职，试用期计入任职时间。"
                )
            else:
                s.review_status = ReviewStatus.NOT_COMPETENT
                s.status = ProbationStatus.REMOVED
                s.rank_restored = s.former_rank
                s.closed_on = self._today()
                s.review_overdue = False
                restored = s.former_rank or "（未登记）"
                outcome = f"{label}：{PROBATION_STATUSES[s.status]}，恢复原职级：{restored}"
                headline = (
                    f"{s.name}同志试用期满考核结果：不胜任。免去试任职务，"
                    f"恢复原职级：{s.former_rank or '（未登记）'}。"
                )
            await self._record(
                "review",
                f"{data.reviewed_on} {REVIEW}，考核人 {data.actor.name}（{zh(data.actor.role)}）："
                f"{outcome}",
                actor=data.actor,
                payload=data.model_dump(mode="json"),
                mail=(
                    self.policy.probation.reminder_roles,
                    f"试用期考核结果：{who(s)}{label}",
                    letter(s, headline, *lines),
                ),
            )
            return s

    @record_review.validator
    def _v_review(self, data: ReviewInput) -> None:
        if self._ready:
            self._check_review(data)

    @workflow.update
    async def end_early(self, data: EndEarlyInput) -> ProbationState:
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            self._check_end_early(data)
            s = self.s
            s.early_end = EarlyEndRecord(
                decided_on=data.decided_on,
                decided_by=data.decided_by,
                reason=data.reason,
                actor=data.actor,
                reference=data.reference,
                recorded_at=workflow.now(),
            )
            s.status = ProbationStatus.ENDED_EARLY
            if s.review is None:
                s.review_status = ReviewStatus.NOT_HELD
            s.rank_restored = s.former_rank
            s.closed_on = data.decided_on
            s.review_overdue = False
            restored = s.former_rank or "（未登记）"
            await self._record(
                "ended_early",
                f"试用期于 {data.decided_on} 提前结束（决定机关：{data.decided_by}）："
                f"{data.reason}；{PROBATION_STATUSES[ProbationStatus.REMOVED]}，"
                f"恢复原职级：{restored}",
                actor=data.actor,
                payload=data.model_dump(mode="json"),
                mail=(
                    self.policy.probation.reminder_roles,
                    f"试用期提前结束：{who(s)}",
                    letter(
                        s,
                        f"{s.name}同志的试用期于 {data.decided_on} 提前结束，免去试任职务，"
                        f"恢复原职级：{restored}。",
                        f"决定机关：{data.decided_by}",
                        f"原因：{data.reason}",
                        *([f"文号：{data.reference}"] if data.reference else []),
                    ),
                ),
            )
            return s

    @end_early.validator
    def _v_end_early(self, data: EndEarlyInput) -> None:
        if self._ready:
            self._check_end_early(data)

    # ------------------------------------------------------------------ the rules of the updates

    def _check_open(self, what: str, rule: str) -> None:
        s = self.s
        if s.status is not ProbationStatus.ON_PROBATION:
            raise _refuse(
                f"{s.name}的试用期已结束（{PROBATION_STATUSES[s.status]}，{s.closed_on}）："
                f"不能再登记{what}",
                rule,
            )

    def _check_role(self, actor: Actor, allowed: list[Role], what: str, rule: str) -> None:
        if actor.role not in allowed:
            raise ApplicationError(
                f"{what}只能由{_roles(allowed)}登记（本地政策）；{actor.name}是{zh(actor.role)}",
                rule,
                type=NOT_PERMITTED,
                non_retryable=True,
            )

    def _check_review(self, data: ReviewInput) -> None:
        s = self.s
        today = self._today()
        self._check_open(REVIEW, RULE_REVIEW)
        if s.review is not None:
            raise _refuse(
                f"{s.name}的{REVIEW}已经登记（{REVIEW_OUTCOMES[s.review.outcome]}，"
                f"{s.review.reviewed_on}，考核人 {s.review.actor.name}）；不能再次考核",
                RULE_REVIEW,
            )
        self._check_role(data.actor, self.policy.probation.review_roles, REVIEW, RULE_REVIEW)
        window = self.policy.probation.review_window_days_before_end
        if today < s.review_opens_on:
            raise _refuse(
                f"{s.name}的{REVIEW}自 {s.review_opens_on} 起进行（试用期于 {s.ends_on} "
                f"届满，提前 {window} 天）；今天是 {today}",
                RULE_REVIEW,
            )
        _not_future(data.reviewed_on, today, REVIEW)
        if data.reviewed_on < s.review_opens_on:
            raise _refuse(
                f"考核日期 {data.reviewed_on} 早于可考核日期 {s.review_opens_on}"
                f"（试用期于 {s.ends_on} 届满，提前 {window} 天）",
                RULE_REVIEW,
            )

    def _check_end_early(self, data: EndEarlyInput) -> None:
        s = self.s
        self._check_open(END_EARLY, RULE_END_EARLY)
        self._check_role(
            data.actor, self.policy.probation.end_early_roles, END_EARLY, RULE_END_EARLY
        )
        _not_future(data.decided_on, self._today(), f"{END_EARLY}的决定")
        if data.decided_on < s.starts_on:
            raise _refuse(
                f"决定日期 {data.decided_on} 早于试用期开始日期 {s.starts_on}", RULE_END_EARLY
            )

    # ------------------------------------------------------------------ plumbing

    @property
    def s(self) -> ProbationState:
        if self._state is None:
            raise ApplicationError("试用期正在启动，请稍后再试")
        return self._state

    @property
    def policy(self) -> Policy:
        assert self._snapshot is not None
        return self._snapshot.policy

    def _active(self) -> bool:
        return self.s.status is ProbationStatus.ON_PROBATION

    def _settled(self) -> bool:
        """Nothing more to remind anyone of: reviewed, or over."""
        return self.s.review is not None or not self._active()

    def _today(self) -> date:
        return workflow.now().astimezone(SHANGHAI).date()

    async def _continue_as_new_if_long(self) -> None:
        info = workflow.info()
        if (
            info.get_current_history_length() < self._input.history_limit
            and not info.is_continue_as_new_suggested()
        ):
            return
        await workflow.wait_condition(
            lambda: workflow.all_handlers_finished() and not self._lock.locked()
        )
        assert self._snapshot is not None
        carry = ProbationCarry(state=self.s, policy=self._snapshot)
        workflow.continue_as_new(self._input.model_copy(update={"carry": carry}))

    async def _activity(self, ref: ActivityRef[In, Out], arg: In) -> Out:
        return await call(
            ref, arg, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=ACTIVITY_RETRY
        )

    async def _record(
        self,
        kind: str,
        summary: str,
        *,
        actor: Actor = SYSTEM,
        payload: dict[str, Any] | None = None,
        mail: tuple[list[Role], str, str] | None = None,
    ) -> None:
        """Record one event and, with it, mail its notification (same key, both idempotent)."""
        s = self.s
        s.events_recorded += 1
        event = ProbationEventInput(
            probation_id=s.probation_id,
            seq=s.events_recorded,
            kind=kind,
            occurred_at=workflow.now(),
            actor_name=actor.name,
            actor_role=actor.role,
            summary=summary,
            payload=payload or {},
            row=s.row(),
        )
        recording = self._activity(RECORD_PROBATION_EVENT, event)
        if mail is None:
            await recording
            return
        roles, subject, body = mail
        request = MailRequest(
            source=s.probation_id, seq=event.seq, roles=roles, subject=subject, body=body
        )
        await asyncio.gather(recording, self._mail(request))

    async def _mail(self, request: MailRequest) -> MailResult | None:
        try:
            result = await call(
                SEND_MAIL, request, start_to_close_timeout=MAIL_TIMEOUT, retry_policy=MAIL_RETRY
            )
        except ActivityError as e:
            # the outbox keeps the message as pending with its last error
            workflow.logger.warning(
                "mail %s#%s not delivered: %s", request.source, request.seq, e.cause or e
            )
            return None
        return result
