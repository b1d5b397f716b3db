"""The command line of API accounts and their tokens (the API never manages accounts).

    appointments accounts create NAME --role ROLE
    appointments accounts token NAME        # prints a new token once; only its hash is kept
    appointments accounts revoke TOKEN_ID
    appointments accounts list
    appointments accounts password NAME     # sets the web console's password (asked twice)

``starter.cli`` registers the group on the command line. Exit status as there: 1 refused,
2 malformed input, 3 unreachable.
"""

from __future__ import annotations

import asyncio
import sys

import click
from pydantic import ValidationError

from starter.cli_base import (
    PERSON_ROLES,
    App,
    CliError,
    InputError,
    _problems,
    database,
    format_instant,
    pass_app,
    table,
    validation_lines,
)
from store.account_models import (
    AccountError,
    create_account,
    issue_token,
    list_accounts,
    revoke_token,
)
from store.console_models import set_password
from workflows.types import Actor, Role


@click.group()
def accounts() -> None:
    """Accounts of the HTTP API and their bearer tokens."""


def _name(name: str, role: Role) -> str:
    """The name as the actor it becomes: the workflow's own rules for an actor decide."""
    name = name.strip()
    try:
        Actor(name=name, role=role)
    except ValidationError as exc:
        raise InputError(_problems("NAME is not usable:", validation_lines(exc))) from exc
    return name


@accounts.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(PERSON_ROLES), required=True)
@pass_app
def accounts_create(app: App, name: str, role: str) -> None:
    """Create the account NAME; its name and role are recorded with everything it does."""
    name = _name(name, Role(role))

    async def create() -> None:
        async with database(app.settings) as session:
            try:
                await create_account(session, name, Role(role))
            except AccountError as exc:
                raise CliError(str(exc)) from exc
            await session.commit()

    asyncio.run(create())
    click.echo(f"account {name} ({role}) created; give it a token with `accounts token {name}`")


@accounts.command("token")
@click.argument("name")
@pass_app
def accounts_token(app: App, name: str) -> None:
    """Make a new token for NAME and print it. It is shown only this once."""

    async def issue() -> tuple[int, str]:
        async with database(app.settings) as session:
            try:
                made = await issue_token(session, name)
            except AccountError as exc:
                raise CliError(str(exc)) from exc
            await session.commit()
            return made

    token_id, token = asyncio.run(issue())
    click.echo(f"token #{token_id} for {name} (shown only now; keep it secret):", err=True)
    click.echo(token)


@accounts.command("revoke")
@click.argument("token_id", metavar="TOKEN_ID", type=int)
@pass_app
def accounts_revoke(app: App, token_id: int) -> None:
    """Revoke token TOKEN_ID; requests carrying it are refused from now on."""

    async def revoke() -> bool:
        async with database(app.settings) as session:
            found = await revoke_token(session, token_id)
            await session.commit()
            return found

    if not asyncio.run(revoke()):
        raise CliError(f"no token #{token_id}")
    click.echo(f"token #{token_id} revoked")


@accounts.command("list")
@pass_app
def accounts_list(app: App) -> None:
    """Accounts, their roles and how many tokens each has in use."""

    async def read() -> list[list[str]]:
        async with database(app.settings) as session:
            rows = await list_accounts(session)
        return [
            [
                r.name,
                r.role.value,
                str(r.active_tokens),
                format_instant(r.created_at),
                format_instant(r.disabled_at) if r.disabled_at else "",
            ]
            for r in rows
        ]

    rows = asyncio.run(read())
    if not rows:
        click.echo("no accounts")
        return
    click.echo(table(["name", "role", "tokens", "created", "disabled"], rows))


@accounts.command("password")
@click.argument("name")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="read the password from the first line of standard input instead of asking",
)
@pass_app
def accounts_password(app: App, name: str, password_stdin: bool) -> None:
    """Set the web console password of NAME; its open console sessions end."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)

    async def store() -> None:
        async with database(app.settings) as session:
            try:
                await set_password(session, name, password)
            except AccountError as exc:
                raise CliError(str(exc)) from exc
            await session.commit()

    asyncio.run(store())
    click.echo(f"console password of {name} set")
