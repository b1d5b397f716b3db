"""The daily digest's rotation items, read by the digest's own activity from a database of
this test's own: the cadres the newest scan listed and the department has not decided yet
(not those of an older scan, not those decided), in the digest's mail."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.digest import DigestActivities
from store.register import decide_rotation, record_rotation_scan
from workflows.digest import digest_mail
from workflows.probation_types import DigestItemKind, DigestRequest
from workflows.register_types import RotationDecision, RotationDue, RotationScanResult
from workflows.types import Actor, Role

HEAD = Actor(name="部长 赵", role=Role.DEPARTMENT_HEAD)
TODAY = date(2026, 12, 7)


def due(pid: str, name: str, township: str, since: date, years: int) -> RotationDue:
    return RotationDue(
        person_id=pid, name=name, version=2, township=township, since=since, years=years
    )


async def scan(
    sessions: async_sessionmaker[AsyncSession], scan_id: str, as_of: date, people: list[RotationDue]
) -> None:
    result = RotationScanResult(
        scan_id=scan_id, as_of=as_of, threshold_years=8, scanned=10, due=people
    )
    async with sessions() as s, s.begin():
        assert await record_rotation_scan(s, result)


async def rotation_items(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, ...]]:
    request = DigestRequest(
        as_of=datetime(2026, 12, 7, 0, 0, tzinfo=UTC), today=TODAY, days_ahead=14
    )
    digest = await DigestActivities(sessions).gather_digest(request)
    return [
        (i.ref, i.name, i.unit, str(i.due_on), i.detail)
        for i in digest.items
        if i.kind is DigestItemKind.ROTATION_DUE
    ]


async def test_the_digest_lists_the_newest_scans_undecided_cadres(
    own_sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert await rotation_items(own_sessions) == []  # no scan yet: nothing

    await scan(
        own_sessions,
        "scan-11",
        date(2026, 11, 1),
        [due("X", "旧排查", "樟市镇", date(2010, 1, 1), 16)],
    )
    await scan(
        own_sessions,
        "scan-12",
        date(2026, 12, 1),
        [
            due("Y", "张三", "城关镇", date(2018, 3, 1), 8),
            due("Z", "李四", "城关镇", date(2016, 1, 1), 10),
        ],
    )
    async with own_sessions() as s, s.begin():
        await decide_rotation(s, "scan-12", "Z", RotationDecision.DEFER, "换届期间", HEAD)

    # the newest scan only, and of it only the undecided: Y (Z decided, X an older scan's)
    assert await rotation_items(own_sessions) == [
        (
            "scan-12",
            "张三",
            "城关镇",
            "2026-12-01",
            "自 2018-03-01 在城关镇工作 8 年，待组织部决定是否交流",
        )
    ]
    request = DigestRequest(as_of=datetime(2026, 12, 7, tzinfo=UTC), today=TODAY, days_ahead=14)
    digest = await DigestActivities(own_sessions).gather_digest(request)
    subject, body = digest_mail(digest)
    assert "【干部交流待决定】城关镇 交流排查（张三）" in body and "（scan-12）" in body
    assert "已逾期 0 项" in subject

    # once decided, the cadre is no longer waiting
    async with own_sessions() as s, s.begin():
        await decide_rotation(s, "scan-12", "Y", RotationDecision.ROTATE, "", HEAD)
    assert await rotation_items(own_sessions) == []
