"""What the daily digest reports: everything due soon and everything overdue, across all cases.

Read from the listings the workflows keep current (``cases`` and ``probations``), not from
Temporal, so one query covers every case however many are running. The capability test's
retests are read from their chains' events (``store.cadre_queries``), and the cadres listed
for rotation and not yet decided from the newest rotation scan (``store.register_queries``),
the moves of the rotation batches waiting for a step from the batches' chains
(``store.rotation_batch_queries``), and the removal cases (降免职) waiting for the standing
committee's vote from theirs.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from store.cadre_queries import removal_standings, retest_standings
from store.models import Case
from store.probation_models import Probation
from store.register_queries import rotation_listing, rotation_scans
from store.rotation_batch_queries import move_standings
from workflows.digest import OVERDUE_KINDS
from workflows.glossary import CADRE_STEPS, zh
from workflows.probation_types import (
    Digest,
    DigestItem,
    DigestItemKind,
    DigestRequest,
    ProbationStatus,
    ReviewStatus,
)
from workflows.rules.dates import past_due
from workflows.rules.working_days import SHANGHAI, end_of_day
from workflows.types import CaseStatus, ChainKind

# the awaited step of a retest's chain (``workflows.capability_retest``), by its key
_CADRE_STEP_NAMES = {
    "capability_retest": CADRE_STEPS["record_retest"],
    "capability_handling": CADRE_STEPS["record_handling"],
}
# the awaited step of a rotation batch's move (``workflows.rotation_batch``), by its key
_MOVE_STEP_NAMES = {
    "rotation_document": CADRE_STEPS["record_rotation_document"],
    "rotation_arrival": CADRE_STEPS["record_rotation_arrival"],
}


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
            items += await _retest_items(session, input, horizon)
            items += await _rotation_items(session)
            items += await _move_items(session, input, horizon)
            items += await _removal_items(session, input, horizon)
        items.sort(key=lambda i: (i.kind not in OVERDUE_KINDS, i.due_on, i.kind.value, i.ref))
        return Digest(
            as_of=input.as_of, today=input.today, days_ahead=input.days_ahead, items=items
        )


async def _case_items(
    session: AsyncSession, input: DigestRequest, horizon: date
) -> list[DigestItem]:
    rows = await session.scalars(
        select(Case)
        .where(
            Case.chain == ChainKind.APPOINTMENT.value,
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
            items += _due_or_overdue(
                (DigestItemKind.REVIEW_DUE, DigestItemKind.REVIEW_OVERDUE),
                p.review_due_on,
                p.review_overdue,
                input,
                horizon,
                detail=f"试用期已于 {p.ends_on} 届满，考核截止 {p.review_due_on}",
                **base,
            )
    return items


async def _retest_items(
    session: AsyncSession, input: DigestRequest, horizon: date
) -> list[DigestItem]:
    """Retests opening within the reminder window (or the digest's, if wider); retest steps
    due within the digest's days or overdue; every handling decision waiting, whatever its
    deadline (a handling decision is the department head's, and rare)."""
    opening_by = input.today + timedelta(days=max(input.retest_window_days, input.days_ahead))
    items: list[DigestItem] = []
    for s in await retest_standings(session):
        base = {"ref": s.chain_id, "unit": s.unit, "post": "行政管理能力测试", "name": s.name}
        if s.in_self_study and s.retest_opens_on is not None:
            if input.today <= s.retest_opens_on <= opening_by:
                items.append(
                    DigestItem(
                        kind=DigestItemKind.RETEST_OPENING,
                        due_on=s.retest_opens_on,
                        detail=f"自学期满，{s.retest_opens_on} 起补测",
                        **base,
                    )
                )
            continue
        if not s.awaited_step or s.deadline_on is None:
            continue
        overdue = past_due(s.deadline_on, s.overdue, input.today)
        handling = s.awaited_step == "capability_handling"
        if overdue or handling or s.deadline_on <= horizon:
            step = _CADRE_STEP_NAMES.get(s.awaited_step, s.awaited_step)
            items.append(
                DigestItem(
                    kind=DigestItemKind.CADRE_STEP_OVERDUE
                    if overdue
                    else DigestItemKind.CADRE_STEP_DUE,
                    due_on=s.deadline_on,
                    detail=f"待办：{step}",
                    **base,
                )
            )
    return items


async def _rotation_items(session: AsyncSession) -> list[DigestItem]:
    """The cadres the newest rotation scan listed as due, with no decision yet."""
    newest = await rotation_scans(session, limit=1)
    if not newest:
        return []
    scan = newest[0]
    return [
        DigestItem(
            kind=DigestItemKind.ROTATION_DUE,
            ref=scan.scan_id,
            unit=p.township,
            post="交流排查",
            name=p.name,
            due_on=scan.as_of,
            detail=f"自 {p.since} 在{p.township}工作 {p.years} 年，待组织部决定是否交流",
        )
        for p in await rotation_listing(session, scan.scan_id)
        if p.decision is None
    ]


async def _move_items(
    session: AsyncSession, input: DigestRequest, horizon: date
) -> list[DigestItem]:
    """The moves of the rotation batches whose awaited step falls due within the digest's
    days, or is overdue."""
    items: list[DigestItem] = []
    for m in await move_standings(session):
        if not m.awaited_step or m.deadline_on is None:
            continue
        items += _due_or_overdue(
            (DigestItemKind.ROTATION_MOVE_DUE, DigestItemKind.ROTATION_MOVE_OVERDUE),
            m.deadline_on,
            False,
            input,
            horizon,
            ref=m.chain_id,
            unit=m.from_township,
            post=f"交流至{m.destination}",
            name=m.name,
            detail=f"待办：{_MOVE_STEP_NAMES.get(m.awaited_step, m.awaited_step)}（{m.title}）",
        )
    return items


async def _removal_items(
    session: AsyncSession, input: DigestRequest, horizon: date
) -> list[DigestItem]:
    """The removal cases whose vote falls due within the digest's days, or is overdue (a
    deferred vote stays on its deadline)."""
    items: list[DigestItem] = []
    for r in await removal_standings(session):
        if r.deadline_on is None:
            continue
        items += _due_or_overdue(
            (DigestItemKind.REMOVAL_VOTE_DUE, DigestItemKind.REMOVAL_VOTE_OVERDUE),
            r.deadline_on,
            r.overdue,
            input,
            horizon,
            ref=r.chain_id,
            unit=r.unit,
            post=r.post,
            name=r.name,
            detail=f"待办：{CADRE_STEPS['record_removal_vote']}",
        )
    return items


def _due_or_overdue(
    kinds: tuple[DigestItemKind, DigestItemKind],
    due_on: date,
    marked_overdue: bool,
    input: DigestRequest,
    horizon: date,
    **fields: str,
) -> list[DigestItem]:
    """The item of something due on ``due_on``: of the second kind if it is overdue (marked
    so by its workflow, or its day has passed), of the first if it falls due within the
    digest's days; none if it is further off."""
    overdue = past_due(due_on, marked_overdue, input.today)
    if not overdue and due_on > horizon:
        return []
    return [DigestItem(kind=kinds[1] if overdue else kinds[0], due_on=due_on, **fields)]
