"""Filling in the awaited step of listing rows written before the listing carried it.

Cases that ran before migration 0014 have no awaited step in their ``cases`` row until they
record their next event, so "my tasks" (``store.tasks``) would not show them until then.
After the upgrade, ``appointments case resync`` asks each such case once what it waits on
and writes it here; a row the case has meanwhile written itself is left alone.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Case
from workflows.types import StepState


async def cases_without_step(session: AsyncSession) -> list[str]:
    """The active cases whose listing row does not say what they wait on."""
    query = select(Case.case_id).where(Case.status == "active", Case.awaited_step.is_(None))
    return list(await session.scalars(query.order_by(Case.case_id)))


async def fill_step(session: AsyncSession, case_id: str, step: StepState) -> bool:
    """Write the step the case waits on into its row, unless the row has one by now; True if
    written."""
    result = await session.execute(
        update(Case)
        .where(Case.case_id == case_id, Case.awaited_step.is_(None))
        .values(
            awaited_step=step.step,
            awaited_role=step.responsible_role.value,
            assignee=step.assignee,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
