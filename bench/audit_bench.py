"""Benchmark of the audit trail: a million events over 100,000 cases (run by hand).

    .venv/bin/python -m bench.audit_bench [--cases 100000] [--events-per-case 10]

What it does, on a database of its own (created, migrated, dropped at the end):

1. loads the log with COPY: every event with a valid hash chain, computed here with the same
   recipe as ``record_event`` (so verification below does real work), person ids indexed;
2. signs a checkpoint over every case's head, then another (which first checks the log still
   holds every head the first one signed);
3. times a case's timeline and a search by person, each through ``audit.queries`` and as the
   bare SQL through asyncpg on one connection (the floor): with one session kept open (one
   connection, as the floor has) and with a new session per query (a pool checkout each);
4. verifies the whole log (every chain, against the checkpoint): events per second;
5. records new events through ``RecordActivities`` (the hot path with the chain): one at a
   time, 50 cases at once one event per activity (``record_event``, as histories from before
   the batches do), and 50 cases at once a step's events per activity (``record_events``, in
   batches of the sizes a recorded case history has).

Results go to standard output as a Markdown block for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from activities.records import RecordActivities
from audit.chain import GENESIS, ChainFields, canonical_json, event_hash, person_ids
from audit.checkpoints import create_checkpoint
from audit.queries import Search, search, timeline
from audit.verify import verify_log
from bench.driver import DATABASE_SERVER
from store.db import make_engine, make_session_factory, to_libpq_url, with_database
from store.migrate import drop_database, ensure_database, upgrade_to_head
from workflows.types import (
    CaseRow,
    CaseStage,
    CaseStatus,
    RecordedEvent,
    RecordEventInput,
    RecordEventsInput,
    Role,
    SelectionMethod,
)

START = datetime(2024, 1, 1, 1, 0, tzinfo=UTC)
STAGES = [s.value for s in CaseStage]
EVENT_COLUMNS = (
    "case_id",
    "seq",
    "chain_index",
    "kind",
    "stage",
    "occurred_at",
    "actor_name",
    "actor_role",
    "summary",
    "payload",
    "prev_hash",
    "hash",
    "person_ids",
)
# the sizes of a step's batch, in the proportions of tests/histories/case_recorded_in_batches.json
# (25 steps of one event, 4 of two, 2 of three)
BATCH_SIZES = (1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 3, 1, 1, 2)
CASE_COLUMNS = ("case_id", "unit", "post", "method", "stage", "status", "opened_on", "last_seq")


def case_events(n: int, per_case: int, rng: random.Random, persons: int) -> list[tuple[Any, ...]]:
    """The events of case ``n``: opened (with its candidates), a deadline, inputs naming
    candidates, reminders, transitions; chained."""
    case_id = f"B-{n:06d}"
    people = [f"P{rng.randrange(persons):07d}" for _ in range(rng.choice((2, 2, 3)))]
    at = START + timedelta(minutes=7 * n)
    clerk = f"科员{rng.randrange(200):03d}"
    rows: list[tuple[Any, ...]] = []
    prev = GENESIS
    stage = 0
    for seq in range(1, per_case + 1):
        at += timedelta(hours=rng.randrange(1, 72))
        if seq == 1:
            kind, actor, role = "opened", clerk, "clerk"
            payload: dict[str, Any] = {
                "case": {
                    "case_id": case_id,
                    "unit": f"单位{n % 300:03d}",
                    "post": "副局长",
                    "candidates": [{"person_id": p, "name": f"姓名{p[-4:]}"} for p in people],
                },
                "policy_version": "2026.1",
                "policy_digest": "ab" * 32,
            }
        elif seq == 2:
            kind, actor, role = "deadline", "系统", "system"
            payload = {
                "step": "investigation_notice",
                "deadline_on": (at + timedelta(days=7)).date().isoformat(),
                "calendar_source": "chinese_calendar 1.11.0",
                "alarms": [{"kind": "reminder", "role": "clerk", "rung": 0}],
            }
        elif seq % 3 == 0:
            kind, actor, role = "transition", "系统", "system"
            payload = {"from": STAGES[stage], "to": STAGES[min(stage + 1, 7)]}
            stage = min(stage + 1, 7)
        elif seq % 3 == 1:
            kind, actor, role = "input", f"考察组{rng.randrange(50):02d}", "inspection_team"
            payload = {"person_id": rng.choice(people), "check": "personnel_file", "finding": "无"}
        else:
            kind, actor, role = "reminder", "系统", "system"
            payload = {"kind": "reminder", "role": "clerk", "rung": 0}
        fields = ChainFields(
            case_id,
            seq,
            seq,
            kind,
            STAGES[stage],
            at,
            actor,
            role,
            f"第{seq}步 {kind}",
            payload,
        )
        digest = event_hash(prev, fields)
        rows.append(
            (
                case_id,
                seq,
                seq,
                kind,
                STAGES[stage],
                at,
                actor,
                role,
                fields.summary,
                canonical_json(payload),
                prev,
                digest,
                person_ids(payload),
            )
        )
        prev = digest
    return rows


async def load(url: str, cases: int, per_case: int, persons: int) -> dict[str, float]:
    rng = random.Random(2026)
    conn = await asyncpg.connect(to_libpq_url(url))
    timings = {"hashing": 0.0, "copy": 0.0}
    try:
        chunk = 10_000
        for first in range(0, cases, chunk):
            started = time.perf_counter()
            numbers = range(first, min(first + chunk, cases))
            events = [row for n in numbers for row in case_events(n, per_case, rng, persons)]
            case_rows = [
                (
                    f"B-{n:06d}",
                    f"单位{n % 300:03d}",
                    "副局长",
                    "regular_appointment",
                    "vote",
                    "active",
                    date(2024, 1, 1),
                    per_case,
                )
                for n in numbers
            ]
            timings["hashing"] += time.perf_counter() - started
            started = time.perf_counter()
            await conn.copy_records_to_table("cases", records=case_rows, columns=CASE_COLUMNS)
            await conn.copy_records_to_table("case_events", records=events, columns=EVENT_COLUMNS)
            timings["copy"] += time.perf_counter() - started
        started = time.perf_counter()
        await conn.execute("VACUUM ANALYZE case_events")
        await conn.execute("VACUUM ANALYZE cases")
        timings["analyze"] = time.perf_counter() - started
    finally:
        await conn.close()
    return timings


def pct(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1] * 1000


async def timed(call: Callable[[Any], Awaitable[Any]], arguments: list[Any]) -> list[float]:
    """The duration of ``call(a)`` for each ``a``, one after another, in seconds."""
    out = []
    for argument in arguments:
        started = time.perf_counter()
        await call(argument)
        out.append(time.perf_counter() - started)
    return out


async def main(args: argparse.Namespace) -> None:
    name = f"appointments_audit_bench_{os.getpid()}"
    await ensure_database(DATABASE_SERVER, name)
    url = with_database(DATABASE_SERVER, name)
    engine = make_engine(url)
    lines: list[str] = []

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    try:
        await upgrade_to_head(url)
        total = args.cases * args.events_per_case
        started = time.perf_counter()
        timings = await load(url, args.cases, args.events_per_case, args.persons)
        loaded = time.perf_counter() - started
        say(
            f"- load: {total:,} events over {args.cases:,} cases in {loaded:.0f} s "
            f"(hash chains computed in Python {timings['hashing']:.0f} s, COPY with every "
            f"index in place {timings['copy']:.0f} s, VACUUM ANALYZE {timings['analyze']:.0f} s)"
        )
        sessions = make_session_factory(engine)
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        key = Ed25519PrivateKey.generate()
        started = time.perf_counter()
        async with sessions() as session:
            cp = await create_checkpoint(session, key)
        say(
            f"- checkpoint over {len(cp.case_heads):,} case heads ({cp.event_count:,} events): "
            f"{time.perf_counter() - started:.1f} s"
        )
        started = time.perf_counter()
        async with sessions() as session:
            await create_checkpoint(session, key)
        say(
            "- the next checkpoint (first checking the previous one's signature, root and every "
            f"head it signed against the log): {time.perf_counter() - started:.1f} s"
        )

        rng = random.Random(7)
        case_ids = [f"B-{rng.randrange(args.cases):06d}" for _ in range(args.samples)]
        persons = await person_sample(url, rng, args.samples)
        raw = await asyncpg.connect(to_libpq_url(url))
        try:
            kept = sessions()

            async def kept_timeline(case_id: str) -> None:
                assert len(await timeline(kept, case_id)) == args.events_per_case

            async def orm_timeline(case_id: str) -> None:
                async with sessions() as session:
                    assert len(await timeline(session, case_id)) == args.events_per_case

            async def bare_timeline(case_id: str) -> None:
                rows = await raw.fetch(
                    "SELECT * FROM case_events WHERE case_id = $1 ORDER BY seq", case_id
                )
                assert len(rows) == args.events_per_case

            async def kept_search(person: str) -> None:
                page = await search(kept, Search(person=person), page_size=50)
                assert page.events

            async def orm_search(person: str) -> None:
                async with sessions() as session:
                    page = await search(session, Search(person=person), page_size=50)
                    assert page.events

            async def bare_search(person: str) -> None:
                rows = await raw.fetch(
                    "SELECT * FROM case_events WHERE person_ids @> ARRAY[$1]::text[] "
                    "ORDER BY occurred_at, id LIMIT 51",
                    person,
                )
                assert rows

            for label, one, each, bare, keys in (
                ("case timeline (10 events)", kept_timeline, orm_timeline, bare_timeline, case_ids),
                ("search by person (page of ≤ 50)", kept_search, orm_search, bare_search, persons),
            ):
                for call in (one, each, bare):
                    await timed(call, keys[:20])  # warm the pool and the caches
                # interleaved in rounds of 50, so a burst of other work hits all three alike
                a: list[float] = []
                c: list[float] = []
                b: list[float] = []
                for first in range(0, len(keys), 50):
                    chunk = keys[first : first + 50]
                    a += await timed(one, chunk)
                    c += await timed(each, chunk)
                    b += await timed(bare, chunk)
                say(
                    f"- {label}, {len(keys)} samples: audit.queries, one session: p50 "
                    f"{pct(a, 50):.2f} ms, p95 {pct(a, 95):.2f} ms; a new session per query: "
                    f"p50 {pct(c, 50):.2f} ms, p95 {pct(c, 95):.2f} ms; bare SQL via asyncpg: "
                    f"p50 {pct(b, 50):.2f} ms, p95 {pct(b, 95):.2f} ms; **p95 ÷ floor "
                    f"{pct(a, 95) / pct(b, 95):.2f}** (one session), "
                    f"{pct(c, 95) / pct(b, 95):.2f} (a session per query)"
                )
            await kept.close()
            hits = [
                len(await raw.fetch("SELECT 1 FROM case_events WHERE person_ids @> ARRAY[$1]", p))
                for p in persons[:100]
            ]
            say(f"  (a person is named in {statistics.mean(hits):.1f} events on average)")
        finally:
            await raw.close()

        async with sessions() as session:
            report = await verify_log(session, key.public_key())
        assert report.ok, report.faults[:5]
        say(
            f"- verify (every chain + the checkpoint, processes by size and cores): "
            f"{report.events:,} events of {report.cases:,} cases in {report.seconds:.1f} s = "
            f"**{report.events / report.seconds:,.0f} events/s**"
        )
        async with sessions() as session:
            alone = await verify_log(session, key.public_key(), processes=1)
        assert alone.ok and alone.events == report.events
        say(
            f"- verify in this process alone: {alone.seconds:.1f} s = "
            f"{alone.events / alone.seconds:,.0f} events/s"
        )

        await record_events(sessions, say)
    finally:
        await engine.dispose()
        if args.keep:
            print(f"kept database {name}")
        else:
            await drop_database(DATABASE_SERVER, name)


async def person_sample(url: str, rng: random.Random, n: int) -> list[str]:
    conn = await asyncpg.connect(to_libpq_url(url))
    try:
        ids = await conn.fetch(
            "SELECT person_ids[1] AS p FROM case_events WHERE kind = 'input' "
            "AND id % 97 = 0 LIMIT $1",
            n * 3,
        )
    finally:
        await conn.close()
    people = [r["p"] for r in ids]
    return rng.sample(people, min(n, len(people)))


async def record_events(sessions: Any, say: Callable[[str], None]) -> None:
    records = RecordActivities(sessions)
    row = CaseRow(
        unit="单位000",
        post="副局长",
        method=SelectionMethod.REGULAR_APPOINTMENT,
        stage=CaseStage.INSPECTION,
        status=CaseStatus.ACTIVE,
        opened_on=date(2026, 1, 1),
    )

    def event(case_id: str, seq: int) -> RecordEventInput:
        return RecordEventInput(
            case_id=case_id,
            seq=seq,
            kind="input",
            stage=CaseStage.INSPECTION,
            occurred_at=datetime.now(UTC),
            actor_name="考察组",
            actor_role=Role.INSPECTION_TEAM,
            summary="考察",
            payload={"person_id": f"N{seq}", "finding": "无"},
            case=row,
        )

    one_by_one = await timed(
        lambda s: records.record_event(event("NEW-1", s)), list(range(1, 1001))
    )
    say(
        f"- record_event, one at a time (1,000 events on one case): p50 "
        f"{pct(one_by_one, 50):.2f} ms, p95 {pct(one_by_one, 95):.2f} ms"
    )
    started = time.perf_counter()
    cases = [f"NEW-{n}" for n in range(2, 52)]

    async def case_stream(case_id: str) -> None:
        for s in range(1, 41):
            assert await records.record_event(event(case_id, s))

    await asyncio.gather(*(case_stream(c) for c in cases))
    took = time.perf_counter() - started
    say(
        f"- record_event, 50 cases at once, an event per activity (2,000 events, pool of 5+10 "
        f"connections): **{2000 / took:,.0f} events/s**"
    )

    def step(case_id: str, first: int, size: int) -> RecordEventsInput:
        events = [
            RecordedEvent.model_validate(event(case_id, s).model_dump(exclude={"case_id", "case"}))
            for s in range(first, first + size)
        ]
        return RecordEventsInput(case_id=case_id, case=row, events=events)

    async def case_steps(case_id: str) -> int:
        seq, steps = 1, 0
        for size in itertools.cycle(BATCH_SIZES):
            size = min(size, 41 - seq)
            if size <= 0:
                return steps
            assert await records.record_events(step(case_id, seq, size)) == size
            seq, steps = seq + size, steps + 1
        raise AssertionError("unreachable")

    cases = [f"NEW-S{n}" for n in range(2, 52)]
    started = time.perf_counter()
    steps = sum(await asyncio.gather(*(case_steps(c) for c in cases)))
    took = time.perf_counter() - started
    say(
        f"- record_events, 50 cases at once, a step per activity (2,000 events in {steps:,} "
        f"steps of {2000 / steps:.2f} events on average): **{2000 / took:,.0f} events/s**"
    )


def load_average() -> str:
    with open("/proc/loadavg") as f:
        return " / ".join(f.read().split()[:3])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--events-per-case", type=int, default=10)
    parser.add_argument("--persons", type=int, default=150_000, help="size of the person pool")
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    arguments = parser.parse_args()
    python = platform.python_version()
    print(f"machine: {os.cpu_count()} cores, {platform.platform()}, Python {python}")
    print(f"load average before: {load_average()}", flush=True)
    asyncio.run(main(arguments))
    print(f"load average after: {load_average()}")
