"""The keys that encrypt what the service sends Temporal (载荷密钥): AES-256, one to a file.

A key file holds 32 random bytes in base64 on one line; ``appointments encryption keygen``
writes one (mode 0600), and the embedded stack makes its own in its data folder. The setting
PAYLOAD_KEY_FILES names the files, the active key first.

A key is known by its key id: the first 16 hex digits of sha256 over a label and the key.
Every payload records the id of the key that encrypted it, so a key file may be renamed or
moved and its payloads still find it, and the id says nothing about the key itself.

Rotation: put the new key's file first. New payloads are encrypted with it; a payload is
decrypted with the key it names, so an older key stays in the list for as long as anything
encrypted with it is kept (the namespace's retention, running cases, saved histories).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

KEY_BYTES = 32  # AES-256
EMBEDDED_KEY_FILE = "payload.key"  # the embedded stack's own key, in its data folder
_ID_LABEL = b"cadre-appointments payload key id\x00"
_SETTING = "PAYLOAD_KEY_FILES"


class PayloadKeyError(ValueError):
    """A key that is missing or cannot be used, with a sentence saying which and why."""


def key_id(key: bytes) -> str:
    return hashlib.sha256(_ID_LABEL + key).hexdigest()[:16]


@dataclass(frozen=True)
class PayloadKeys:
    """Every key this process holds by its id, and the id of the one that encrypts."""

    by_id: Mapping[str, bytes]
    active_id: str

    def __post_init__(self) -> None:
        if self.active_id not in self.by_id:
            raise PayloadKeyError(f"用于加密的密钥 {self.active_id} 不在所给的密钥之中")

    @classmethod
    def of(cls, keys: Sequence[bytes]) -> PayloadKeys:
        """The keys given, the first active."""
        if not keys:
            raise PayloadKeyError("没有给出载荷密钥")
        for key in keys:
            if len(key) != KEY_BYTES:
                raise PayloadKeyError(f"载荷密钥应为 {KEY_BYTES} 字节，不是 {len(key)} 字节")
        return cls({key_id(key): key for key in keys}, key_id(keys[0]))

    def key(self, wanted: str) -> bytes:
        found = self.by_id.get(wanted)
        if found is None:
            known = ", ".join(sorted(self.by_id))
            raise PayloadKeyError(
                f"载荷是用密钥 {wanted!r} 加密的，不在本进程的载荷密钥之中（{known}）；"
                f"请把该密钥的文件加入 {_SETTING}"
            )
        return found


def read_key_file(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "不是文本"
        raise PayloadKeyError(f"{_SETTING}：无法读取载荷密钥 {path}：{reason}") from exc
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise PayloadKeyError(
            f"{_SETTING}：{path} 不是载荷密钥（应为一行：{KEY_BYTES} 个随机字节的 base64，"
            "即 `appointments encryption keygen` 写出的格式）"
        )
    return key


def load_payload_keys(paths: Sequence[Path]) -> PayloadKeys | None:
    """The keys in the files named, the first active; None when no file is named."""
    if not paths:
        return None
    return PayloadKeys.of([read_key_file(path) for path in paths])


def write_key_file(path: Path) -> str:
    """A new random key in a new file (mode 0600); its key id. Never overwrites a file:
    a key replaced by accident leaves everything it encrypted unreadable."""
    key = os.urandom(KEY_BYTES)
    try:
        # O_EXCL with the mode given at creation: never readable by others, not for a moment
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise PayloadKeyError(f"{path} 已存在；不会覆盖已有的密钥") from None
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(base64.b64encode(key).decode("ascii") + "\n")
    return key_id(key)
