"""The console's verification page finds the attacks on the checkpoints as the command line and
the API do (one verification for all three): a forged checkpoint and deleted ones, each with
its number."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from settings import load_settings
from tests.api.conftest import NoTemporal
from tests.audit.conftest import (  # noqa: F401  (fixtures)
    Keys,
    forge_checkpoint,
    keys,
    log_sessions,
    log_url,
    other_keys,
    record_all,
    sign,
    story,
    tamper,
)
from tests.web.console_fixtures import make_person, sign_in
from workflows.types import Role


async def test_the_verification_page_names_the_checkpoint(
    log_url: str,  # noqa: F811
    log_sessions: async_sessionmaker[AsyncSession],  # noqa: F811
    keys: Keys,  # noqa: F811
    other_keys: Keys,  # noqa: F811
    tmp_path: Path,
) -> None:
    copies = tmp_path / "copies"
    await record_all(log_sessions, story("V-1"))
    await sign(log_sessions, keys, copies=copies)
    settings = load_settings(
        {"AUDIT_SIGNING_KEY": str(keys.private_path), "AUDIT_EXPORT_DIR": str(copies)}
    )
    app = create_app(settings, NoTemporal(), log_sessions)  # type: ignore[arg-type]
    name = await make_person(log_sessions, Role.AUDITOR)
    async with await sign_in(app, name, Role.AUDITOR) as auditor:
        clean = await auditor.get("/console/audit/verify?run=true")
        assert "核验通过" in clean and "检查点链（1 个）签名与链接完好" in clean
        assert "与 1 份检查点副本一致" in clean

        await forge_checkpoint(log_url, log_sessions, other_keys)
        forged = await auditor.get("/console/audit/verify?run=true")
        assert "发现 1 处问题" in forged and "检查点 #2：" in forged and "外来密钥" in forged

        await tamper(log_url, "DELETE FROM audit_checkpoints")
        deleted = await auditor.get("/console/audit/verify?run=true")
        assert "检查点 #1：检查点 #1（签署于" in deleted and "被删除了" in deleted
