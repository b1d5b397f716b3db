"""A case's dossier verifies offline with the public key alone, in each format, and stops
verifying when one byte of it is changed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audit import dossier as dossiers
from tests.audit.conftest import Keys, record_all, signed_dossier, story


@pytest.fixture
async def dossier(
    log_url: str, log_sessions: async_sessionmaker[AsyncSession], keys: Keys
) -> dict[str, Any]:
    for case_id in ("E-1", "E-2", "E-3"):
        await record_all(log_sessions, story(case_id))
    return await signed_dossier(log_sessions, keys, "E-2")


def write(dossier: dict[str, Any], fmt: str, tmp_path: Path) -> Path:
    path = tmp_path / f"dossier.{fmt}"
    dossiers.write(dossiers.render(dossier, fmt), path, fmt)
    return path


def change_one_byte(path: Path, old: bytes, new: bytes, occurrence: int = 0) -> None:
    """Replace one byte: the ``occurrence``-th ``old`` (one byte) becomes ``new``."""
    assert len(old) == len(new) == 1
    data = bytearray(path.read_bytes())
    positions = [m.start() for m in re.finditer(re.escape(old), data)]
    data[positions[occurrence]] = new[0]
    path.write_bytes(bytes(data))


def test_the_dossier_carries_what_an_auditor_needs(dossier: dict[str, Any]) -> None:
    assert dossier["case_id"] == "E-2"
    assert [e["chain_index"] for e in dossier["events"]] == list(range(1, 9))
    assert all(len(e["hash"]) == len(e["prev_hash"]) == 64 for e in dossier["events"])
    assert dossier["policy"]["version"] == "2026.1"
    [deadline] = dossier["deadlines"]
    assert deadline["calendar_source"] == "chinese_calendar 1.11.0 + supplement 2026-09"
    assert deadline["deadline_on"] == "2026-09-08"
    cp = dossier["checkpoint"]
    assert set(cp["case_heads"]) == {"E-1", "E-2", "E-3"}  # the root can be recomputed
    assert cp["case_head"] == [8, dossier["events"][-1]["hash"]]
    assert cp["merkle_proof"]
    assert dossier["case"]["stage"] == "vote"


@pytest.mark.parametrize("fmt", dossiers.FORMATS)
def test_each_format_verifies_offline(
    dossier: dict[str, Any], fmt: str, tmp_path: Path, keys: Keys
) -> None:
    report = dossiers.verify_dossier_file(write(dossier, fmt, tmp_path), keys.public)
    assert report.ok, report.faults
    assert (report.format, report.case_id, report.events, report.covered_through) == (
        fmt,
        "E-2",
        8,
        8,
    )


@pytest.mark.parametrize(
    ("fmt", "old", "new", "expected"),
    [
        # a letter of the last event's summary ("stage inspection → vote")
        ("json", b"v", b"V", "第 8 条记录（序号 8，transition）与其哈希值不符"),
        # a digit of the signature
        ("json", b'"signature": "', b'"signature": "', "签名"),
        ("csv", b"v", b"V", "第 8 条记录（序号 8，transition）与其哈希值不符"),
        # the visible table of the page only: the embedded dossier is intact
        ("html", b"\xe5", b"\xe5", "文件在导出后被改动过"),
    ],
)
def test_one_changed_byte_fails_verification(
    dossier: dict[str, Any],
    fmt: str,
    old: bytes,
    new: bytes,
    expected: str,
    tmp_path: Path,
    keys: Keys,
) -> None:
    path = write(dossier, fmt, tmp_path)
    text = path.read_bytes()
    if old == b'"signature": "':  # flip the first hex digit of the signature
        start = text.index(old) + len(old)
        digit = text[start : start + 1]
        change_one_byte(path, digit, b"0" if digit != b"0" else b"1", text[:start].count(digit))
    elif fmt == "html":  # a Chinese character in the visible page becomes another one
        start = text.index("<h2>事件记录".encode())
        position = text.index("考察组".encode(), start) + 2  # last byte of 考
        data = bytearray(text)
        data[position] ^= 0x01
        path.write_bytes(bytes(data))
    else:
        summary_start = text.index("stage inspection → vote".encode())
        change_one_byte(path, old, new, text[:summary_start].count(old))
    report = dossiers.verify_dossier_file(path, keys.public)
    assert not report.ok
    assert any(expected in fault for fault in report.faults), report.faults


def test_an_event_changed_in_the_embedded_dossier_of_the_page_fails(
    dossier: dict[str, Any], tmp_path: Path, keys: Keys
) -> None:
    path = write(dossier, "html", tmp_path)
    text = path.read_text("utf-8")
    script = text.index('<script type="application/json"')
    changed = text[:script] + text[script:].replace("无问题", "有问题", 1)
    path.write_text(changed, "utf-8")
    report = dossiers.verify_dossier_file(path, keys.public)
    assert any("第 5 条记录" in f and "与其哈希值不符" in f for f in report.faults)


def test_a_section_that_contradicts_the_events_fails(
    dossier: dict[str, Any], tmp_path: Path, keys: Keys
) -> None:
    dossier["deadlines"][0]["calendar_source"] = "holidays 0.50"
    report = dossiers.verify_dossier_file(write(dossier, "json", tmp_path), keys.public)
    assert report.faults == ["案卷的 'deadlines' 部分与其记录所载不一致"]


def test_a_case_head_of_another_case_changed_fails_the_root(
    dossier: dict[str, Any], tmp_path: Path, keys: Keys
) -> None:
    dossier["checkpoint"]["case_heads"]["E-3"][0] = 7
    report = dossiers.verify_dossier_file(write(dossier, "json", tmp_path), keys.public)
    assert any("推不出它的默克尔根" in f for f in report.faults)


def test_the_wrong_public_key_fails(
    dossier: dict[str, Any], tmp_path: Path, other_keys: Keys
) -> None:
    report = dossiers.verify_dossier_file(write(dossier, "json", tmp_path), other_keys.public)
    assert not report.ok and "是用密钥" in report.faults[0]


def test_a_dossier_with_events_left_out_fails(
    dossier: dict[str, Any], tmp_path: Path, keys: Keys
) -> None:
    dossier["events"] = dossier["events"][:-1]
    dossier.update(
        dossiers.derived_sections([dossiers.event_from_json(e) for e in dossier["events"]])
    )
    report = dossiers.verify_dossier_file(write(dossier, "json", tmp_path), keys.public)
    assert any("有记录被漏掉了" in f for f in report.faults)


async def test_events_after_the_checkpoint_are_not_covered(
    dossier: dict[str, Any],
    log_sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    keys: Keys,
) -> None:
    more = story("E-2", start=story("E-2")[0].occurred_at)
    extra = more[-1].model_copy(update={"seq": 9, "summary": "后续事件"})
    await record_all(log_sessions, [extra])
    async with log_sessions() as session:
        later = await dossiers.build_dossier(session, "E-2")
    assert later is not None and dossiers.covered_through(later) == 8
    report = dossiers.verify_dossier_file(write(later, "json", tmp_path), keys.public)
    assert report.faults == ["案件 E-2：第 9 至 9 条记录没有检查点覆盖；请签一个检查点后重新导出"]


async def test_a_case_no_checkpoint_covers_cannot_be_proven(
    log_url: str, log_sessions: async_sessionmaker[AsyncSession], tmp_path: Path, keys: Keys
) -> None:
    await record_all(log_sessions, story("U-1"))
    async with log_sessions() as session:
        unsigned = await dossiers.build_dossier(session, "U-1")
        assert await dossiers.build_dossier(session, "nobody") is None
    assert unsigned is not None and unsigned["checkpoint"] is None
    for fmt in dossiers.FORMATS:
        report = dossiers.verify_dossier_file(write(unsigned, fmt, tmp_path), keys.public)
        assert any("没有已签名的检查点覆盖本案件" in f for f in report.faults)


def test_the_page_is_self_contained_printable_and_in_chinese(
    dossier: dict[str, Any], tmp_path: Path
) -> None:
    page = write(dossier, "html", tmp_path).read_text("utf-8")
    assert not re.search(r"""(src|href)\s*=|@import|url\(""", page)  # nothing fetched
    assert "@media print" in page
    for label in ("案件概况", "事件记录", "期限及日历依据", "默克尔根", "签名", "政策版本"):
        assert label in page
    assert "chinese_calendar 1.11.0 + supplement 2026-09" in page
    embedded = dossiers.dossier_from_html(page)
    assert "case_heads" not in embedded["checkpoint"]  # the inclusion proof is enough
    assert embedded["events"] == dossier["events"]


def test_text_that_looks_like_markup_cannot_break_out_of_the_page(
    dossier: dict[str, Any], tmp_path: Path, keys: Keys
) -> None:
    # what a person typed is shown as text and cannot end the embedded block early
    dossier["events"][2]["summary"] = "</script><b>x</b>"
    page = write(dossier, "html", tmp_path).read_text("utf-8")
    assert "</script><b>" not in page.split('<script type="application/json"')[1][:-30]
    report = dossiers.verify_dossier_file(tmp_path / "dossier.html", keys.public)
    assert [f for f in report.faults if "与其哈希值不符" in f]  # tampered, and said so
