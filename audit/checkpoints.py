"""Signed checkpoints (签名检查点): the heads of every case's chain at one moment, signed.

A hash chain shows an event changed in the middle, but not a chain cut short at its end nor
one recomputed from the first changed event on; only something kept outside the chain can.
A checkpoint is that: every case's head (chain_index, hash), the Merkle root over them
(``audit.merkle``) and an Ed25519 signature over the statement::

    b"cadre-appointments audit checkpoint v1\\n" + canonical JSON of
    {"created_at": ISO UTC, "event_count": n, "key_id": k, "merkle_root": r}

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

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from audit.chain import canonical_json, iso_utc
from audit.keys import key_id, sign, signature_valid
from audit.merkle import Heads, merkle_root
from store.models import AuditCheckpoint

STATEMENT_PREFIX = b"cadre-appointments audit checkpoint v1\n"


def statement(created_at: datetime, event_count: int, key: str, root: str) -> bytes:
    """The bytes a checkpoint's signature covers."""
    body = {
        "created_at": iso_utc(created_at),
        "event_count": event_count,
        "key_id": key,
        "merkle_root": root,
    }
    return STATEMENT_PREFIX + canonical_json(body).encode("utf-8")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    id: int
    created_at: datetime
    merkle_root: str
    case_heads: dict[str, tuple[int, str]]
    event_count: int
    signature: str
    key_id: str
    malformed: str = ""  # why the stored heads could not be read, if they could not

    @classmethod
    def of(cls, row: AuditCheckpoint) -> Checkpoint:
        malformed = ""
        try:
            heads = heads_from_json(row.case_heads)
        except ValueError as exc:  # tampered with: reported by checkpoint_problems
            heads, malformed = {}, str(exc)
        return cls(
            id=row.id,
            created_at=row.created_at,
            merkle_root=row.merkle_root,
            case_heads=heads,
            event_count=row.event_count,
            signature=row.signature,
            key_id=row.key_id,
            malformed=malformed,
        )

    def statement(self) -> bytes:
        return statement(self.created_at, self.event_count, self.key_id, self.merkle_root)

    def to_json(self, *, with_heads: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "created_at": iso_utc(self.created_at),
            "merkle_root": self.merkle_root,
            "event_count": self.event_count,
            "key_id": self.key_id,
            "signature": self.signature,
        }
        if with_heads:
            out["case_heads"] = {c: [i, h] for c, (i, h) in sorted(self.case_heads.items())}
        return out


def heads_from_json(value: Any) -> dict[str, tuple[int, str]]:
    """``{case_id: [chain_index, hash]}`` as stored; ValueError if it is not that shape."""
    if not isinstance(value, dict):
        raise ValueError("case_heads is not a mapping")
    heads: dict[str, tuple[int, str]] = {}
    for case_id, head in value.items():
        if (
            not isinstance(head, list)
            or len(head) != 2
            or not isinstance(head[0], int)
            or not isinstance(head[1], str)
        ):
            raise ValueError(f"case_heads[{case_id!r}] is not [chain_index, hash]")
        heads[str(case_id)] = (head[0], head[1])
    return heads


def checkpoint_problems(checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> list[str]:
    """What is wrong with a checkpoint on its own (signature, root, count); empty if nothing."""
    name = f"checkpoint #{checkpoint.id} of {iso_utc(checkpoint.created_at)}"
    if checkpoint.key_id != key_id(public_key):
        return [
            f"{name} was signed with key {checkpoint.key_id}, not with the key given "
            f"({key_id(public_key)}): verify it with that key's public half"
        ]
    problems = []
    if checkpoint.malformed:
        problems.append(f"{name}: its case heads are malformed ({checkpoint.malformed})")
    if not signature_valid(public_key, checkpoint.statement(), checkpoint.signature):
        problems.append(
            f"{name}: the signature does not match its statement (root, count, time or key "
            "changed, or the signature forged)"
        )
    if merkle_root(checkpoint.case_heads) != checkpoint.merkle_root:
        problems.append(f"{name}: its case heads do not give its Merkle root (heads changed)")
    count = sum(index for index, _ in checkpoint.case_heads.values())
    if count != checkpoint.event_count:
        problems.append(
            f"{name}: its case heads add up to {count} events, but it states "
            f"{checkpoint.event_count}"
        )
    return problems


class CheckpointRefused(Exception):
    """The log no longer holds what the previous checkpoint signed: nothing was signed."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


async def lost_heads(session: AsyncSession, previous: Checkpoint) -> list[str]:
    """The heads ``previous`` signed that the log no longer has as they were."""
    result = await session.execute(
        text(
            """
            SELECT head.key AS case_id, (head.value ->> 0)::int AS chain_index, e.hash
            FROM audit_checkpoints AS cp
            CROSS JOIN LATERAL jsonb_each(cp.case_heads) AS head
            LEFT JOIN case_events AS e
                ON e.case_id = head.key AND e.chain_index = (head.value ->> 0)::int
            WHERE cp.id = :id AND e.hash IS DISTINCT FROM head.value ->> 1
            ORDER BY head.key
            """
        ),
        {"id": previous.id},
    )
    return [
        f"case {case_id}: event {index}, which checkpoint #{previous.id} signed, "
        + ("is gone" if digest is None else "has changed")
        for case_id, index, digest in result
    ]


async def current_heads(session: AsyncSession) -> dict[str, tuple[int, str]]:
    """The newest event of every case's chain."""
    result = await session.execute(
        text(
            "SELECT DISTINCT ON (case_id) case_id, chain_index, hash FROM case_events "
            "ORDER BY case_id, chain_index DESC"
        )
    )
    return {case_id: (index, digest) for case_id, index, digest in result}


def sign_heads(
    heads: Heads, private_key: Ed25519PrivateKey, created_at: datetime
) -> tuple[str, int, str, str]:
    """(merkle_root, event_count, key_id, signature) of a checkpoint over ``heads``."""
    root = merkle_root(heads)
    count = sum(index for index, _ in heads.values())
    key = key_id(private_key.public_key())
    return root, count, key, sign(private_key, statement(created_at, count, key, root))


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
        heads = await current_heads(session)
        created_at = now or datetime.now(UTC)
        root, count, key, signature = sign_heads(heads, private_key, created_at)
        new_id = await session.scalar(
            insert(AuditCheckpoint)
            .values(
                created_at=created_at,
                merkle_root=root,
                case_heads={c: [i, h] for c, (i, h) in heads.items()},
                event_count=count,
                signature=signature,
                key_id=key,
            )
            .returning(AuditCheckpoint.id)
        )
    assert new_id is not None
    return Checkpoint(new_id, created_at, root, heads, count, signature, key)


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
