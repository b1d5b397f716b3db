"""Verifying the whole log (核验): every chain against itself, the heads against checkpoints.

What each tamper looks like, and where it is reported:

- an event edited in place: its hash no longer matches → ``edited``, at that event;
- an event removed: a gap in its case's chain_index → ``missing``, at the first gone index;
- an event inserted or replaced: the next event no longer links to it → ``broken_link``;
- the tail of a chain removed: the chain ends before the head a checkpoint signed →
  ``truncated``;
- a whole case removed: a checkpoint has a head for it, the log has no events → ``vanished``;
- a chain recomputed from a changed event on (every hash consistent again): the head no longer
  matches the signed one → ``rewritten``, located between the last head a checkpoint still
  vouches for and the first it does not;
- a checkpoint altered or forged: its signature, root or count fails → ``checkpoint``.

Events recorded after the newest checkpoint are checked as a chain but no signature covers
them yet: a forged tail there shows only in the reconciliation with Temporal (``reconcile``)
or after the next checkpoint; checkpoint often (a schedule) to keep that window short.

The log and the checkpoints are read in one REPEATABLE READ snapshot, so recording may go on
while verification runs.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from audit.chain import ChainChecker, ChainFields, ChainLink, iso_utc
from audit.checkpoints import Checkpoint, checkpoint_problems, latest_checkpoints

STREAM_BATCH = 5000


@dataclass(frozen=True, slots=True)
class Fault:
    """One thing wrong, with the case and event where it first shows (None where not known)."""

    kind: str
    message: str
    case_id: str | None = None
    chain_index: int | None = None
    seq: int | None = None


@dataclass
class Report:
    cases: int = 0
    events: int = 0
    checkpoints: list[int] = field(default_factory=list)  # ids checked, newest first
    faults: list[Fault] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.faults

    def first_fault_per_case(self) -> dict[str | None, Fault]:
        first: dict[str | None, Fault] = {}
        for fault in self.faults:
            first.setdefault(fault.case_id, fault)
        return first


_EVENTS = """
    SELECT case_id, seq, chain_index, kind, stage, occurred_at, actor_name, actor_role,
           summary, payload::text, prev_hash, hash
    FROM case_events
    {where}
    ORDER BY case_id, chain_index
"""


async def stream_links(
    session: AsyncSession, case_id: str | None = None
) -> AsyncIterator[ChainLink]:
    """Every event as the verifier reads it, by case, in chain order."""
    where = "WHERE case_id = :case_id" if case_id is not None else ""
    params = {"case_id": case_id} if case_id is not None else {}
    result = await session.stream(
        text(_EVENTS.format(where=where)).execution_options(yield_per=STREAM_BATCH), params
    )
    # A batch at a time: each step of an async result crosses into SQLAlchemy's greenlet,
    # which per row would cost more than hashing the event.
    async for batch in result.partitions():
        for row in batch:
            (c, seq, index, kind, stage, at, actor, role, summary, payload, prev, digest) = row
            fields = ChainFields(
                c, seq, index, kind, stage, at, actor, role, summary, json.loads(payload)
            )
            yield ChainLink(fields, prev, digest)


@dataclass
class _Signed:
    """What the checkpoints say about one case: (checkpoint, chain_index, hash), newest first."""

    heads: list[tuple[Checkpoint, int, str]] = field(default_factory=list)


class _HeadCheck:
    """Compares each case's chain, as streamed, with the heads the checkpoints signed."""

    def __init__(self, checkpoints: list[Checkpoint], report: Report) -> None:
        self.report = report
        self.signed: dict[str, _Signed] = {}
        for cp in checkpoints:
            for case_id, (index, digest) in cp.case_heads.items():
                self.signed.setdefault(case_id, _Signed()).heads.append((cp, index, digest))
        self.seen_cases: set[str] = set()

    def wanted(self, case_id: str) -> set[int]:
        signed = self.signed.get(case_id)
        return {index for _, index, _ in signed.heads} if signed else set()

    def finish_case(self, case_id: str, last: int, at: dict[int, tuple[str, int]]) -> None:
        """``at``: chain_index → (hash, seq) of the events some checkpoint has a head at."""
        self.seen_cases.add(case_id)
        signed = self.signed.get(case_id)
        if signed is None:
            return
        vouched = [index for _, index, digest in signed.heads if at.get(index, ("",))[0] == digest]
        for cp, index, digest in signed.heads:  # newest checkpoint first: report it once
            when = f"checkpoint #{cp.id} of {iso_utc(cp.created_at)}"
            if index > last:
                self.report.faults.append(
                    Fault(
                        "truncated",
                        f"case {case_id}: the chain ends at event {last}, but {when} signed it "
                        f"up to event {index}: events {last + 1} to {index} were removed from "
                        "the end",
                        case_id,
                        last + 1,
                    )
                )
                return
            if index not in at:
                continue  # the event is gone from the middle: the chain check reported it
            found, seq = at[index]
            if found != digest:
                earlier = [i for i in vouched if i < index]
                since = (
                    f", after event {max(earlier)} (which a checkpoint still vouches for)"
                    if earlier
                    else ""
                )
                self.report.faults.append(
                    Fault(
                        "rewritten",
                        f"case {case_id}: event {index} (seq {seq}) is not the event {when} "
                        f"signed: the chain was rewritten at or before event {index}{since}",
                        case_id,
                        index,
                        seq,
                    )
                )
                return

    def finish(self) -> None:
        for case_id, signed in sorted(self.signed.items()):
            if case_id in self.seen_cases:
                continue
            cp, index, _ = signed.heads[0]
            self.report.faults.append(
                Fault(
                    "vanished",
                    f"case {case_id}: checkpoint #{cp.id} of {iso_utc(cp.created_at)} signed "
                    f"{index} event(s) of it, and the log has none",
                    case_id,
                    1,
                )
            )


