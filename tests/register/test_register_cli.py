"""``appointments register``: import, list and show as the account of the token, refused to
a role the permission table does not name, and a bad file refused with its rows."""

from __future__ import annotations

import asyncio
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from starter.cli import cli
from tests.cli_accounts import cli_env
from tests.register.conftest import workbook
from workflows.types import Actor, Role

HEADER = ["人员编号", "姓名", "性别", "出生日期"]


def _invoke(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


async def test_the_register_through_the_command_line(
    own_sessions: async_sessionmaker[AsyncSession], migrated_database_url: str, tmp_path: Path
) -> None:
    base = {"DATABASE_URL": migrated_database_url}
    clerk = {**base, **await cli_env(own_sessions, Actor(name="名册科员", role=Role.CLERK))}
    team = {
        **base,
        **await cli_env(own_sessions, Actor(name="考察组员", role=Role.INSPECTION_TEAM)),
    }
    good = tmp_path / "people.xlsx"
    good.write_bytes(workbook(HEADER, [["R100", "孙八", "男", "1980-01-05"]]))
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(
        workbook(HEADER, [["R101", "周九", "男", "1980-02-30"], ["R102", "", "女", None]])
    )

    refused = await asyncio.to_thread(
        _invoke, team, "register", "import", "register-people", str(good), "--reason", "导入"
    )
    assert refused.exit_code == 1 and "无权导入干部名册" in refused.output

    rows = await asyncio.to_thread(
        _invoke, clerk, "register", "import", "register-people", str(bad), "--reason", "导入"
    )
    assert rows.exit_code == 2
    assert "第 2 行「出生日期」" in rows.output and "第 3 行「姓名」" in rows.output

    done = await asyncio.to_thread(
        _invoke, clerk, "register", "import", "register-people", str(good), "--reason", "年度导入"
    )
    assert done.exit_code == 0, done.output
    assert "已导入基本信息：1 人有变更" in done.output

    listed = await asyncio.to_thread(_invoke, clerk, "register", "list", "--search", "孙")
    assert listed.exit_code == 0 and "R100" in listed.output and "R101" not in listed.output
    shown = await asyncio.to_thread(_invoke, clerk, "register", "show", "R100")
    assert shown.exit_code == 0
    assert "孙八（R100）第 1 版" in shown.output and "名册科员" in shown.output
    assert "年度导入" in shown.output
    missing = await asyncio.to_thread(_invoke, clerk, "register", "show", "R101")
    assert missing.exit_code == 1 and "干部名册中没有 R101" in missing.output
    no_reading = await asyncio.to_thread(_invoke, team, "register", "list")
    assert no_reading.exit_code == 1 and "无权查阅干部名册" in no_reading.output
