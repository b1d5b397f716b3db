"""The outcome of the newest whole-log check, kept for /metrics in the data folder."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from audit.last_checks import CheckResult, last_checks, record_check


def test_the_newest_outcome_of_each_check_is_kept(tmp_path: Path) -> None:
    at = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    record_check(tmp_path, "verify", True, 0, at)
    record_check(tmp_path, "verify", False, 3, at)
    record_check(tmp_path, "reconcile", True, 0, at)
    assert last_checks(tmp_path) == {
        "verify": CheckResult(ok=False, faults=3, finished_at=at),
        "reconcile": CheckResult(ok=True, faults=0, finished_at=at),
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "last-audit-reconcile.json",
        "last-audit-verify.json",
    ]  # no partial file left behind


def test_no_data_folder_no_file_and_no_folder_made(tmp_path: Path) -> None:
    missing = tmp_path / "no-stack"
    record_check(missing, "verify", True, 0)
    assert not missing.exists()
    assert last_checks(missing) == {}


def test_a_damaged_file_is_no_outcome(tmp_path: Path) -> None:
    (tmp_path / "last-audit-verify.json").write_text("{not json", "utf-8")
    record_check(tmp_path, "reconcile", True, 0)
    assert set(last_checks(tmp_path)) == {"reconcile"}