async def verify_log(
    session: AsyncSession,
    public_key: Ed25519PublicKey,
    *,
    checkpoints: int | None = 1,
    case_id: str | None = None,
) -> Report:
    """Check every chain (or one case's) and compare with the newest ``checkpoints``
    checkpoints (None: all of them). ``session`` must not be in a transaction yet."""
    started = time.perf_counter()
    report = Report()
    async with session.begin():
        await session.connection(
            execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        )
        signed = await latest_checkpoints(session, checkpoints)
        report.checkpoints = [cp.id for cp in signed]
        trusted = []
        for cp in signed:
            problems = checkpoint_problems(cp, public_key)
            report.faults.extend(Fault("checkpoint", p) for p in problems)
            if not problems:
                trusted.append(cp)
        if not signed:
            report.notes.append(
                "there is no checkpoint yet: a chain cut short at its end or recomputed from "
                "scratch cannot be detected; create one with `appointments audit checkpoint`"
            )
        if case_id is not None:
            trusted = [
                Checkpoint(
                    cp.id,
                    cp.created_at,
                    cp.merkle_root,
                    {c: h for c, h in cp.case_heads.items() if c == case_id},
                    cp.event_count,
                    cp.signature,
                    cp.key_id,
                )
                for cp in trusted
            ]
        heads = _HeadCheck(trusted, report)

        checker: ChainChecker | None = None
        wanted: set[int] = set()
        at: dict[int, tuple[str, int]] = {}

        def finish(checker: ChainChecker) -> None:
            report.cases += 1
            report.faults.extend(
                Fault(f.kind, f.message, f.case_id, f.chain_index, f.seq) for f in checker.faults
            )
            heads.finish_case(checker.case_id, checker.expected_index - 1, at)

        async for link in stream_links(session, case_id):
            f = link.fields
            if checker is None or checker.case_id != f.case_id:
                if checker is not None:
                    finish(checker)
                checker = ChainChecker(f.case_id)
                wanted, at = heads.wanted(f.case_id), {}
            checker.check(link)
            report.events += 1
            if f.chain_index in wanted:
                at[f.chain_index] = (link.hash, f.seq)
        if checker is not None:
            finish(checker)
        heads.finish()
    report.seconds = time.perf_counter() - started
    return report
