"""Signed checkpoints (签名检查点) in the database: reading them, and signing a new one.

A hash chain shows an event changed in the middle, but not a chain cut short at its end nor
one recomputed from the first changed event on; only something kept outside the chain can.
A checkpoint is that: every chain's head, the Merkle root over them and an Ed25519 signature
over its statement (``audit.statement``: what it says in each version). From version 3 on
the checkpoints form a chain of their own (``audit.checkpoint_chain``), and each is copied
off the database (``audit.copies``).

The heads are read in one REPEATABLE READ snapshot, so a checkpoint taken while cases are
being recorded states a moment that really existed (each event is written in a transaction
of its own).

A checkpoint never signs over rewritten history. Before signing, ``create_checkpoint``
checks the whole chain of checkpoints (every one signed by a key of the keyring valid at its
time, each linked to the one before it, none missing), the copies (each copied checkpoint
still in the database as copied), the newest checkpoint's heads against its root, and that
every head it signed is still in the log unchanged. Any fault and nothing is signed:
otherwise a tail cut, a chain recomputed behind the service's back, a forged checkpoint or
checkpoints deleted would be laundered by the next scheduled one.

Only the signer inserts checkpoints: migration ``0008_checkpoint_chain`` gives that right to
the role ``appointments_signer`` alone (``audit.SIGNER_ROLE``), not to the application's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from audit.chain import CASE_CHAIN, CHAINS, PROBATION_CHAIN, Chain, iso_utc
from audit.checkpoint_chain import check_checkpoint_chain
from audit.copies import compare_with_copies
from audit.keyring import Keyring
from audit.keys import key_id, sign
from audit.merkle import merkle_root
from audit.statement import (
    CHECKPOINT_VERSION,
    HEADS_COLUMNS,
    STATEMENT_PREFIX,
    VERSIONS,
    ChainHeads,
    Checkpoint,
    chains_of,
    checkpoint_problems,
    heads_from_json,
    heads_problems,
    leaves,
    statement,
    statement_prefix,
)
from store.models import AuditCheckpoint

__all__ = [
    "CHECKPOINT_VERSION",
    "HEADS_COLUMNS",
    "STATEMENT_PREFIX",
    "VERSIONS",
    "ChainHeads",
    "Checkpoint",
    "CheckpointConflict",
    "CheckpointRefused",
    "chains_of",
    "checkpoint_by_id",
    "checkpoint_problems",
    "checkpoint_statements",
    "create_checkpoint",
    "current_heads",
    "heads_from_json",
    "latest_checkpoint_with",
    "latest_checkpoints",
    "leaves",
    "lost_heads",
    "sign_heads",
    "statement",
    "statement_prefix",
]


class CheckpointRefused(Exception):
    """The log or the checkpoints are no longer what was signed: nothing was signed."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class CheckpointConflict(Exception):
    """Another checkpoint was signed at the same moment and took the number: nothing was
    signed; signing again will do."""


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
            f"{chain.word} {chain_id}：检查点 #{previous.id} 所签的第 {index} 条记录"
            + ("已不存在" if digest is None else "已被改动")
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
    *,
    number: int | None = None,
    previous: tuple[int, str] | None = None,
) -> tuple[str, int, str, str]:
    """(merkle_root, event_count, key_id, signature) of a checkpoint over ``heads`` (by kind
    of chain); from version 3 on it is checkpoint ``number`` and names ``previous`` (number,
    digest)."""
    tree = leaves(version, heads)
    root = merkle_root(tree)
    count = sum(index for index, _ in tree.values())
    key = key_id(private_key.public_key())
    said = statement(
        created_at, count, key, root, version=version, number=number, previous=previous
    )
    return root, count, key, sign(private_key, said)


async def _refusals(
    session: AsyncSession,
    statements: list[Checkpoint],
    keyring: Keyring,
    copies: Path | None,
) -> list[str]:
    """Why nothing may be signed on top of the checkpoints as they stand; empty if nothing."""
    chain = check_checkpoint_chain(statements, keyring)
    problems = [f.message for f in chain.faults]
    if copies is not None:
        problems += [f.message for f in compare_with_copies(statements, copies, keyring).faults]
    if problems or not statements:
        return problems
    previous = await checkpoint_by_id(session, statements[-1].id)
    assert previous is not None  # in the same snapshot as the statements
    return heads_problems(previous) + await lost_heads(session, previous)


