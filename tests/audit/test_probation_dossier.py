"""A case's dossier carries the probations of its appointees, their events with their hashes;
it verifies offline in each format, and one changed byte of a probation event makes it fail.
A dossier exported before probations were chained (format v1) still verifies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audit import dossier as dossiers
from audit.checkpoints import CHECKPOINT_VERSION
from audit.keys import load_public_key
from starter.cli import cli
from tests.audit.conftest import (
    Keys,
    probation_story,
    record_appointment,
    record_probation,
    signed_dossier,
)
from tests.audit.test_export import change_one_byte, write
from workflows.probation_types import probation_workflow_id

FIXTURES = Path(__file__).parent / "fixtures"
P1 = probation_workflow_id("F-1", "p1")
P2 = probation_workflow_id("F-1", "p2")


@pytest.fixture
async def dossier(
    log_url: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> dict[str, Any]:
    """Case F-1 appointed two people, each on probation; another case beside it."""
    await record_appointment(log_sessions, "F-1", ("p1", "p2"))
    await record_appointment(log_sessions, "F-2")
    return await signed_dossier(log_sessions, keys, "F-1")


def test_the_dossier_carries_the_probations_with_their_hashes(dossier: dict[str, Any]) -> None:
    assert dossier["format"] == dossiers.DOSSIER_FORMAT
    assert [p["probation_id"] for p in dossier["probations"]] == [P1, P2]
    for probation in dossier["probations"]:
        events = probation["events"]
        assert [e["chain_index"] for e in events] == [1, 2, 3, 4, 5]
        assert all(len(e["hash"]) == len(e["prev_hash"]) == 64 for e in events)
        assert {e["probation_id"] for e in events} == {probation["probation_id"]}
    cp = dossier["checkpoint"]
    assert cp["version"] == CHECKPOINT_VERSION and cp["previous"] is None
    assert set(cp["probation_heads"]) == {P1, P2, probation_workflow_id("F-2", "p1")}
    assert set(cp["probation_proofs"]) == {P1, P2}
    assert cp["probation_proofs"][P1]["head"] == [5, dossier["probations"][0]["events"][-1]["hash"]]
    assert dossiers.uncovered(dossier) == []


def test_each_format_verifies_offline(dossier: dict[str, Any], tmp_path: Path, keys: Keys) -> None:
    reports = {
        fmt: dossiers.verify_dossier_file(write(dossier, fmt, tmp_path), keys.public)
        for fmt in dossiers.FORMATS
    }
    assert {fmt: r.faults for fmt, r in reports.items()} == {fmt: [] for fmt in dossiers.FORMATS}
    # the case's ten events and both probations' five, all covered
    assert {
        (r.events, r.covered_through, r.probations, r.probation_events) for r in reports.values()
    } == {(10, 10, 2, 10)}


@pytest.mark.parametrize("fmt", dossiers.FORMATS)
def test_one_changed_byte_of_a_probation_event_fails(
    dossier: dict[str, Any], fmt: str, tmp_path: Path, keys: Keys
) -> None:
    path = write(dossier, fmt, tmp_path)
    data = path.read_bytes()
    # "德才表现良好" in the payload of p2's review (the last probation's, so its last
    # occurrence; in the page, that of the embedded dossier): its last byte
    position = data.rindex("德才表现良好".encode()) + len("德才表现良好".encode()) - 1
    changed = bytearray(data)
    changed[position] ^= 0x01
    path.write_bytes(bytes(changed))
    report = dossiers.verify_dossier_file(path, keys.public)
    assert not report.ok
    assert any(
        f"试用期 {P2}：第 4 条记录（序号 4，review）与其哈希值不符" in f for f in report.faults
    ), report.faults


@pytest.mark.parametrize("fmt", ["csv", "html"])
def test_one_changed_byte_of_a_shown_probation_event_fails(
    dossier: dict[str, Any], fmt: str, tmp_path: Path, keys: Keys
) -> None:
    path = write(dossier, fmt, tmp_path)
    text = path.read_bytes()
    end = text.index(b'<script type="application/json"') if fmt == "html" else len(text)
    # the summary of p1's formal appointment as a reader sees it: "正式任职" → "正式任聀"
    position = text.rindex("正式任职".encode(), 0, end) + len("正式任职".encode()) - 1
    data = bytearray(text)
    data[position] ^= 0x01
    path.write_bytes(bytes(data))
    report = dossiers.verify_dossier_file(path, keys.public)
    assert not report.ok, report.faults


def test_a_probation_left_out_fails(dossier: dict[str, Any], tmp_path: Path, keys: Keys) -> None:
    dossier["probations"] = dossier["probations"][:1]
    report = dossiers.verify_dossier_file(write(dossier, "json", tmp_path), keys.public)
    assert report.faults == [f"案件 F-1：其记录表明试用期 {P2} 已开始，但案卷中没有它的任何记录"]


def test_a_probation_cut_short_fails(dossier: dict[str, Any], tmp_path: Path, keys: Keys) -> None:
    dossier["probations"][0]["events"] = dossier["probations"][0]["events"][:3]
    report = dossiers.verify_dossier_file(write(dossier, "json", tmp_path), keys.public)
    assert report.faults == [
        f"试用期 {P1}：检查点签到了第 5 条记录，但案卷止于第 3 条：有记录被漏掉了"
    ]
    # the CSV carries a head on its row: with the row gone, nothing vouches for the rest
    report = dossiers.verify_dossier_file(write(dossier, "csv", tmp_path), keys.public)
    assert report.faults == [
        f"试用期 {P1}：没有已签名的检查点覆盖它；请签一个检查点"
        "（`appointments audit checkpoint`）后重新导出"
    ]


def test_a_new_dossier_cannot_pass_for_an_old_one(
    dossier: dict[str, Any], tmp_path: Path, keys: Keys
) -> None:
    old = {k: v for k, v in dossier.items() if k != "probations"}
    old["format"] = dossiers.DOSSIER_FORMAT_V1
    report = dossiers.verify_dossier_file(write(old, "json", tmp_path), keys.public)
    assert any("只能带第 1 版的检查点" in f for f in report.faults), report.faults


async def test_probation_events_after_the_checkpoint_are_not_covered(
    dossier: dict[str, Any],
    log_sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    keys: Keys,
) -> None:
    extra = probation_story("F-1", "p1")[-1].model_copy(update={"seq": 6, "kind": "note"})
    await record_probation(log_sessions, [extra])
    async with log_sessions() as session:
        later = await dossiers.build_dossier(session, "F-1")
    assert later is not None and dossiers.uncovered(later) == [f"试用期 {P1}"]
    report = dossiers.verify_dossier_file(write(later, "html", tmp_path), keys.public)
    assert report.faults == [
        f"试用期 {P1}：第 6 至 6 条记录没有检查点覆盖；请签一个检查点后重新导出"
    ]


@pytest.fixture
async def uncovered_probation(
    dossier: dict[str, Any], log_url: str, log_sessions: async_sessionmaker[AsyncSession]
) -> str:
    extra = probation_story("F-1", "p2")[-1].model_copy(update={"seq": 6, "kind": "note"})
    await record_probation(log_sessions, [extra])
    return log_url


def test_export_signs_a_checkpoint_for_an_uncovered_probation(
    uncovered_probation: str, keys: Keys, tmp_path: Path
) -> None:
    out = tmp_path / "F-1.csv"
    env = {"DATABASE_URL": uncovered_probation, "TEMPORAL_ADDRESS": "127.0.0.1:9"}

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, ["audit", *args], env=env, catch_exceptions=False)

    unsigned = run("export", "F-1", "--format", "csv", "--out", str(out))
    assert f"试用期 {P2} 最新的记录没有已签名的检查点覆盖" in unsigned.output
    exported = run(
        "export", "F-1", "--format", "csv", "--out", str(out), "--key", str(keys.private_path)
    )
    assert exported.exit_code == 0, exported.output
    assert "案件 F-1，10 条记录，2 个试用期共 11 条记录，格式 csv" in exported.output
    assert "全部由检查点 #2 覆盖" in exported.output
    checked = run("verify-dossier", str(out), "--public-key", str(keys.public_path))
    assert checked.exit_code == 0, checked.output
    assert "案件 F-1，10 条记录，2 个试用期共 11 条记录，全部由已签名的检查点" in checked.output


# --------------------------------------------------------------------------- format v1


@pytest.mark.parametrize("fmt", dossiers.FORMATS)
def test_a_dossier_exported_before_probations_were_chained_still_verifies(fmt: str) -> None:
    # exported by the code before this change, with its own key, from a version 1 checkpoint
    public = load_public_key(FIXTURES / "v1_signing.pub.pem")
    report = dossiers.verify_dossier_file(FIXTURES / f"dossier_v1.{fmt}", public)
    assert report.ok, report.faults
    assert (report.case_id, report.events, report.covered_through, report.probations) == (
        "V-1",
        8,
        8,
        0,
    )


@pytest.mark.parametrize("fmt", dossiers.FORMATS)
def test_an_old_dossier_with_one_changed_byte_still_fails(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / f"dossier_v1.{fmt}"
    path.write_bytes((FIXTURES / f"dossier_v1.{fmt}").read_bytes())
    text = path.read_bytes()
    change_one_byte(
        path, b"v", b"V", text[: text.index("stage inspection → vote".encode())].count(b"v")
    )
    report = dossiers.verify_dossier_file(path, load_public_key(FIXTURES / "v1_signing.pub.pem"))
    assert not report.ok


def test_the_old_dossier_is_of_format_v1() -> None:
    data = json.loads((FIXTURES / "dossier_v1.json").read_text("utf-8"))
    assert data["format"] == dossiers.DOSSIER_FORMAT_V1 and "probations" not in data
    assert "version" not in data["checkpoint"]
