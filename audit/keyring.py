"""The keyring (公钥环): every public key that signs or has signed checkpoints, each with the
period it was in use, so that rotating the signing key leaves the past verifiable.

A checkpoint is accepted only when the key named by its ``key_id`` is in the keyring and was
valid at the checkpoint's ``created_at`` (``valid_from`` ≤ created_at < ``valid_until``; an
open end is unbounded). A key the keyring does not know is a foreign key: whoever inserted
that checkpoint, it was not the service.

The keyring is a YAML file (the setting AUDIT_KEYRING; the embedded stack keeps its own in
its data folder), kept and published like the public key, never in the database it vouches
for::

    format: cadre-appointments/audit-keyring/v1
    keys:
    - key_id: 3f2a9c0d11e4b6a7          # the first 16 hex digits of sha256 of the raw key
      public_key: MCowBQYDK2VwAyEA...   # base64 of its SubjectPublicKeyInfo (the PEM body)
      valid_from: null                  # or an instant, 2026-12-01T08:00:00.000000Z
      valid_until: '2026-12-01T08:00:00.000000Z'   # null while it is the key in use

Without a keyring file the service's own signing key is the whole keyring, valid always: as
before keyrings existed. ``rotate`` makes a new key, ends the period of the current one and
starts the new one's at the same instant.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.chain import iso_utc, parse_iso_utc
from audit.keys import KeyFileError, key_id, load_public_key, public_key_path, write_keypair

KEYRING_FORMAT = "cadre-appointments/audit-keyring/v1"


@dataclass(frozen=True, slots=True)
class KeyringEntry:
    public_key: Ed25519PublicKey
    valid_from: datetime | None = None  # None: from the start
    valid_until: datetime | None = None  # None: still in use

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def valid_at(self, at: datetime) -> bool:
        return (self.valid_from is None or self.valid_from <= at) and (
            self.valid_until is None or at < self.valid_until
        )

    def period(self) -> str:
        start = "起始" if self.valid_from is None else iso_utc(self.valid_from)
        end = "至今" if self.valid_until is None else iso_utc(self.valid_until)
        return f"{start} 至 {end}"


@dataclass(frozen=True, slots=True)
class KeyChoice:
    """The key a checkpoint must verify with, or why there is none (``problem``)."""

    public_key: Ed25519PublicKey | None
    problem: str = ""


@dataclass(frozen=True)
class Keyring:
    entries: tuple[KeyringEntry, ...]

    @classmethod
    def single(cls, public_key: Ed25519PublicKey) -> Keyring:
        """One key, valid always: the keyring of a service that has never rotated."""
        return cls((KeyringEntry(public_key),))

    @classmethod
    def of(cls, keys: Keyring | Ed25519PublicKey) -> Keyring:
        return keys if isinstance(keys, Keyring) else cls.single(keys)

    def key_ids(self) -> list[str]:
        return [e.key_id for e in self.entries]

    def key_for(self, ident: str, at: datetime) -> KeyChoice:
        """The key ``ident`` if the keyring has it and it was valid at ``at``."""
        known = [e for e in self.entries if e.key_id == ident]
        if not known:
            return KeyChoice(None, f"签名密钥 {ident} 不在公钥环中（外来密钥）")
        for entry in known:
            if entry.valid_at(at):
                return KeyChoice(entry.public_key)
        periods = "；".join(e.period() for e in known)
        return KeyChoice(
            None, f"签名密钥 {ident} 在签署时间 {iso_utc(at)} 不在其有效期内（有效期：{periods}）"
        )

    def current(self, at: datetime) -> KeyringEntry | None:
        """The key valid at ``at`` (the newest such, should periods overlap)."""
        valid = [e for e in self.entries if e.valid_at(at)]
        return valid[-1] if valid else None


def _public_b64(public_key: Ed25519PublicKey) -> str:
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode("ascii")


def _instant(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):  # YAML read an unquoted timestamp itself
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value
    try:
        return parse_iso_utc(str(value))
    except ValueError:
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            raise KeyFileError(f"{where}: {value!r} 不是时间（如 2026-12-01T08:00:00Z）") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _entry(raw: Any, where: str) -> KeyringEntry:
    if not isinstance(raw, dict) or not isinstance(raw.get("public_key"), str):
        raise KeyFileError(f"{where}: 每把密钥须有 public_key")
    try:
        key = serialization.load_der_public_key(base64.b64decode(raw["public_key"], validate=True))
    except ValueError as exc:
        raise KeyFileError(f"{where}: public_key 不是 base64 编码的公钥") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{where}: public_key 不是 Ed25519 公钥")
    entry = KeyringEntry(
        key,
        _instant(raw.get("valid_from"), f"{where}.valid_from"),
        _instant(raw.get("valid_until"), f"{where}.valid_until"),
    )
    stated = raw.get("key_id")
    if stated is not None and stated != entry.key_id:
        raise KeyFileError(f"{where}: key_id {stated} 与公钥不符（应为 {entry.key_id}）")
    if entry.valid_from and entry.valid_until and entry.valid_until <= entry.valid_from:
        raise KeyFileError(f"{where}: valid_until 早于 valid_from")
    return entry


def load_keyring(path: Path) -> Keyring:
    """The keyring of a YAML file (see the module); a PEM public key file is read as a
    keyring of that one key, valid always."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KeyFileError(f"无法读取公钥环 {path}：{exc.strerror}") from exc
    if "-----BEGIN" in text:
        return Keyring.single(load_public_key(path))
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise KeyFileError(f"{path} 不是 YAML 文件：{exc}") from exc
    if not isinstance(data, dict) or data.get("format") != KEYRING_FORMAT:
        raise KeyFileError(f"{path} 不是公钥环（format 应为 {KEYRING_FORMAT}）")
    raw = data.get("keys")
    if not isinstance(raw, list) or not raw:
        raise KeyFileError(f"{path}: 公钥环中没有密钥")
    return Keyring(tuple(_entry(item, f"{path}: keys[{n}]") for n, item in enumerate(raw)))


