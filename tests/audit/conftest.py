"""A log of our own for each audit test, written by the real recording activities (a case's and
a probation's), and the means to tamper with it behind the application's back (as a superuser,
triggers off)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.probation_records import ProbationRecordActivities
from activities.records import RecordActivities
from audit import dossier as dossiers
from audit.chain import CHAINS, Chain, event_hash
from audit.checkpoints import (
    CHECKPOINT_VERSION,
    Checkpoint,
    checkpoint_statements,
    create_checkpoint,
    current_heads,
    sign_heads,
)
from audit.copies import write_copy
from audit.keyring import Keyring
from audit.keys import load_private_key, load_public_key, write_keypair
from audit.verify import Report, verify_log
from store.db import make_engine, make_session_factory, to_libpq_url
from workflows.probation_types import (
    ProbationEventInput,
    ProbationRow,
    ProbationStatus,
    ReviewStatus,
    probation_workflow_id,
)
from workflows.types import (
    CaseRow,
    CaseStage,
    CaseStatus,
    Notification,
    RecordEventInput,
    Role,
    SelectionMethod,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
SYSTEM = ("系统", Role.SYSTEM)
T0 = datetime(2026, 9, 1, 9, 30, tzinfo=SHANGHAI)
UNIT = "县生态环境局"


@dataclass(frozen=True)
class Keys:
    private_path: Path
    public_path: Path
    private: Ed25519PrivateKey
    public: Ed25519PublicKey


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    private_path, public_path, _ = write_keypair(tmp_path / "signing.pem")
    return Keys(
        private_path, public_path, load_private_key(private_path), load_public_key(public_path)
    )


@pytest.fixture
def other_keys(tmp_path: Path) -> Keys:
    private_path, public_path, _ = write_keypair(tmp_path / "other.pem")
    return Keys(
        private_path, public_path, load_private_key(private_path), load_public_key(public_path)
    )


@pytest_asyncio.fixture(loop_scope="session")
async def log_url(migrated_database_url: str) -> str:
    """A migrated database of this test's own: tampering there disturbs no other test."""
    return migrated_database_url


