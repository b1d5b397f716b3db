"""The ``encryption`` commands (载荷加密): the keys that encrypt what the service keeps in
Temporal (``gateway.payload_keys``).

``keygen`` writes a new key file; ``keys`` says which keys the settings name and which one
encrypts, without showing any key. Exit status 0, or 2 when a key file cannot be written or
read.
"""

from __future__ import annotations

from pathlib import Path

import click

from starter.cli_base import App, InputError, pass_app
from starter.click_zh import ZhGroup

KEY_PATH = click.Path(dir_okay=False, path_type=Path)


@click.group(cls=ZhGroup)
def encryption() -> None:
    """Temporal 中所存载荷的加密密钥（载荷加密）：生成密钥，列出在用的密钥。"""


@encryption.command()
@click.option("--out", type=KEY_PATH, required=True, help="要写出的密钥文件")
def keygen(out: Path) -> None:
    """生成载荷密钥：OUT（权限 0600）。将其列为 PAYLOAD_KEY_FILES 的第一个，即用它加密；较早的密钥列
    在其后，保留到它们加密的内容不再保存为止。
    """
    from gateway.payload_keys import PayloadKeyError, write_key_file

    try:
        ident = write_key_file(out)
    except PayloadKeyError as exc:
        raise InputError(str(exc)) from exc
    except OSError as exc:
        raise InputError(f"无法写入 {out}：{exc.strerror}") from exc
    click.echo(f"载荷密钥 {out}（与服务放在一起保管，权限 0600）")
    click.echo(f"密钥编号  {ident}")


@encryption.command()
@pass_app
def keys(app: App) -> None:
    """PAYLOAD_KEY_FILES 所列的载荷密钥，按密钥编号列出；第一个用于加密。"""
    from gateway.payload_keys import PayloadKeyError, key_id, read_key_file

    paths = app.settings.payload_key_files
    if not paths:
        click.echo("没有载荷密钥（未设置 PAYLOAD_KEY_FILES）：载荷以明文保存")
        return
    for i, path in enumerate(paths):
        try:
            ident = key_id(read_key_file(path))
        except PayloadKeyError as exc:
            raise InputError(str(exc)) from exc
        role = "加密和解密" if i == 0 else "仅解密"
        click.echo(f"{ident}  {path}  （{role}）")
