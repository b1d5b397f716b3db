"""Sign-in to the web console: account passwords and login sessions.

- ``accounts.password_hash``: ``scrypt$N$r$p$salt$hash`` (hex); an account without one
  cannot sign in to the console (it may still use the API with a token). Passwords are set
  from the command line (``appointments accounts password``), never through the web.
- ``console_sessions``: one row per sign-in. The browser holds a random session key in an
  HttpOnly cookie; only its sha256 is stored, beside the session's CSRF token. A session
  ends when it expires, when its owner signs out, or when the account is disabled.

Migration 0006 adds exactly these.
"""

from __future__ import annotations

import hashlib
import hmac
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
from workflows.types import Role

# scrypt's cost: 2**14 rounds of 8-byte blocks takes ~50 ms here, 16 MiB of memory
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_BYTES = 16
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


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str | None) -> bool:
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = hashlib.scrypt(
            password.encode("utf-8"),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(digest) // 2,
        )
    except ValueError:
        return False
    return hmac.compare_digest(computed.hex(), digest)


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
    account.password_hash = hash_password(password)
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
    unknown name, so the answer's timing does not tell which names exist."""
    account = await session.scalar(select(Account).where(Account.name == name))
    stored = account.password_hash if account is not None else None
    matches = password_matches(password, stored or _DECOY)
    if account is None or stored is None or not matches or account.disabled_at is not None:
        return None
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


# Compared against when the name is unknown, so that path costs one scrypt as well.
_DECOY = hash_password(secrets.token_urlsafe(16))
