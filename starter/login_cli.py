"""``appointments login`` and ``appointments logout``: keep the person's token where the next
commands find it (``starter.identity``), or forget it.

    appointments accounts token NAME     # the administrator: prints a new token once
    appointments login                   # the person: asks for it (not echoed), checks it
    appointments logout                  # removes the token file

The token is read from the terminal without echo, or from standard input when that is not
a terminal (``... | appointments login``); never from the command line, where ``ps`` would
show it. Logging out does not revoke the token: ``appointments accounts revoke`` does.
"""

from __future__ import annotations

import sys

import click

from starter.cli_base import App, InputError, pass_app
from starter.click_zh import ZhCommand
from starter.identity import TOKEN_ENV, Token, account_of, forget_token, save_token, token_file
from workflows.glossary import with_value


def _on_terminal() -> bool:
    return sys.stdin.isatty()


def _read_token() -> str:
    if _on_terminal():
        entered: str = click.prompt("令牌", hide_input=True, err=True)
        return entered.strip()
    return sys.stdin.readline().strip()


@click.command("login", cls=ZhCommand)
@pass_app
def login(app: App) -> None:
    """保存你的令牌，此后的命令以你的账号登记各环节。

    询问令牌（输入时不显示），或从标准输入读取。令牌先与数据库核对；无效的令牌不予保存。
    """
    token = _read_token()
    if not token:
        raise InputError("没有读到令牌：请输入 appointments accounts token 打印的令牌")
    path = token_file(app.env)
    actor = account_of(app.settings, Token(token, "输入"))
    save_token(path, token)
    click.echo(f"已登录：{actor.name}，{with_value(actor.role)}；令牌保存在 {path}")
    if app.env.get(TOKEN_ENV, "").strip():
        click.echo(f"注意：{TOKEN_ENV} 已设置，它优先于令牌文件", err=True)


@click.command("logout", cls=ZhCommand)
@pass_app
def logout(app: App) -> None:
    """删除 `appointments login` 写下的令牌文件。"""
    path = token_file(app.env)
    if forget_token(path):
        click.echo(f"已退出：令牌文件 {path} 已删除")
    else:
        click.echo(f"未登录：没有令牌文件 {path}")
    if app.env.get(TOKEN_ENV, "").strip():
        click.echo(f"注意：{TOKEN_ENV} 仍然设置着，命令仍以它的账户记录", err=True)
