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
from starter.click_zh import ZhGroup
from workflows.glossary import zh

# --------------------------------------------------------------------------- inbox


@click.group(cls=ZhGroup)
def inbox() -> None:
    """发给各角色的提醒和督办消息。"""


@inbox.command("list")
@click.option("--role", type=click.Choice(PERSON_ROLES), help="只列发给此角色的消息")
@click.option("--case", "case_id", metavar="CASE", help="只列关于此案件的消息")
@click.option("--unread", is_flag=True, help="只列未读消息")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="输出机器可读的 JSON")
@pass_app
def inbox_list(
    app: App, role: str | None, case_id: str | None, unread: bool, limit: int, as_json: bool
) -> None:
    """消息列表，最新的在前。"""
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
        click.echo("没有消息")
        return
    for m in rows:
        to = zh(m.recipient_role) + (f" {m.recipient}" if m.recipient else "")
        state = "已读" if m.read_at else "未读"
        click.echo(f"#{m.id}  {state}  {format_instant(m.created_at)}  发给 {to}  案件 {m.case_id}")
        click.echo(f"    {m.subject}")
        for line in m.body.splitlines():
            click.echo(f"    {line}")


@inbox.command("read")
@click.argument("message_id", metavar="ID", type=int)
@pass_app
def inbox_read(app: App, message_id: int) -> None:
    """将编号为 ID 的消息标为已读。"""
    from store.queries import mark_read

    async def mark() -> bool:
        async with database(app.settings) as session:
            found = await mark_read(session, message_id)
            await session.commit()
            return found

    if not asyncio.run(mark()):
        raise CliError(f"没有编号为 #{message_id} 的消息")
    click.echo(f"消息 #{message_id} 已标为已读")
