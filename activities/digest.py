"""What the daily digest reports: everything due soon and everything overdue, across all cases.

Read from the listings the workflows keep current (``cases`` and ``probations``), not from
Temporal, so one query covers every case however many are running.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from store.models import Case
from store.probation_models import Probation
from workflows.glossary import zh
from workflows.probation_types import (
    Digest,
    DigestItem,
    DigestItemKind,
    DigestRequest,
    ProbationStatus,
    ReviewStatus,
)
from workflows.rules.working_days import SHANGHAI, end_of_day
from workflows.types import CaseStatus

_OVERDUE_KINDS = (DigestItemKind.CASE_OVERDUE, DigestItemKind.REVIEW_OVERDUE)


def deadline_day(at: datetime) -> date:
    """The day a deadline instant belongs to: the end of a day (00:00 next) is that day."""
    local = at.astimezone(SHANGHAI)
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        return local.date() - timedelta(days=1)
    return local.date()


class DigestActivities:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = session_factory

    @activity.defn
    async def gather_digest(self, input: DigestRequest) -> Digest:
        horizon = input.today + timedelta(days=input.days_ahead)
        async with self._sessions() as session:
            items = await _case_items(session, input, horizon)
            items += await _probation_items(session, input, horizon)
        items.sort(key=lambda i: (i.kind not in _OVERDUE_KINDS, i.due_on, i.kind.value, i.ref))
        return Digest(
            as_of=input.as_of, today=input.today, days_ahead=input.days_ahead, items=items
        )


async def _case_items(
    session: AsyncSession, input: DigestRequest, horizon: date
) -> list[DigestItem]:
    rows = await session.scalars(
        select(Case)
        .where(
            Case.status == CaseStatus.ACTIVE.value,
            Case.next_deadline.is_not(None),
            or_(Case.overdue.is_(True), Case.next_deadline <= end_of_day(horizon)),
        )
        .order_by(Case.next_deadline)
    )
    items: list[DigestItem] = []
    for case in rows:
        assert case.next_deadline is not None
        overdue = case.overdue or case.next_deadline <= input.as_of
        items.append(
            DigestItem(
                kind=DigestItemKind.CASE_OVERDUE if overdue else DigestItemKind.CASE_DUE,
                ref=case.case_id,
                unit=case.unit,
                post=case.post,
                due_on=deadline_day(case.next_deadline),
                detail=f"环节：{case.stage}",
            )
        )
    return items


async def _probation_items(
    session: AsyncSession, input: DigestRequest, horizon: date
) -> list[DigestItem]:
    today = input.today
    pending = Probation.review_status == ReviewStatus.PENDING.value
    rows = await session.scalars(
        select(Probation)
        .where(
            Probation.status == ProbationStatus.ON_PROBATION.value,
            or_(
                Probation.ends_on.between(today, horizon),
                and_(pending, Probation.review_overdue.is_(True)),
                and_(pending, Probation.review_due_on <= horizon),
            ),
        )
        .order_by(Probation.ends_on)
    )
    items: list[DigestItem] = []
    for p in rows:
        base = {"ref": p.probation_id, "unit": p.unit, "post": p.post, "name": p.name}
        is_pending = p.review_status == ReviewStatus.PENDING.value
        if today <= p.ends_on <= horizon:
            review = zh(ReviewStatus(p.review_status))
            review = review if is_pending else f"考核：{review}"
            items.append(
                DigestItem(
                    kind=DigestItemKind.PROBATION_ENDING,
                    due_on=p.ends_on,
                    detail=f"试用期 {p.starts_on} 至 {p.ends_on}，{review}",
                    **base,
                )
            )
        if is_pending and p.review_due_on is not None:
            overdue = p.review_overdue or p.review_due_on < today
            if overdue or p.review_due_on <= horizon:
                items.append(
                    DigestItem(
                        kind=DigestItemKind.REVIEW_OVERDUE
                        if overdue
                        else DigestItemKind.REVIEW_DUE,
                        due_on=p.review_due_on,
                        detail=f"试用期已于 {p.ends_on} 届满，考核截止 {p.review_due_on}",
                        **base,
                    )
                )
    return items
