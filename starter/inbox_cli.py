"""The ``inbox`` commands: reminders and escalations addressed to roles, read from the
database.
"""

from __future__ import annotations

import asyncio
from typing import Any

import click

from starter.cli_base import (
    PERSON_ROLES,
    App,
    CliError,
    _rows_json,
    database,
    echo_json,
    format_instant,
    pass_app,
)

# --------------------------------------------------------------------------- inbox


@click.group()
def inbox() -> None:
    """Reminders and escalations addressed to roles."""


@inbox.command("list")
@click.option("--role", type=click.Choice(PERSON_ROLES), help="messages for this role")
@click.option("--case", "case_id", metavar="CASE", help="messages about this case")
@click.option("--unread", is_flag=True, help="only unread messages")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@pass_app
def inbox_list(
    app: App, role: str | None, case_id: str | None, unread: bool, limit: int, as_json: bool
) -> None:
    """Messages, newest first."""
    from store.queries import inbox as read_inbox

    async def read() -> list[Any]:
        async with database(app.settings) as session:
            return await read_inbox(
                session, recipient_role=role, case_id=case_id, unread_only=unread, limit=limit
            )

    rows = asyncio.run(read())
    if as_json:
        echo_json(_rows_json(rows))
        return
    if not rows:
        click.echo("no messages")
        return
    for m in rows:
        to = m.recipient_role.value + (f" {m.recipient}" if m.recipient else "")
        state = "read" if m.read_at else "UNREAD"
        click.echo(
            f"#{m.id}  {state:<6}  {format_instant(m.created_at)}  to {to}  case {m.case_id}"
        )
        click.echo(f"    {m.subject}")
        for line in m.body.splitlines():
            click.echo(f"    {line}")


@inbox.command("read")
@click.argument("message_id", metavar="ID", type=int)
@pass_app
def inbox_read(app: App, message_id: int) -> None:
    """Mark message ID as read."""
    from store.queries import mark_read

    async def mark() -> bool:
        async with database(app.settings) as session:
            found = await mark_read(session, message_id)
            await session.commit()
            return found

    if not asyncio.run(mark()):
        raise CliError(f"no inbox message #{message_id}")
    click.echo(f"message #{message_id} marked as read")
