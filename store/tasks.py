"""What waits for a person ("my tasks"), read from the listing and the inbox alone.

The listing row of a case (``cases``) carries its awaited step, that step's responsible role
and its assignee, written with every event the case records; so a person's tasks are three
queries, however many cases run, and never a question to each case: the steps assigned to
them, the unassigned steps of their role's queue, and the steps assigned to the people they
substitute for today (``store.substitutes``). An inspection-team member's queue holds only
the cases whose recorded inspection team names them. The leadership's list (全部待办) is the
same rows for the whole department, narrowed by assignee and by role.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Case, CaseEvent, InboxMessage
from store.queries import InboxRow
from workflows.types import CaseStage, ChainKind, Role

# the most rows each list of "my tasks" shows
TASK_LIMIT = 200


@dataclass(frozen=True, slots=True)
class TaskRow:
    case_id: str
    unit: str
    post: str
    stage: CaseStage
    awaited_step: str
    awaited_role: Role
    assignee: str | None
    next_deadline: datetime | None
    overdue: bool

    @classmethod
    def of(cls, case: Case) -> TaskRow:
        assert case.awaited_step is not None and case.awaited_role is not None
        return cls(
            case_id=case.case_id,
            unit=case.unit,
            post=case.post,
            stage=CaseStage(case.stage),
            awaited_step=case.awaited_step,
            awaited_role=Role(case.awaited_role),
            assignee=case.assignee,
            next_deadline=case.next_deadline,
            overdue=case.overdue,
        )


@dataclass(frozen=True, slots=True)
class Tasks:
    mine: list[TaskRow]  # assigned to me
    queue: list[TaskRow]  # my role's, unassigned
    covered: list[TaskRow]  # assigned to someone I substitute for today


def _open() -> list[ColumnElement[bool]]:
    """An active appointment case that waits on a step."""
    return [
        Case.chain == ChainKind.APPOINTMENT.value,
        Case.status == "active",
        Case.awaited_step.is_not(None),
    ]


async def _rows(
    session: AsyncSession, *where: ColumnElement[bool], limit: int = TASK_LIMIT
) -> list[TaskRow]:
    query = (
        select(Case)
        .where(*_open(), *where)
        .order_by(Case.next_deadline.asc().nulls_last(), Case.case_id)
        .limit(limit)
    )
    result = await session.scalars(query.execution_options(populate_existing=True))
    return [TaskRow.of(c) for c in result]


def _on_team(name: str) -> ColumnElement[bool]:
    """The case's recorded inspection team names ``name``."""
    return exists().where(
        CaseEvent.case_id == Case.case_id,
        CaseEvent.kind == "input",
        CaseEvent.payload["members"].contains([name]),
    )


async def tasks_of(
    session: AsyncSession, name: str, role: Role, covering: Sequence[str] = ()
) -> Tasks:
    """The tasks of the account ``name`` of ``role``, who substitutes for ``covering``."""
    queue_where = [Case.awaited_role == role.value, Case.assignee.is_(None)]
    if role is Role.INSPECTION_TEAM:
        queue_where.append(_on_team(name))
    return Tasks(
        mine=await _rows(session, Case.assignee == name),
        queue=await _rows(session, *queue_where),
        covered=await _rows(session, Case.assignee.in_(list(covering))) if covering else [],
    )


async def department_tasks(
    session: AsyncSession,
    *,
    assignee: str | None = None,
    unassigned: bool = False,
    role: Role | None = None,
    limit: int = TASK_LIMIT,
) -> list[TaskRow]:
    """Every awaited step of the department (the leadership's list), soonest deadline first:
    those assigned to ``assignee``, or (``unassigned``) those in a queue, of ``role``'s
    queue when given; at most ``limit``."""
    where: list[ColumnElement[bool]] = []
    if assignee is not None:
        where.append(Case.assignee == assignee)
    if unassigned:
        where.append(Case.assignee.is_(None))
    if role is not None:
        where.append(Case.awaited_role == role.value)
    return await _rows(session, *where, limit=limit)


@dataclass(frozen=True, slots=True)
class OpenTaskChoices:
    """What the leadership's list can be narrowed to: the people steps are assigned to and
    the roles steps wait on, among the open steps."""

    assignees: list[str]
    roles: list[Role]


async def open_task_choices(session: AsyncSession) -> OpenTaskChoices:
    assignees = await session.scalars(
        select(Case.assignee).where(*_open(), Case.assignee.is_not(None)).distinct()
    )
    roles = await session.scalars(select(Case.awaited_role).where(*_open()).distinct())
    return OpenTaskChoices(
        assignees=sorted(a for a in assignees if a is not None),
        roles=sorted((Role(r) for r in roles if r is not None), key=list(Role).index),
    )


async def inbox_of(
    session: AsyncSession, role: Role, covering: Sequence[tuple[str, Role]] = (), limit: int = 50
) -> list[InboxRow]:
    """The messages of a person of ``role``, with those of each (name, role) they substitute
    for: what that person's own inbox shows (their role's, and any addressed to them by
    name), newest first."""
    to_whom: list[ColumnElement[bool]] = [InboxMessage.recipient_role == role.value]
    for person, their_role in covering:
        to_whom.append(
            and_(
                InboxMessage.recipient_role == their_role.value,
                InboxMessage.recipient.in_(["", person]),
            )
        )
        to_whom.append(InboxMessage.recipient == person)
    query = select(InboxMessage).where(or_(*to_whom)).order_by(InboxMessage.id.desc()).limit(limit)
    result = await session.scalars(query.execution_options(populate_existing=True))
    return [InboxRow.of(m) for m in result]
