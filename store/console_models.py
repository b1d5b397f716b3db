"""Sign-in to the web console: account passwords and login sessions.

- ``accounts.password_hash``: an Argon2id hash (older accounts: scrypt until their next
  sign-in; ``store.passwords`` owns both); an account without one cannot sign in to the
  console (it may still use the API with a token). Passwords are set from the command line
  (``appointments accounts password``), never through the web.
- ``console_sessions``: one row per sign-in. The browser holds a random session key in an
  HttpOnly cookie; only its sha256 is stored, beside the session's CSRF token. A session
  ends when it expires, when its owner signs out, or when the account is disabled.

Migration 0006 adds exactly these.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

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

from store.account_models import Account, AccountError, Caller, hash_token
from store.models import Base
from store.passwords import checked, hashed
from workflows.types import Role

SESSION_KEY_BYTES = 32
CSRF_BYTES = 24
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200


class ConsoleSession(Base):
    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("accounts.id"))
    key_hash: Mapped[str] = mapped_column(Text)
    csrf_token: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("key_hash"),
        Index("ix_console_sessions_account_id", "account_id"),
    )


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The person behind a valid console session."""

    caller: Caller
    session_id: int
    csrf_token: str


def check_new_password(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise AccountError(
            f"a password has {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
        )


async def set_password(session: AsyncSession, name: str, password: str) -> None:
    """Set the console password of the named account and end its open sessions; the
    caller commits."""
    check_new_password(password)
    account = await session.scalar(select(Account).where(Account.name == name))
    if account is None:
        raise AccountError(f"no account named {name!r}")
    account.password_hash = await hashed(password)
    await end_sessions_of(session, account.id)


async def end_sessions_of(session: AsyncSession, account_id: int) -> None:
    await session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.account_id == account_id, ConsoleSession.ended_at.is_(None))
        .values(ended_at=func.now())
    )


async def sign_in(
    session: AsyncSession, name: str, password: str, lifetime: timedelta
) -> tuple[str, SignedIn] | None:
    """(the session key for the cookie, who signed in), or None for a wrong name or
    password or a disabled account; the caller commits. The same work is done for an
    unknown name, so the answer's timing does not tell which names exist. A password stored
    under an older scheme is stored again as Argon2id."""
    account = await session.scalar(select(Account).where(Account.name == name))
    matches, new_hash = await checked(password, account.password_hash if account else None)
    if account is None or not matches or account.disabled_at is not None:
        return None
    if new_hash is not None:
        account.password_hash = new_hash
    key = secrets.token_urlsafe(SESSION_KEY_BYTES)
    row = ConsoleSession(
        account_id=account.id,
        key_hash=hash_token(key),
        csrf_token=secrets.token_urlsafe(CSRF_BYTES),
        expires_at=func.now() + lifetime,
    )
    session.add(row)
    await session.flush()
    caller = Caller(account.id, account.name, Role(account.role), token_id=0)
    return key, SignedIn(caller, row.id, row.csrf_token)


async def signed_in(session: AsyncSession, key: str) -> SignedIn | None:
    """Who holds this session key, if the session is open and its account enabled."""
    query = (
        select(Account, ConsoleSession)
        .join(ConsoleSession, ConsoleSession.account_id == Account.id)
        .where(
            ConsoleSession.key_hash == hash_token(key),
            ConsoleSession.ended_at.is_(None),
            ConsoleSession.expires_at > func.now(),
            Account.disabled_at.is_(None),
        )
    )
    row = (await session.execute(query)).first()
    if row is None:
        return None
    account, console_session = row
    caller = Caller(account.id, account.name, Role(account.role), token_id=0)
    return SignedIn(caller, console_session.id, console_session.csrf_token)


async def sign_out(session: AsyncSession, session_id: int) -> None:
    await session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.id == session_id, ConsoleSession.ended_at.is_(None))
        .values(ended_at=func.now())
    )
