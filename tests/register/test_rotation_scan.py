"""The rotation scan over an imported register, on the time-skipping server with the real
worker and PostgreSQL: exactly the ordinary cadres at or over the policy's years (8) in the
same township are listed; the department's decision per person is recorded in the log. The
schedule itself on the dev server (the time-skipping server has no Schedules)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import ScheduleActionStartWorkflow
from temporalio.testing import WorkflowEnvironment

from activities.rotation import ensure_rotation_schedule
from settings import PROJECT_DIR, Settings, load_settings
from store.register import RegisterRefused, decide_rotation, import_xlsx
from store.register_queries import rotation_listing, rotation_scan
from tests.register.conftest import CLERK, workbook
from tests.workflows.conftest import start_time_skipping, write_policy
from worker import build_worker
from workflows.audit_checkpoint import AUDIT_CHECKPOINT_SCHEDULE_ID
from workflows.register_types import RotationDecision, RotationScanInput, RotationScanResult
from workflows.rotation import ROTATION_SCAN_SCHEDULE_ID, RotationScanWorkflow
from workflows.types import Actor, Role

AS_OF = date(2026, 3, 1)
HEAD = Actor(name="部长 赵", role=Role.DEPARTMENT_HEAD)
TOWN = "城关镇人民政府"
COUNTY = "县农业农村局"

# (person, name, [(unit, township, rank, first day, last day)])
Held = list[tuple[str, str | None, str, str, str | None]]
REGISTER: list[tuple[str, str, Held]] = [
    ("A", "七年差一天", [(TOWN, "城关镇", "科员", "2018-03-02", None)]),
    ("B", "正好八年", [(TOWN, "城关镇", "科员", "2018-03-01", None)]),
    (
        "C",
        "中断后再回",  # 9 years before a move away; back 7 years: the count starts again
        [
            ("樟市镇人民政府", "樟市镇", "科员", "2008-01-01", "2016-12-31"),
            (COUNTY, None, "科员", "2017-01-01", "2018-12-31"),
            ("樟市镇人民政府", "樟市镇", "一级主任科员", "2019-01-01", None),
        ],
    ),
    (
        "D",
        "前后相接",  # two posts in one township, the second from the day after the first
        [
            (TOWN, "城关镇", "科员", "2016-01-01", "2019-12-31"),
            ("城关镇财政所", "城关镇", "一级主任科员", "2020-01-01", None),
        ],
    ),
    ("E", "领导干部", [(TOWN, "城关镇", "副科级", "2010-01-01", None)]),
    (
        "F",
        "隔了一天",  # the gap of 2019-12-31 breaks the stint
        [
            (TOWN, "城关镇", "科员", "2010-01-01", "2019-12-30"),
            (TOWN, "城关镇", "科员", "2020-01-01", None),
        ],
    ),
    ("G", "县直单位", [(COUNTY, None, "科员", "2000-01-01", None)]),
]


async def import_register(sessions: async_sessionmaker[AsyncSession]) -> None:
    people = [[pid, name] for pid, name, _ in REGISTER]
    await import_xlsx(
        sessions, "register-people", workbook(["人员编号", "姓名"], people), CLERK, "导入"
    )
    posts = [
        [pid, unit, town, rank, "是" if rank.startswith("副科") else "否", first, last]
        for pid, _, held in REGISTER
        for unit, town, rank, first, last in held
    ]
    header = ["人员编号", "单位", "所在乡镇", "职级", "领导职务", "任职日期", "免职日期"]
    await import_xlsx(sessions, "register-posts", workbook(header, posts), CLERK, "导入")


@pytest_asyncio.fixture(loop_scope="session")
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_time_skipping()
    try:
        yield env
    finally:
        await env.shutdown()


def _settings() -> Settings:
    return load_settings(
        {
            "TASK_QUEUE": f"test-{uuid.uuid4().hex[:8]}",
            "POLICY_FILE": str(PROJECT_DIR / "policy" / "default.yaml"),
        }
    )


async def test_the_scan_lists_exactly_the_cadres_at_or_over_eight_years(
    time_env: WorkflowEnvironment, own_sessions: async_sessionmaker[AsyncSession]
) -> None:
    await import_register(own_sessions)
    settings = _settings()
    async with build_worker(time_env.client, settings, own_sessions):
        scan_id = f"rotation-scan-test-{uuid.uuid4().hex[:8]}"
        result: RotationScanResult = await time_env.client.execute_workflow(
            RotationScanWorkflow.run,
            RotationScanInput(as_of=AS_OF),
            id=scan_id,
            task_queue=settings.task_queue,
        )
    assert result.threshold_years == 8 and result.scanned == len(REGISTER)
    assert [(d.person_id, d.township, d.since, d.years) for d in result.due] == [
        ("B", "城关镇", date(2018, 3, 1), 8),
        ("D", "城关镇", date(2016, 1, 1), 10),
    ]
    async with own_sessions() as s:
        scan = await rotation_scan(s, scan_id)
        listed = await rotation_listing(s, scan_id)
    assert scan is not None and (scan.as_of, scan.due, scan.scanned) == (AS_OF, 2, 7)
    # the register version each person was read at: people, then posts
    assert [(p.person_id, p.register_version, p.decision) for p in listed] == [
        ("B", 2, None),
        ("D", 2, None),
    ]

    async with own_sessions() as s, s.begin():
        await decide_rotation(s, scan_id, "B", RotationDecision.ROTATE, "", HEAD)
    async with own_sessions() as s, s.begin():
        with pytest.raises(RegisterRefused, match="暂缓交流须说明理由"):
            await decide_rotation(s, scan_id, "D", RotationDecision.DEFER, " ", HEAD)
    async with own_sessions() as s, s.begin():
        with pytest.raises(RegisterRefused, match="没有列出 A"):
            await decide_rotation(s, scan_id, "A", RotationDecision.ROTATE, "", HEAD)
    async with own_sessions() as s, s.begin():
        await decide_rotation(s, scan_id, "D", RotationDecision.DEFER, "乡镇换届期间暂缓", HEAD)
    async with own_sessions() as s:
        listed = await rotation_listing(s, scan_id)
    assert [(p.person_id, p.decision, p.decided_by) for p in listed] == [
        ("B", RotationDecision.ROTATE, "部长 赵"),
        ("D", RotationDecision.DEFER, "部长 赵"),
    ]


@pytest.mark.devserver
async def test_the_schedule_is_created_once_and_starts_the_scan(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path, cadre__rotation__scan_day_of_month=15)
    settings = replace(_settings(), policy_file=policy)
    client = dev_env.client
    handle = client.get_schedule_handle(ROTATION_SCAN_SCHEDULE_ID)
    try:
        assert await ensure_rotation_schedule(client, settings) == "created"
        assert await ensure_rotation_schedule(client, settings) == "exists"
        described = await handle.describe()
        action = described.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert action.workflow == "RotationScanWorkflow"
        assert action.id == ROTATION_SCAN_SCHEDULE_ID != AUDIT_CHECKPOINT_SCHEDULE_ID
        [calendar] = described.schedule.spec.calendars
        assert calendar.day_of_month[0].start == 15 and calendar.hour[0].start == 9
    finally:
        await handle.delete()
    # a policy without the cadre section scans nothing: no schedule
    bare = replace(settings, policy_file=write_policy(tmp_path, cadre=None))
    assert await ensure_rotation_schedule(client, bare) == "no policy"
