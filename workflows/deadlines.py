"""One way to wait on a human step: reminders before its deadline, escalation after it.

Used by every workflow that waits for people. The schedule (deadline, reminder and
escalation moments) is computed by an activity from the working-day calendar, so replay
sees the recorded dates; this module only waits on them, deterministically.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from temporalio import workflow

from workflows.types import Alarm, StepSchedule

# An escalation already past is not sent for a step done while its overdue mark was recorded.
NO_ALARM_WHEN_DONE_PATCH = "no-escalation-when-done"


async def wait_until(done: Callable[[], bool], moment: datetime) -> bool:
    """Wait until ``done()`` or ``moment``; True if done, False if the moment came first."""
    remaining = moment - workflow.now()
    if remaining.total_seconds() <= 0:
        return done()
    try:
        await workflow.wait_condition(done, timeout=remaining)
    except TimeoutError:
        return done()
    return True


def already_due(schedule: StepSchedule, now: datetime) -> tuple[bool, Alarm | None]:
    """What a wait beginning at ``now`` owes at once (a case brought in late): the overdue mark
    if the deadline is past, and then only the highest escalation rung already reached, so that
    a late import does not flood anyone's inbox."""
    if schedule.deadline_at > now:
        return False, None
    rungs = [a for a in schedule.alarms if a.at <= now and a.kind == "escalation"]
    return True, rungs[-1] if rungs else None


async def keep_deadline(
    schedule: StepSchedule,
    done: Callable[[], bool],
    on_alarm: Callable[[Alarm], Awaitable[None]],
    on_overdue: Callable[[], Awaitable[None]],
    sent_until: datetime | None = None,
    give_up_at: datetime | None = None,
    patched: Callable[[str], bool] = workflow.patched,
) -> None:
    """Wait for ``done()``, firing each reminder, the deadline, then each escalation rung.

    Alarms already past when the wait begins (a case brought in late) are not replayed one by
    one: the deadline, if past, is marked at once, and only the highest rung already reached
    is sent, so a late import does not flood anyone's inbox. ``sent_until``: a run continued
    from another, whose alarms and overdue mark up to that moment were sent; only later ones
    are. ``give_up_at``: a limit the step cannot pass (a suspension's national three months):
    the wait ends there, done or not, and no alarm at or after it is sent. ``patched``: how
    the workflow asks for a patch (``workflows.patches``).
    """
    now = workflow.now()
    if sent_until is not None:
        schedule = schedule.model_copy(
            update={"alarms": [a for a in schedule.alarms if a.at > sent_until]}
        )
    overdue, past_rung = already_due(schedule, now)
    overdue_sent = sent_until is not None and schedule.deadline_at <= sent_until
    if overdue and not done():
        if not overdue_sent:
            await on_overdue()
        # the step may have been done while the overdue mark was recorded: no escalation
        # then (histories from before the patch sent it all the same, and replay so)
        if past_rung is not None and (not done() or not patched(NO_ALARM_WHEN_DONE_PATCH)):
            await on_alarm(past_rung)
    moments: list[tuple[datetime, Alarm | None]] = [
        (a.at, a) for a in schedule.alarms if a.at > now
    ]
    if schedule.deadline_at > now:
        moments.append((schedule.deadline_at, None))
    moments.sort(key=lambda m: m[0])
    if give_up_at is not None:
        moments = [m for m in moments if m[0] < give_up_at]
    for moment, alarm in moments:
        if await wait_until(done, moment):
            return
        if alarm is None:
            await on_overdue()
        else:
            await on_alarm(alarm)
    if give_up_at is None:
        await workflow.wait_condition(done)
    else:
        await wait_until(done, give_up_at)