def keyring_yaml(keyring: Keyring) -> str:
    keys = [
        {
            "key_id": e.key_id,
            "public_key": _public_b64(e.public_key),
            "valid_from": None if e.valid_from is None else iso_utc(e.valid_from),
            "valid_until": None if e.valid_until is None else iso_utc(e.valid_until),
        }
        for e in keyring.entries
    ]
    header = (
        "# 审计检查点签名公钥环：每把签过检查点的公钥及其有效期。请与公钥一同发布、妥善保管。\n"
        "# The audit keyring: every public key that signs or has signed checkpoints.\n"
    )
    body = yaml.safe_dump({"format": KEYRING_FORMAT, "keys": keys}, sort_keys=False)
    return header + body


def save_keyring(path: Path, keyring: Keyring) -> None:
    """Write the keyring, replacing the file in one step (a reader never sees half of it)."""
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(keyring_yaml(keyring))
    os.replace(temporary, path)


def with_new_key(keyring: Keyring, public_key: Ed25519PublicKey, at: datetime) -> Keyring:
    """The keyring after a rotation at ``at``: every open period ends there, the new key's
    begins there."""
    if key_id(public_key) in keyring.key_ids():
        raise KeyFileError(f"密钥 {key_id(public_key)} 已在公钥环中")
    closed: Iterable[KeyringEntry] = (
        replace(e, valid_until=at) if e.valid_until is None or e.valid_until > at else e
        for e in keyring.entries
    )
    return Keyring((*closed, KeyringEntry(public_key, valid_from=at)))


@dataclass(frozen=True)
class Rotation:
    private_path: Path
    public_path: Path
    key_id: str
    at: datetime


def rotate(
    keyring_path: Path,
    new_private_path: Path,
    *,
    current: Ed25519PublicKey | None = None,
    now: datetime | None = None,
) -> Rotation:
    """A new signing key at ``new_private_path`` (and its public key beside it), entered in
    the keyring at ``keyring_path`` from now on; the keys before it stay, valid until now.

    A keyring file that does not exist yet is started with ``current`` (the key signing so
    far, valid from the start until now)."""
    at = now or datetime.now(UTC)
    if keyring_path.exists():
        keyring = load_keyring(keyring_path)
    elif current is not None:
        keyring = Keyring.single(current)
    else:
        raise KeyFileError(
            f"公钥环 {keyring_path} 不存在，也不知道此前使用的签名密钥：无法轮换（请给出当前密钥）"
        )
    private, public, ident = write_keypair(new_private_path)
    save_keyring(keyring_path, with_new_key(keyring, load_public_key(public), at))
    return Rotation(private, public, ident, at)


def keyring_for_key(private_path: Path) -> Keyring:
    """The keyring of one key pair (its public file, or the private key's public half)."""
    public = public_key_path(private_path)
    return Keyring.single(load_public_key(public if public.exists() else private_path))
