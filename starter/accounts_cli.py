"""The command line of API accounts and their tokens (the API never manages accounts).

    appointments accounts create NAME --role ROLE
    appointments accounts token NAME        # prints a new token once; only its hash is kept
    appointments accounts revoke TOKEN_ID
    appointments accounts list
    appointments accounts password NAME     # sets the web console's password (asked twice)

Every change goes through ``store.account_service``, as the console's settings page does, and
is recorded there. ``starter.cli`` registers the group on the command line. Exit status as
there: 1 refused, 2 malformed input, 3 unreachable.
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
from starter.click_zh import ZhGroup
from store import account_service as service
from store.account_models import AccountError, list_accounts
from workflows.glossary import with_value
from workflows.types import Actor, Role

# who the changes made here are recorded as (``account_changes``): the command line works as
# the database's owner, with no account of its own
COMMAND_LINE = service.ChangedBy("命令行", "数据库所有者")


@click.group(cls=ZhGroup)
def accounts() -> None:
    """HTTP API 的账号及其令牌（bearer token）。"""


def _name(name: str, role: Role) -> str:
    """The name as the actor it becomes: the workflow's own rules for an actor decide."""
    name = name.strip()
    try:
        Actor(name=name, role=role)
    except ValidationError as exc:
        raise InputError(_problems("NAME 无法使用：", validation_lines(exc))) from exc
    return name


@accounts.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(PERSON_ROLES), required=True)
@pass_app
def accounts_create(app: App, name: str, role: str) -> None:
    """创建账号 NAME；其名称和角色随其所办的每件事一并记录。"""
    name = _name(name, Role(role))

    async def create() -> None:
        async with database(app.settings) as session:
            try:
                await service.create(session, COMMAND_LINE, name, Role(role))
            except AccountError as exc:
                raise CliError(str(exc)) from exc
            await session.commit()

    asyncio.run(create())
    made = f"账号 {name}（{with_value(Role(role))}）已创建"
    click.echo(f"{made}；用 `accounts token {name}` 为其签发令牌")


@accounts.command("token")
@click.argument("name")
@pass_app
def accounts_token(app: App, name: str) -> None:
    """为 NAME 签发新令牌并打印出来。令牌只显示这一次。"""

    async def issue() -> tuple[int, str]:
        async with database(app.settings) as session:
            try:
                made = await service.new_token(session, COMMAND_LINE, name)
            except AccountError as exc:
                raise CliError(str(exc)) from exc
            await session.commit()
            return made

    token_id, token = asyncio.run(issue())
    click.echo(f"{name} 的令牌 #{token_id}（只显示这一次，请妥善保密）：", err=True)
    click.echo(token)


@accounts.command("revoke")
@click.argument("token_id", metavar="TOKEN_ID", type=int)
@pass_app
def accounts_revoke(app: App, token_id: int) -> None:
    """吊销令牌 TOKEN_ID；此后带此令牌的请求一律拒绝。"""

    async def revoke() -> None:
        async with database(app.settings) as session:
            try:
                await service.revoke(session, COMMAND_LINE, token_id)
            except AccountError as exc:
                raise CliError(str(exc)) from exc
            await session.commit()

    asyncio.run(revoke())
    click.echo(f"令牌 #{token_id} 已吊销")


@accounts.command("list")
@pass_app
def accounts_list(app: App) -> None:
    """账号、角色及各自在用的令牌数。"""

    async def read() -> list[list[str]]:
        async with database(app.settings) as session:
            rows = await list_accounts(session)
        return [
            [
                r.name,
                with_value(r.role),
                str(r.active_tokens),
                format_instant(r.created_at),
                format_instant(r.disabled_at) if r.disabled_at else "",
            ]
            for r in rows
        ]

    rows = asyncio.run(read())
    if not rows:
        click.echo("没有账号")
        return
    click.echo(table(["名称", "角色", "令牌数", "创建时间", "停用时间"], rows))


@accounts.command("password")
@click.argument("name")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="从标准输入的第一行读取密码，不再询问",
)
@pass_app
def accounts_password(app: App, name: str, password_stdin: bool) -> None:
    """设置 NAME 的管理台密码；其已打开的管理台会话随即结束。"""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)

    async def store() -> None:
        async with database(app.settings) as session:
            try:
                await service.set_console_password(session, COMMAND_LINE, name, password)
            except AccountError as exc:
                raise CliError(str(exc)) from exc
            await session.commit()

    asyncio.run(store())
    click.echo(f"{name} 的管理台密码已设置")
