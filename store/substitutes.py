"""Substitutes (代理): who acts for whom, from which day to which, and the checks of it.

A person names a substitute for a period (or an administrator does it for them); during it
the substitute sees the person's assigned tasks and inbox, and a step the substitute takes
on such a task is recorded as theirs on the person's behalf ("李四 代 张三"). The service
decides that, never the client: ``actor_for`` gives the actor its ``on_behalf_of`` only when
a substitution covers the day. A row is never deleted; ending it early stamps it once
(migration 0014).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Identity,
    Index,
    Text,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from store.account_models import Account
from store.models import Base, Case
from workflows.types import Actor, Role


class Substitute(Base):
    __tablename__ = "substitutes"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    person: Mapped[str] = mapped_column(Text)
    substitute: Mapped[str] = mapped_column(Text)
    from_date: Mapped[date] = mapped_column(Date)
    to_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(Text)
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_by: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("from_date <= to_date", name="period"),
        CheckConstraint("person <> substitute", name="not_self"),
        Index("ix_substitutes_substitute", "substitute"),
        Index("ix_substitutes_person", "person"),
    )


class SubstitutionRefused(ValueError):
    """A substitution that cannot be set or ended; the message is for the person."""


@dataclass(frozen=True, slots=True)
class SubstitutionRow:
    id: int
    person: str
    substitute: str
    from_date: date
    to_date: date
    reason: str
    set_by: str
    set_at: datetime
    ended_at: datetime | None
    ended_by: str | None

    @classmethod
    def of(cls, row: Substitute) -> SubstitutionRow:
        return cls(
            row.id,
            row.person,
            row.substitute,
            row.from_date,
            row.to_date,
            row.reason,
            row.set_by,
            row.set_at,
            row.ended_at,
            row.ended_by,
        )

    def covers(self, on: date) -> bool:
        return self.ended_at is None and self.from_date <= on <= self.to_date


async def _active_account(session: AsyncSession, name: str, who: str) -> Account:
    account = await session.scalar(select(Account).where(Account.name == name))
    if account is None:
        raise SubstitutionRefused(f"没有名为“{name}”的账户（{who}）。")
    if account.disabled_at is not None:
        raise SubstitutionRefused(f"账户“{name}”已停用，不能作为{who}。")
    return account


async def name_substitute(
    session: AsyncSession,
    *,
    person: str,
    substitute: str,
    from_date: date,
    to_date: date,
    reason: str,
    set_by: Actor,
    today: date,
) -> SubstitutionRow:
    """A new substitution (part of the caller's transaction: commit it). A person sets their
    own; an administrator anyone's."""
    if set_by.role is not Role.ADMINISTRATOR and set_by.name != person:
        raise SubstitutionRefused("只能为自己指定代理人；为他人指定须由系统管理员办理。")
    if person == substitute:
        raise SubstitutionRefused("代理人不能是本人。")
    if to_date < from_date:
        raise SubstitutionRefused(f"代理的结束日期（{to_date}）不能早于开始日期（{from_date}）。")
    if to_date < today:
        raise SubstitutionRefused(f"代理的结束日期（{to_date}）已经过去。")
    if not reason.strip():
        raise SubstitutionRefused("请写明代理的理由（如休假、出差）。")
    await _active_account(session, person, "被代理人")
    await _active_account(session, substitute, "代理人")
    row = Substitute(
        person=person,
        substitute=substitute,
        from_date=from_date,
        to_date=to_date,
        reason=reason.strip(),
        set_by=set_by.name,
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return SubstitutionRow.of(row)


async def end_substitution(session: AsyncSession, substitution_id: int, by: Actor) -> None:
    """End a substitution now (the person it covers, or an administrator); commit it."""
    row = await session.get(Substitute, substitution_id)
    if row is None:
        raise SubstitutionRefused("没有这条代理记录。")
    if by.role is not Role.ADMINISTRATOR and by.name != row.person:
        raise SubstitutionRefused("只有被代理人本人或系统管理员可以结束代理。")
    if row.ended_at is not None:
        raise SubstitutionRefused("这条代理已经结束。")
    await session.execute(
        update(Substitute)
        .where(Substitute.id == substitution_id, Substitute.ended_at.is_(None))
        .values(ended_at=func.now(), ended_by=by.name)
    )


async def substitutions(session: AsyncSession, name: str | None = None) -> list[SubstitutionRow]:
    """Substitutions naming ``name`` (as the person or the substitute), or all; newest first."""
    query = select(Substitute)
    if name is not None:
        query = query.where((Substitute.person == name) | (Substitute.substitute == name))
    result = await session.scalars(query.order_by(Substitute.id.desc()).limit(200))
    return [SubstitutionRow.of(r) for r in result]


async def covered(session: AsyncSession, substitute: str, on: date) -> list[tuple[str, Role]]:
    """(name, role) of each person ``substitute`` acts for on ``on``."""
    query = (
        select(Account.name, Account.role)
        .join(Substitute, Substitute.person == Account.name)
        .where(
            Substitute.substitute == substitute,
            Substitute.ended_at.is_(None),
            Substitute.from_date <= on,
            Substitute.to_date >= on,
            Account.disabled_at.is_(None),
        )
        .distinct()
        .order_by(Account.name)
    )
    return [(name, Role(role)) for name, role in (await session.execute(query)).all()]


async def actor_for(
    session: AsyncSession, name: str, role: Role, assignee: str | None, on: date
) -> Actor:
    """The actor of a step taken by the account ``name``: on the assignee's behalf when the
    step is assigned to someone this account substitutes for on ``on``."""
    if assignee is not None and assignee != name:
        if assignee in {person for person, _ in await covered(session, name, on)}:
            return Actor(name=name, role=role, on_behalf_of=assignee)
    return Actor(name=name, role=role)


async def actor_on_case(
    session: AsyncSession, name: str, role: Role, case_id: str, on: date
) -> Actor:
    """``actor_for`` with the assignee the case's listing row shows (for the API, which does
    not ask the case before it sends a step)."""
    assignee = await session.scalar(select(Case.assignee).where(Case.case_id == case_id))
    return await actor_for(session, name, role, assignee, on)
