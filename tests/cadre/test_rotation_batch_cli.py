"""``appointments rotation`` on the time-skipping server and the test database, as the
account of a token: a role the table does not name refused, a malformed --move refused, a
batch made from a scan's decided people, shown, its move's document and arrival recorded,
and the batch listed as done."""

from __future__ import annotations

import asyncio
import uuid

from click.testing import CliRunner, Result
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.deps import Services
from gateway import rotation_batch
from settings import PROJECT_DIR
from starter.cli import cli
from tests.cadre.conftest import Stack, settle
from tests.cadre.test_rotation_batch_doors import decided_scan
from tests.cli_accounts import cli_env
from tests.workflows.conftest import TEST_SUPPLEMENT
from workflows.types import Actor, Role


def _invoke(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


async def test_the_rotation_commands(
    stack: Stack, session_factory: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    scan_id, (first, second) = await decided_scan(stack, session_factory)
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
        **await cli_env(session_factory, Actor(name="考察组员丙", role=Role.INSPECTION_TEAM)),
    }
    batch_id = f"CLI{uuid.uuid4().hex[:6]}"
    make = ["rotation", "make", scan_id, batch_id, "--title", "乡镇一般干部交流"]

    async def run(env: dict[str, str], *args: str) -> Result:
        return await asyncio.to_thread(_invoke, env, *args)

    refused = await run(team, *make, "--move", f"{first},樟市镇人民政府,樟市镇")
    assert refused.exit_code == 1 and "无权编组交流批次" in refused.output
    malformed = await run(clerk, *make, "--move", first)
    assert malformed.exit_code == 2 and "人员编号,去向单位" in malformed.output
    made = await run(
        clerk,
        *make,
        "--move",
        f"{first},樟市镇人民政府,樟市镇",
        "--move",
        f"{second}，县农业农村局,,办事员",
    )
    assert made.exit_code == 0, made.output
    assert "交流批次已编组：2 人" in made.output

    async def scheduled() -> bool | None:
        state = await rotation_batch.batch_state(stack.env.client, batch_id)
        return True if all(m.document_schedule for m in state.moves) else None

    await settle(scheduled)
    shown = await run(clerk, "rotation", "show", batch_id)
    assert shown.exit_code == 0, shown.output
    assert "待印发交流文件：须于" in shown.output and "县农业农村局" in shown.output

    day = (await stack.today()).isoformat()
    early = await run(clerk, "rotation", "arrive", batch_id, first, "--arrived-on", day)
    assert early.exit_code == 1 and "待印发交流文件" in early.output
    issued = await run(
        clerk, "rotation", "document", batch_id, first, "--issued-on", day, "--reference", "组干1号"
    )
    assert issued.exit_code == 0, issued.output
    assert "已记录交流文件印发" in issued.output

    async def arrival_scheduled() -> bool | None:
        state = await rotation_batch.batch_state(stack.env.client, batch_id)
        move = state.move(first)
        return True if move is not None and move.arrival_schedule else None

    await settle(arrival_scheduled)
    arrived = await run(clerk, "rotation", "arrive", batch_id, first, "--arrived-on", day)
    assert arrived.exit_code == 0, arrived.output
    assert "已到岗" in arrived.output and "名册第 3 版" in arrived.output
    not_head = await run(clerk, "rotation", "cancel", batch_id, second, "--reason", "改派")
    assert not_head.exit_code == 1 and "撤销交流只能由部领导登记" in not_head.output
    listed = await run(clerk, "rotation", "batches")
    assert listed.exit_code == 0 and batch_id in listed.output and "办理中" in listed.output
