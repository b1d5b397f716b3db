"""Every activity the workflows call, as a typed reference: its registered name, its input
and its result. Workflows call ``call(REF, arg, ...)``, so the result type is never passed by
hand and a wrong input fails the type check; ``tests/test_activity_refs.py`` checks each
reference against the activity the worker registers under its name (same input, same
result), so a renamed or retyped activity cannot go unnoticed.

The registered names are the activity types recorded in every history: they never change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from temporalio import workflow

from workflows.checkpoint_types import CheckpointRequest, CheckpointResult
from workflows.policy import PolicySnapshot
from workflows.probation_types import (
    Digest,
    DigestRequest,
    MailRequest,
    MailResult,
    ProbationEventInput,
)
from workflows.register_types import (
    RecordRotationScanInput,
    RegisterReadInput,
    RegisterReadResult,
)
from workflows.rotation_batch_types import RotationArrivalInput, RotationArrivalResult
from workflows.types import (
    PolicyRequest,
    RecordEventInput,
    RecordEventsInput,
    ScheduleStepInput,
    StepSchedule,
    WorkingDaysEndsInput,
    WorkingDaysEndsResult,
    WorkingDaysInput,
    WorkingDaysResult,
)

# the name of the history's marker that keeps a local activity's result (the SDK's core)
LOCAL_ACTIVITY_MARKER = "core_local_activity"

In = TypeVar("In")
Out = TypeVar("Out")


@dataclass(frozen=True)
class ActivityRef(Generic[In, Out]):
    name: str  # the activity type, as histories record it
    input: type[In]
    result: type[Out]


LOAD_POLICY = ActivityRef("load_policy", PolicyRequest, PolicySnapshot)
SCHEDULE_STEP = ActivityRef("schedule_step", ScheduleStepInput, StepSchedule)
WORKING_DAYS_END = ActivityRef("working_days_end", WorkingDaysInput, WorkingDaysResult)
WORKING_DAYS_ENDS = ActivityRef("working_days_ends", WorkingDaysEndsInput, WorkingDaysEndsResult)
RECORD_EVENT = ActivityRef("record_event", RecordEventInput, bool)
RECORD_EVENTS = ActivityRef("record_events", RecordEventsInput, int)
RECORD_PROBATION_EVENT = ActivityRef("record_probation_event", ProbationEventInput, bool)
SEND_MAIL = ActivityRef("send_mail", MailRequest, MailResult)
GATHER_DIGEST = ActivityRef("gather_digest", DigestRequest, Digest)
CREATE_AUDIT_CHECKPOINT = ActivityRef(
    "create_audit_checkpoint", CheckpointRequest, CheckpointResult
)
READ_REGISTER_POSTS = ActivityRef("read_register_posts", RegisterReadInput, RegisterReadResult)
RECORD_ROTATION_SCAN = ActivityRef("record_rotation_scan", RecordRotationScanInput, bool)
RECORD_ROTATION_ARRIVAL = ActivityRef(
    "record_rotation_arrival", RotationArrivalInput, RotationArrivalResult
)

ALL: tuple[ActivityRef[Any, Any], ...] = (
    LOAD_POLICY,
    SCHEDULE_STEP,
    WORKING_DAYS_END,
    WORKING_DAYS_ENDS,
    RECORD_EVENT,
    RECORD_EVENTS,
    RECORD_PROBATION_EVENT,
    SEND_MAIL,
    GATHER_DIGEST,
    CREATE_AUDIT_CHECKPOINT,
    READ_REGISTER_POSTS,
    RECORD_ROTATION_SCAN,
    RECORD_ROTATION_ARRIVAL,
)


async def call(ref: ActivityRef[In, Out], arg: In, **options: Any) -> Out:
    """Run the activity from workflow code with ``options`` (timeouts, retry policy)."""
    result: Out = await workflow.execute_activity(ref.name, arg, result_type=ref.result, **options)
    return result


async def call_local(ref: ActivityRef[In, Out], arg: In, **options: Any) -> Out:
    """Run the activity as a local activity (本地活动): in the worker that runs the workflow,
    its result kept in the history as a marker, no activity task on the server. Only for
    short work on the worker's own files."""
    result: Out = await workflow.execute_local_activity(
        ref.name, arg, result_type=ref.result, **options
    )
    return result
