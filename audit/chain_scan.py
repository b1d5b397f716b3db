"""Checking chains straight from PostgreSQL (链的扫描): the verifier's hot loop.

``scan`` reads the events of one kind of chain in chain order, a range of chain ids (or the
chains named) at a time, through a server-side cursor on an asyncpg connection that is already
in the snapshot to be verified, and checks each chain as ``ChainChecker`` does. It builds no
``ChainLink`` per event: the object the canonical JSON spells comes straight from the row
(``body_hash``), which is the same hash ``event_hash`` gives.

``Scanner`` does the same in a process of its own (``python -m audit.chain_scan``, started
before its task is known; its task on standard input, its answer on standard output), on a
connection of its own that imports the verifier's snapshot (``SET TRANSACTION SNAPSHOT``), so
several ranges are checked at once on several cores and all of them see the one snapshot. A
plain subprocess rather than ``multiprocessing``: that would import the caller's main module
again in the child.

What a scan answers (``Scan``) is all the verifier needs: the chains it read, in chain order, how
many events, and for each chain with a fault or whose events at the places a checkpoint signed
are not the ones it signed (``ChainSummary``, in chain order too) where it ends, its faults,
and the hash and seq of those events. A clean chain costs the answer its id alone.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import os
import pickle
import re
import sys
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from audit.chain import (
    CHAINS,
    Chain,
    ChainChecker,
    ChainFault,
    canonical_row,
)

FETCH_BATCH = 5000
# ``iso_utc`` as PostgreSQL's to_char spells it (of the instant in UTC): the same text for every
# instant Python can hold (years 1 to 9999), without decoding a datetime per event
ISO_UTC = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'
# ... and for the two instants to_char cannot spell: asyncpg writes datetime.max and .min as
# infinity and -infinity and reads them back so, and iso_utc spells those
ISO_UTC_OF = (
    "COALESCE(to_char({0} AT TIME ZONE 'UTC', '" + ISO_UTC + "'), "
    "CASE {0} WHEN 'infinity' THEN '9999-12-31T23:59:59.999999Z' "
    "WHEN '-infinity' THEN '0001-01-01T00:00:00.000000Z' END)"
)
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)  # where a child finds ``audit``
_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f]+-[0-9A-Fa-f]+(-[0-9]+)?")


# the heads the checkpoints signed of one chain: (chain_index, hash, which checkpoint), newest
# checkpoint first
Signed = tuple[tuple[int, str, int], ...]


@dataclass(frozen=True, slots=True)
class ChainSummary:
    """A chain that needs a closer look: one with faults, or whose events at the places a
    checkpoint signed are not (or no longer) the ones it signed."""

    chain_id: str
    last: int  # the chain_index the chain is checked up to (its end, unless a fault says else)
    faults: list[ChainFault]
    at: dict[int, tuple[str, int]] = field(default_factory=dict)  # index → (hash, seq), signed


@dataclass(frozen=True, slots=True)
class Scan:
    """What a scan found: every chain it read (in order), its events, the chains to look at."""

    seen: list[str]
    events: int
    details: list[ChainSummary]


def events_query(
    chain: Chain, *, lo: bool = False, hi: bool = False, named: bool = False
) -> tuple[str, list[str]]:
    """The query that reads a kind of chain in chain order (its parameters, in order: the lower
    bound of the ids if ``lo``, the upper if ``hi``, the array of ids if ``named``), and the names
    of its first columns: the hashed fields but the payload, the instant already as ``iso_utc``
    spells it; then come prev_hash, hash and the payload as jsonb spells it."""
    names = [n for n in chain.field_names() if n != "payload"]
    columns = ", ".join(
        [ISO_UTC_OF.format("occurred_at") if n == "occurred_at" else n for n in names]
        + ["prev_hash", "hash", "payload::text"]
    )
    tests = [(lo, ">= ${}"), (hi, "< ${}"), (named, "= ANY(${}::text[])")]
    where = [
        f"{chain.id_key} {test.format(n)}" for n, test in enumerate((t for on, t in tests if on), 1)
    ]
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    query = f"SELECT {columns} FROM {chain.table} {clause} ORDER BY {chain.id_key}, chain_index"
    return query, names


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The cyclic garbage collector paused: a scan makes no cycles, and the collector's passes
    over its millions of short-lived objects cost a seventh of its time. For seconds, in the
    whole process (other tasks' cycles wait for the next pass)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


async def scan(
    conn: asyncpg.Connection,
    chain: Chain,
    signed: Mapping[str, Signed],
    *,
    lo: str | None = None,
    hi: str | None = None,
    only: Collection[str] | None = None,
) -> Scan:
    """Every chain of one kind with ``lo <= id < hi`` (None: unbounded), or of ``only``,
    checked, and its events at the places of ``signed`` compared with what was signed. ``conn``
    must be in the snapshot's transaction."""
    arguments = [a for a in (lo, hi, None if only is None else list(only)) if a is not None]
    query, names = events_query(chain, lo=lo is not None, hi=hi is not None, named=only is not None)
    cursor = await conn.cursor(query, *arguments)
    at_id, at_seq, at_index = (
        names.index(chain.id_key),
        names.index("seq"),
        names.index("chain_index"),
    )
    at_kind, n = names.index("kind"), len(names)
    seen: list[str] = []
    details: list[ChainSummary] = []
    events = 0
    checker: ChainChecker | None = None
    heads: Signed = ()
    places: list[int] = []
    at: dict[int, tuple[str, int]] = {}
    sha256 = hashlib.sha256

    def finish(checker: ChainChecker) -> None:
        nonlocal events
        seen.append(checker.chain_id)
        events += checker.count
        if checker.faults or not _vouched(heads, at):
            details.append(
                ChainSummary(checker.chain_id, checker.expected_index - 1, checker.faults, at)
            )

    with _no_cycle_collection():
        coming = asyncio.ensure_future(cursor.fetch(FETCH_BATCH))
        while rows := await coming:
            # the next batch asked for now: the database reads it while this one is checked
            coming = asyncio.ensure_future(cursor.fetch(FETCH_BATCH))
            await asyncio.sleep(0)
            for row in rows:
                chain_id = row[at_id]
                if checker is None or checker.chain_id != chain_id:
                    if checker is not None:
                        finish(checker)
                    checker = ChainChecker(chain_id, chain)
                    heads = signed.get(chain_id, ())
                    places, at = [head[0] for head in heads], {}
                prev_hash, stored = row[n], row[n + 1]
                body = canonical_row(dict(zip(names, row, strict=False)), row[n + 2])
                computed = sha256(prev_hash.encode("ascii") + body).hexdigest()
                index, seq = row[at_index], row[at_seq]
                checker.check_event(index, seq, row[at_kind], prev_hash, stored, computed)
                if index in places:
                    at[index] = (stored, seq)
    if checker is not None:
        finish(checker)
    return Scan(seen, events, details)


