"""The log checked on several processes says exactly what it says checked in one: the same
chains, events and faults, in the same order, all in the one snapshot."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audit import chain_scan, verify
from audit.chain import CASE_CHAIN, PROBATION_CHAIN
from audit.verify import Report
from tests.audit.conftest import (
    Keys,
    check,
    insert_forged,
    recompute_chain,
    record_all,
    record_appointment,
    sign,
    story,
    tamper,
)
from workflows.probation_types import probation_workflow_id

CASES = [f"P-{n:02d}" for n in range(12)]


def summary(report: Report) -> tuple[Any, ...]:
    return (report.cases, report.probations, report.events, report.faults, report.checkpoints)


@pytest.fixture
def processes_started(monkeypatch: pytest.MonkeyPatch) -> list[chain_scan.ScanTask]:
    """Each range sent to a process of its own (and then checked there, for real)."""
    sent: list[chain_scan.ScanTask] = []
    real: Callable[[chain_scan.Scanner, chain_scan.ScanTask], Awaitable[chain_scan.Scan]]
    real = chain_scan.Scanner.run

    async def counted(self: chain_scan.Scanner, task: chain_scan.ScanTask) -> chain_scan.Scan:
        sent.append(task)
        return await real(self, task)

    monkeypatch.setattr(chain_scan.Scanner, "run", counted)
    return sent


async def test_a_tampered_log_reads_the_same_on_one_process_and_on_several(
    log_url: str,
    log_sessions: async_sessionmaker[AsyncSession],
    keys: Keys,
    processes_started: list[chain_scan.ScanTask],
) -> None:
    for case_id in CASES[:6]:
        await record_all(log_sessions, story(case_id))
    for case_id in CASES[6:9]:
        await record_appointment(log_sessions, case_id, people=("p1", "p2"))
    await sign(log_sessions, keys)
    for case_id in CASES[9:]:
        await record_all(log_sessions, story(case_id)[:5])  # after the checkpoint
    # an edit, a deletion, a recomputed chain, an inserted event, a cut probation
    probation = probation_workflow_id(CASES[7], "p2")
    await tamper(
        log_url,
        f"UPDATE case_events SET summary = '改' WHERE case_id = '{CASES[1]}' AND seq = 3",
        f"DELETE FROM case_events WHERE case_id = '{CASES[3]}' AND seq = 5",
        f"DELETE FROM probation_events WHERE probation_id = '{probation}' AND chain_index = 5",
    )
    await recompute_chain(log_url, CASE_CHAIN, CASES[4], 4)
    await insert_forged(log_url, CASE_CHAIN, CASES[10], 3, summary="伪造")

    alone = await check(log_sessions, keys, processes=1)
    together = await check(log_sessions, keys, processes=2)
    three = await check(log_sessions, keys, processes=3)

    assert {f.case_id for f in alone.faults if f.case_id} == {
        CASES[1],
        CASES[3],
        CASES[4],
        CASES[10],
    }
    assert [f.kind for f in alone.faults if f.probation_id == probation] == ["truncated"]
    assert summary(together) == summary(alone)
    assert summary(three) == summary(alone)
    # both kinds of chain were cut into ranges and sent out: 1 + 2 processes each time
    assert {t.chain_name for t in processes_started} == {CASE_CHAIN.name, PROBATION_CHAIN.name}
    assert len(processes_started) == 2 * (1 + 2)


async def test_a_clean_log_counts_the_same_and_only_a_large_one_is_split(
    log_sessions: async_sessionmaker[AsyncSession],
    keys: Keys,
    processes_started: list[chain_scan.ScanTask],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[chain_scan.Scanner] = []
    real = chain_scan.Scanner.start

    async def kept() -> chain_scan.Scanner:
        started.append(await real())
        return started[-1]

    monkeypatch.setattr(chain_scan.Scanner, "start", kept)
    for case_id in CASES[:5]:
        await record_all(log_sessions, story(case_id))
    await sign(log_sessions, keys)
    by_size = await check(log_sessions, keys)  # a small log: this process alone
    assert processes_started == [] and started == []
    split = await check(log_sessions, keys, processes=2)
    assert by_size.ok and split.ok, split.faults
    assert summary(split) == summary(by_size)
    assert (split.cases, split.events) == (5, 40)
    assert len(processes_started) == 1  # the probations' table is empty: nothing to cut
    assert verify.PARALLEL_FROM > 40
    # a process for each kind was started before the checkpoints were read; the one whose
    # kind had nothing to cut was never given a range, and ended all the same
    assert len(started) == 2
    assert all(scanner.ended for scanner in started)
