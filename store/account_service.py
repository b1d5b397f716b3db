"""Account administration (账号管理): the changes made to accounts, by the command line and by
an administrator in the console's settings alike, each recorded in ``account_changes`` with
who made it and when.

Every function takes the session and the person making the change (``ChangedBy``), writes
nothing when it refuses (``AccountError``, a sentence in Chinese), and leaves the commit to
the caller, so the change and its record are one transaction. One rule guards the service
itself: no change may leave it without an active administrator, so nobody can lock everyone
out of the settings (an administrator may not take their own role away when they are the
last, nor disable themselves).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.account_models import (
    Account,
    AccountChange,
    AccountError,
    AccountRow,
    ApiToken,
    create_account,
    issue_token,
    revoke_token,
)
from store.console_models import end_sessions_of, set_password
from workflows.glossary import zh
from workflows.types import Actor, Role

# the roles a person's account may have (the system's own is no one's)
PERSON_ROLES = tuple(r for r in Role if r is not Role.SYSTEM)
ADMIN = zh(Role.ADMINISTRATOR)
PASSWORD_BYTES = 12  # 16 characters, above the console's minimum length

CREATED = "created"
ROLE_CHANGED = "role"
PASSWORD_SET = "password"
TOKEN_ISSUED = "token_issued"
TOKEN_REVOKED = "token_revoked"
DISABLED = "disabled"
CHANGES = (CREATED, ROLE_CHANGED, PASSWORD_SET, TOKEN_ISSUED, TOKEN_REVOKED, DISABLED)


@dataclass(frozen=True, slots=True)
class ChangedBy:
    """Who makes a change: an account's name and role, or the command line's operator."""

    name: str
    role: str


@dataclass(frozen=True, slots=True)
class ChangeRow:
    account_name: str
    change: str
    detail: str
    changed_by: str
    changed_by_role: str
    changed_at: datetime


def usable_name(name: str, role: Role) -> str:
    """The name as the actor it becomes (the workflow's own rules for an actor decide)."""
    name = name.strip()
    try:
        Actor(name=name, role=role)
    except ValidationError:
        raise AccountError(
            f"账号名“{name[:100]}”不可用：须为一行、不为空、不超过规定长度。"
        ) from None
    return name


async def _account(session: AsyncSession, name: str) -> Account:
    account = await session.scalar(select(Account).where(Account.name == name).with_for_update())
    if account is None:
        raise AccountError(f"没有名为“{name[:100]}”的账号。")
    return account


async def _record(
    session: AsyncSession, by: ChangedBy, account_name: str, change: str, detail: str
) -> None:
    session.add(
        AccountChange(
            account_name=account_name,
            change=change,
            detail=detail,
            changed_by=by.name,
            changed_by_role=by.role,
        )
    )
    await session.flush()


async def _other_active_administrators(session: AsyncSession, name: str) -> int:
    # the administrators' rows are locked, so two administrators demoting each other at
    # once cannot both pass
    rows = await session.scalars(
        select(Account.name)
        .where(Account.role == Role.ADMINISTRATOR.value, Account.disabled_at.is_(None))
        .with_for_update()
    )
    return sum(1 for n in rows if n != name)


async def _keep_an_administrator(session: AsyncSession, account: Account, what: str) -> None:
    is_admin = account.role == Role.ADMINISTRATOR.value and account.disabled_at is None
    if is_admin and not await _other_active_administrators(session, account.name):
        raise AccountError(
            f"“{account.name}”是唯一可用的{ADMIN}账号，不能{what}：请先为另一账号设置{ADMIN}角色。"
        )


async def create(session: AsyncSession, by: ChangedBy, name: str, role: Role) -> AccountRow:
    """A new account of ``role``; refused when the name is taken or not usable."""
    if role is Role.SYSTEM:
        raise AccountError("“系统”角色只属于系统自身，不能赋予账号。")
    name = usable_name(name, role)
    taken = await session.scalar(select(Account.id).where(Account.name == name))
    if taken is not None:
        raise AccountError(f"已有名为“{name}”的账号。")
    row = await create_account(session, name, role)
    await _record(session, by, name, CREATED, f"新建账号，角色：{zh(role)}")
    return row


async def set_role(session: AsyncSession, by: ChangedBy, name: str, role: Role) -> None:
    """Give the account ``role`` in place of its own; its open console sessions end, so the
    new role takes effect at its next sign-in."""
    if role is Role.SYSTEM:
        raise AccountError("“系统”角色只属于系统自身，不能赋予账号。")
    account = await _account(session, name)
    if account.role == role.value:
        raise AccountError(f"“{name}”的角色已是{zh(role)}。")
    if role is not Role.ADMINISTRATOR:
        await _keep_an_administrator(session, account, "改为其他角色")
    before = zh(Role(account.role)) if account.role in set(Role) else account.role
    account.role = role.value
    await end_sessions_of(session, account.id)
    await _record(session, by, name, ROLE_CHANGED, f"角色由{before}改为{zh(role)}")


async def reset_password(session: AsyncSession, by: ChangedBy, name: str) -> str:
    """A new random console password for the account, to be shown once; its open console
    sessions end."""
    password = secrets.token_urlsafe(PASSWORD_BYTES)
    await set_console_password(session, by, name, password, "重置控制台密码")
    return password


async def set_console_password(
    session: AsyncSession, by: ChangedBy, name: str, password: str, detail: str = "设置控制台密码"
) -> None:
    """Set the account's console password (only its hash is kept)."""
    account = await _account(session, name)
    if account.disabled_at is not None:
        raise AccountError(f"账号“{name}”已停用。")
    await set_password(session, name, password)
    await _record(session, by, name, PASSWORD_SET, detail)


async def new_token(session: AsyncSession, by: ChangedBy, name: str) -> tuple[int, str]:
    """(token id, the token) for the account's API use; only the token's hash is kept."""
    account = await _account(session, name)
    if account.disabled_at is not None:
        raise AccountError(f"账号“{name}”已停用。")
    token_id, token = await issue_token(session, name)
    await _record(session, by, name, TOKEN_ISSUED, f"签发接口令牌 #{token_id}")
    return token_id, token


async def revoke(session: AsyncSession, by: ChangedBy, token_id: int) -> None:
    """Revoke a token; requests carrying it are refused from then on."""
    owner = await session.scalar(
        select(Account.name)
        .join(ApiToken, ApiToken.account_id == Account.id)
        .where(ApiToken.id == token_id)
    )
    if owner is None or not await revoke_token(session, token_id):
        raise AccountError(f"没有编号为 #{token_id} 的接口令牌。")
    await _record(session, by, owner, TOKEN_REVOKED, f"吊销接口令牌 #{token_id}")


async def disable(session: AsyncSession, by: ChangedBy, name: str) -> None:
    """Disable the account: it signs in no more, its tokens and sessions stop working; its
    row stays, so the history naming it still resolves."""
    account = await _account(session, name)
    if account.disabled_at is not None:
        raise AccountError(f"账号“{name}”已停用。")
    await _keep_an_administrator(session, account, "停用")
    account.disabled_at = func.now()
    await end_sessions_of(session, account.id)
    await session.execute(
        update(ApiToken)
        .where(ApiToken.account_id == account.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    await _record(session, by, name, DISABLED, "停用账号（其登录会话结束、接口令牌吊销）")


async def active_tokens(session: AsyncSession) -> dict[str, list[int]]:
    """The unrevoked tokens' ids, by account name."""
    rows = await session.execute(
        select(Account.name, ApiToken.id)
        .join(ApiToken, ApiToken.account_id == Account.id)
        .where(ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.id)
    )
    found: dict[str, list[int]] = {}
    for name, token_id in rows.all():
        found.setdefault(name, []).append(token_id)
    return found


async def recent_changes(session: AsyncSession, limit: int = 50) -> list[ChangeRow]:
    """The newest changes first."""
    rows = await session.scalars(
        select(AccountChange).order_by(AccountChange.id.desc()).limit(limit)
    )
    return [
        ChangeRow(r.account_name, r.change, r.detail, r.changed_by, r.changed_by_role, r.changed_at)
        for r in rows
    ]