def _vouched(heads: Signed, at: Mapping[int, tuple[str, int]]) -> bool:
    """Whether the chain has, at every place a checkpoint signed, the event it signed."""
    for index, digest, _ in heads:  # a loop: ``all`` of a generator costs more per chain
        found = at.get(index)
        if found is None or found[0] != digest:
            return False
    return True


@dataclass(frozen=True, slots=True)
class ScanTask:
    """What a process of its own is asked: a range of one kind of chain, in a snapshot."""

    url: str  # libpq form
    snapshot: str  # pg_export_snapshot() of the verifier's transaction
    chain_name: str
    signed: Mapping[str, Signed]
    lo: str | None
    hi: str | None


async def scan_task(task: ScanTask) -> Scan:
    """``scan`` of the task's range on a connection of its own, in the task's snapshot."""
    if _SNAPSHOT_ID.fullmatch(task.snapshot) is None:
        raise ValueError(f"not a snapshot id: {task.snapshot!r}")
    chain = next(c for c in CHAINS if c.name == task.chain_name)
    conn = await asyncpg.connect(task.url)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            await conn.execute(f"SET TRANSACTION SNAPSHOT '{task.snapshot}'")
            return await scan(conn, chain, task.signed, lo=task.lo, hi=task.hi)
    finally:
        await conn.close()


class ScanFailed(RuntimeError):
    pass


class Scanner:
    """A process of its own (this interpreter, this package) for one ``ScanTask``, started
    before its task is known: its interpreter and imports are ready while the caller still
    reads the checkpoints, so its range starts as soon as it is sent."""

    def __init__(self, child: asyncio.subprocess.Process) -> None:
        self._child = child

    @classmethod
    async def start(cls) -> Scanner:
        """A process waiting for its task; OSError if none can be started."""
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                filter(None, [_PACKAGE_ROOT, os.environ.get("PYTHONPATH")])
            ),
        }
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            __name__,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        return cls(child)

    async def run(self, task: ScanTask) -> Scan:
        """``scan_task`` of ``task`` there; ScanFailed if it fails."""
        out, err = await self._child.communicate(pickle.dumps(task))
        if self._child.returncode != 0:
            said = err.decode("utf-8", "replace").strip().splitlines()
            raise ScanFailed(
                f"核验子进程失败（退出码 {self._child.returncode}）：{said[-1] if said else ''}"
            )
        answer: Scan = pickle.loads(out)
        return answer

    @property
    def ended(self) -> bool:
        return self._child.returncode is not None

    async def stop(self) -> None:
        """The process ended without a task (it leaves on an empty one); nothing if it ran."""
        if self._child.returncode is None:
            await self._child.communicate(b"")


def main() -> None:
    """The child's side of ``Scanner``: a pickled ``ScanTask`` in, its summaries out (nothing
    for an empty one)."""
    # this file runs as __main__: answer with the classes of audit.chain_scan, as the parent
    # knows them
    from audit.chain_scan import scan_task as run

    sent = sys.stdin.buffer.read()
    if not sent:
        return  # stopped before it was given a task
    task = pickle.loads(sent)
    sys.stdout.buffer.write(pickle.dumps(asyncio.run(run(task))))
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
