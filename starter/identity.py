"""Who is at the command line: the token of an account, resolved through the database as the
HTTP API resolves a bearer token (``store.account_models.caller_of``), never a name or role
the person declares.

The token comes from ``APPOINTMENTS_TOKEN``, or else from the file ``appointments login``
wrote (``APPOINTMENTS_TOKEN_FILE``, by default in the user's configuration folder): mode
0600 in a folder of mode 0700. It is never a command-line argument, which ``ps`` would show
to everyone on the machine. These two variables are the person's, not the service's, so they
are read here and not in ``settings.py``.
"""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import click
from pydantic import ValidationError

from settings import Settings
from starter.cli_base import InputError, Refused, database
from workflows.types import Actor

TOKEN_ENV = "APPOINTMENTS_TOKEN"
TOKEN_FILE_ENV = "APPOINTMENTS_TOKEN_FILE"
APP_NAME = "appointments"
TOKEN_FILE_NAME = "token"
# A token is made by ``store.account_models.new_token`` (43 characters); a longer one is not
# one of ours, and is refused without being looked up (the API's limit).
MAX_TOKEN_LENGTH = 200

NOT_SIGNED_IN = f"未登录：请先运行 appointments login，或设置 {TOKEN_ENV}"


@dataclass(frozen=True)
class Token:
    value: str
    source: str  # where it came from, as a person reads it: "令牌文件 PATH", ...


def default_token_file() -> Path:
    return Path(click.get_app_dir(APP_NAME)) / TOKEN_FILE_NAME


def token_file(env: Mapping[str, str]) -> Path:
    """Where ``appointments login`` keeps the token."""
    chosen = env.get(TOKEN_FILE_ENV, "").strip()
    return Path(chosen).expanduser() if chosen else default_token_file()


def _usable(text: str) -> bool:
    return 0 < len(text) <= MAX_TOKEN_LENGTH and text.isascii() and text.isprintable()


def _mode(path: Path) -> int:
    """The file's permission bits; 0o600 where there are none (Windows)."""
    return stat.S_IMODE(path.stat().st_mode) if os.name == "posix" else 0o600


def find_token(env: Mapping[str, str]) -> Token | None:
    """The token the person gave, or None; nothing is looked up yet."""
    given = env.get(TOKEN_ENV, "").strip()
    if given:
        return Token(given, f"环境变量 {TOKEN_ENV}")
    path = token_file(env)
    try:
        text = path.read_text("utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"令牌文件 {path} 无法读取（{exc}）：请重新运行 appointments login"
        ) from exc
    mode = _mode(path)
    if mode & 0o077:
        raise InputError(
            f"令牌文件 {path} 的权限是 {mode:04o}，其他用户也能读取：请运行 appointments logout，"
            "再运行 appointments login"
        )
    return Token(text, f"令牌文件 {path}") if text else None


async def _caller_of(settings: Settings, token: str) -> Actor | None:
    from store.account_models import caller_of

    async with database(settings) as session:
        found = await caller_of(session, token)
    if found is None:
        return None
    try:
        return Actor(name=found.name, role=found.role)
    except ValidationError as exc:
        raise Refused(f"账户 {found.name!r} 不能作为记录人：{exc.errors()[0]['msg']}") from exc


def account_of(settings: Settings, token: Token) -> Actor:
    """The account ``token`` belongs to, as the actor recorded with its steps; refused if
    the token is unknown or revoked, or its account disabled."""
    found = asyncio.run(_caller_of(settings, token.value)) if _usable(token.value) else None
    if found is None:
        raise Refused(
            f"令牌无效或已被吊销（来自{token.source}）：请向管理员要一个新令牌，"
            "再运行 appointments login"
        )
    return found


def signed_in(settings: Settings, env: Mapping[str, str]) -> Actor:
    """Who records the step: the account of the person's token. Refused (exit 2) without a
    token, before anything else is read."""
    token = find_token(env)
    if token is None:
        raise InputError(NOT_SIGNED_IN)
    return account_of(settings, token)


def save_token(path: Path, token: str) -> None:
    """Write ``token`` to ``path`` readable by its owner only, replacing any earlier one at
    once (a reader never sees half a file). A folder made for it is the owner's only."""
    folder = path.parent
    if not folder.exists() or folder == default_token_file().parent:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.chmod(0o700)
    partial = folder / f".{path.name}.{os.getpid()}"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            if os.name == "posix":
                os.fchmod(out.fileno(), 0o600)  # whatever the umask
            out.write(token + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def forget_token(path: Path) -> bool:
    """Remove the token file; False if there was none."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
