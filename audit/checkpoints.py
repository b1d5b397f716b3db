"""Signed checkpoints (签名检查点): the heads of every chain at one moment, signed.

A hash chain shows an event changed in the middle, but not a chain cut short at its end nor
one recomputed from the first changed event on; only something kept outside the chain can.
A checkpoint is that: every chain's head (chain_index, hash), the Merkle root over them
(``audit.merkle``) and an Ed25519 signature over the statement::

    b"cadre-appointments audit checkpoint v<version>\\n" + canonical JSON of
    {"created_at": ISO UTC, "event_count": n, "key_id": k, "merkle_root": r}

Versions. A checkpoint of version 1 (signed before probations were chained) covers the heads
of the cases' chains, each a leaf named by its case_id. Version 2 covers the cases' and the
probations' chains (``case_heads``, ``probation_heads``), each leaf named by its kind and id
(``audit.merkle.leaf_name``). The version is in the signed prefix, so it cannot be changed
without breaking the signature, and a checkpoint is always verified over the leaves of its own
version: the old ones stay valid as they were signed.

``event_count`` is the sum of the heads' chain indexes (every event the checkpoint vouches
for). The heads themselves are covered by the root; the signature covers the root.

The heads are read in one REPEATABLE READ snapshot, so a checkpoint taken while cases are
being recorded states a moment that really existed (each event is written in a transaction
of its own).

A checkpoint never signs over rewritten history: before signing, every head the previous
checkpoint signed must still be in the log, unchanged, and the previous checkpoint must
verify (when signed with the same key). Otherwise a tail cut or a chain recomputed behind
the service's back would be laundered by the next scheduled checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from audit.chain import CASE_CHAIN, CHAINS, PROBATION_CHAIN, Chain, canonical_json, iso_utc
from audit.keys import key_id, sign, signature_valid
from audit.merkle import Heads, leaf_name, merkle_root
from store.models import AuditCheckpoint

STATEMENT_PREFIX = b"cadre-appointments audit checkpoint v1\n"  # version 1's
CHECKPOINT_VERSION = 2  # what ``create_checkpoint`` signs
VERSIONS = (1, 2)
# The column of ``audit_checkpoints`` that holds each kind of chain's heads.
HEADS_COLUMNS = {CASE_CHAIN.name: "case_heads", PROBATION_CHAIN.name: "probation_heads"}

ChainHeads = dict[str, tuple[int, str]]  # chain id → (chain_index, hash) of its newest event


def statement_prefix(version: int) -> bytes:
    if version not in VERSIONS:
        raise ValueError(f"no checkpoint version {version}; this program knows {VERSIONS}")
    return f"cadre-appointments audit checkpoint v{version}\n".encode()


def statement(
    created_at: datetime, event_count: int, key: str, root: str, *, version: int
) -> bytes:
    """The bytes a checkpoint's signature covers."""
    body = {
        "created_at": iso_utc(created_at),
        "event_count": event_count,
        "key_id": key,
        "merkle_root": root,
    }
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
    id: int
    created_at: datetime
    merkle_root: str
    case_heads: ChainHeads
    event_count: int
    signature: str
    key_id: str
    malformed: str = ""  # why the stored heads could not be read, if they could not
    probation_heads: ChainHeads = field(default_factory=dict)  # version 2 on
    version: int = 1

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
        )

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
            self.created_at, self.event_count, self.key_id, self.merkle_root, version=self.version
        )

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
        if with_heads:
            for chain in chains_of(self.version):
                heads = self.heads(chain)
                out[HEADS_COLUMNS[chain.name]] = {c: [i, h] for c, (i, h) in sorted(heads.items())}
        return out


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


