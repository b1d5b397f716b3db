"""The keyring: a rotated key leaves every checkpoint signed before it valid, and a key is
accepted only for the period it was in use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audit import dossier as dossiers
from audit.checkpoints import CheckpointRefused, create_checkpoint
from audit.keyring import (
    Keyring,
    KeyringEntry,
    keyring_yaml,
    load_keyring,
    rotate,
    save_keyring,
)
from audit.keys import KeyFileError, key_id, load_private_key, load_public_key
from tests.audit.conftest import Keys, check, record_all, sign, story

T = datetime(2026, 6, 1, tzinfo=UTC)


async def test_sign_rotate_sign_and_both_verify(
    log_url: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys, tmp_path: Path
) -> None:
    await record_all(log_sessions, story("K-1"))
    first = await sign(log_sessions, keys)
    async with log_sessions() as session:  # exported before the rotation
        built = await dossiers.build_dossier(session, "K-1")
    assert built is not None and built["checkpoint"]["key_id"] == key_id(keys.public)
    exported = tmp_path / "k1.html"
    dossiers.write(dossiers.render(built, "html"), exported, "html")

    ring = tmp_path / "keyring.yaml"
    rotated = rotate(ring, tmp_path / "new.pem", current=keys.public)
    keyring = load_keyring(ring)
    assert keyring.key_ids() == [key_id(keys.public), rotated.key_id]
    new = Keys(
        rotated.private_path,
        rotated.public_path,
        load_private_key(rotated.private_path),
        load_public_key(rotated.public_path),
    )

    await record_all(log_sessions, story("K-2"))
    second = await sign(log_sessions, new, keyring=keyring)
    assert (second.key_id, second.previous()) == (rotated.key_id, (first.id, first.digest()))

    report = await check(log_sessions, keyring, checkpoints=None)
    assert report.ok, report.faults
    assert (report.checkpoints, report.checkpoint_chain) == ([2, 1], 2)

    # the new key alone does not know the old checkpoint: that is what the keyring is for
    alone = await check(log_sessions, new.public, checkpoints=None)
    assert [(f.kind, f.checkpoint) for f in alone.faults] == [("checkpoint_foreign_key", 1)]

    # a dossier of the new key's checkpoint carries its link, in every format
    async with log_sessions() as session:
        linked = await dossiers.build_dossier(session, "K-2")
    assert linked is not None
    assert linked["checkpoint"]["previous"] == {"number": 1, "digest": first.digest()}
    for fmt in dossiers.FORMATS:
        path = tmp_path / f"k2.{fmt}"
        dossiers.write(dossiers.render(linked, fmt), path, fmt)
        assert dossiers.verify_dossier_file(path, keyring).ok, fmt
        path.write_text(path.read_text("utf-8-sig").replace(first.digest(), "0" * 64), "utf-8")
        assert not dossiers.verify_dossier_file(path, keyring).ok, fmt  # the link is signed

    # the dossier exported under the old key verifies with the keyring
    verified = dossiers.verify_dossier_file(exported, keyring)
    assert verified.ok, verified.faults
    assert not dossiers.verify_dossier_file(exported, new.public).ok


async def test_a_rotated_key_may_no_longer_sign(
    log_url: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys, tmp_path: Path
) -> None:
    await record_all(log_sessions, story("K-3"))
    await sign(log_sessions, keys)
    ring = tmp_path / "keyring.yaml"
    rotate(ring, tmp_path / "new.pem", current=keys.public)
    async with log_sessions() as session:
        with pytest.raises(CheckpointRefused, match="不在其有效期内"):
            await create_checkpoint(session, keys.private, keyring=load_keyring(ring))


def test_a_key_is_valid_only_in_its_period(keys: Keys, other_keys: Keys) -> None:
    keyring = Keyring(
        (
            KeyringEntry(keys.public, valid_until=T),
            KeyringEntry(other_keys.public, valid_from=T),
        )
    )
    old, new = key_id(keys.public), key_id(other_keys.public)
    assert keyring.key_for(old, T - timedelta(seconds=1)).public_key is keys.public
    assert keyring.key_for(old, T).public_key is None
    assert "不在其有效期内" in keyring.key_for(old, T).problem
    assert keyring.key_for(new, T).public_key is other_keys.public
    assert keyring.key_for(new, T - timedelta(seconds=1)).public_key is None
    assert "外来密钥" in keyring.key_for("0123456789abcdef", T).problem


def test_the_keyring_file_reads_back_as_written(
    keys: Keys, other_keys: Keys, tmp_path: Path
) -> None:
    keyring = Keyring(
        (
            KeyringEntry(keys.public, valid_until=T),
            KeyringEntry(other_keys.public, valid_from=T),
        )
    )
    path = tmp_path / "ring.yaml"
    save_keyring(path, keyring)
    again = load_keyring(path)
    assert again.key_ids() == keyring.key_ids()
    assert [(e.valid_from, e.valid_until) for e in again.entries] == [(None, T), (T, None)]
    assert keyring_yaml(again) == path.read_text("utf-8")
    assert load_keyring(keys.public_path).key_ids() == [key_id(keys.public)]  # a bare PEM


def test_a_keyring_that_lies_about_a_key_is_refused(
    keys: Keys, other_keys: Keys, tmp_path: Path
) -> None:
    path = tmp_path / "ring.yaml"
    save_keyring(path, Keyring.single(keys.public))
    path.write_text(
        path.read_text("utf-8").replace(key_id(keys.public), key_id(other_keys.public)), "utf-8"
    )
    with pytest.raises(KeyFileError, match="与公钥不符"):
        load_keyring(path)
    path.write_text("format: something-else\n", "utf-8")
    with pytest.raises(KeyFileError, match="不是公钥环"):
        load_keyring(path)
