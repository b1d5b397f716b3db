"""``appointments capability`` and ``appointments evaluation`` on the time-skipping server
and the test database, as the account of a token: a bad file refused by row (nothing
starts), a role the table does not name refused, a campaign and an evaluation started and
shown, a retest refused by the campaign's rule."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.cadre_calls import campaign, evaluation
from api.deps import Services
from settings import PROJECT_DIR
from starter.cli import cli
from tests.cadre.conftest import Stack, csv_file, settle, workbook
from tests.cli_accounts import cli_env
from tests.sheet_files import FIXTURES
from tests.workflows.conftest import TEST_SUPPLEMENT
from workflows.types import Actor, Role

HEADER = ["人员编号", "姓名", "单位", "职务", "成绩"]


def _invoke(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


async def test_the_cadre_commands(
    stack: Stack,
    session_factory: async_sessionmaker[AsyncSession],
    database_url: str,
    tmp_path: Path,
) -> None:
    services: Services = stack.app.state.services
    base = {
        "TEMPORAL_ADDRESS": stack.env.client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": stack.env.client.namespace,
        "TASK_QUEUE": services.settings.task_queue,
        "DATABASE_URL": database_url,
        "POLICY_FILE": str(PROJECT_DIR / "policy" / "default.yaml"),
        "CALENDAR_SUPPLEMENT": str(TEST_SUPPLEMENT),
        "COLUMNS": "200",
    }
    clerk = {**base, **await cli_env(session_factory, Actor(name="测试科员", role=Role.CLERK))}
    team = {
        **base,
        **await cli_env(session_factory, Actor(name="考察组员乙", role=Role.INSPECTION_TEAM)),
    }
    day = (await stack.today()).isoformat()
    campaign_id = f"CLI{uuid.uuid4().hex[:6]}"
    dates = ["--title", "能力测试", "--tested-on", day, "--notified-on", day]

    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        csv_file(HEADER, [["C1", "张三", "县财政局", "", "abc"], ["C2", "", "县局", "", 70]])
    )
    rows = await asyncio.to_thread(
        _invoke, clerk, "capability", "start", campaign_id, str(bad), *dates
    )
    assert rows.exit_code == 2, rows.output
    assert "第 2 行「成绩」" in rows.output and "第 3 行「姓名」" in rows.output

    good = tmp_path / "good.xlsx"
    good.write_bytes(
        workbook(HEADER, [["C1", "张三", "县财政局", "股长", 40], ["C2", "李四", "县局", "", 90]])
    )
    refused = await asyncio.to_thread(
        _invoke, team, "capability", "start", campaign_id, str(good), *dates
    )
    assert refused.exit_code == 1 and "无权导入能力测试成绩" in refused.output
    assert await asyncio.to_thread(_invoke, clerk, "capability", "list")  # nothing started
    listed = await asyncio.to_thread(_invoke, clerk, "capability", "list")
    assert campaign_id not in listed.output

    started = await asyncio.to_thread(
        _invoke, clerk, "capability", "start", campaign_id, str(good), *dates
    )
    assert started.exit_code == 0, started.output
    assert "能力测试已开始：2 人" in started.output

    async def retest_started() -> bool | None:
        return True if (await campaign(services, campaign_id)).retests else None

    await settle(retest_started)
    shown = await asyncio.to_thread(_invoke, clerk, "capability", "show", campaign_id)
    assert shown.exit_code == 0, shown.output
    assert "张三" in shown.output and "自学中" in shown.output and "可列为后备干部" in shown.output
    early = await asyncio.to_thread(
        _invoke,
        clerk,
        "capability",
        "retest",
        campaign_id,
        "C1",
        "--tested-on",
        day,
        "--score",
        "70",
    )
    assert early.exit_code == 1 and "自学中" in early.output
    listed = await asyncio.to_thread(_invoke, clerk, "capability", "list")
    assert campaign_id in listed.output

    evaluation_id = f"CLI{uuid.uuid4().hex[:6]}"
    files = [str(FIXTURES / "evaluation_unified.csv"), str(FIXTURES / "evaluation_own.csv")]
    opts = ["--title", "双重考核", "--held-on", day]
    preview = await asyncio.to_thread(
        _invoke, clerk, "evaluation", "start", evaluation_id, *files, *opts, "--preview"
    )
    assert preview.exit_code == 0, preview.output
    assert "建议降免职 1 人：乙局长" in preview.output and "仅预览" in preview.output
    assert (
        evaluation_id not in (await asyncio.to_thread(_invoke, clerk, "evaluation", "list")).output
    )
    begun = await asyncio.to_thread(
        _invoke, clerk, "evaluation", "start", evaluation_id, *files, *opts
    )
    assert begun.exit_code == 0, begun.output

    async def case_started() -> bool | None:
        return True if (await evaluation(services, evaluation_id)).cases else None

    await settle(case_started)
    no_vote = await asyncio.to_thread(
        _invoke,
        clerk,
        "evaluation",
        "vote",
        evaluation_id,
        "L2",
        "--meeting-id",
        "CW-9",
        "--held-on",
        day,
        "--members",
        "11",
        "--present",
        "9",
        "--agree",
        "8",
    )
    assert no_vote.exit_code == 1 and "只能由" in no_vote.output, no_vote.output
    shown = await asyncio.to_thread(_invoke, clerk, "evaluation", "show", evaluation_id)
    assert shown.exit_code == 0 and "乙局长" in shown.output and "待常委会票决" in shown.output
