"""The rotation scan's activities (reading the register, recording what a scan found), its
schedule, and the rotation batch's (a cadre's new post in the register on arrival)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.policy import read_policy
from activities.probation_parts import SCHEDULE_TIME_ZONE
from settings import Settings
from store.register import RegisterRefused, record_rotation_arrival, record_rotation_scan
from store.register_queries import register_posts
from workflows.register_types import (
    RecordRotationScanInput,
    RegisterReadInput,
    RegisterReadResult,
    RotationScanInput,
)
from workflows.rotation import ROTATION_SCAN_SCHEDULE_ID, RotationScanWorkflow
from workflows.rotation_batch_types import RotationArrivalInput, RotationArrivalResult

# a scan missed while the service was down is run when it is back within a week
CATCHUP = timedelta(days=7)


class RotationActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn
    async def read_register_posts(self, request: RegisterReadInput) -> RegisterReadResult:
        async with self._sessions() as session:
            return RegisterReadResult(people=await register_posts(session))

    @activity.defn
    async def record_rotation_scan(self, request: RecordRotationScanInput) -> bool:
        # idempotent: the scan's rows are written once per scan id
        async with self._sessions() as session, session.begin():
            return await record_rotation_scan(session, request.result)

    @activity.defn
    async def record_rotation_arrival(self, move: RotationArrivalInput) -> RotationArrivalResult:
        # idempotent: a version that already holds the new post is the answer
        try:
            async with self._sessions() as session, session.begin():
                return await record_rotation_arrival(session, move)
        except RegisterRefused as exc:
            raise ApplicationError(str(exc), type="RegisterRefused", non_retryable=True) from exc


def rotation_schedule(task_queue: str, hour: int, day: int) -> Schedule:
    """On the policy's day of every month, at its reminder hour (Beijing time)."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            RotationScanWorkflow.run,
            RotationScanInput(),
            id=ROTATION_SCAN_SCHEDULE_ID,
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    day_of_month=[ScheduleRange(day)],
                    hour=[ScheduleRange(hour)],
                    minute=[ScheduleRange(0)],
                    second=[ScheduleRange(0)],
                    comment=f"monthly rotation scan, day {day} at {hour:02d}:00 on {task_queue}",
                )
            ],
            time_zone_name=SCHEDULE_TIME_ZONE,
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=CATCHUP),
    )


async def ensure_rotation_schedule(client: Client, settings: Settings) -> str:
    """Create the rotation scan's schedule once (a second call finds it): created, exists,
    unsupported (a server without Schedules: the time-skipping test server), or no policy (the
    policy has no ``cadre`` section)."""
    policy = read_policy(settings.policy_file).policy
    if policy.cadre is None:  # no rotation in this policy: nothing to scan for
        return "no policy"
    day = policy.cadre.rotation.scan_day_of_month
    try:
        await client.create_schedule(
            ROTATION_SCAN_SCHEDULE_ID,
            rotation_schedule(settings.task_queue, policy.reminder_hour, day),
        )
    except ScheduleAlreadyRunningError:
        return "exists"
    except RPCError as exc:
        if exc.status is RPCStatusCode.UNIMPLEMENTED:
            return "unsupported"
        raise
    return "created"
