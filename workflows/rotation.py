"""``RotationScanWorkflow``: list the ordinary cadres due for rotation (交流), on a schedule.

The scan reads the register through an activity (the newest version of every person, its
posts), applies the rotation rule (``rules.cadre_rotation``) with the policy's years and
ordinary ranks as of the scan's day, and records what it found (``rotation_scans``,
``rotation_listings``), naming the register version it read of each person. The
department's decision on each person listed is recorded afterwards (``store.register``).
"""

from datetime import date, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.activity_refs import LOAD_POLICY, READ_REGISTER_POSTS, RECORD_ROTATION_SCAN, call
    from workflows.register_types import (
        RecordRotationScanInput,
        RegisterReadInput,
        RotationDue,
        RotationScanInput,
        RotationScanResult,
    )
    from workflows.rules.cadre_rotation import Post, rotation_due, years_completed_on
    from workflows.rules.working_days import SHANGHAI
    from workflows.types import PolicyRequest

__all__ = ["ROTATION_SCAN_SCHEDULE_ID", "RotationScanWorkflow"]

ROTATION_SCAN_SCHEDULE_ID = "rotation-scan"
ACTIVITY_TIMEOUT = timedelta(minutes=5)  # a county's register is a few thousand people
RETRY = RetryPolicy(maximum_interval=timedelta(minutes=5))


def whole_years(since: date, as_of: date, at_least: int) -> int:
    """The whole years from ``since`` to ``as_of``, ``at_least`` already known complete."""
    years = at_least
    while years_completed_on(since, years + 1) <= as_of:
        years += 1
    return years


@workflow.defn
class RotationScanWorkflow:
    @workflow.run
    async def run(self, request: RotationScanInput) -> RotationScanResult:
        snapshot = await call(
            LOAD_POLICY,
            PolicyRequest(case_id=workflow.info().workflow_id),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )
        cadre = snapshot.policy.cadre
        if cadre is None:
            raise ApplicationError(
                "政策文件没有 cadre 一节（干部管理）：无法确定交流年限", non_retryable=True
            )
        years = cadre.rotation.years_in_same_township
        ranks = cadre.rotation.ordinary_ranks
        as_of = request.as_of or workflow.now().astimezone(SHANGHAI).date()
        read = await call(
            READ_REGISTER_POSTS,
            RegisterReadInput(as_of=as_of),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )
        due: list[RotationDue] = []
        for person in read.people:
            posts = [Post(p.township, p.rank, p.started_on, p.ended_on) for p in person.posts]
            check = rotation_due(posts, as_of, years, ranks)
            if check.due and check.township is not None and check.since is not None:
                due.append(
                    RotationDue(
                        person_id=person.person_id,
                        name=person.name,
                        version=person.version,
                        township=check.township,
                        since=check.since,
                        years=whole_years(check.since, as_of, years),
                    )
                )
        result = RotationScanResult(
            scan_id=workflow.info().workflow_id,
            as_of=as_of,
            threshold_years=years,
            scanned=len(read.people),
            due=due,
        )
        await call(
            RECORD_ROTATION_SCAN,
            RecordRotationScanInput(result=result),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )
        return result