@pytest_asyncio.fixture(loop_scope="session")
async def log_sessions(log_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(log_url)
    try:
        yield make_session_factory(engine)
    finally:
        await engine.dispose()


# --------------------------------------------------------------------------- events


def case_row(stage: CaseStage, status: CaseStatus = CaseStatus.ACTIVE, unit: str = UNIT) -> CaseRow:
    return CaseRow(
        unit=unit,
        post="副局长",
        method=SelectionMethod.REGULAR_APPOINTMENT,
        stage=stage,
        status=status,
        policy_version="2026.1",
        probation_required=True,
        opened_on=date(2026, 9, 1),
    )


def story(
    case_id: str, *, unit: str = UNIT, start: datetime = T0, people: Sequence[str] = ("p1", "p2")
) -> list[RecordEventInput]:
    """The events of a regular appointment from opening to the vote, one day apart."""

    def at(day: int) -> datetime:
        return start + timedelta(days=day)

    def ev(
        seq: int,
        kind: str,
        stage: CaseStage,
        summary: str,
        payload: dict[str, Any],
        *,
        actor: tuple[str, Role] = ("系统", Role.SYSTEM),
        status: CaseStatus = CaseStatus.ACTIVE,
        notify: bool = False,
    ) -> RecordEventInput:
        return RecordEventInput(
            case_id=case_id,
            seq=seq,
            kind=kind,
            stage=stage,
            occurred_at=at(seq - 1),
            actor_name=actor[0],
            actor_role=actor[1],
            summary=summary,
            payload=payload,
            case=case_row(stage, status, unit),
            notification=(
                Notification(recipient_role=Role.CLERK, subject=f"事项{seq}", body="请办理")
                if notify
                else None
            ),
        )

    clerk = ("王科员", Role.CLERK)
    team = ("考察组 李组长", Role.INSPECTION_TEAM)
    candidates = [{"person_id": p, "name": f"候选人{p}", "sanctions": []} for p in people]
    notice, inspection = CaseStage.INVESTIGATION_NOTICE, CaseStage.INSPECTION
    return [
        ev(
            1,
            "opened",
            notice,
            f"case opened: {unit} 副局长",
            {
                "case": {
                    "case_id": case_id,
                    "unit": unit,
                    "post": "副局长",
                    "positions": 1,
                    "method": "regular_appointment",
                    "candidates": candidates,
                },
                "policy_version": "2026.1",
                "policy_digest": "ab" * 32,
                "policy_source": "policy/default.yaml",
            },
            actor=clerk,
        ),
        ev(
            2,
            "deadline",
            notice,
            "investigation notice: due by the end of 2026-09-08",
            {
                "step": "investigation_notice",
                "deadline_on": "2026-09-08",
                "deadline_at": "2026-09-09T00:00:00+08:00",
                "alarms": [
                    {
                        "kind": "reminder",
                        "at": "2026-09-07T09:00:00+08:00",
                        "role": "clerk",
                        "rung": 0,
                    }
                ],
                "calendar_source": "chinese_calendar 1.11.0 + supplement 2026-09",
            },
        ),
        ev(
            3,
            "input",
            notice,
            "investigation notice published",
            {"published_on": "2026-09-03", "one_to_one_reason": ""},
            actor=clerk,
            notify=True,
        ),
        ev(
            4,
            "transition",
            inspection,
            "stage investigation_notice → inspection",
            {"from": "investigation_notice", "to": "inspection"},
        ),
        ev(
            5,
            "input",
            inspection,
            f"{people[0]}: personnel file checked",
            {
                "person_id": people[0],
                "check": "personnel_file",
                "completed_on": "2026-09-05",
                "finding": "无问题",
                "score": 1.0,
            },
            actor=team,
        ),
        ev(
            6,
            "reminder",
            inspection,
            "reminder to inspection_team",
            {
                "kind": "reminder",
                "at": "2026-09-06T09:00:00+08:00",
                "role": "inspection_team",
                "rung": 0,
            },
            notify=True,
        ),
        ev(
            7,
            "input",
            inspection,
            "inspection concluded",
            {"concluded_on": "2026-09-07", "proposed": [people[0]]},
            actor=team,
        ),
        ev(
            8,
            "transition",
            CaseStage.VOTE,
            "stage inspection → vote",
            {"from": "inspection", "to": "vote"},
        ),
    ]


async def record_all(
    sessions: async_sessionmaker[AsyncSession], events: Sequence[RecordEventInput]
) -> None:
    records = RecordActivities(sessions)
    for event in events:
        assert await records.record_event(event)


def started_probation(case_id: str, person_id: str, seq: int = 9) -> RecordEventInput:
    """The case's event that says it started a probation (as the case workflow records it)."""
    last = story(case_id)[-1]
    probation_id = probation_workflow_id(case_id, person_id)
    return last.model_copy(
        update={
            "seq": seq,
            "kind": "probation",
            "occurred_at": last.occurred_at + timedelta(days=1),
            "summary": f"probation of 候选人{person_id} started: one year from 2026-09-10",
            "payload": {"probation_id": probation_id, "starts_on": "2026-09-10"},
        }
    )


def probation_story(
    case_id: str, person_id: str = "p1", *, start: datetime = T0 + timedelta(days=9)
) -> list[ProbationEventInput]:
    """A probation's year as the workflow records it: opened, reminders, the review, formal
    appointment."""
    name = f"候选人{person_id}"
    listing = ProbationRow(
        case_id=case_id,
        person_id=person_id,
        name=name,
        unit=UNIT,
        post="副局长",
        former_rank="正科级",
        starts_on=date(2026, 9, 10),
        ends_on=date(2027, 9, 9),
        status=ProbationStatus.ON_PROBATION,
        review_status=ReviewStatus.PENDING,
    )
    competent = {"review_status": ReviewStatus.COMPETENT}
    head = ("部长 赵", Role.DEPARTMENT_HEAD)

    def reminder(days: int, due_on: str) -> dict[str, Any]:
        return {"days_before_end": days, "due_on": due_on, "ends_on": "2027-09-09"}

    # (kind, summary, payload, days after the start, listing changes, who)
    steps: list[tuple[str, str, dict[str, Any], int, dict[str, Any], tuple[str, Role]]] = [
        ("opened", f"probation opened: {name}", {"input": {"name": name}}, 0, {}, SYSTEM),
        ("reminder", "reminder: ends on 2027-09-09", reminder(60, "2027-07-11"), 304, {}, SYSTEM),
        ("reminder", "reminder: ends on 2027-09-09", reminder(30, "2027-08-10"), 334, {}, SYSTEM),
        ("review", f"review: {name} competent", {"summary": "德才表现良好"}, 344, competent, head),
        (
            "formal",
            "formal appointment (正式任职): the year ended on 2027-09-09",
            {},
            365,
            {**competent, "status": ProbationStatus.FORMALLY_APPOINTED},
            SYSTEM,
        ),
    ]
    return [
        ProbationEventInput(
            probation_id=probation_workflow_id(case_id, person_id),
            seq=seq,
            kind=kind,
            occurred_at=start + timedelta(days=days),
            actor_name=who[0],
            actor_role=who[1],
            summary=summary,
            payload=payload,
            row=listing.model_copy(update=changes),
        )
        for seq, (kind, summary, payload, days, changes, who) in enumerate(steps, 1)
    ]


async def record_probation(
    sessions: async_sessionmaker[AsyncSession], events: Sequence[ProbationEventInput]
) -> None:
    records = ProbationRecordActivities(sessions)
    for event in events:
        assert await records.record_probation_event(event)


async def record_appointment(
    sessions: async_sessionmaker[AsyncSession], case_id: str, people: Sequence[str] = ("p1",)
) -> None:
    """A case up to the vote that then started a probation for each of ``people``, and each
    probation's year."""
    started = [started_probation(case_id, p, seq) for seq, p in enumerate(people, 9)]
    await record_all(sessions, [*story(case_id), *started])
    for person in people:
        await record_probation(sessions, probation_story(case_id, person))


# --------------------------------------------------------------------------- checking


async def sign(
    sessions: async_sessionmaker[AsyncSession],
    keys: Keys,
    *,
    copies: Path | None = None,
    keyring: Keyring | None = None,
) -> Checkpoint:
    """A checkpoint over every chain as it stands (checked against and copied to ``copies``,
    if given, as the service does)."""
    async with sessions() as session:
        cp = await create_checkpoint(session, keys.private, keyring=keyring, copies=copies)
    if copies is not None:
        write_copy(copies, cp)
    return cp


async def check(
    sessions: async_sessionmaker[AsyncSession],
    keys: Keys | Keyring | Ed25519PublicKey,
    **options: Any,
) -> Report:
    """``verify_log`` with a key pair's public key, a keyring or a public key."""
    async with sessions() as session:
        return await verify_log(session, keys.public if isinstance(keys, Keys) else keys, **options)


async def signed_dossier(
    sessions: async_sessionmaker[AsyncSession], keys: Keys, case_id: str
) -> dict[str, Any]:
    """A case's dossier, after a checkpoint over everything recorded so far."""
    await sign(sessions, keys)
    async with sessions() as session:
        built = await dossiers.build_dossier(session, case_id)
    assert built is not None
    return built


async def seq_at(url: str, chain: Chain, chain_id: str, chain_index: int) -> int:
    [row] = await fetch(
        url,
        f"SELECT seq FROM {chain.table} WHERE {chain.id_key} = $1 AND chain_index = $2",
        chain_id,
        chain_index,
    )
    return int(row["seq"])


# --------------------------------------------------------------------------- tampering


async def tamper(url: str, *statements: str | tuple[str, Sequence[Any]]) -> None:
    """Run statements as the superuser with every trigger off: behind the application's back."""
    conn = await asyncpg.connect(to_libpq_url(url))
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            for statement in statements:
                if isinstance(statement, tuple):
                    await conn.execute(statement[0], *statement[1])
                else:
                    await conn.execute(statement)
    finally:
        await conn.close()


async def fetch(url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(to_libpq_url(url))
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def recompute_chain(url: str, chain: Chain, chain_id: str, changed: int) -> None:
    """Change the summary of event ``changed`` of a chain and recompute every hash from there
    on: the chain is whole again, only the signed heads can tell."""
    rows = await fetch(
        url,
        f"SELECT * FROM {chain.table} WHERE {chain.id_key} = $1 ORDER BY chain_index",
        chain_id,
    )
    prev = rows[changed - 2]["hash"]
    statements: list[str | tuple[str, Sequence[Any]]] = []
    for row in rows[changed - 1 :]:
        summary = row["summary"] + ("（改）" if row["chain_index"] == changed else "")
        fields = chain.fields_of(dict(row), summary=summary, payload=json.loads(row["payload"]))
        digest = event_hash(prev, fields)
        statements.append(
            (
                f"UPDATE {chain.table} SET summary = $1, prev_hash = $2, hash = $3 WHERE id = $4",
                [summary, prev, digest, row["id"]],
            )
        )
        prev = digest
    await tamper(url, *statements)


async def insert_forged(url: str, chain: Chain, chain_id: str, at: int, **says: Any) -> None:
    """Make room at place ``at`` of a chain and insert a well-formed event there, linked to the
    event before it: what someone adding to history would do."""
    [before] = await fetch(
        url,
        f"SELECT * FROM {chain.table} WHERE {chain.id_key} = $1 AND chain_index = $2",
        chain_id,
        at - 1,
    )
    forged = chain.fields_of(dict(before), **{"seq": 99, "chain_index": at, "payload": {}, **says})
    row = {
        **forged.columns(),
        "payload": json.dumps(forged.payload),
        "prev_hash": before["hash"],
        "hash": event_hash(before["hash"], forged),
    }
    where = f"WHERE {chain.id_key} = '{chain_id}'"
    await tamper(
        url,
        f"UPDATE {chain.table} SET chain_index = chain_index + 100 {where} AND chain_index >= {at}",
        f"UPDATE {chain.table} SET chain_index = chain_index - 99 {where} "
        f"AND chain_index >= {at + 100}",
        insert_statement(chain.table, row),
    )


async def old_checkpoint(
    sessions: async_sessionmaker[AsyncSession], keys: Keys, at: datetime
) -> dict[str, Any]:
    """The columns of a checkpoint as signed before probations were chained: version 1, over
    the cases' heads only, each leaf named by its case_id."""
    async with sessions() as session:
        heads = await current_heads(session)
    root, count, key, signature = sign_heads({"case": heads}, keys.private, at, version=1)
    return {
        "created_at": at,
        "merkle_root": root,
        "case_heads": json.dumps({c: [i, h] for c, (i, h) in heads.items()}),
        "event_count": count,
        "signature": signature,
        "key_id": key,
    }


async def forge_checkpoint(
    url: str,
    sessions: async_sessionmaker[AsyncSession],
    forger: Keys,
    *,
    at: datetime | None = None,
) -> int:
    """What someone with the database but without the service's key would insert: a
    well-formed checkpoint of the current version over the heads as they now stand, numbered
    and linked as the next of the chain, signed with a key of their own. Its number."""
    async with sessions() as session:
        heads = {chain.name: await current_heads(session, chain) for chain in CHAINS}
        statements = await checkpoint_statements(session)
    latest = statements[-1] if statements else None
    number = 1 if latest is None else latest.id + 1
    previous = None if latest is None else (latest.id, latest.digest())
    when = at or datetime.now(UTC)
    root, count, key, signature = sign_heads(
        heads, forger.private, when, number=number, previous=previous
    )
    values = {
        "id": number,
        "created_at": when,
        "version": CHECKPOINT_VERSION,
        "merkle_root": root,
        "case_heads": json.dumps({c: [i, h] for c, (i, h) in heads["case"].items()}),
        "probation_heads": json.dumps({c: [i, h] for c, (i, h) in heads["probation"].items()}),
        "event_count": count,
        "signature": signature,
        "key_id": key,
        "previous_digest": None if previous is None else previous[1],
    }
    await tamper(url, insert_statement("audit_checkpoints", values))
    return number


def insert_statement(table: str, values: dict[str, Any]) -> tuple[str, list[Any]]:
    placeholders = ", ".join(f"${n}" for n in range(1, len(values) + 1))
    return f"INSERT INTO {table} ({', '.join(values)}) VALUES ({placeholders})", list(
        values.values()
    )
