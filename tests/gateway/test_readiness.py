"""The worker's ready file: touched while the worker runs, gone when it stops or when it no
longer runs; the probe (``appointments health worker``) passes only on a fresh file."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from gateway.readiness import READY_MAX_AGE, keep_ready_file, ready_file_problem, touch
from starter.cli import run


class FakeWorker:
    is_running = True


async def _until(condition: object, within: float = 2.0) -> None:
    loop = asyncio.get_running_loop()
    give_up = loop.time() + within
    while not condition():  # type: ignore[operator]
        assert loop.time() < give_up, "never happened"
        await asyncio.sleep(0.01)


async def test_the_file_lives_while_the_worker_runs(tmp_path: Path) -> None:
    path = tmp_path / "run" / "worker.ready"
    worker, stop = FakeWorker(), asyncio.Event()
    keeping = asyncio.create_task(keep_ready_file(path, worker, stop, refresh=0.02))
    await _until(path.exists)
    assert ready_file_problem(path) is None
    first = path.stat().st_mtime_ns
    await _until(lambda: path.exists() and path.stat().st_mtime_ns != first)  # refreshed

    worker.is_running = False  # the poller ended by itself: no longer ready
    await _until(lambda: not path.exists())
    worker.is_running = True
    await _until(path.exists)

    stop.set()
    await asyncio.wait_for(keeping, 1)
    assert not path.exists()
    assert list(path.parent.iterdir()) == []  # no temporary file left behind


def test_a_stale_or_missing_file_is_not_ready(tmp_path: Path) -> None:
    path = tmp_path / "worker.ready"
    assert "不存在：工作进程没有运行" in (ready_file_problem(path) or "")
    touch(path)
    assert ready_file_problem(path) is None
    old = time.time() - READY_MAX_AGE - 5
    os.utime(path, (old, old))
    assert "上次更新是在" in (ready_file_problem(path) or "")


def test_the_probe_command_exits_0_when_ready_3_when_not_2_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "worker.ready"
    monkeypatch.delenv("WORKER_READY_FILE", raising=False)
    assert run(["health", "worker"]) == 2
    assert "未设置 WORKER_READY_FILE" in capsys.readouterr().err
    monkeypatch.setenv("WORKER_READY_FILE", str(path))
    assert run(["health", "worker"]) == 3
    assert "工作进程尚未就绪" in capsys.readouterr().err
    touch(path)
    assert run(["health", "worker"]) == 0
    assert "工作进程已就绪" in capsys.readouterr().out
