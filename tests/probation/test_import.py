"""Cadres already on probation at deployment, brought in by the workflow and the command line."""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from starter.cli import InputError, cli
from starter.probation_cli import read_probations
from tests.cli_accounts import cli_env
from tests.probation.conftest import (
    HEAD,
    HEAD_MAIL,
    ProbationRunner,
    SmtpServer,
    probation_input,
)
from workflows.glossary import zh_recorded
from workflows.probation_types import (
    ReminderOutcome,
    probation_end,
    probation_workflow_id,
)
from workflows.rules.working_days import at_hour
from workflows.types import Actor, Role


async def test_reminders_already_past_are_recorded_as_missed_not_sent(
    runner: ProbationRunner, smtp: SmtpServer, new_id: str
) -> None:
    today = await runner.today()
    starts = today - timedelta(days=340)
    ends = probation_end(starts)
    h = await runner.start(probation_input(new_id, starts, imported=True))
    pid = probation_workflow_id(new_id, "P001")
    await runner.sleep_until(at_hour(ends, 12))
    state = await runner.state(h)
    assert [(m.days_before_end, m.outcome) for m in state.reminders] == [
        (60, ReminderOutcome.MISSED),
        (30, ReminderOutcome.MISSED),
        (7, ReminderOutcome.SENT),
        (0, ReminderOutcome.SENT),
    ]
    events = await runner.events(pid)
    assert [e.kind for e in events] == [
        "opened",
        "reminder_missed",
        "reminder_missed",
        "reminder",
        "reminder",
    ]
    assert events[0].summary.startswith("试用期补录（引入时已在试用期中）：张三（P001），")
    assert events[1].summary == (
        f"届满前 60 天（{ends - timedelta(days=60)}）的提醒未发出："
        "补录（或开始）试用期时提醒时间已过"
    )
    mails = smtp.about(pid)
    assert len(mails) == 4 and all(m.key in (f"{pid}#4", f"{pid}#5") for m in mails)
    row = await runner.row(pid)
    assert row is not None and row.imported and row.starts_on == starts


async def test_an_import_past_its_review_deadline_sends_only_the_rung_reached(
    runner: ProbationRunner, smtp: SmtpServer, new_id: str
) -> None:
    today = await runner.today()
    starts = today - timedelta(days=420)  # the year ended about eight weeks ago
    h = await runner.start(probation_input(new_id, starts, imported=True))
    pid = probation_workflow_id(new_id, "P001")
    await runner.sleep_until(await runner.now() + timedelta(minutes=5))
    state = await runner.state(h)
    assert state.review_overdue
    assert [m.outcome for m in state.reminders] == [ReminderOutcome.MISSED] * 4
    kinds = [e.kind for e in await runner.events(pid)]
    assert kinds == ["opened", *["reminder_missed"] * 4, "deadline", "overdue", "escalation"]
    mails = smtp.about(pid)
    assert [(m.rcpt_tos, m.subject[:7]) for m in mails] == [
        (["changwei-mishu@zzb.example"], "督办（第2级）")
    ]
    assert HEAD_MAIL not in [r for m in mails for r in m.rcpt_tos]


# --------------------------------------------------------------------------- command line


