"""What a checkpoint states and signs (检查点声明), in each of its versions.

A checkpoint is the heads of every chain at one moment (chain_index, hash), the Merkle root
over them (``audit.merkle``) and an Ed25519 signature over its statement::

    b"cadre-appointments audit checkpoint v<version>\\n" + canonical JSON of
    {"created_at": ISO UTC, "event_count": n, "key_id": k, "merkle_root": r}      (v1, v2)
    {..., "number": n, "previous": {"digest": d, "number": n - 1} or null}        (v3)

Versions. Version 1 (signed before probations were chained) covers the heads of the cases'
chains, each a leaf named by its case_id. Version 2 covers the cases' and the probations'
chains (``case_heads``, ``probation_heads``), each leaf named by its kind and id
(``audit.merkle.leaf_name``). Version 3 covers what version 2 covers and links the checkpoints
into a chain of their own: each states its number (the row's id, one more than the one
before) and the digest and number of the checkpoint before it (null for the very first), so
a checkpoint removed, replaced or inserted breaks the link of the next
(``audit.checkpoint_chain``). The version is in the signed prefix, so it cannot be changed
without breaking the signature, and a checkpoint is always verified as its own version: the
old ones stay valid as they were signed.

A checkpoint's digest is sha256 of its statement (hex); the statement covers everything the
checkpoint says, its signature's key included, so a checkpoint's digest names it.

``event_count`` is the sum of the heads' chain indexes (every event the checkpoint vouches
for). The heads themselves are covered by the root; the signature covers the root.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.chain import CASE_CHAIN, CHAINS, PROBATION_CHAIN, Chain, canonical_json, iso_utc
from audit.keys import key_id, signature_valid
from audit.merkle import Heads, leaf_name, merkle_root
from store.models import AuditCheckpoint

STATEMENT_PREFIX = b"cadre-appointments audit checkpoint v1\n"  # version 1's
CHECKPOINT_VERSION = 3  # what ``create_checkpoint`` signs
VERSIONS = (1, 2, 3)
LINKED_VERSIONS = (3,)  # the versions that name the checkpoint before them
# The column of ``audit_checkpoints`` that holds each kind of chain's heads.
HEADS_COLUMNS = {CASE_CHAIN.name: "case_heads", PROBATION_CHAIN.name: "probation_heads"}

ChainHeads = dict[str, tuple[int, str]]  # chain id → (chain_index, hash) of its newest event


def statement_prefix(version: int) -> bytes:
    if version not in VERSIONS:
        raise ValueError(f"no checkpoint version {version}; this program knows {VERSIONS}")
    return f"cadre-appointments audit checkpoint v{version}\n".encode()


def statement(
    created_at: datetime,
    event_count: int,
    key: str,
    root: str,
    *,
    version: int,
    number: int | None = None,
    previous: tuple[int, str] | None = None,
) -> bytes:
    """The bytes a checkpoint's signature covers; ``number`` and ``previous`` (number,
    digest) from version 3 on."""
    body: dict[str, Any] = {
        "created_at": iso_utc(created_at),
        "event_count": event_count,
        "key_id": key,
        "merkle_root": root,
    }
    if version in LINKED_VERSIONS:
        if number is None:
            raise ValueError(f"a checkpoint of version {version} states its number")
        body["number"] = number
        body["previous"] = (
            None if previous is None else {"digest": previous[1], "number": previous[0]}
        )
    return statement_prefix(version) + canonical_json(body).encode("utf-8")


def chains_of(version: int) -> tuple[Chain, ...]:
    """The kinds of chain a checkpoint of ``version`` covers."""
    return (CASE_CHAIN,) if version == 1 else CHAINS


def leaves(version: int, heads: dict[str, ChainHeads]) -> Heads:
    """The Merkle leaves of a checkpoint: every head of ``heads`` (by kind of chain, then
    by id) under its leaf name."""
    return {
        leaf_name(chain.name, chain_id, version): head
        for chain in chains_of(version)
        for chain_id, head in heads.get(chain.name, {}).items()
    }


@dataclass(frozen=True, slots=True)
class Checkpoint:
    id: int  # its number in the chain of checkpoints, from version 3 on
    created_at: datetime
    merkle_root: str
    case_heads: ChainHeads
    event_count: int
    signature: str
    key_id: str
    malformed: str = ""  # why the stored heads could not be read, if they could not
    probation_heads: ChainHeads = field(default_factory=dict)  # version 2 on
    version: int = 1
    previous_digest: str | None = None  # version 3 on: of checkpoint id - 1 (None: the first)

    @classmethod
    def of(cls, row: AuditCheckpoint) -> Checkpoint:
        malformed = ""
        try:
            heads = heads_from_json(row.case_heads)
            probation_heads = heads_from_json(row.probation_heads, "probation_heads")
        except ValueError as exc:  # tampered with: reported by checkpoint_problems
            heads, probation_heads, malformed = {}, {}, str(exc)
        return cls(
            id=row.id,
            created_at=row.created_at,
            merkle_root=row.merkle_root,
            case_heads=heads,
            event_count=row.event_count,
            signature=row.signature,
            key_id=row.key_id,
            malformed=malformed,
            probation_heads=probation_heads,
            version=row.version,
            previous_digest=row.previous_digest,
        )

    @property
    def name(self) -> str:
        return f"{iso_utc(self.created_at)} 的检查点 #{self.id}"

    @property
    def linked(self) -> bool:
        """Whether it names the checkpoint before it (version 3 on)."""
        return self.version in LINKED_VERSIONS

    def previous(self) -> tuple[int, str] | None:
        """(number, digest) of the checkpoint it names as the one before it."""
        if not self.linked or self.previous_digest is None:
            return None
        return (self.id - 1, self.previous_digest)

    def heads(self, chain: Chain) -> ChainHeads:
        """The heads of one kind of chain this checkpoint signed."""
        if chain not in chains_of(self.version):
            return {}
        return self.case_heads if chain is CASE_CHAIN else self.probation_heads

    def leaves(self) -> Heads:
        return leaves(
            self.version,
            {CASE_CHAIN.name: self.case_heads, PROBATION_CHAIN.name: self.probation_heads},
        )

    def statement(self) -> bytes:
        return statement(
            self.created_at,
            self.event_count,
            self.key_id,
            self.merkle_root,
            version=self.version,
            number=self.id,
            previous=self.previous(),
        )

    def digest(self) -> str:
        """sha256 of its statement, hex: what the next checkpoint names it by."""
        return hashlib.sha256(self.statement()).hexdigest()

    def to_json(self, *, with_heads: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "version": self.version,
            "created_at": iso_utc(self.created_at),
            "merkle_root": self.merkle_root,
            "event_count": self.event_count,
            "key_id": self.key_id,
            "signature": self.signature,
        }
        if self.linked:
            previous = self.previous()
            out["previous"] = (
                None if previous is None else {"number": previous[0], "digest": previous[1]}
            )
        if with_heads:
            for chain in chains_of(self.version):
                heads = self.heads(chain)
                out[HEADS_COLUMNS[chain.name]] = {c: [i, h] for c, (i, h) in sorted(heads.items())}
        return out


def previous_from_json(value: Any) -> str | None:
    """The digest of a checkpoint's ``previous`` as ``to_json`` writes it (None: the first);
    ValueError if it is not that shape."""
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("digest"), str):
        raise ValueError("previous is not {number, digest}")
    return str(value["digest"])


def heads_from_json(value: Any, what: str = "case_heads") -> ChainHeads:
    """``{chain_id: [chain_index, hash]}`` as stored; ValueError if it is not that shape."""
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not a mapping")
    heads: ChainHeads = {}
    for chain_id, head in value.items():
        if (
            not isinstance(head, list)
            or len(head) != 2
            or not isinstance(head[0], int)
            or not isinstance(head[1], str)
        ):
            raise ValueError(f"{what}[{chain_id!r}] is not [chain_index, hash]")
        heads[str(chain_id)] = (head[0], head[1])
    return heads


def signature_problems(checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> list[str]:
    """What is wrong with a checkpoint's statement and signature, the key being the right
    one for it; empty if nothing."""
    if checkpoint.version not in VERSIONS:
        return [f"{checkpoint.name}是第 {checkpoint.version} 版，本程序不认识这一版"]
    if not signature_valid(public_key, checkpoint.statement(), checkpoint.signature):
        return [
            f"{checkpoint.name}：签名与其声明不符（根哈希、记录数、时间、版本或密钥被改动，"
            "或签名是伪造的）"
        ]
    return []


def heads_problems(checkpoint: Checkpoint) -> list[str]:
    """What is wrong with the heads a checkpoint stores against what it states (the root,
    the count); empty if nothing."""
    name = checkpoint.name
    problems = []
    if checkpoint.malformed:
        problems.append(f"{name}：其链头格式不对（{checkpoint.malformed}）")
    leaves = checkpoint.leaves()
    if merkle_root(leaves) != checkpoint.merkle_root:
        problems.append(f"{name}：由其链头推不出它的默克尔根（链头被改动过）")
    count = sum(index for index, _ in leaves.values())
    if count != checkpoint.event_count:
        problems.append(
            f"{name}：其链头合计 {count} 条记录，但它声明的是 {checkpoint.event_count} 条"
        )
    if checkpoint.version == 1 and checkpoint.probation_heads:
        problems.append(f"{name}：它是第 1 版，却带有试用期链头，而第 1 版从来没有")
    return problems


def checkpoint_problems(checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> list[str]:
    """What is wrong with a checkpoint on its own (key, signature, root, count), checked with
    one public key; empty if nothing."""
    if checkpoint.key_id != key_id(public_key):
        return [
            f"{checkpoint.name}是用密钥 {checkpoint.key_id} 签的，不是所给的密钥"
            f"（{key_id(public_key)}）：请用那把密钥的公钥核验"
        ]
    problems = signature_problems(checkpoint, public_key)
    if checkpoint.version not in VERSIONS:
        return problems  # nothing else of it can be read
    return problems + heads_problems(checkpoint)
