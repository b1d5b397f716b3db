"""The embedded stack's state file, as the command line reads it: the stack's settings fill in
what the environment lacks, the environment wins, and a stack that is gone is said to be so.
(The file written by a real ``serve`` and read by real commands: ``tests/test_readme_runs.py``.)
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from settings import SETTING_NAMES, Settings, load_settings
from stack_state import (
    STACK_NOT_RUNNING,
    STATE_FILE,
    STATE_GROUPS,
    read_state,
    remove_state,
    write_state,
)
from starter.cli import run
from starter.cli_base import EXIT_UNREACHABLE

STACK_DB = "postgresql+asyncpg://appointments_svc@/appointments?host=%2Fstack%2Fpg"
STACK_SIGNER = "postgresql+asyncpg://appointments_signer_svc@/appointments?host=%2Fstack%2Fpg"


def _dead_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    return finished.pid


def _stack(data_dir: Path, pid: int | None = None) -> Path:
    settings = Settings(
        database_url=STACK_DB,
        temporal_address="127.0.0.1:17233",
        temporal_namespace="stack-ns",
        task_queue="stack-queue",
        policy_file=Path("policy.yaml"),
        calendar_supplement=None,
        data_dir=data_dir,
        audit_signer_database_url=STACK_SIGNER,
    )
    return write_state(settings, "http://127.0.0.1:18000", pid=pid)


def test_the_file_is_the_owners_only_and_names_the_stacks_settings(tmp_path: Path) -> None:
    path = _stack(tmp_path)
    assert path == tmp_path / STATE_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    state = read_state(tmp_path)
    assert state is not None and state.running
    assert state.api_url == "http://127.0.0.1:18000"
    names = {name for group in STATE_GROUPS for name in group}
    assert set(state.settings) == names <= set(SETTING_NAMES)


def test_a_running_stack_fills_in_what_the_environment_lacks(tmp_path: Path) -> None:
    _stack(tmp_path)
    settings = load_settings({"DATA_DIR": str(tmp_path)}, stack=True)
    assert settings.temporal_address == "127.0.0.1:17233"
    assert (settings.temporal_namespace, settings.task_queue) == ("stack-ns", "stack-queue")
    assert (settings.database_url, settings.audit_signer_database_url) == (STACK_DB, STACK_SIGNER)
    assert settings.stack_problem is None
    # the services' own settings never read it
    assert load_settings({"DATA_DIR": str(tmp_path)}).database_url is None


def test_the_environment_wins_server_by_server(tmp_path: Path) -> None:
    _stack(tmp_path)
    elsewhere = "postgresql+asyncpg://someone@db.example.org/appointments"
    env = {"DATA_DIR": str(tmp_path), "DATABASE_URL": elsewhere, "TASK_QUEUE": "mine"}
    settings = load_settings(env, stack=True)
    # another database: not the stack's signer either
    assert (settings.database_url, settings.audit_signer_database_url) == (elsewhere, None)
    # the stack's Temporal, with the queue the environment names
    assert (settings.temporal_address, settings.task_queue) == ("127.0.0.1:17233", "mine")


def test_a_stack_that_is_gone_is_said_to_be_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stack(tmp_path, pid=_dead_pid())
    settings = load_settings({"DATA_DIR": str(tmp_path)}, stack=True)
    assert settings.database_url is None and settings.temporal_address == "localhost:7233"
    assert settings.stack_problem == STACK_NOT_RUNNING
    # with everything set, the file is not needed and nothing is said
    full = {"DATA_DIR": str(tmp_path), "DATABASE_URL": STACK_DB, "TEMPORAL_ADDRESS": "x:1"}
    assert load_settings(full, stack=True).stack_problem is None

    for name in [*SETTING_NAMES, "APPOINTMENTS_TOKEN"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert run(["case", "list"]) == EXIT_UNREACHABLE
    assert capsys.readouterr().err == f"错误：{STACK_NOT_RUNNING}\n"


def test_no_stack_at_all_says_how_to_start_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in [*SETTING_NAMES, "APPOINTMENTS_TOKEN"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert run(["case", "list"]) == EXIT_UNREACHABLE
    err = capsys.readouterr().err
    assert err.startswith(f"错误：{STACK_NOT_RUNNING}（或将 DATABASE_URL 指向"), err


def test_a_file_that_is_no_state_is_no_stack(tmp_path: Path) -> None:
    (tmp_path / STATE_FILE).write_text(json.dumps({"pid": "x"}), "utf-8")
    assert read_state(tmp_path) is None
    assert load_settings({"DATA_DIR": str(tmp_path)}, stack=True).stack_problem is None


def test_only_its_own_stack_removes_the_file(tmp_path: Path) -> None:
    _stack(tmp_path, pid=_dead_pid())
    remove_state(tmp_path)  # another run's file: left alone
    assert (tmp_path / STATE_FILE).exists()
    _stack(tmp_path)
    remove_state(tmp_path)
    assert not (tmp_path / STATE_FILE).exists()
