"""``appointments attachment`` on the real database as the account of a token: the file's
sha256 printed and checked against the one given before anything is sent, the store's own
hash compared and bytes changed on the way refused with nothing kept, a role that may not
attach refused, and a file saved only when its bytes give the hash asked for."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from starter.cli import cli
from store import attachments
from store.attachments import Attachment, CaseAttachment
from tests.audit.conftest import log_sessions, log_url, record_all, story, tamper  # noqa: F401
from tests.cli_accounts import cli_env
from workflows.types import Actor, Role

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


async def invoke(env: dict[str, str], *args: str) -> Result:
    return await asyncio.to_thread(
        CliRunner().invoke, cli, ["attachment", *args], env=env, catch_exceptions=False
    )


async def stored(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with sessions() as s:
        files = await s.scalar(select(func.count()).select_from(Attachment))
        listed = await s.scalar(select(func.count()).select_from(CaseAttachment))
    return files or 0, listed or 0


@pytest.fixture
async def envs(
    log_url: str,  # noqa: F811
    log_sessions: async_sessionmaker[AsyncSession],  # noqa: F811
) -> dict[Role, dict[str, str]]:
    await record_all(log_sessions, story("F-1"))
    return {
        role: {"DATABASE_URL": log_url, **await cli_env(log_sessions, Actor(name=name, role=role))}
        for role, name in ((Role.CLERK, "附件科员"), (Role.AUDITOR, "附件审计"))
    }


async def test_the_hash_is_checked_before_sending_and_against_the_store(
    envs: dict[Role, dict[str, str]],
    log_sessions: async_sessionmaker[AsyncSession],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clerk = envs[Role.CLERK]
    pdf, png = tmp_path / "考察材料.pdf", tmp_path / "会议记录.png"
    pdf.write_bytes(PDF)
    png.write_bytes(PNG)
    pdf_hash, png_hash = attachments.sha256_of(PDF), attachments.sha256_of(PNG)

    # the hash always printed; the store's answer compared
    added = await invoke(clerk, "add", "F-1", str(pdf))
    assert added.exit_code == 0, added.output
    assert f"SHA-256 {pdf_hash}" in added.output and "已上传：案件 F-1 附件 #1" in added.output
    assert "已与服务端核对" in added.output
    # the hash given, and right (in capitals too)
    added = await invoke(clerk, "add", "F-1", str(png), "--sha256", png_hash.upper())
    assert added.exit_code == 0, added.output
    assert "附件 #2 会议记录.png" in added.output
    assert await stored(log_sessions) == (2, 2)

    # the hash given, and wrong: nothing sent
    other = tmp_path / "另一份.pdf"
    other.write_bytes(PDF + b"% another\n")
    wrong = await invoke(clerk, "add", "F-1", str(other), "--sha256", pdf_hash)
    assert wrong.exit_code == 2
    assert f"与所给的 {pdf_hash} 不符" in wrong.output and "未上传任何内容" in wrong.output
    malformed = await invoke(clerk, "add", "F-1", str(other), "--sha256", "abc")
    assert malformed.exit_code == 2 and "不是 SHA-256 摘要" in malformed.output
    assert await stored(log_sessions) == (2, 2)

    # bytes changed between the hashing and the store (here: one byte, on the way): the store
    # refuses them, and keeps nothing
    real_put = attachments.put

    async def on_the_way(session: AsyncSession, case_id: str, content: bytes, **kw: Any) -> Any:
        return await real_put(session, case_id, content[:-1] + b"!", **kw)

    monkeypatch.setattr(attachments, "put", on_the_way)
    changed = await invoke(clerk, "add", "F-1", str(other))
    monkeypatch.undo()
    assert changed.exit_code == 1
    assert "与发送方算得的" in changed.output and "未保存" in changed.output
    assert await stored(log_sessions) == (2, 2)

    # an auditor changes nothing
    refused = await invoke(envs[Role.AUDITOR], "add", "F-1", str(other))
    assert refused.exit_code == 1 and "审计" in refused.output
    assert await stored(log_sessions) == (2, 2)
    # no such case
    missing = await invoke(clerk, "add", "F-9", str(other))
    assert missing.exit_code == 1 and "没有案件 F-9" in missing.output
    assert await stored(log_sessions) == (2, 2)

    listed = await invoke(envs[Role.AUDITOR], "list", "F-1")
    assert listed.exit_code == 0, listed.output
    assert pdf_hash in listed.output and png_hash in listed.output


async def test_a_file_is_saved_only_if_it_gives_its_hash(
    envs: dict[Role, dict[str, str]],
    log_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    source = tmp_path / "批复.pdf"
    source.write_bytes(PDF)
    assert (await invoke(envs[Role.CLERK], "add", "F-1", str(source))).exit_code == 0
    digest = attachments.sha256_of(PDF)
    out = tmp_path / "saved.pdf"
    got = await invoke(envs[Role.AUDITOR], "get", "F-1", digest, "--out", str(out))
    assert got.exit_code == 0, got.output
    assert out.read_bytes() == PDF and "（已核对）" in got.output

    # the store altered behind the service's back: nothing written
    await tamper(
        log_url, ("UPDATE attachments SET content = $1 WHERE sha256 = $2", [b"%PDF-x", digest])
    )
    altered = tmp_path / "altered.pdf"
    refused = await invoke(envs[Role.AUDITOR], "get", "F-1", digest, "--out", str(altered))
    assert refused.exit_code == 1 and "存储被改动过" in refused.output
    assert not altered.exists()


async def test_the_store_refuses_bytes_that_do_not_give_the_senders_hash(
    envs: dict[Role, dict[str, str]],
    log_sessions: async_sessionmaker[AsyncSession],  # noqa: F811
) -> None:
    async with log_sessions() as s:
        with pytest.raises(attachments.HashMismatch, match="未保存"):
            await attachments.put(
                s,
                "F-1",
                PDF,
                media_type="application/pdf",
                file_name="a.pdf",
                uploaded_by="附件科员",
                uploaded_role="clerk",
                expected_sha256=attachments.sha256_of(PNG),
            )
    assert await stored(log_sessions) == (0, 0)
