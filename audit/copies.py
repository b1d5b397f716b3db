"""Copies of the checkpoints kept off the database (检查点副本), and the database checked
against them.

A database whose checkpoints were all deleted, or whose newest ones were, looks like one
that never had them: nothing left in it can tell. Every checkpoint's statement is therefore
also written to an export folder (the setting AUDIT_EXPORT_DIR; the embedded stack keeps one
in its data folder) and mailed to the auditors (``workflows.checkpoint_types.checkpoint_mail``),
who keep the copies where the service cannot reach them. ``compare_with_copies`` then finds
each checkpoint a copy proves was signed and the database no longer has, or has otherwise.

A copy is one JSON file per checkpoint, ``checkpoint-00000007.json``: the statement's fields,
the signature and the digest, no heads (the root covers them)::

    {"format": "cadre-appointments/audit-checkpoint-copy/v1", "id": 7, "version": 3,
     "created_at": ..., "merkle_root": ..., "event_count": ..., "key_id": ...,
     "signature": ..., "previous": {"number": 6, "digest": ...}, "digest": ...}

A folder of copies is read whatever else it holds: every ``*.json`` file of that format, by
its id, whatever its name (an auditor saves the mailed copies under names of their own).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.chain import iso_utc, parse_iso_utc
from audit.checkpoint_chain import MISSING, ChainFault, safe_digest, signed_by_keyring
from audit.keyring import Keyring
from audit.statement import Checkpoint, previous_from_json

COPY_FORMAT = "cadre-appointments/audit-checkpoint-copy/v1"
CHANGED = "checkpoint_copy"  # the database's checkpoint is not the one copied, or a bad copy


class CopyError(ValueError):
    """A copy that cannot be written or read, with a sentence saying why."""


def copy_name(number: int) -> str:
    return f"checkpoint-{number:08d}.json"


def copy_text(cp: Checkpoint) -> str:
    """The copy of a checkpoint as it is written and mailed."""
    document = {"format": COPY_FORMAT, **cp.to_json(with_heads=False), "digest": cp.digest()}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def write_copy(folder: Path, cp: Checkpoint) -> Path:
    """Write the copy of ``cp`` to ``folder`` (made if missing, mode 0700; the file 0600).

    Writing the same copy again changes nothing; a different file under the same number is
    refused: it is the copy of another checkpoint #n, and only the auditors may judge it."""
    path = folder / copy_name(cp.id)
    text = copy_text(cp)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if path.exists():
            if path.read_text(encoding="utf-8") == text:
                return path
            raise CopyError(
                f"副本 {path} 已存在且与检查点 #{cp.id} 不同：未覆盖（请核验：appointments audit "
                f"verify --against {folder}）"
            )
        temporary = folder / f".{path.name}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except OSError as exc:
        raise CopyError(f"无法写出检查点副本 {path}：{exc.strerror}") from exc
    return path


def checkpoint_from_copy(document: Any) -> Checkpoint:
    """The checkpoint (without heads) a copy states; ValueError if it is not a copy."""
    if not isinstance(document, dict) or document.get("format") != COPY_FORMAT:
        raise ValueError(f"不是检查点副本（格式 {COPY_FORMAT}）")
    try:
        cp = Checkpoint(
            id=int(document["id"]),
            created_at=parse_iso_utc(str(document["created_at"])),
            merkle_root=str(document["merkle_root"]),
            case_heads={},
            event_count=int(document["event_count"]),
            signature=str(document["signature"]),
            key_id=str(document["key_id"]),
            version=int(document["version"]),
            previous_digest=previous_from_json(document.get("previous")),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"有项目缺失或格式不对：{exc}") from exc
    return cp


@dataclass(frozen=True, slots=True)
class Copy:
    checkpoint: Checkpoint
    path: Path


@dataclass
class Copies:
    folder: Path
    by_id: dict[int, Copy] = field(default_factory=dict)
    faults: list[ChainFault] = field(default_factory=list)  # copies that cannot be used


def read_copies(folder: Path, keyring: Keyring) -> Copies:
    """Every copy in ``folder`` (none if it does not exist yet), each checked on its own: a
    copy that is not signed by the keyring proves nothing."""
    copies = Copies(folder)
    if not folder.is_dir():
        return copies
    for path in sorted(folder.glob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue  # not a copy; the folder may hold other files
        if not isinstance(document, dict) or document.get("format") != COPY_FORMAT:
            continue
        try:
            cp = checkpoint_from_copy(document)
        except ValueError as exc:
            copies.faults.append(ChainFault(CHANGED, 0, f"副本 {path} 无法读取：{exc}"))
            continue
        bad = signed_by_keyring(cp, keyring)
        if bad is not None:
            copies.faults.append(
                ChainFault(CHANGED, cp.id, f"副本 {path} 不能作为证据：{bad.message}")
            )
            continue
        other = copies.by_id.get(cp.id)
        if other is not None and other.checkpoint.digest() != cp.digest():
            copies.faults.append(
                ChainFault(
                    CHANGED,
                    cp.id,
                    f"副本 {path} 与 {other.path} 都是检查点 #{cp.id}，内容却不同："
                    "同一编号签署了两次",
                )
            )
            continue
        copies.by_id.setdefault(cp.id, Copy(cp, path))
    return copies


def _ranges(numbers: Iterable[int]) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for n in sorted(numbers):
        if ranges and ranges[-1][1] == n - 1:
            ranges[-1] = (ranges[-1][0], n)
        else:
            ranges.append((n, n))
    return ranges


def _span(first: int, last: int) -> str:
    return f"#{first}" if first == last else f"#{first} 至 #{last}"


@dataclass
class CopyCheck:
    copies: int = 0
    faults: list[ChainFault] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def compare_with_copies(
    statements: Sequence[Checkpoint], folder: Path, keyring: Keyring
) -> CopyCheck:
    """The database's checkpoints against the copies in ``folder``: each copied checkpoint
    must be in the database as it was copied."""
    copies = read_copies(folder, keyring)
    check = CopyCheck(len(copies.by_id), list(copies.faults))
    in_db = {cp.id: cp for cp in statements}
    missing = [n for n in copies.by_id if n not in in_db]
    for first, last in _ranges(missing):
        a, b = copies.by_id[first], copies.by_id[last]
        check.faults.append(
            ChainFault(
                MISSING,
                first,
                f"检查点 {_span(first, last)}（签署于 {iso_utc(a.checkpoint.created_at)}"
                + ("" if first == last else f" 至 {iso_utc(b.checkpoint.created_at)}")
                + f"）在数据库中缺失，而 {folder} 中的副本证明它们曾经签署：它们被删除了",
            )
        )
    for number, copy in sorted(copies.by_id.items()):
        cp = in_db.get(number)
        if cp is None:
            continue
        if safe_digest(cp) != copy.checkpoint.digest() or cp.signature != copy.checkpoint.signature:
            check.faults.append(
                ChainFault(
                    CHANGED,
                    number,
                    f"数据库中的检查点 #{number} 与副本 {copy.path} 不同：它被替换或篡改",
                )
            )
    newer = [n for n in in_db if n not in copies.by_id]
    if newer:
        spans = "、".join(_span(a, b) for a, b in _ranges(newer))
        check.notes.append(
            f"检查点 {spans} 在 {folder} 中没有副本（副本写出后才签署，或未能写出）："
            "它们只凭签名核验"
        )
    return check
