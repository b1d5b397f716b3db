"""What an operator watches, counted in the database at the moment it is asked (``/metrics``).

A few aggregates over the listing and the outbox, each served by an index, so a scrape every
few seconds costs little; never a Temporal query per case. Only counts, stages and ages come
out: no case id, no name. Cases are appointment cases (``cases.chain``): the listing rows of
the audit chains that are not are never counted.

A case is *blocked on the calendar* when the newest of its events that start or end a wait on
the working-day calendar is ``blocked`` (the workflow records it when a deadline cannot be
computed for a year the calendar lacks). A ``deadline`` (computed after all, on a retry), a
``transition``, a ``timer`` or ``closed`` ends the wait; other events (an input recorded
meanwhile, a retry that is blocked again) do not. A probation likewise, where a ``deadline``,
a ``review``, ``formal`` or ``ended_early`` ends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from store.probation_models import OutboxStatus
from store.queries import active_cases_by_stage
from workflows.probation_types import ProbationStatus
from workflows.types import CaseStage, CaseStatus, ChainKind

CASE_WAIT_KINDS = ("blocked", "deadline", "transition", "timer", "closed")
PROBATION_WAIT_KINDS = ("blocked", "deadline", "review", "formal", "ended_early")
WATCHED_OUTBOX = (OutboxStatus.PENDING, OutboxStatus.FAILED)

_BLOCKED_CASES = text(
    """
    SELECT count(*) FROM cases c
    WHERE c.chain = :appointment AND c.status = :active AND (
        SELECT e.kind FROM case_events e
        WHERE e.case_id = c.case_id AND e.kind = ANY(:kinds)
        ORDER BY e.seq DESC LIMIT 1
    ) = 'blocked'
    """
)

_BLOCKED_PROBATIONS = text(
    """
    SELECT count(*) FROM probations p
    WHERE p.status = :active AND (
        SELECT e.kind FROM probation_events e
        WHERE e.probation_id = p.probation_id AND e.kind = ANY(:kinds)
        ORDER BY e.seq DESC LIMIT 1
    ) = 'blocked'
    """
)

_OUTBOX = text("SELECT status, count(*) FROM outbox WHERE status = ANY(:watched) GROUP BY status")

# on the database's clock, as the checkpoint's time was written
_NEWEST_CHECKPOINT_AGE = text(
    "SELECT now() - created_at FROM audit_checkpoints ORDER BY id DESC LIMIT 1"
)


@dataclass(frozen=True)
class Gauges:
    active_by_stage: dict[CaseStage, int]
    overdue_by_stage: dict[CaseStage, int]
    cases_blocked_on_calendar: int
    probations_blocked_on_calendar: int
    outbox: dict[str, int]  # pending, failed
    newest_checkpoint_age: timedelta | None  # None: no checkpoint yet


async def read_gauges(session: AsyncSession) -> Gauges:
    counts = await active_cases_by_stage(session)
    open_stages = [stage for stage in CaseStage if stage is not CaseStage.CLOSED]
    blocked_cases = await session.scalar(
        _BLOCKED_CASES,
        {
            "appointment": ChainKind.APPOINTMENT.value,
            "active": CaseStatus.ACTIVE.value,
            "kinds": list(CASE_WAIT_KINDS),
        },
    )
    blocked_probations = await session.scalar(
        _BLOCKED_PROBATIONS,
        {"active": ProbationStatus.ON_PROBATION.value, "kinds": list(PROBATION_WAIT_KINDS)},
    )
    outbox = dict.fromkeys(WATCHED_OUTBOX, 0)
    for status, n in (await session.execute(_OUTBOX, {"watched": list(WATCHED_OUTBOX)})).all():
        outbox[status] = n
    age = await session.scalar(_NEWEST_CHECKPOINT_AGE)
    return Gauges(
        active_by_stage={s: counts.get(s, (0, 0))[0] for s in open_stages},
        overdue_by_stage={s: counts.get(s, (0, 0))[1] for s in open_stages},
        cases_blocked_on_calendar=int(blocked_cases or 0),
        probations_blocked_on_calendar=int(blocked_probations or 0),
        outbox=outbox,
        newest_checkpoint_age=age,
    )
