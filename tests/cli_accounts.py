"""Accounts for tests that run the command line: it records steps as the account of a token
(``APPOINTMENTS_TOKEN``), never as a name and role given on the command line."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.account_models import Account, create_account, issue_token
from workflows.types import Actor, Role


async def token_for(sessions: async_sessionmaker[AsyncSession], name: str, role: Role) -> str:
    """A new token of the account ``name``, made with ``role`` if it does not exist yet. The
    names a story uses (the inspection team's member, the head) are the accounts' names,
    since the step records the account."""
    async with sessions() as s:
        found = await s.scalar(select(Account).where(Account.name == name))
        if found is None:
            await create_account(s, name, role)
        elif found.role != role.value:
            raise AssertionError(f"the account {name!r} exists with the role {found.role}")
        _, token = await issue_token(s, name)
        await s.commit()
    return token


NO_STACK = Path(tempfile.gettempdir()) / "appointments-tests-no-stack"


async def cli_env(sessions: async_sessionmaker[AsyncSession], actor: Actor) -> dict[str, str]:
    """The environment that makes the command line record steps as ``actor``'s account."""
    return {
        "APPOINTMENTS_TOKEN": await token_for(sessions, actor.name, actor.role),
        # no embedded stack's data folder: its payload key would encrypt what the test's
        # worker reads without one
        "DATA_DIR": str(NO_STACK),
    }
