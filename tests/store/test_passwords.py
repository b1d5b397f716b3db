"""Console passwords: Argon2id for new ones, old scrypt hashes moved over at sign-in, the
hashing done in a worker thread while the event loop goes on serving."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.console_models import sign_in
from store.passwords import PASSWORDS, ScryptHasher, checked, hashed
from tests.web.console_fixtures import PASSWORD, make_person
from workflows.types import Role

HOUR = timedelta(hours=1)


async def stored_hash(sessions: async_sessionmaker[AsyncSession], name: str) -> str:
    async with sessions() as s:
        found = await s.scalar(
            text("SELECT password_hash FROM accounts WHERE name = :n"), {"n": name}
        )
    assert isinstance(found, str)
    return found


async def try_sign_in(sessions: async_sessionmaker[AsyncSession], name: str, password: str) -> bool:
    async with sessions() as s:
        made = await sign_in(s, name, password, HOUR)
        await s.commit()
    return made is not None


async def test_a_new_password_is_stored_as_argon2id(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    name = await make_person(session_factory, Role.CLERK)
    stored = await stored_hash(session_factory, name)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert not await try_sign_in(session_factory, name, "not the password")
    assert await try_sign_in(session_factory, name, PASSWORD)
    assert await stored_hash(session_factory, name) == stored  # nothing to move over


async def test_an_old_scrypt_hash_signs_in_and_is_replaced_by_argon2id(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    name = await make_person(session_factory, Role.CLERK)
    old = ScryptHasher().hash(PASSWORD)
    async with session_factory() as s:
        await s.execute(
            text("UPDATE accounts SET password_hash = :h WHERE name = :n"), {"h": old, "n": name}
        )
        await s.commit()

    assert not await try_sign_in(session_factory, name, "not the password")
    assert await stored_hash(session_factory, name) == old  # a failure changes nothing

    assert await try_sign_in(session_factory, name, PASSWORD)
    new = await stored_hash(session_factory, name)
    assert new.startswith("$argon2id$") and PASSWORD not in new
    assert not await try_sign_in(session_factory, name, "not the password")
    assert await try_sign_in(session_factory, name, PASSWORD)


async def test_unknown_and_damaged_hashes_match_nothing() -> None:
    assert await checked(PASSWORD, None) == (False, None)
    assert await checked(PASSWORD, "md5$abc") == (False, None)
    assert await checked(PASSWORD, "scrypt$not$a$hash") == (False, None)
    assert await checked(PASSWORD, "$argon2id$v=19$m=65536,t=3,p=4$broken") == (False, None)


async def test_a_hash_is_computed_while_the_event_loop_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hash waits until another coroutine has run three times: computed on the event
    loop's own thread, it would wait in vain (the other coroutine could not run)."""
    others_ran = threading.Event()
    waited: list[bool] = []
    real_hash = PASSWORDS.current_hasher.hash

    def slow_hash(password: str | bytes, *, salt: bytes | None = None) -> str:
        waited.append(others_ran.wait(timeout=5))
        return real_hash(password, salt=salt)

    monkeypatch.setattr(PASSWORDS.current_hasher, "hash", slow_hash)
    counter = 0

    async def other_request() -> None:
        nonlocal counter
        while counter < 3:
            counter += 1
            await asyncio.sleep(0)
        others_ran.set()

    made, _ = await asyncio.gather(hashed(PASSWORD), other_request())
    assert waited == [True] and counter == 3
    assert made.startswith("$argon2id$")


async def test_checking_a_password_leaves_the_event_loop_free() -> None:
    stored = await hashed(PASSWORD)
    done = False
    ticks = 0

    async def other_request() -> None:
        nonlocal ticks
        while not done:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(other_request())
    await asyncio.sleep(0)
    before = ticks
    matches, _ = await checked(PASSWORD, stored)
    done = True
    await ticker
    assert matches
    # blocking the loop would let the other coroutine run at most once during the check
    assert ticks - before > 1