def checkpoint_problems(checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> list[str]:
    """What is wrong with a checkpoint on its own (signature, root, count); empty if nothing."""
    name = f"checkpoint #{checkpoint.id} of {iso_utc(checkpoint.created_at)}"
    if checkpoint.key_id != key_id(public_key):
        return [
            f"{name} was signed with key {checkpoint.key_id}, not with the key given "
            f"({key_id(public_key)}): verify it with that key's public half"
        ]
    if checkpoint.version not in VERSIONS:
        return [f"{name} is of version {checkpoint.version}, which this program does not know"]
    problems = []
    if checkpoint.malformed:
        problems.append(f"{name}: its heads are malformed ({checkpoint.malformed})")
    if not signature_valid(public_key, checkpoint.statement(), checkpoint.signature):
        problems.append(
            f"{name}: the signature does not match its statement (root, count, time, version "
            "or key changed, or the signature forged)"
        )
    leaves = checkpoint.leaves()
    if merkle_root(leaves) != checkpoint.merkle_root:
        problems.append(f"{name}: its heads do not give its Merkle root (heads changed)")
    count = sum(index for index, _ in leaves.values())
    if count != checkpoint.event_count:
        problems.append(
            f"{name}: its heads add up to {count} events, but it states {checkpoint.event_count}"
        )
    if checkpoint.version == 1 and checkpoint.probation_heads:
        problems.append(f"{name}: it is of version 1 but has probation heads, which v1 never had")
    return problems


class CheckpointRefused(Exception):
    """The log no longer holds what the previous checkpoint signed: nothing was signed."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


async def lost_heads(session: AsyncSession, previous: Checkpoint) -> list[str]:
    """The heads ``previous`` signed that the log no longer has as they were."""
    lost = []
    for chain in chains_of(previous.version):
        result = await session.execute(
            text(
                f"""
                SELECT head.key AS chain_id, (head.value ->> 0)::int AS chain_index, e.hash
                FROM audit_checkpoints AS cp
                CROSS JOIN LATERAL jsonb_each(cp.{HEADS_COLUMNS[chain.name]}) AS head
                LEFT JOIN {chain.table} AS e
                    ON e.{chain.id_key} = head.key
                    AND e.chain_index = (head.value ->> 0)::int
                WHERE cp.id = :id AND e.hash IS DISTINCT FROM head.value ->> 1
                ORDER BY head.key
                """
            ),
            {"id": previous.id},
        )
        lost += [
            f"{chain.name} {chain_id}: event {index}, which checkpoint #{previous.id} signed, "
            + ("is gone" if digest is None else "has changed")
            for chain_id, index, digest in result
        ]
    return lost


async def current_heads(session: AsyncSession, chain: Chain = CASE_CHAIN) -> ChainHeads:
    """The newest event of every chain of one kind."""
    result = await session.execute(
        text(
            f"SELECT DISTINCT ON ({chain.id_key}) {chain.id_key}, chain_index, hash "
            f"FROM {chain.table} ORDER BY {chain.id_key}, chain_index DESC"
        )
    )
    return {chain_id: (index, digest) for chain_id, index, digest in result}


def sign_heads(
    heads: dict[str, ChainHeads],
    private_key: Ed25519PrivateKey,
    created_at: datetime,
    version: int = CHECKPOINT_VERSION,
) -> tuple[str, int, str, str]:
    """(merkle_root, event_count, key_id, signature) of a checkpoint over ``heads`` (by kind
    of chain)."""
    tree = leaves(version, heads)
    root = merkle_root(tree)
    count = sum(index for index, _ in tree.values())
    key = key_id(private_key.public_key())
    return (
        root,
        count,
        key,
        sign(private_key, statement(created_at, count, key, root, version=version)),
    )


async def create_checkpoint(
    session: AsyncSession, private_key: Ed25519PrivateKey, *, now: datetime | None = None
) -> Checkpoint:
    """Sign the heads of every chain as they stand and store the checkpoint (committed).

    Raises ``CheckpointRefused`` if the previous checkpoint's heads are not in the log as
    signed. ``session`` must not be in a transaction yet: the heads are read in a snapshot of
    their own.
    """
    async with session.begin():
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        latest = await latest_checkpoints(session, 1)
        if latest:
            previous = latest[0]
            problems = []
            if previous.key_id == key_id(private_key.public_key()):
                problems = checkpoint_problems(previous, private_key.public_key())
            problems += await lost_heads(session, previous)
            if problems:
                raise CheckpointRefused(problems)
        heads = {chain.name: await current_heads(session, chain) for chain in CHAINS}
        created_at = now or datetime.now(UTC)
        root, count, key, signature = sign_heads(heads, private_key, created_at)
        new_id = await session.scalar(
            insert(AuditCheckpoint)
            .values(
                created_at=created_at,
                version=CHECKPOINT_VERSION,
                merkle_root=root,
                case_heads={c: [i, h] for c, (i, h) in heads[CASE_CHAIN.name].items()},
                probation_heads={p: [i, h] for p, (i, h) in heads[PROBATION_CHAIN.name].items()},
                event_count=count,
                signature=signature,
                key_id=key,
            )
            .returning(AuditCheckpoint.id)
        )
    assert new_id is not None
    return Checkpoint(
        new_id,
        created_at,
        root,
        heads[CASE_CHAIN.name],
        count,
        signature,
        key,
        probation_heads=heads[PROBATION_CHAIN.name],
        version=CHECKPOINT_VERSION,
    )


async def latest_checkpoints(session: AsyncSession, limit: int | None = 1) -> list[Checkpoint]:
    """The newest checkpoints first; ``limit=None`` for all of them."""
    query = select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc())
    if limit is not None:
        query = query.limit(limit)
    result = await session.scalars(query.execution_options(populate_existing=True))
    return [Checkpoint.of(row) for row in result]


async def latest_checkpoint_with(session: AsyncSession, case_id: str) -> Checkpoint | None:
    """The newest checkpoint that has a head for ``case_id``."""
    query = (
        select(AuditCheckpoint)
        .where(AuditCheckpoint.case_heads.has_key(case_id))
        .order_by(AuditCheckpoint.id.desc())
        .limit(1)
    )
    row = await session.scalar(query.execution_options(populate_existing=True))
    return None if row is None else Checkpoint.of(row)