async def create_checkpoint(
    session: AsyncSession,
    private_key: Ed25519PrivateKey,
    *,
    keyring: Keyring | None = None,
    copies: Path | None = None,
    now: datetime | None = None,
) -> Checkpoint:
    """Sign the heads of every chain as they stand and store the checkpoint (committed): the
    next number of the chain of checkpoints, linked to the newest.

    Raises ``CheckpointRefused`` if the chain of checkpoints, the copies in ``copies`` or the
    log are not what was signed (see the module), or if the key is not valid now in
    ``keyring`` (default: the key itself, valid always); ``CheckpointConflict`` if another
    signer took the number meanwhile. ``session`` must not be in a transaction yet: the heads
    are read in a snapshot of their own. The copy is the caller's to write, once committed.
    """
    public = private_key.public_key()
    keyring = keyring or Keyring.single(public)
    created_at = now or datetime.now(UTC)
    choice = keyring.key_for(key_id(public), created_at)
    if choice.public_key is None:
        raise CheckpointRefused([f"这把签名密钥现在不能签署：{choice.problem}"])
    try:
        async with session.begin():
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            statements = await checkpoint_statements(session)
            problems = await _refusals(session, statements, keyring, copies)
            if problems:
                raise CheckpointRefused(problems)
            latest = statements[-1] if statements else None
            if latest is not None and created_at < latest.created_at:
                raise CheckpointRefused(
                    [
                        f"现在（{iso_utc(created_at)}）早于最新的检查点 #{latest.id}"
                        f"（{iso_utc(latest.created_at)}）：请先校正时钟"
                    ]
                )
            number = 1 if latest is None else latest.id + 1
            previous = None if latest is None else (latest.id, latest.digest())
            heads = {chain.name: await current_heads(session, chain) for chain in CHAINS}
            root, count, key, signature = sign_heads(
                heads, private_key, created_at, number=number, previous=previous
            )
            await session.execute(
                insert(AuditCheckpoint).values(
                    id=number,
                    created_at=created_at,
                    version=CHECKPOINT_VERSION,
                    merkle_root=root,
                    case_heads={c: [i, h] for c, (i, h) in heads[CASE_CHAIN.name].items()},
                    probation_heads={
                        p: [i, h] for p, (i, h) in heads[PROBATION_CHAIN.name].items()
                    },
                    event_count=count,
                    signature=signature,
                    key_id=key,
                    previous_digest=None if previous is None else previous[1],
                )
            )
    except IntegrityError as exc:
        raise CheckpointConflict(
            "另一个检查点恰在同时签署，占用了这个编号：本次未签署，请重试"
        ) from exc
    return Checkpoint(
        number,
        created_at,
        root,
        heads[CASE_CHAIN.name],
        count,
        signature,
        key,
        probation_heads=heads[PROBATION_CHAIN.name],
        version=CHECKPOINT_VERSION,
        previous_digest=None if previous is None else previous[1],
    )


_STATEMENT_COLUMNS = (
    AuditCheckpoint.id,
    AuditCheckpoint.created_at,
    AuditCheckpoint.merkle_root,
    AuditCheckpoint.event_count,
    AuditCheckpoint.signature,
    AuditCheckpoint.key_id,
    AuditCheckpoint.version,
    AuditCheckpoint.previous_digest,
)


async def checkpoint_statements(session: AsyncSession) -> list[Checkpoint]:
    """Every checkpoint, oldest first, as its statement alone (no heads: they are what makes
    a checkpoint large, and the chain of checkpoints needs none)."""
    rows = await session.execute(select(*_STATEMENT_COLUMNS).order_by(AuditCheckpoint.id))
    return [
        Checkpoint(
            id=row.id,
            created_at=row.created_at,
            merkle_root=row.merkle_root,
            case_heads={},
            event_count=row.event_count,
            signature=row.signature,
            key_id=row.key_id,
            version=row.version,
            previous_digest=row.previous_digest,
        )
        for row in rows
    ]


async def checkpoint_by_id(session: AsyncSession, number: int) -> Checkpoint | None:
    row = await session.scalar(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.id == number)
        .execution_options(populate_existing=True)
    )
    return None if row is None else Checkpoint.of(row)


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
