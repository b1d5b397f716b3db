"""One human step of a cadre workflow (a retest, a handling decision, a committee vote, a
rotation's document or arrival): its deadline from the working-day calendar, reminders before
it and the escalation ladder after it, each recorded in the workflow's chain and mailed to the
role it names; and how such a step is refused (a role the workflow's policy does not name, a
rule), the same sentence in every cadre workflow.

The same machinery as a case's steps: the schedule comes from the calendar activity
``schedule_step`` (so replay sees the recorded dates) and is kept by
``workflows.deadlines.keep_deadline``. While the calendar lacks a year the step is recorded
as blocked once, the administrator is mailed, and the schedule is asked for again daily.

Workflow code only: deterministic, everything through activities.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, timedelta
from typing import Protocol

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.activity_refs import SCHEDULE_STEP, call
from workflows.cadre_records import ACTIVITY_RETRY, ACTIVITY_TIMEOUT, record
from workflows.deadlines import keep_deadline, wait_until
from workflows.glossary import zh
from workflows.rules.errors import RuleViolation
from workflows.rules.sources import source
from workflows.rules.working_days import SHANGHAI
from workflows.steps import NOT_PERMITTED
from workflows.types import (
    Actor,
    Alarm,
    CaseRow,
    Role,
    ScheduleStepInput,
    StepSchedule,
    StepTiming,
)

CALENDAR_RETRY_EVERY = timedelta(days=1)


def refused(e: RuleViolation) -> ApplicationError:
    """A rule's refusal of a step as the update's failure: its sentence, rule and source."""
    return ApplicationError(
        e.message, e.rule, source(e.rule), type="RuleViolation", non_retryable=True
    )


def roles_text(roles: list[Role]) -> str:
    return "、".join(zh(r) for r in roles)


def check_role(actor: Actor, allowed: list[Role], what: str, rule: str) -> None:
    """Refuse the step ``what`` unless the workflow's policy names the actor's role."""
    if actor.role not in allowed:
        raise ApplicationError(
            f"{what}只能由{roles_text(allowed)}登记（本地政策）；{actor.name}是{zh(actor.role)}",
            rule,
            type=NOT_PERMITTED,
            non_retryable=True,
        )


def today() -> date:
    """The workflow's day in Beijing (its clock, so replay sees the same day)."""
    return workflow.now().astimezone(SHANGHAI).date()


class Stepped(Protocol):
    chain_id: str
    events_recorded: int
    person_id: str
    name: str
    unit: str
    overdue: bool
    blocked_reason: str


async def keep_step(
    state: Stepped,
    listing: CaseRow,
    prefix: str,  # the event kinds' prefix: capability, removal
    step: str,  # the step's key for the calendar activity
    what: str,  # the step in Chinese
    start_on: date,
    timing: StepTiming,
    done: Callable[[], bool],
    lock: asyncio.Lock,
    scheduled: Callable[[StepSchedule], None],
) -> None:
    """Wait for ``done()`` with the step's deadline, reminders and escalation ladder;
    ``scheduled`` keeps the schedule in the workflow's state as soon as it is known."""
    s = state
    request = ScheduleStepInput(case_id=s.chain_id, step=step, start_on=start_on, timing=timing)
    schedule: StepSchedule | None = None
    while schedule is None:
        try:
            schedule = await call(
                SCHEDULE_STEP,
                request,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=ACTIVITY_RETRY,
            )
        except ActivityError as e:
            cause = e.cause
            if not (isinstance(cause, ApplicationError) and cause.type == "CalendarYearMissing"):
                raise
            if s.blocked_reason != cause.message:
                s.blocked_reason = cause.message
                await record(
                    s,
                    listing,
                    f"{prefix}_blocked",
                    f"无法计算{what}的期限：{cause.message}；每日重试",
                    mail=([Role.ADMINISTRATOR], f"工作日历缺失：{s.chain_id}", cause.message),
                )
            if await wait_until(done, workflow.now() + CALENDAR_RETRY_EVERY):
                return
    async with lock:
        scheduled(schedule)
        s.blocked_reason = ""
        s.overdue = False
        await record(
            s,
            listing,
            f"{prefix}_deadline",
            f"{s.name}的{what}：{zh(timing.responsible_role)}须于 {schedule.deadline_on} 日终前办理"
            f"（{timing.deadline_working_days} 个工作日；工作日历：{schedule.calendar_source}）",
            payload={"person_id": s.person_id, **schedule.model_dump(mode="json")},
        )
    due = schedule.deadline_on

    async def on_alarm(alarm: Alarm) -> None:
        if done():
            return
        if alarm.kind == "reminder":
            summary = f"提醒{zh(alarm.role)}：{s.name}的{what}将于 {due} 到期"
        else:
            summary = (
                f"第{alarm.rung}级督办，报{zh(alarm.role)}：{s.name}的{what}应于 {due} 完成，"
                "至今未登记"
            )
        await record(
            s,
            listing,
            f"{prefix}_alarm",
            summary,
            payload={"person_id": s.person_id, **alarm.model_dump(mode="json")},
            mail=([alarm.role], summary, f"{summary}。\n\n（{s.unit}；{s.chain_id}）"),
        )

    async def on_overdue() -> None:
        async with lock:
            if done():
                return
            s.overdue = True
            await record(s, listing, f"{prefix}_overdue", f"{s.name}的{what}已于 {due} 逾期")

    await keep_deadline(schedule, done, on_alarm, on_overdue)
