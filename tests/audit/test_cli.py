"""The `audit` commands, end to end on a log of our own, with no Temporal anywhere: a case
whose Temporal history is gone stays traceable and verifiable from the log alone."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from starter.cli import cli
from tests.audit.conftest import (
    probation_story,
    record_all,
    record_probation,
    started_probation,
    story,
    tamper,
)

NO_TEMPORAL = "127.0.0.1:9"  # nothing listens there: any attempt to reach Temporal would fail


@pytest.fixture
async def logged(log_url: str, log_sessions: async_sessionmaker[AsyncSession]) -> str:
    await record_all(log_sessions, story("K-1", people=("p1", "p2")))
    await record_all(log_sessions, story("K-2", people=("p3",), unit="县财政局"))
    return log_url


def run(url: str, *args: str, **env: str) -> Result:
    environment = {"DATABASE_URL": url, "TEMPORAL_ADDRESS": NO_TEMPORAL, **env}
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
    assert "2 case(s), 16 event(s)" in signed.output

    verified = run(logged, "verify", "--public-key", str(public))
    assert verified.exit_code == 0, verified.output
    assert "checked 16 event(s) of 2 case(s) against #1" in verified.output
    assert "OK" in verified.output

    shown = run(logged, "timeline", "K-1")
    assert shown.exit_code == 0 and len(shown.output.splitlines()) == 8

    found = run(logged, "search", "--person", "p1", "--json")
    assert [(e["case_id"], e["seq"]) for e in json.loads(found.output)["events"]] == [
        ("K-1", 1),
        ("K-1", 5),
        ("K-1", 7),
    ]
    paged = run(logged, "search", "--unit", "县财政局", "--page-size", "5")
    assert "next page: --after " in paged.output
    cursor = paged.output.rsplit("--after ", 1)[1].strip()
    rest = run(logged, "search", "--unit", "县财政局", "--page-size", "5", "--after", cursor)
    assert len(rest.output.splitlines()) == 3 and "next page" not in rest.output

    then = run(logged, "as-of", "K-1", "2026-09-06")
    assert then.exit_code == 0 and "stage inspection, active" in then.output

    for fmt in ("json", "csv", "html"):
        out = tmp_path / f"K-1.{fmt}"
        exported = run(logged, "export", "K-1", "--format", fmt, "--out", str(out))
        assert exported.exit_code == 0, exported.output
        assert "all covered by checkpoint #1" in exported.output
        checked = run(logged, "verify-dossier", str(out), "--public-key", str(public))
        assert checked.exit_code == 0, checked.output
        assert checked.output.startswith(f"OK: {out} ({fmt}): case K-1, 8 event(s)")


def test_export_signs_a_new_checkpoint_when_given_the_key(logged: str, tmp_path: Path) -> None:
    key = tmp_path / "audit.pem"
    run(logged, "keygen", "--out", str(key))
    out = tmp_path / "K-2.json"
    unsigned = run(logged, "export", "K-2", "--out", str(out))
    assert "only events up to 0 are covered" in unsigned.output
    signed = run(logged, "export", "K-2", "--out", str(out), "--key", str(key))
    assert "all covered by checkpoint #1" in signed.output
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
    assert "[edited] case K-2: event 3 (seq 3, input) does not match its hash" in failed.output
    assert "verification failed: 1 fault(s) in 1 case(s)" in failed.output

    asyncio.run(tamper(logged, "DELETE FROM case_events WHERE case_id = 'K-2' AND seq = 8"))
    refused = run(logged, "checkpoint", "--key", str(key))
    assert refused.exit_code == 1
    assert "nothing was signed" in refused.output
    assert "case K-2: event 8, which checkpoint #1 signed, is gone" in refused.output


def test_missing_keys_and_bad_input_exit_2(logged: str, tmp_path: Path) -> None:
    assert run(logged, "checkpoint").exit_code == 2
    assert run(logged, "verify").exit_code == 2
    not_a_key = tmp_path / "x.pem"
    not_a_key.write_text("hello")
    bad = run(logged, "checkpoint", "--key", str(not_a_key))
    assert bad.exit_code == 2 and "not an unencrypted PEM private key" in bad.output
    assert run(logged, "search", "--after", "nonsense").exit_code == 2
    assert run(logged, "timeline", "nobody").exit_code == 1


def test_reconcile_without_temporal_says_it_cannot_reach_it(logged: str) -> None:
    result = run(logged, "reconcile")
    assert result.exit_code == 3
    assert f"cannot reach Temporal at {NO_TEMPORAL}" in result.output


@pytest.fixture
async def with_probation(logged: str, log_sessions: async_sessionmaker[AsyncSession]) -> str:
    await record_all(log_sessions, [started_probation("K-1", "p1")])
    await record_probation(log_sessions, probation_story("K-1"))
    return logged


def test_verify_names_the_probation_and_the_event(with_probation: str, tmp_path: Path) -> None:
    key = tmp_path / "audit.pem"
    run(with_probation, "keygen", "--out", str(key))
    signed = run(with_probation, "checkpoint", "--key", str(key))
    assert "2 case(s), 22 event(s), 1 probation(s)" in signed.output
    verified = run(with_probation, "verify", "--key", str(key))
    assert "checked 22 event(s) of 2 case(s) and 1 probation(s) against #1" in verified.output
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
        "[edited] probation probation:K-1:p1: event 3 (seq 3, reminder) does not match its hash"
        in failed.output
    )
    assert "verification failed: 1 fault(s) in 0 case(s) and 1 probation(s)" in failed.output
    as_json = json.loads(run(with_probation, "verify", "--key", str(key), "--json").output)
    assert [(f["kind"], f["probation_id"], f["chain_index"]) for f in as_json["faults"]] == [
        ("edited", "probation:K-1:p1", 3)
    ]
