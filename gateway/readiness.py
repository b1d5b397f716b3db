"""Whether the service's processes reach Temporal, as health probes ask it.

Two signals, one per kind of process:

- the web service asks the namespace of its settings (``namespace_reachable``): Temporal
  answers only when its frontend is up and the namespace exists;
- the worker touches its ready file (``WORKER_READY_FILE``) every ``READY_REFRESH`` seconds
  while its poller runs, and removes it when it stops (``keep_ready_file``). A probe
  (``appointments health worker``, compose's healthcheck, a Kubernetes exec probe) finds
  the worker ready while the file is younger than ``READY_MAX_AGE`` (``ready_file_problem``).
  A file, not a port: the worker serves nothing, and a file needs no listener to secure.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client

READY_REFRESH = 10.0  # seconds between two touches of the worker's ready file
READY_MAX_AGE = 3 * READY_REFRESH  # older than this, the worker is stuck or gone
NAMESPACE_TIMEOUT = timedelta(seconds=2)


async def namespace_reachable(
    client: Client, namespace: str, within: timedelta = NAMESPACE_TIMEOUT
) -> None:
    """Return when Temporal describes ``namespace`` within ``within``; raise otherwise."""
    await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=namespace), timeout=within
    )


class Running(Protocol):
    @property
    def is_running(self) -> bool: ...


def touch(path: Path) -> None:
    """Write the ready file anew (its modification time is the signal)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(f"{time.time():.0f}\n", "utf-8")
    tmp.replace(path)  # a probe never reads half a file


def withdraw(path: Path) -> None:
    path.unlink(missing_ok=True)


async def keep_ready_file(
    path: Path, worker: Running, stop: asyncio.Event, refresh: float = READY_REFRESH
) -> None:
    """Touch ``path`` every ``refresh`` seconds while ``worker`` runs, until ``stop`` is set;
    the file is removed when the worker no longer runs and when this returns."""
    try:
        while not stop.is_set():
            if worker.is_running:
                touch(path)
            else:
                withdraw(path)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), refresh)
    finally:
        withdraw(path)


def ready_file_problem(
    path: Path, max_age: float = READY_MAX_AGE, now: float | None = None
) -> str | None:
    """None when the worker signalled within ``max_age`` seconds; else what is wrong."""
    try:
        age = (time.time() if now is None else now) - path.stat().st_mtime
    except FileNotFoundError:
        return f"{path} 不存在：工作进程没有运行（或尚未开始轮询）"
    if age > max_age:
        return f"{path} 上次更新是在 {age:.0f} 秒前（就绪时应不超过 {max_age:.0f} 秒）"
    return None
