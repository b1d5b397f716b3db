"""The embedded stack for real: `python -m starter.cli serve` (what `./dev run` runs) in a
subprocess, twice on one data folder, stopped with SIGINT like a Ctrl-C in a terminal."""

from __future__ import annotations

import asyncio
import base64
import os
import queue
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import SearchAttributeKey

from settings import PROJECT_DIR

pytestmark = pytest.mark.devserver

READY_TIMEOUT = 120.0  # the first run initialises PostgreSQL and Temporal's SQLite file
STOP_TIMEOUT = 30.0
IDLE_TASK_QUEUE = "embedded-test-nobody-polls-this"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has exited; only nobody has reaped it yet
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"


class ServeProcess:
    """One run of the embedded stack, its output collected line by line."""

    def __init__(self, data_dir: Path, *, ui_port: int, temporal_port: int, api_port: int) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATA_DIR")}
        env["PYTHONUNBUFFERED"] = "1"
        self.data_dir = data_dir
        self.lines: list[str] = []
        self.pids: dict[str, int] = {}
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "starter.cli",
                "serve",
                "--data-dir",
                str(data_dir),
                "--ui-port",
                str(ui_port),
                "--temporal-port",
                str(temporal_port),
                "--api-port",
                str(api_port),
            ],
            cwd=PROJECT_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_ready(self) -> dict[str, str]:
        """The fields of the printed ready block, once its closing rule is printed."""
        deadline = time.monotonic() + READY_TIMEOUT
        fields: dict[str, str] = {}
        in_block = False
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"no ready block within {READY_TIMEOUT:.0f} s:\n{self.output()}")
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                pytest.fail(f"serve exited before it was ready:\n{self.output()}")
            self.lines.append(line)
            if "is ready" in line:
                in_block = True
            elif in_block and re.fullmatch(r"=+", line.strip()):
                return fields
            elif in_block and (match := re.match(r"\s*([^:]+?)\s*:\s*(.+)$", line)):
                fields[match.group(1)] = match.group(2).strip()

    def recorded_pids(self) -> dict[str, int]:
        """Temporal's and PostgreSQL's process ids, from the files they keep in the data folder."""
        files = {
            "temporal": self.data_dir / "temporal.pid",
            "postgres": self.data_dir / "pg" / "postmaster.pid",
        }
        for name, path in files.items():
            if path.exists():
                self.pids[name] = int(path.read_text().split()[0])
        return dict(self.pids)

    def interrupt_and_wait(self) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            status = self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"serve did not stop within {STOP_TIMEOUT:.0f} s:\n{self._drain()}")
        self._reader.join(timeout=5)
        self._drain()
        return status

    def _drain(self) -> str:
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)
        return self.output()

    def kill(self) -> None:
        """Last resort when a test failed half way: leave no server behind."""
        pids = self.recorded_pids()
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for pid in pids.values():
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def stack_runs() -> Iterator[list[ServeProcess]]:
    runs: list[ServeProcess] = []
    yield runs
    for run in runs:
        run.kill()


def _expected_search_attributes() -> set[str]:
    from workflows.search_attributes import SEARCH_ATTRIBUTES

    return {key.name for key in SEARCH_ATTRIBUTES if isinstance(key, SearchAttributeKey)}


async def _connect(fields: dict[str, str]) -> Client:
    return await Client.connect(fields["Temporal address"], namespace=fields["Namespace"])


def _not_private(data_dir: Path) -> list[str]:
    """What in the data folder another local user could read: the folder and every folder
    in it must be 0700, every file 0600 (PostgreSQL's socket, if there, is no file). Run as
    root, the folder is 0710 for the group PostgreSQL runs with (starter.embedded)."""
    wrong = []
    top = data_dir.stat()
    if os.geteuid() == 0:  # PostgreSQL's group may pass through to pg/ (starter.embedded)
        postmaster = data_dir / "pg" / "postmaster.pid"
        pid = int(postmaster.read_text().split()[0]) if postmaster.exists() else None
        group = Path(f"/proc/{pid}/status").read_text() if pid else ""
        gid = next((int(x.split()[2]) for x in group.splitlines() if x.startswith("Gid:")), 0)
        if (stat.S_IMODE(top.st_mode), top.st_gid) != (0o710, gid):
            wrong.append(f"{data_dir} is {stat.S_IMODE(top.st_mode):o}, group {top.st_gid}")
    elif stat.S_IMODE(top.st_mode) != 0o700:
        wrong.append(f"{data_dir} is a folder of mode {stat.S_IMODE(top.st_mode):o}")
    for path in data_dir.rglob("*"):
        try:
            info = path.lstat()
        except FileNotFoundError:  # SQLite's journal comes and goes with each transaction
            continue
        mode = stat.S_IMODE(info.st_mode)
        if stat.S_ISDIR(info.st_mode) and mode != 0o700:
            wrong.append(f"{path} is a folder of mode {mode:o}")
        elif stat.S_ISREG(info.st_mode) and mode != 0o600:
            wrong.append(f"{path} is a file of mode {mode:o}")
    return wrong


