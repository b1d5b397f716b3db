"""`appointments accounts`: accounts and tokens are made on the command line, not the API."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import text

from starter.cli import EXIT_INPUT, EXIT_REFUSED, run
from store.account_models import Caller, caller_of, hash_token
from store.db import make_engine, make_session_factory
from workflows.types import Role


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
    token_id = int(err.split("#", 1)[1].split()[0])

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
