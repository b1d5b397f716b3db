"""The chain of checkpoints (检查点链): every checkpoint's statement checked, and each linked
to the one before it.

From version 3 on a checkpoint states its number and the digest of the checkpoint before it
(``audit.statement``). Checking only statements (a few hundred bytes each, never the heads)
keeps this cheap enough to do over every checkpoint on every verification; a statement
already found good by this process is not checked again (``_GOOD``). What each tamper
looks like:

- a checkpoint removed from the middle: the next one names a number the table lacks →
  ``checkpoint_missing``;
- a checkpoint replaced, or altered where its statement is: the next one's link no longer
  matches its digest → ``checkpoint_link``; an older version after a linked one, or a linked
  one dated before the one it names, likewise;
- a checkpoint inserted by someone without the service's key: its key is not in the keyring
  (or not valid at its date) → ``checkpoint_foreign_key``; with a key of the keyring but a
  signature that does not match → ``checkpoint``.

The newest checkpoints and a table emptied altogether leave nothing in the database to
notice them: only copies kept elsewhere can (``audit.copies``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from audit.chain import iso_utc
from audit.keyring import Keyring
from audit.keys import public_pem
from audit.statement import VERSIONS, Checkpoint, signature_problems

MISSING = "checkpoint_missing"
FOREIGN_KEY = "checkpoint_foreign_key"
BROKEN_LINK = "checkpoint_link"
SIGNATURE = "checkpoint"  # as every fault of a checkpoint on its own is called

# (digest, signature, public key) of statements this process found good: they are the same
# bytes whenever they come back, so their signatures need no second look.
_GOOD: set[tuple[str, str, bytes]] = set()
_GOOD_LIMIT = 200_000


@dataclass(frozen=True, slots=True)
class ChainFault:
    kind: str
    checkpoint: int  # the number where it shows
    message: str


@dataclass
class ChainCheck:
    checked: int = 0
    faults: list[ChainFault] = field(default_factory=list)
    authentic: list[int] = field(default_factory=list)  # signed by a keyring key, in order


def safe_digest(cp: Checkpoint) -> str:
    """Its digest; "" for a version this program does not know (reported by itself)."""
    return cp.digest() if cp.version in VERSIONS else ""


def _when(cp: Checkpoint) -> str:
    return f"检查点 #{cp.id}（签署于 {iso_utc(cp.created_at)}）"


def signed_by_keyring(cp: Checkpoint, keyring: Keyring) -> ChainFault | None:
    """Why ``cp`` was not signed by a key of the keyring valid at its time, or None."""
    choice = keyring.key_for(cp.key_id, cp.created_at)
    if choice.public_key is None:
        return ChainFault(
            FOREIGN_KEY, cp.id, f"{_when(cp)}：{choice.problem}，不是本服务签署的检查点"
        )
    digest = safe_digest(cp)
    memo = (digest, cp.signature, public_pem(choice.public_key))
    if digest and memo in _GOOD:
        return None
    problems = signature_problems(cp, choice.public_key)
    if problems:
        return ChainFault(SIGNATURE, cp.id, problems[0])
    if len(_GOOD) >= _GOOD_LIMIT:
        _GOOD.clear()
    _GOOD.add(memo)
    return None


def _link_fault(cp: Checkpoint, by_id: dict[int, Checkpoint]) -> ChainFault | None:
    previous = cp.previous()
    if previous is None:
        if cp.id != 1:
            return ChainFault(
                BROKEN_LINK,
                cp.id,
                f"{_when(cp)}自称第一个检查点（未链接前一个），但它的编号是 {cp.id}："
                "它不是本服务在此链上签署的",
            )
        return None
    number, digest = previous
    before = by_id.get(number)
    if before is None:
        return ChainFault(
            MISSING,
            number,
            f"检查点 #{number} 缺失：{_when(cp)}链接到它（摘要 {digest[:16]}…），"
            "数据库中却没有它，它被删除了",
        )
    if safe_digest(before) != digest:
        return ChainFault(
            BROKEN_LINK,
            number,
            f"检查点 #{number} 已不是 #{cp.id} 签署时链接的那一个（摘要不符）："
            f"#{number} 被替换或篡改",
        )
    if cp.created_at < before.created_at:
        return ChainFault(
            BROKEN_LINK,
            cp.id,
            f"{_when(cp)}早于它链接的检查点 #{number}（{iso_utc(before.created_at)}）",
        )
    return None


def check_checkpoint_chain(statements: Sequence[Checkpoint], keyring: Keyring) -> ChainCheck:
    """Every checkpoint's key, signature and link (``statements``: every checkpoint, heads
    not needed, in any order)."""
    ordered = sorted(statements, key=lambda cp: cp.id)
    by_id = {cp.id: cp for cp in ordered}
    check = ChainCheck(checked=len(ordered))
    linked_before: Checkpoint | None = None
    for cp in ordered:
        fault = signed_by_keyring(cp, keyring)
        if fault is None:
            check.authentic.append(cp.id)
        else:
            check.faults.append(fault)
        if cp.linked:
            link = _link_fault(cp, by_id)
            if link is not None:
                check.faults.append(link)
            linked_before = linked_before or cp
        elif linked_before is not None:
            check.faults.append(
                ChainFault(
                    BROKEN_LINK,
                    cp.id,
                    f"{_when(cp)}是第 {cp.version} 版，而此前的检查点 #{linked_before.id} 已是"
                    f"第 {linked_before.version} 版：本服务不会在新版之后再签旧版，它是插入的",
                )
            )
    return check
