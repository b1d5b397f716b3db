"""The embedded stack's state file (``stack.json`` in its data folder): how the command line
finds the stack it was started with, without exported variables.

``appointments serve`` writes it once the stack is ready and removes it when it stops. It
holds the settings the stack's own worker and web service run with, under the names of
those settings (``TEMPORAL_ADDRESS``, ``DATABASE_URL`` …, see ``settings.SETTING_NAMES``),
the address of its HTTP API and the process id of ``serve``. Like everything in the data
folder it is readable by its owner only (0600): the database URLs are the service's logins.

``settings.load_settings(stack=True)`` is the one place that merges it with the environment
(a variable set there wins); this module only writes, reads and judges the file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from settings import Settings

STATE_FILE = "stack.json"
STACK_NOT_RUNNING = "内置服务未在运行：请先运行 ./dev run"

# the settings the file carries, grouped by the server they reach: a group is taken from the
# file only when the environment does not name that server (its first name) itself, so a
# command never mixes the stack's database with another signer, or its namespace with
# another Temporal
TEMPORAL_SETTINGS = ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TASK_QUEUE")
DATABASE_SETTINGS = ("DATABASE_URL", "AUDIT_SIGNER_DATABASE_URL")
STATE_GROUPS = (TEMPORAL_SETTINGS, DATABASE_SETTINGS)


@dataclass(frozen=True)
class StackState:
    """What ``stack.json`` says: the stack's settings by name, its API and its process."""

    settings: Mapping[str, str]
    api_url: str
    pid: int

    @property
    def running(self) -> bool:
        return pid_alive(self.pid)


def state_path(data_dir: Path) -> Path:
    return data_dir / STATE_FILE


def write_state(settings: Settings, api_url: str, pid: int | None = None) -> Path:
    """Write the state file of the stack running with ``settings`` (0600, replacing any
    earlier one at once, so a reader never sees half a file)."""
    values = {
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "TEMPORAL_NAMESPACE": settings.temporal_namespace,
        "TASK_QUEUE": settings.task_queue,
        "DATABASE_URL": settings.database_url,
        "AUDIT_SIGNER_DATABASE_URL": settings.audit_signer_database_url,
    }
    text = json.dumps(
        {
            "settings": {name: value for name, value in values.items() if value},
            "api_url": api_url,
            "pid": os.getpid() if pid is None else pid,
        },
        ensure_ascii=False,
        indent=2,
    )
    path = state_path(settings.data_dir)
    partial = path.with_name(f".{STATE_FILE}.{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            if os.name == "posix":
                os.fchmod(out.fileno(), 0o600)  # whatever the umask
            out.write(text + "\n")
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path


def remove_state(data_dir: Path, pid: int | None = None) -> None:
    """Remove the state file when it is this process's (``pid``): a stack that stops says
    so; a file another run wrote meanwhile is left alone."""
    found = read_state(data_dir)
    if found is not None and found.pid == (os.getpid() if pid is None else pid):
        state_path(data_dir).unlink(missing_ok=True)


def read_state(data_dir: Path) -> StackState | None:
    """The state file in ``data_dir``; None if there is none or it cannot be read as one
    (a file half written by hand is no stack)."""
    try:
        found = json.loads(state_path(data_dir).read_text("utf-8"))
        settings = found["settings"]
        state = StackState(
            settings={str(k): str(v) for k, v in settings.items() if v},
            api_url=str(found.get("api_url", "")),
            pid=int(found["pid"]),
        )
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    return state


def stack_settings(env: Mapping[str, str], state: StackState) -> dict[str, str]:
    """The settings the running stack adds to ``env``: each group of ``STATE_GROUPS`` whose
    server ``env`` does not name, and within it only what ``env`` does not set."""
    added: dict[str, str] = {}
    for group in STATE_GROUPS:
        if env.get(group[0]):
            continue
        for name in group:
            if not env.get(name) and name in state.settings:
                added[name] = state.settings[name]
    return added


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (it may be another user's)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
