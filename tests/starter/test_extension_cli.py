"""``appointments extension`` against the real worker on the time-skipping server and the test
database, as the accounts of tokens: a clerk files a request (a hopeless one refused up front,
nothing written), the section chief lists and approves it, the clerk may not, and the case's
deadline moves; the case's requests read back as JSON."""

from __future__ import annotations

import asyncio
import json

from click.testing import CliRunner, Result

from starter.cli import cli
from store.extension_requests import requests_of_case
from tests.cli_accounts import cli_env
from tests.workflows.conftest import CaseRunner, runner, time_env  # noqa: F401
from tests.workflows.scenarios import CLERK, regular_case
from tests.workflows.test_deadline_extension import CHIEF, awaiting
from workflows.types import WithdrawInput

KEY = "investigation_notice"


async def invoke(env: dict[str, str], *args: str) -> Result:
    return await asyncio.to_thread(
        CliRunner().invoke, cli, ["extension", *args], env=env, catch_exceptions=False
    )


async def test_request_list_and_approve_through_the_command_line(
    runner: CaseRunner,  # noqa: F811
    database_url: str,
) -> None:
    case_id = "extcli-1"
    h = await runner.start(regular_case(case_id, opened_on=None))
    before = await awaiting(runner, h)
    assert before.step is not None and before.step.deadline_at is not None
    base = {
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": runner.env.client.service_client.config.target_host,
        "TASK_QUEUE": runner.task_queue,
    }
    clerk = {**base, **await cli_env(runner.sessions, CLERK)}
    chief = {**base, **await cli_env(runner.sessions, CHIEF)}
    asked = ("request", case_id, "--step", KEY, "--reason", "等待上级答复")

    too_long = await invoke(clerk, *asked, "--days", "11")
    assert too_long.exit_code != 0 and "累计不超过 10 个工作日" in too_long.output
    async with runner.sessions() as s:
        assert await requests_of_case(s, case_id) == []

    filed = await invoke(clerk, *asked, "--days", "5")
    assert filed.exit_code == 0, filed.output
    assert f"{CLERK.name} 申请延长 5 个工作日" in filed.output
    async with runner.sessions() as s:
        [row] = await requests_of_case(s, case_id)

    pending = await invoke(chief, "list")
    assert pending.exit_code == 0, pending.output
    assert case_id in pending.output and "等待上级答复" in pending.output

    not_the_clerks = await invoke(clerk, "approve", str(row.id))
    assert not_the_clerks.exit_code != 0
    assert "延期申请由科长、部领导批准" in not_the_clerks.output

    approved = await invoke(chief, "approve", str(row.id))
    assert approved.exit_code == 0, approved.output
    assert "新期限" in approved.output
    after = await runner.state(h)
    assert after.step is not None and after.step.extensions == 1
    assert after.step.deadline_at is not None and after.step.deadline_at > before.step.deadline_at

    listed = await invoke(chief, "list", "--case", case_id, "--json")
    assert listed.exit_code == 0, listed.output
    [shown] = json.loads(listed.output)
    assert (shown["id"], shown["decision"], shown["decided_by"]) == (
        row.id,
        "approved",
        CHIEF.name,
    )
    await runner.update(h, "withdraw", WithdrawInput(actor=CLERK, reason="岗位调整"))
