"""A log of our own for each audit test, written by the real recording activity, and the means
to tamper with it behind the application's back (as a superuser, triggers off)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.records import RecordActivities
from audit.keys import load_private_key, load_public_key, write_keypair
from store.db import make_engine, make_session_factory, to_libpq_url
from store.migrate import upgrade_to_head
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
async def log_url(throwaway_database_url: str) -> str:
    """A migrated database of this test's own: tampering there disturbs no other test."""
    await upgrade_to_head(throwaway_database_url)
    return throwaway_database_url


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
