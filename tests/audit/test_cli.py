"""The `audit` commands, end to end on a log of our own, with no Temporal anywhere: a case
whose Temporal history is gone stays traceable and verifiable from the log alone."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audit.checkpoints import Checkpoint
from audit.keys import load_private_key
from starter.cli import cli
from tests.audit.conftest import (
    fetch,
    probation_story,
    record_all,
    record_probation,
    started_probation,
    story,
    tamper,
)

NO_TEMPORAL = "127.0.0.1:9"  # nothing listens there: any attempt to reach Temporal would fail
# no embedded stack's key or copies there, whatever a developer's own data/ folder holds
NO_STACK = "/nonexistent/appointments-audit-test"


@pytest.fixture
async def logged(log_url: str, log_sessions: async_sessionmaker[AsyncSession]) -> str:
    await record_all(log_sessions, story("K-1", people=("p1", "p2")))
    await record_all(log_sessions, story("K-2", people=("p3",), unit="县财政局"))
    return log_url


def run(url: str, *args: str, **env: str) -> Result:
    environment = {
        "DATABASE_URL": url,
        "TEMPORAL_ADDRESS": NO_TEMPORAL,
        "DATA_DIR": NO_STACK,
        **env,
    }
    return CliRunner().invoke(cli, ["audit", *args], env=environment, catch_exceptions=False)


def test_the_whole_round_without_temporal(logged: str, tmp_path: Path) -> None:
    key = tmp_path / "audit.pem"
    made = run(logged, "keygen", "--out", str(key))
    assert made.exit_code == 0, made.output
    public = tmp_path / "audit.pub.pem"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert run(logged, "keygen", "--out", str(key)).exit_code == 2  # never overwritten

    signed = run(logged, "checkpoint", AUDIT_SIGNING_KEY=str(key))
    assert signed.exit_code == 0, signed.output
    assert "2 个案件，16 条记录" in signed.output

    verified = run(logged, "verify", "--public-key", str(public))
    assert verified.exit_code == 0, verified.output
    assert "已对照检查点 #1 核验 2 个案件的 16 条记录" in verified.output
    assert "通过：" in verified.output

    shown = run(logged, "timeline", "K-1")
    assert shown.exit_code == 0 and len(shown.output.splitlines()) == 8

    found = run(logged, "search", "--person", "p1", "--json")
    assert [(e["case_id"], e["seq"]) for e in json.loads(found.output)["events"]] == [
        ("K-1", 1),
        ("K-1", 5),
        ("K-1", 7),
    ]
    paged = run(logged, "search", "--unit", "县财政局", "--page-size", "5")
    assert "下一页：--after " in paged.output
    cursor = paged.output.rsplit("--after ", 1)[1].strip()
    rest = run(logged, "search", "--unit", "县财政局", "--page-size", "5", "--after", cursor)
    assert len(rest.output.splitlines()) == 3 and "下一页" not in rest.output

    then = run(logged, "as-of", "K-1", "2026-09-06")
    assert then.exit_code == 0 and "环节 差额考察，进行中" in then.output

    for fmt in ("json", "csv", "html"):
        out = tmp_path / f"K-1.{fmt}"
        exported = run(logged, "export", "K-1", "--format", fmt, "--out", str(out))
        assert exported.exit_code == 0, exported.output
        assert "全部由检查点 #1 覆盖" in exported.output
        checked = run(logged, "verify-dossier", str(out), "--public-key", str(public))
        assert checked.exit_code == 0, checked.output
        assert checked.output.startswith(f"通过：{out}（{fmt}）：案件 K-1，8 条记录")


def test_export_signs_a_new_checkpoint_when_given_the_key(logged: str, tmp_path: Path) -> None:
    key = tmp_path / "audit.pem"
    run(logged, "keygen", "--out", str(key))
    out = tmp_path / "K-2.json"
    unsigned = run(logged, "export", "K-2", "--out", str(out))
    assert "只有第 0 条及以前的记录有已签名的检查点覆盖" in unsigned.output
    signed = run(logged, "export", "K-2", "--out", str(out), "--key", str(key))
    assert "全部由检查点 #1 覆盖" in signed.output
    public = tmp_path / "audit.pub.pem"
    assert run(logged, "verify-dossier", str(out), "--public-key", str(public)).exit_code == 0


def test_verify_fails_naming_the_case_and_the_event(logged: str, tmp_path: Path) -> None:
    key = tmp_path / "audit.pem"
    run(logged, "keygen", "--out", str(key))
    run(logged, "checkpoint", "--key", str(key))
    asyncio.run(
        tamper(
            logged,
            "UPDATE case_events SET actor_name = '张三' WHERE case_id = 'K-2' AND seq = 3",
        )
    )
    failed = run(logged, "verify", "--key", str(key))
    assert failed.exit_code == 1
    assert "[edited] 案件 K-2：第 3 条记录（序号 3，input）与其哈希值不符" in failed.output
    assert "核验未通过：1 个案件中共有 1 处问题" in failed.output

    asyncio.run(tamper(logged, "DELETE FROM case_events WHERE case_id = 'K-2' AND seq = 8"))
    refused = run(logged, "checkpoint", "--key", str(key))
    assert refused.exit_code == 1
    assert "未签名" in refused.output
    assert "案件 K-2：检查点 #1 所签的第 8 条记录已不存在" in refused.output


def test_missing_keys_and_bad_input_exit_2(logged: str, tmp_path: Path) -> None:
    assert run(logged, "checkpoint").exit_code == 2
    assert run(logged, "verify").exit_code == 2
    not_a_key = tmp_path / "x.pem"
    not_a_key.write_text("hello")
    bad = run(logged, "checkpoint", "--key", str(not_a_key))
    assert bad.exit_code == 2 and "不是未加密的 PEM 私钥" in bad.output
    assert run(logged, "search", "--after", "nonsense").exit_code == 2
    assert run(logged, "timeline", "nobody").exit_code == 1


def test_reconcile_without_temporal_says_it_cannot_reach_it(logged: str) -> None:
    result = run(logged, "reconcile")
    assert result.exit_code == 3
    assert f"无法连接 {NO_TEMPORAL} 上的 Temporal" in result.output


@pytest.fixture
async def with_probation(logged: str, log_sessions: async_sessionmaker[AsyncSession]) -> str:
    await record_all(log_sessions, [started_probation("K-1", "p1")])
    await record_probation(log_sessions, probation_story("K-1"))
    return logged


def test_verify_names_the_probation_and_the_event(with_probation: str, tmp_path: Path) -> None:
    key = tmp_path / "audit.pem"
    run(with_probation, "keygen", "--out", str(key))
    signed = run(with_probation, "checkpoint", "--key", str(key))
    assert "2 个案件，22 条记录，1 个试用期" in signed.output
    verified = run(with_probation, "verify", "--key", str(key))
    assert "已对照检查点 #1 核验 2 个案件和 1 个试用期的 22 条记录" in verified.output
    asyncio.run(
        tamper(
            with_probation,
            "UPDATE probation_events SET occurred_at = occurred_at - interval '1 day' "
            "WHERE probation_id = 'probation:K-1:p1' AND seq = 3",
        )
    )
    failed = run(with_probation, "verify", "--key", str(key), "--case", "K-1")
    assert failed.exit_code == 1
    assert (
        "[edited] 试用期 probation:K-1:p1：第 3 条记录（序号 3，reminder）与其哈希值不符"
        in failed.output
    )
    assert "核验未通过：0 个案件、1 个试用期中共有 1 处问题" in failed.output
    as_json = json.loads(run(with_probation, "verify", "--key", str(key), "--json").output)
    assert [(f["kind"], f["probation_id"], f["chain_index"]) for f in as_json["faults"]] == [
        ("edited", "probation:K-1:p1", 3)
    ]


# --------------------------------------------------------------------------- the embedded stack


@pytest.fixture
def stack_folder(tmp_path: Path) -> Path:
    """A data folder with the audit files the embedded stack makes on its first start."""
    from audit.locations import embedded_audit_settings
    from settings import load_settings

    data = tmp_path / "data"
    data.mkdir()
    embedded_audit_settings(load_settings({"DATA_DIR": str(data)}), data)
    return data


def test_against_the_stacks_folder_no_flag_is_needed(logged: str, stack_folder: Path) -> None:
    folder = str(stack_folder)
    signed = run(logged, "checkpoint", DATA_DIR=folder)
    assert signed.exit_code == 0, signed.output
    copy = stack_folder / "audit-checkpoints" / "checkpoint-00000001.json"
    assert f"副本已写出：{copy}" in signed.output
    assert json.loads(copy.read_text("utf-8"))["id"] == 1
    assert run(logged, "checkpoint", DATA_DIR=folder).exit_code == 0

    verified = run(logged, "verify", DATA_DIR=folder)
    assert verified.exit_code == 0, verified.output
    assert "检查点链：2 个检查点的签名与前后链接已核对" in verified.output
    assert f"检查点副本：与 {copy.parent} 中的 2 份副本核对" in verified.output

    # every checkpoint deleted: the copies tell, and nothing is signed afresh
    asyncio.run(tamper(logged, "DELETE FROM audit_checkpoints"))
    failed = run(logged, "verify", DATA_DIR=folder)
    assert failed.exit_code == 1
    assert "[checkpoint_missing] 检查点 #1 至 #2" in failed.output
    assert "0 个案件、1 个检查点中共有" in failed.output
    refused = run(logged, "checkpoint", DATA_DIR=folder)
    assert refused.exit_code == 1 and "未签名" in refused.output


def test_each_checkpoint_is_mailed_to_the_auditors_through_the_outbox(
    logged: str, stack_folder: Path
) -> None:
    assert run(logged, "checkpoint", DATA_DIR=str(stack_folder)).exit_code == 0
    [mail] = asyncio.run(
        fetch(logged, "SELECT * FROM outbox WHERE source = 'audit-checkpoint' AND seq = 1")
    )
    assert (mail["recipient"], mail["recipient_role"]) == ("shenji@zzb.example", "auditor")
    assert mail["status"] == "not_sent"  # no SMTP server in the tests: kept in the outbox
    assert "appointments audit verify --against" in mail["body"]
    copy = stack_folder / "audit-checkpoints" / "checkpoint-00000001.json"
    assert mail["body"].endswith(copy.read_text("utf-8"))


def test_verify_against_an_auditors_copies(logged: str, stack_folder: Path, tmp_path: Path) -> None:
    folder = str(stack_folder)
    run(logged, "checkpoint", DATA_DIR=folder)
    run(logged, "checkpoint", DATA_DIR=folder)
    auditors = tmp_path / "auditors"
    shutil.copytree(stack_folder / "audit-checkpoints", auditors)
    (auditors / "a note.json").write_text('{"not": "a copy"}', "utf-8")  # other files: ignored
    elsewhere = str(tmp_path / "elsewhere")  # not the stack's folder: the copies named only
    key = str(stack_folder / "audit_signing_key.pem")

    ok = run(logged, "verify", "--key", key, "--against", str(auditors), DATA_DIR=elsewhere)
    assert ok.exit_code == 0, ok.output
    # #2 replaced by another checkpoint, validly signed: unlike the auditors' copy of it
    asyncio.run(resign(logged, stack_folder / "audit_signing_key.pem", 2))
    changed = run(logged, "verify", "--key", key, "--against", str(auditors), DATA_DIR=elsewhere)
    assert changed.exit_code == 1
    assert "[checkpoint_copy] 数据库中的检查点 #2 与副本" in changed.output
    missing = run(logged, "verify", "--key", key, "--against", str(tmp_path / "nowhere"))
    assert missing.exit_code == 2


async def resign(url: str, key: Path, number: int) -> None:
    """Checkpoint ``number`` replaced in place by one signed anew with the key, a minute
    later: a valid checkpoint, but not the one that was signed and copied."""
    [row] = await fetch(url, "SELECT * FROM audit_checkpoints WHERE id = $1", number)
    cp = Checkpoint(
        number,
        row["created_at"] + timedelta(minutes=1),
        row["merkle_root"],
        {},
        row["event_count"],
        "",
        row["key_id"],
        version=row["version"],
        previous_digest=row["previous_digest"],
    )
    signature = load_private_key(key).sign(cp.statement()).hex()
    await tamper(
        url,
        (
            "UPDATE audit_checkpoints SET created_at = $1, signature = $2 WHERE id = $3",
            [cp.created_at, signature, number],
        ),
    )


def test_rotate_key_keeps_the_past_verifiable(logged: str, stack_folder: Path) -> None:
    folder = str(stack_folder)
    assert run(logged, "checkpoint", DATA_DIR=folder).exit_code == 0
    new = stack_folder / "audit_signing_key.2.pem"
    rotated = run(logged, "rotate-key", "--out", str(new), DATA_DIR=folder)
    assert rotated.exit_code == 0, rotated.output
    assert "公钥环" in rotated.output
    signed = run(logged, "checkpoint", DATA_DIR=folder, AUDIT_SIGNING_KEY=str(new))
    assert signed.exit_code == 0, signed.output
    verified = run(logged, "verify", "--checkpoints", "0", DATA_DIR=folder)
    assert verified.exit_code == 0, verified.output
    assert "已对照检查点 #2、#1 核验" in verified.output
    old_key = run(logged, "checkpoint", DATA_DIR=folder)  # the rotated key: no longer valid
    assert old_key.exit_code == 1 and "不在其有效期内" in old_key.output


async def test_the_stacks_first_start_makes_a_first_checkpoint(
    logged: str, stack_folder: Path
) -> None:
    from activities.audit_checkpoint import first_checkpoint
    from audit.checkpoints import CheckpointRefused
    from audit.locations import embedded_audit_settings
    from settings import load_settings

    settings, made = embedded_audit_settings(
        load_settings({"DATABASE_URL": logged, "DATA_DIR": str(stack_folder)}), stack_folder
    )
    assert made == ""  # the fixture's first start made the key; this one finds it
    first = await first_checkpoint(settings)
    assert first is not None and first.checkpoint_id == 1
    assert first.copied_to == str(stack_folder / "audit-checkpoints" / "checkpoint-00000001.json")
    assert await first_checkpoint(settings) is None  # the next start: there is one already

    await tamper(logged, "DELETE FROM audit_checkpoints")
    with pytest.raises(CheckpointRefused, match="检查点 #1"):
        await first_checkpoint(settings)  # its copy says there was one: never signed afresh