async def _check_the_codec_endpoint(fields: dict[str, str], api: str, ui_port: int) -> None:
    """The stack's own payload key encrypts; its codec endpoint decodes for the administrator
    only, and the Web UI's pages may call it."""
    from google.protobuf import json_format
    from temporalio.api.common.v1 import Payload, Payloads

    from gateway.payload_codec import EncryptionCodec
    from gateway.payload_keys import load_payload_keys

    [key_file] = [Path(p) for p in fields["Payload keys"].split(",")]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    keys = load_payload_keys([key_file])
    assert keys is not None
    plain = Payload(metadata={"encoding": b"json/plain"}, data='"张三"'.encode())
    [sealed] = await EncryptionCodec(keys).encode([plain])
    body = json_format.MessageToDict(Payloads(payloads=[sealed]))
    assert fields["Codec endpoint"].startswith(f"{api}/codec")
    ui = f"http://127.0.0.1:{ui_port}"
    token = fields["Admin API token"].split()[0]
    async with httpx.AsyncClient(base_url=api) as http:
        assert (await http.post("/codec/decode", json=body)).status_code == 401
        answer = await http.post(
            "/codec/decode", json=body, headers={"Authorization": f"Bearer {token}", "Origin": ui}
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["access-control-allow-origin"] == ui
        [decoded] = answer.json()["payloads"]
        assert base64.b64decode(decoded["data"]) == plain.data


async def _check_the_service_is_the_restricted_login(fields: dict[str, str]) -> None:
    """The database the ready block names is the worker's and the web service's: production's
    restricted login, which may not change the log; every other session on the application
    database (the web service's, served just now) is one of the service's logins, not the
    owner that migrated (tests/starter/test_embedded_roles.py has the rest)."""
    import asyncpg

    from store.db import to_libpq_url
    from store.roles import SERVICE_LOGIN, SIGNER_LOGIN

    url = fields["Database"].split()[0]
    assert url.startswith(f"postgresql+asyncpg://{SERVICE_LOGIN}@"), url
    conn = await asyncpg.connect(to_libpq_url(url))
    try:
        assert await conn.fetchval("SELECT current_user") == SERVICE_LOGIN
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await conn.execute("UPDATE case_events SET summary = 'x'")
        others = await conn.fetch(
            "SELECT DISTINCT usename FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        users = {row["usename"] for row in others}
        assert SERVICE_LOGIN in users and users <= {SERVICE_LOGIN, SIGNER_LOGIN}, users
    finally:
        await conn.close()


def _assert_stopped(run: ServeProcess, pids: dict[str, int], ports: list[int]) -> None:
    status = run.interrupt_and_wait()
    assert status == 0, f"serve exited with {status}:\n{run.output()}"
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = {name: pid for name, pid in pids.items() if _alive(pid)}
    assert not left, f"still running after serve stopped: {left}\n{run.output()}"
    assert all(_port_is_free(port) for port in ports)
    assert not (run.data_dir / "pg" / "postmaster.pid").exists(), "PostgreSQL did not shut down"


async def test_serve_starts_stops_and_keeps_its_state(
    tmp_path: Path, stack_runs: list[ServeProcess]
) -> None:
    data_dir = tmp_path / "data"
    ports: list[int] = []
    while len(set(ports)) < 3:
        ports = [_free_port() for _ in range(3)]
    ui_port, temporal_port, api_port = ports
    workflow_id = "embedded-test-survives-restart"
    # a data folder an earlier version left readable to everyone
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    (data_dir / "temporal.log").write_text("an earlier run\n")
    (data_dir / "temporal.log").chmod(0o644)

    # run 1: everything comes up; leave a workflow behind
    first = ServeProcess(data_dir, ui_port=ui_port, temporal_port=temporal_port, api_port=api_port)
    stack_runs.append(first)
    fields = await asyncio.to_thread(first.wait_ready)
    pids = first.recorded_pids()
    assert fields["Temporal address"] == f"127.0.0.1:{temporal_port}"
    assert fields["Web UI"] == f"http://127.0.0.1:{ui_port}"
    assert fields["Data folder"] == str(data_dir.resolve())
    assert "postgresql+asyncpg://" in fields["Database"]
    # private while running: Temporal's SQLite file and its -wal and -shm, the logs, the keys
    assert (data_dir / "temporal.db").exists() and (data_dir / "pg").is_dir()
    assert _not_private(data_dir) == []
    # the Web UI was started with the service's codec endpoint
    started = (data_dir / "temporal.log").read_text().splitlines()
    command = next(line for line in reversed(started) if line.startswith("=== "))
    assert f"--ui-codec-endpoint {fields['Codec endpoint'].split()[0]}" in command

    client = await _connect(fields)
    await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=fields["Namespace"])
    )
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=fields["Namespace"])
    )
    missing = _expected_search_attributes() - set(listed.custom_attributes)
    assert not missing, f"search attributes not registered: {sorted(missing)}"

    # the API is up, and the first administrator's token (printed once) is accepted
    api = f"http://127.0.0.1:{api_port}"
    assert fields["HTTP API"].startswith(api)
    token = fields["Admin API token"].split()[0]
    async with httpx.AsyncClient(base_url=api) as http:
        assert (await http.get("/cases")).status_code == 401
        listed_cases = await http.get("/cases", headers={"Authorization": f"Bearer {token}"})
        assert listed_cases.status_code == 200, listed_cases.text

        # the probes answer without a token: alive, and ready (database, Temporal, migrations)
        assert (await http.get("/healthz")).json() == {"status": "alive"}
        ready = await http.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready", ready.text
        # and the operator's metrics, with the domain gauges (no token set: open)
        metrics = await http.get("/metrics")
        assert metrics.status_code == 200, metrics.text
        for gauge in (
            "appointments_cases_active",
            "appointments_cases_overdue",
            "appointments_cases_blocked_on_calendar",
            "appointments_outbox_mail",
            "appointments_http_requests",
        ):
            assert f"# TYPE {gauge}" in metrics.text, gauge
        assert "\nappointments_gauges_up 1.0\n" in metrics.text, metrics.text

        # the console is served there too, and the printed password signs in to it
        assert fields["Web console"] == f"{api}/console/"
        admin_line = fields["Administrator"]  # admin / password XXX  (console; ...)
        assert admin_line.startswith("admin / password "), admin_line
        password = admin_line.split()[3]
        login = await http.get("/console/login")
        assert login.status_code == 200
        csrf = login.text.split('name="csrf" value="')[1].split('"')[0]
        signed_in = await http.post(
            "/console/login",
            data={"name": "admin", "password": password, "csrf": csrf},
        )
        assert signed_in.status_code == 303, signed_in.text
        dashboard = await http.get("/console/")
        assert dashboard.status_code == 200 and "admin" in dashboard.text
    await _check_the_codec_endpoint(fields, api, ui_port)
    await _check_the_service_is_the_restricted_login(fields)

    # no worker knows this type and nobody polls the queue: it just waits, as a case would
    await client.start_workflow("NoSuchWorkflow", id=workflow_id, task_queue=IDLE_TASK_QUEUE)

    await asyncio.to_thread(_assert_stopped, first, pids, ports)
    assert "Stopped." in first.output()

    # run 2, same folder and ports: the workflow is still there
    second = ServeProcess(data_dir, ui_port=ui_port, temporal_port=temporal_port, api_port=api_port)
    stack_runs.append(second)
    fields = await asyncio.to_thread(second.wait_ready)
    pids = second.recorded_pids()
    assert "Admin API token" not in fields  # made on the first start only
    assert "Administrator" not in fields
    assert _not_private(data_dir) == []

    client = await _connect(fields)
    description = await client.get_workflow_handle(workflow_id).describe()
    assert description.workflow_type == "NoSuchWorkflow"
    assert description.status == WorkflowExecutionStatus.RUNNING

    await asyncio.to_thread(_assert_stopped, second, pids, ports)


async def test_serve_refuses_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        result = await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "-m",
                "starter.cli",
                "serve",
                "--data-dir",
                str(tmp_path / "data"),
                "--ui-port",
                str(_free_port()),
                "--temporal-port",
                str(port),
            ],
            cwd=PROJECT_DIR,
            env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"port {port}" in result.stderr and "already in use" in result.stderr
    # refused before anything started: no PostgreSQL was initialised
    assert not (tmp_path / "data" / "pg").exists()