def _invoke(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


async def test_import_list_review_and_show_from_the_command_line(
    runner: ProbationRunner,
    smtp: SmtpServer,
    database_url: str,
    session_factory: async_sessionmaker[AsyncSession],
    new_id: str,
    tmp_path: Path,
) -> None:
    today = await runner.today()
    starts = today - timedelta(days=350)
    csv_file = tmp_path / "on-probation.csv"
    csv_file.write_text(
        "case_id,person_id,name,unit,post,starts_on,former_rank\n"
        f"{new_id},P1,赵六,县财政局,副局长,{starts},正科级\n"
        f"{new_id},P2,钱七,县教育局,副局长,{starts - timedelta(days=10)},\n",
        "utf-8",
    )
    env = {
        "TEMPORAL_ADDRESS": runner.env.client.service_client.config.target_host,
        "DATABASE_URL": database_url,
        "TASK_QUEUE": runner.settings.task_queue,
        "POLICY_FILE": str(runner.settings.policy_file),
        **await cli_env(session_factory, HEAD),
    }
    a_clerk = Actor(name=f"科员 {new_id}", role=Role.CLERK)

    imported = await asyncio.to_thread(_invoke, env, "probation", "import", str(csv_file))
    assert imported.exit_code == 0, imported.output
    assert "记为未及时发出的提醒：届满前 60 天、届满前 30 天" in imported.output
    assert "已导入 2 个试用期；0 个已有记录" in imported.output
    again = await asyncio.to_thread(_invoke, env, "probation", "import", str(csv_file))
    assert "已导入 0 个试用期；2 个已有记录" in again.output

    await runner.sleep_until(await runner.now() + timedelta(minutes=1))
    listed = await asyncio.to_thread(_invoke, env, "probation", "list", "--json")
    rows = [r for r in json.loads(listed.output) if r["case_id"] == new_id]
    assert [(r["person_id"], r["status"], r["review_status"]) for r in rows] == [
        ("P2", "on_probation", "pending"),
        ("P1", "on_probation", "pending"),
    ]
    assert rows[1]["ends_on"] == str(probation_end(starts))
    table = await asyncio.to_thread(_invoke, env, "probation", "list")
    assert "赵六" in table.output and "pending (待考核)" in table.output

    reviewed = await asyncio.to_thread(
        _invoke,
        env,
        "probation",
        "review",
        new_id,
        "P1",
        "--not-competent",
        "--reviewed-on",
        str(today),
        "--summary",
        "不能胜任试任职务",
    )
    assert reviewed.exit_code == 0, reviewed.output
    assert "removed (免去试任职务)" in reviewed.output
    assert "已恢复原职级：正科级" in reviewed.output
    twice = await asyncio.to_thread(
        _invoke,
        env,
        "probation",
        "review",
        new_id,
        "P1",
        "--competent",
        "--reviewed-on",
        str(today),
        "--summary",
        "x",
    )
    assert twice.exit_code == 1
    clerk = await asyncio.to_thread(
        _invoke,
        {**env, **await cli_env(session_factory, a_clerk)},
        "probation",
        "review",
        new_id,
        "P2",
        "--competent",
        "--reviewed-on",
        str(today),
        "--summary",
        "胜任",
    )
    assert (
        clerk.exit_code == 1
        and "未能办理：试用期满考核只能由部领导登记（本地政策）；" in clerk.output
    )

    shown = await asyncio.to_thread(_invoke, env, "probation", "show", new_id, "P1")
    assert shown.exit_code == 0, shown.output
    assert zh_recorded("reminder_missed") in shown.output
    assert zh_recorded("review") in shown.output
    assert "已恢复原职级：正科级" in shown.output


def test_the_import_file_is_checked_whole_before_anything_is_sent(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "case_id,person_id,name,unit,post,starts_on\n"
        "C-1,P1,赵六,县财政局,副局长,2026-02-30\n"
        "C-1,P1,赵六,县财政局,副局长,2026-02-01\n"
        "C-1,P2,钱七,县教育局,副局长,2027-01-01\n"
        "C 2,P3,孙八,县教育局,,2026-01-01\n",
        "utf-8",
    )
    with pytest.raises(InputError) as refused:
        read_probations(bad, date(2026, 11, 25))
    message = refused.value.message
    assert "第 2 行，starts_on 列" in message
    assert "第 3 行，person_id 列：案件 C-1 的 P1 已在第 2 行出现过" in message
    assert "第 4 行，starts_on 列：2027-01-01 是将来的日期" in message
    assert "第 5 行，case_id 列" in message and "第 5 行，post 列" in message
    good = tmp_path / "good.csv"
    good.write_text(
        "case_id,person_id,name,unit,post,starts_on,former_rank,former_post\n"
        "C-1,P1,赵六,县财政局,副局长,2026-02-01,正科级,股长\n",
        "utf-8",
    )
    (item,) = read_probations(good, date(2026, 11, 25))
    assert item.imported and item.former_post == "股长"
    assert item.workflow_id == "probation:C-1:P1"
