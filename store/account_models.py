"""Accounts of the HTTP API and their bearer tokens, and the reads and writes made of them.

Same ``Base`` (and so the same metadata and naming convention) as ``store.models``, so
Alembic sees these tables; migration 0004 creates exactly them.

- ``accounts``: one per person (or service) using the API, with one role from
  ``workflows.types.Role``; the name and role are what the workflow records as the actor of
  every change made through the API. A disabled account keeps its row, so the history that
  names it still resolves.
- ``api_tokens``: bearer tokens, stored only as the sha256 (hex) of the token; the token
  itself is shown once when it is made and never kept. A revoked token keeps its row.

- ``account_changes``: every change made to an account, by whom and when (migration 0012).

Accounts are managed from the command line (``appointments accounts``) and by administrators
in the console's settings (系统设置), both through ``store.account_service``; never through
the API.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Text,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from store.models import Base
from workflows.types import Role

TOKEN_BYTES = 32


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the console's sign-in (store.console_models); None: this account uses tokens only
    password_hash: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("name"),)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("accounts.id"))
    token_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("token_hash"),
        Index("ix_api_tokens_account_id", "account_id"),
    )


class AccountChange(Base):
    """One change made to an account (created, role, password, token, disabled): by whom
    and when; written once, never updated (migration 0012)."""

    __tablename__ = "account_changes"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    account_name: Mapped[str] = mapped_column(Text)
    change: Mapped[str] = mapped_column(Text)  # a stable code: store.account_service.CHANGES
    detail: Mapped[str] = mapped_column(Text)  # the sentence a person reads
    changed_by: Mapped[str] = mapped_column(Text)
    changed_by_role: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (Index("ix_account_changes_changed_at", "changed_at"),)


@dataclass(frozen=True, slots=True)
class AccountRow:
    id: int
    name: str
    role: Role
    created_at: datetime
    disabled_at: datetime | None
    active_tokens: int = 0


@dataclass(frozen=True, slots=True)
class Caller:
    """The account a valid, unrevoked token belongs to."""

    account_id: int
    name: str
    role: Role
    token_id: int


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


class AccountError(ValueError):
    """A request about accounts that cannot be done (no such account, name taken, ...)."""


async def create_account(session: AsyncSession, name: str, role: Role) -> AccountRow:
    """A new account; the caller commits. Refused if the name is taken."""
    taken = await session.scalar(select(Account.id).where(Account.name == name))
    if taken is not None:
        raise AccountError(f"an account named {name!r} already exists")
    account = Account(name=name, role=role.value)
    session.add(account)
    await session.flush()
    await session.refresh(account)
    return AccountRow(account.id, account.name, role, account.created_at, account.disabled_at)


async def issue_token(session: AsyncSession, name: str) -> tuple[int, str]:
    """(token id, the token itself) for the named active account; only the hash is stored."""
    account = await session.scalar(select(Account).where(Account.name == name))
    if account is None:
        raise AccountError(f"no account named {name!r}")
    if account.disabled_at is not None:
        raise AccountError(f"account {name!r} is disabled")
    token = new_token()
    row = ApiToken(account_id=account.id, token_hash=hash_token(token))
    session.add(row)
    await session.flush()
    return row.id, token


async def revoke_token(session: AsyncSession, token_id: int) -> bool:
    """Revoke a token; False if there is no such token. Revoking twice keeps the first time."""
    statement = (
        update(ApiToken)
        .where(ApiToken.id == token_id)
        .values(revoked_at=func.coalesce(ApiToken.revoked_at, func.now()))
        .returning(ApiToken.id)
    )
    return (await session.scalar(statement)) is not None


async def list_accounts(session: AsyncSession) -> list[AccountRow]:
    active = (
        select(func.count())
        .where(ApiToken.account_id == Account.id, ApiToken.revoked_at.is_(None))
        .scalar_subquery()
    )
    result = await session.execute(select(Account, active).order_by(Account.name))
    return [
        AccountRow(a.id, a.name, Role(a.role), a.created_at, a.disabled_at, count)
        for a, count in result.all()
    ]


async def caller_of(session: AsyncSession, token: str) -> Caller | None:
    """The account of a token, or None if the token is unknown, revoked or its account
    disabled."""
    query = (
        select(Account, ApiToken.id)
        .join(ApiToken, ApiToken.account_id == Account.id)
        .where(
            ApiToken.token_hash == hash_token(token),
            ApiToken.revoked_at.is_(None),
            Account.disabled_at.is_(None),
        )
    )
    row = (await session.execute(query)).first()
    if row is None:
        return None
    account, token_id = row
    return Caller(account.id, account.name, Role(account.role), token_id)
