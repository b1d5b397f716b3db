"""Verifying the whole log (核验): every chain against itself, the heads against checkpoints.

Every chain is checked: each case's (``case_events``) and each probation's
(``probation_events``). What each tamper looks like, and where it is reported (a fault names
the case or the probation, and the event):

- an event edited in place: its hash no longer matches → ``edited``, at that event;
- an event removed: a gap in its chain's chain_index → ``missing``, at the first gone index;
- an event inserted or replaced: the next event no longer links to it → ``broken_link``;
- the tail of a chain removed: the chain ends before the head a checkpoint signed →
  ``truncated``;
- a whole case or probation removed: a checkpoint has a head for it, the log has no events →
  ``vanished``;
- a chain recomputed from a changed event on (every hash consistent again): the head no longer
  matches the signed one → ``rewritten``, located between the last head a checkpoint still
  vouches for and the first it does not;
- a checkpoint altered: its signature, root or count fails → ``checkpoint``;
- a checkpoint inserted, removed or replaced, by anyone without the service's key: the chain
  of checkpoints shows it (``audit.checkpoint_chain``) → ``checkpoint_foreign_key``,
  ``checkpoint_missing``, ``checkpoint_link``, at the checkpoint's number;
- the newest checkpoints removed, or all of them: their copies (``audit.copies``) show it →
  ``checkpoint_missing``; a checkpoint unlike its copy → ``checkpoint_copy``.

The whole chain of checkpoints is checked every time (statements only: cheap); the log is
compared with the newest checkpoints that pass (by default the newest one), so a forged
checkpoint on top hides nothing beneath it.

Checkpoints of version 1 signed the cases' heads only: probations are compared with the
checkpoints of version 2 on (``audit.statement``).

Events recorded after the newest checkpoint are checked as a chain but no signature covers
them yet: a forged tail there shows only in the reconciliation with Temporal (``reconcile``)
or after the next checkpoint; checkpoint often (a schedule) to keep that window short.

The log and the checkpoints are read in one REPEATABLE READ snapshot, so recording may go on
while verification runs. A large log is checked on several cores: each kind of chain is cut
into ranges of chain ids, one checked here and the others each in a process of its own that
imports this transaction's snapshot (``audit.chain_scan``); their answers are taken in chain
order, so the report is the one a single process gives.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.ext.asyncio import AsyncSession

from audit.chain import CASE_CHAIN, CHAINS, PROBATION_CHAIN, Chain, iso_utc
from audit.chain_scan import Scan, Scanner, ScanTask, Signed, scan
from audit.checkpoint_chain import ChainFault, check_checkpoint_chain
from audit.checkpoints import Checkpoint, checkpoint_by_id, checkpoint_statements
from audit.copies import compare_with_copies
from audit.driver import as_dbapi_errors, driver_of
from audit.keyring import Keyring
from audit.queries import case_probations
from audit.statement import heads_problems
from store.db import to_libpq_url

# A kind of chain with fewer events than this (by the planner's estimate) is checked in this
# process alone: starting another costs more than it saves.
PARALLEL_FROM = 200_000
MAX_PROCESSES = 4
SAMPLE_ROWS = 20_000  # events sampled to cut the chain ids into ranges of about equal size


@dataclass(frozen=True, slots=True)
class Fault:
    """One thing wrong, with the case or probation and the event where it first shows (None
    where not known)."""

    kind: str
    message: str
    case_id: str | None = None
    chain_index: int | None = None
    seq: int | None = None
    probation_id: str | None = None
    checkpoint: int | None = None  # the checkpoint's number, for a fault of the checkpoints

    @classmethod
    def of_checkpoint(cls, fault: ChainFault) -> Fault:
        return cls(fault.kind, fault.message, checkpoint=fault.checkpoint or None)


def chain_fault(
    chain: Chain,
    kind: str,
    message: str,
    chain_id: str,
    chain_index: int | None = None,
    seq: int | None = None,
) -> Fault:
    """A fault of one chain, its id in the field of its kind."""
    if chain is PROBATION_CHAIN:
        return Fault(kind, message, None, chain_index, seq, chain_id)
    return Fault(kind, message, chain_id, chain_index, seq)


@dataclass
class Report:
    cases: int = 0
    events: int = 0  # of cases and probations
    checkpoints: list[int] = field(default_factory=list)  # ids checked, newest first
    faults: list[Fault] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    probations: int = 0
    checkpoint_chain: int = 0  # checkpoints whose statement and link were checked
    copies: int = 0  # copies of checkpoints the database was checked against

    @property
    def ok(self) -> bool:
        return not self.faults

    def first_fault_per_case(self) -> dict[str | None, Fault]:
        first: dict[str | None, Fault] = {}
        for fault in self.faults:
            if fault.probation_id is None and fault.checkpoint is None:
                first.setdefault(fault.case_id, fault)
        return first

    def first_fault_per_probation(self) -> dict[str, Fault]:
        first: dict[str, Fault] = {}
        for fault in self.faults:
            if fault.probation_id is not None:
                first.setdefault(fault.probation_id, fault)
        return first


class _HeadCheck:
    """Compares each chain of one kind, as checked, with the heads the checkpoints signed."""

    def __init__(
        self,
        chain: Chain,
        checkpoints: list[Checkpoint],
        report: Report,
        only: Collection[str] | None = None,
    ) -> None:
        self.chain = chain
        self.report = report
        self.checkpoints = checkpoints
        # chain id → (chain_index, hash, which checkpoint) of each head signed, newest first
        self.signed: dict[str, Signed] = {}
        for k, cp in enumerate(checkpoints):
            heads = cp.heads(chain)
            if only is not None:
                heads = {c: head for c, head in heads.items() if c in only}
            if not self.signed:
                self.signed = {c: ((i, d, k),) for c, (i, d) in heads.items()}
                continue
            for chain_id, (index, digest) in heads.items():
                self.signed[chain_id] = (*self.signed.get(chain_id, ()), (index, digest, k))
        self.seen: set[str] = set()

    def _fault(self, kind: str, says: str, chain_id: str, index: int, seq: int | None) -> None:
        message = f"{self.chain.word} {chain_id}：{says}"
        self.report.faults.append(chain_fault(self.chain, kind, message, chain_id, index, seq))

    def finish_chain(self, chain_id: str, last: int, at: dict[int, tuple[str, int]]) -> None:
        """``at``: chain_index → (hash, seq) of the events some checkpoint has a head at."""
        self.seen.add(chain_id)
        signed = self.signed.get(chain_id, ())
        vouched = [index for index, digest, _ in signed if at.get(index, ("",))[0] == digest]
        for index, digest, k in signed:  # newest checkpoint first: report it once
            cp = self.checkpoints[k]
            when = f"{iso_utc(cp.created_at)} 的检查点 #{cp.id}"
            if index > last:
                self._fault(
                    "truncated",
                    f"链止于第 {last} 条记录，但{when}签到了第 {index} 条："
                    f"末尾的第 {last + 1} 至 {index} 条被删除了",
                    chain_id,
                    last + 1,
                    None,
                )
                return
            if index not in at:
                continue  # the event is gone from the middle: the chain check reported it
            found, seq = at[index]
            if found != digest:
                earlier = [i for i in vouched if i < index]
                since = f"，在第 {max(earlier)} 条（仍有检查点为其作证）之后" if earlier else ""
                self._fault(
                    "rewritten",
                    f"第 {index} 条记录（序号 {seq}）不是{when}所签的那条：链在第 {index} 条"
                    f"或其之前被改写过{since}",
                    chain_id,
                    index,
                    seq,
                )
                return

    def finish(self) -> None:
        for chain_id in sorted(self.signed.keys() - self.seen):
            index, _, k = self.signed[chain_id][0]
            cp = self.checkpoints[k]
            self._fault(
                "vanished",
                f"{iso_utc(cp.created_at)} 的检查点 #{cp.id} 签了它的 {index} 条记录，"
                "而审计记录中一条也没有",
                chain_id,
                1,
                None,
            )


async def _check_chains(
    session: AsyncSession,
    chain: Chain,
    trusted: list[Checkpoint],
    report: Report,
    only: Collection[str] | None,
    plan: _Plan | None,
) -> None:
    """Every chain of one kind (of ``only``, if given; else the whole kind by ``plan``)
    checked, and compared with ``trusted``."""
    heads = _HeadCheck(chain, trusted, report, only)
    if only is None or only:
        conn, driver = await driver_of(session)
        with as_dbapi_errors(chain.table):
            if only is not None or plan is None:
                scans = [await scan(driver, chain, heads.signed, only=only)]
            else:
                url = to_libpq_url(conn.engine.url.render_as_string(hide_password=False))
                scans = await _scan_all(driver, url, chain, heads.signed, plan)
        for part in scans:  # in chain order
            if chain is CASE_CHAIN:
                report.cases += len(part.seen)
            else:
                report.probations += len(part.seen)
            report.events += part.events
            heads.seen.update(part.seen)
            for summary in part.details:
                report.faults.extend(
                    chain_fault(chain, f.kind, f.message, f.chain_id, f.chain_index, f.seq)
                    for f in summary.faults
                )
                heads.finish_chain(summary.chain_id, summary.last, summary.at)
    heads.finish()


@dataclass
class _Plan:
    """How the whole of one kind of chain is checked: on how many processes, the planner's
    estimate of its events, and the processes started for it ahead of its ranges."""

    processes: int
    estimate: int
    ready: list[Scanner] = field(default_factory=list)

    async def stop(self) -> None:
        """The processes started ahead and never given a range, ended."""
        while self.ready:
            await self.ready.pop().stop()


async def _plan(driver: asyncpg.Connection, chain: Chain, processes: int | None) -> _Plan:
    """``processes`` (None: as many as the cores allow, if the log is large enough) for one
    kind of chain, all but this one started now: their start-up overlaps the reading of the
    checkpoints."""
    estimate = await driver.fetchval(
        "SELECT reltuples::bigint FROM pg_class WHERE oid = $1::regclass", chain.table
    )
    if processes is None:
        large = (estimate or 0) >= PARALLEL_FROM
        processes = min(os.cpu_count() or 1, MAX_PROCESSES) if large else 1
    plan = _Plan(processes, estimate or 0)
    for _ in range(processes - 1):
        try:
            plan.ready.append(await Scanner.start())
        except OSError:  # none can be started here: they are tried again per range
            break
    return plan


async def _scan_there(plan: _Plan, task: ScanTask) -> Scan:
    """``task`` in a process the plan started ahead, or in a new one if none is left."""
    scanner = plan.ready.pop() if plan.ready else await Scanner.start()
    return await scanner.run(task)


async def _scan_all(
    driver: asyncpg.Connection, url: str, chain: Chain, signed: Mapping[str, Signed], plan: _Plan
) -> list[Scan]:
    """Every chain of one kind, in chain order: in ranges on the plan's processes, this one
    among them."""
    bounds = (
        await _bounds(driver, chain, plan.processes, plan.estimate) if plan.processes > 1 else []
    )
    ranges = list(zip([None, *bounds], [*bounds, None], strict=True))
    if len(ranges) == 1:
        return [await scan(driver, chain, signed)]
    snapshot = await driver.fetchval("SELECT pg_export_snapshot()")
    elsewhere = [
        asyncio.ensure_future(
            _scan_there(plan, ScanTask(url, snapshot, chain.name, signed, lo, hi))
        )
        for lo, hi in ranges[1:]
    ]
    lo, hi = ranges[0]
    here = await scan(driver, chain, signed, lo=lo, hi=hi)
    there: list[Scan] = []
    for (lo, hi), task in zip(ranges[1:], elsewhere, strict=True):
        try:
            there.append(await task)
        except OSError:  # no process could be started here: this one checks the range
            there.append(await scan(driver, chain, signed, lo=lo, hi=hi))
    return [here, *there]


async def _bounds(driver: asyncpg.Connection, chain: Chain, parts: int, estimate: int) -> list[str]:
    """Chain ids that cut a kind of chain into ``parts`` ranges of about as many events each
    (from a sample of its events), ascending in the database's order; fewer if there are few
    chains."""
    percent = min(100.0, max(0.01, 100.0 * SAMPLE_ROWS / max(estimate, 1)))
    found = await driver.fetchval(
        f"SELECT percentile_disc($1::float8[]) WITHIN GROUP (ORDER BY {chain.id_key}) "
        f"FROM {chain.table} TABLESAMPLE SYSTEM ($2)",
        [n / parts for n in range(1, parts)],
        percent,
    )
    bounds: list[str] = []
    for bound in found or []:
        if bound is not None and (not bounds or bound != bounds[-1]):
            bounds.append(bound)
    return bounds


async def _trusted(
    session: AsyncSession, authentic: list[int], wanted: int | None, report: Report
) -> list[Checkpoint]:
    """The newest ``wanted`` (None: all) of the authentic checkpoints whose heads give what
    they state, newest first; each whose heads do not is a fault."""
    trusted: list[Checkpoint] = []
    for number in reversed(authentic):
        if wanted is not None and len(trusted) >= wanted:
            break
        cp = await checkpoint_by_id(session, number)
        if cp is None:
            continue
        problems = heads_problems(cp)
        report.faults.extend(Fault("checkpoint", p, checkpoint=cp.id) for p in problems)
        if not problems:
            trusted.append(cp)
    return trusted


async def verify_log(
    session: AsyncSession,
    keys: Keyring | Ed25519PublicKey,
    *,
    checkpoints: int | None = 1,
    case_id: str | None = None,
    copies: Path | None = None,
    processes: int | None = None,
) -> Report:
    """Check every chain (or one case's and its appointees' probations'), the whole chain of
    checkpoints with ``keys`` (a keyring, or one public key valid always) and against the
    copies in ``copies``, and compare the log with the newest ``checkpoints`` checkpoints
    that pass (None: all of them). ``session`` must not be in a transaction yet. ``processes``:
    how many processes check the whole log (None: decided by its size and the cores; 1: this
    one only)."""
    started = time.perf_counter()
    report = Report()
    keyring = Keyring.of(keys)
    plans: dict[str, _Plan] = {}
    try:
        async with session.begin():
            await session.connection(
                execution_options={
                    "isolation_level": "REPEATABLE READ",
                    "postgresql_readonly": True,
                }
            )
            if case_id is None:  # the whole log: processes started now, ready for their ranges
                _, driver = await driver_of(session)
                for kind in CHAINS:
                    plans[kind.name] = await _plan(driver, kind, processes)
            trusted = await _checkpoints(session, keyring, checkpoints, copies, report)
            only: dict[str, list[str] | None] = {kind.name: None for kind in CHAINS}
            if case_id is not None:
                only = {
                    CASE_CHAIN.name: [case_id],
                    PROBATION_CHAIN.name: await case_probations(session, case_id),
                }
            for kind in CHAINS:
                plan = plans.get(kind.name)
                await _check_chains(session, kind, trusted, report, only[kind.name], plan)
    finally:
        for plan in plans.values():
            await plan.stop()
    report.seconds = time.perf_counter() - started
    return report


async def _checkpoints(
    session: AsyncSession,
    keyring: Keyring,
    checkpoints: int | None,
    copies: Path | None,
    report: Report,
) -> list[Checkpoint]:
    """The chain of checkpoints checked (and against ``copies``), and the newest
    ``checkpoints`` that pass, newest first."""
    statements = await checkpoint_statements(session)
    linked = check_checkpoint_chain(statements, keyring)
    report.checkpoint_chain = linked.checked
    report.faults.extend(Fault.of_checkpoint(f) for f in linked.faults)
    if copies is not None:
        copied = compare_with_copies(statements, copies, keyring)
        report.copies = copied.copies
        report.faults.extend(Fault.of_checkpoint(f) for f in copied.faults)
        report.notes.extend(copied.notes)
    trusted = await _trusted(session, linked.authentic, checkpoints, report)
    report.checkpoints = [cp.id for cp in trusted]
    if not statements:
        report.notes.append(
            "还没有检查点：链末尾被截短或整条链被重新计算都无法发现；"
            "请用 `appointments audit checkpoint` 签一个检查点"
            + ("" if copies is not None else NO_COPIES)
        )
    return trusted


NO_COPIES = (
    "（未与检查点副本核对：若此前签过检查点又被全部删除，只有副本（AUDIT_EXPORT_DIR、"
    "审计人员收到的邮件）能证明；用 `appointments audit verify --against 文件夹` 核对）"
)
