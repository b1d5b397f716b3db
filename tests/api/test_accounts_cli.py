"""`appointments accounts`: accounts and tokens are made on the command line, not the API;
a token made there is how a person signs in to the command line (`appointments login`)."""

from __future__ import annotations

import asyncio
import io
import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from starter.cli import EXIT_INPUT, EXIT_REFUSED, EXIT_UNREACHABLE, run
from store.account_models import Caller, caller_of, hash_token
from store.db import make_engine, make_session_factory
from workflows.types import Role


def token_id_in(said: str) -> int:
    """The id of the token ``accounts token`` announced ("… 的令牌 #12（只显示这一次…）")."""
    found = re.search(r"#(\d+)", said)
    assert found, said
    return int(found.group(1))


async def _read(url: str, token: str) -> tuple[Caller | None, list[str]]:
    engine = make_engine(url)
    try:
        async with make_session_factory(engine)() as s:
            found = await caller_of(s, token)
            hashes = list(await s.scalars(text("SELECT token_hash FROM api_tokens")))
        return found, hashes
    finally:
        await engine.dispose()


def test_create_token_list_revoke(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    name = f"书记员-{uuid.uuid4().hex[:6]}"

    assert run(["accounts", "create", name, "--role", "committee_secretary"]) == 0
    assert run(["accounts", "create", name, "--role", "clerk"]) == EXIT_REFUSED
    assert run(["accounts", "create", "x" * 101, "--role", "clerk"]) == EXIT_INPUT
    assert run(["accounts", "create", "someone", "--role", "system"]) != 0
    capsys.readouterr()

    assert run(["accounts", "token", name]) == 0
    out, err = capsys.readouterr()
    token = out.strip()
    token_id = token_id_in(err)

    # run() drives its own event loop; read the database on a fresh one
    found, hashes = asyncio.run(_read(database_url, token))
    assert found is not None and found.role is Role.COMMITTEE_SECRETARY
    assert hash_token(token) in hashes and token not in hashes

    assert run(["accounts", "list"]) == 0
    listing = capsys.readouterr().out
    assert name in listing and "committee_secretary" in listing

    assert run(["accounts", "revoke", str(token_id)]) == 0
    assert run(["accounts", "revoke", "999999999"]) == EXIT_REFUSED
    assert run(["accounts", "token", "no-such-account"]) == EXIT_REFUSED
    found, _ = asyncio.run(_read(database_url, token))
    assert found is None


def test_a_token_made_here_signs_in_until_it_is_revoked(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")  # nobody listens: exit 3 if reached
    monkeypatch.delenv("APPOINTMENTS_TOKEN", raising=False)
    token_file = tmp_path / "login" / "token"
    monkeypatch.setenv("APPOINTMENTS_TOKEN_FILE", str(token_file))
    name = f"科员-{uuid.uuid4().hex[:6]}"
    withdraw = ["case", "withdraw", "GY-2026-017", "--reason", "岗位撤销"]

    assert run(["accounts", "create", name, "--role", "clerk"]) == 0
    assert run(["accounts", "token", name]) == 0
    out, err = capsys.readouterr()
    token, token_id = out.split()[-1], token_id_in(err)

    assert run(withdraw) == EXIT_INPUT  # nobody signed in: refused before Temporal
    monkeypatch.setattr("sys.stdin", io.StringIO(token + "\n"))
    assert run(["login"]) == 0
    assert f"已登录：{name}，clerk" in capsys.readouterr().out
    assert token_file.read_text("utf-8").strip() == token
    assert run(withdraw) == EXIT_UNREACHABLE  # signed in: the step went on to Temporal

    assert run(["accounts", "revoke", str(token_id)]) == 0
    capsys.readouterr()
    assert run(withdraw) == EXIT_REFUSED
    assert "令牌无效或已被吊销" in capsys.readouterr().err
