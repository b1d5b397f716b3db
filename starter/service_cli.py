"""The commands that run the service rather than record a step: ``serve`` (the embedded
stack), and the roles of the production image, each its own process: ``worker``, ``web``
(the HTTP API, the console and the public board), ``migrate``, and ``health`` (the probes
of compose and Kubernetes).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import click

from starter.cli_base import (
    App,
    InputError,
    Unreachable,
    _database_url,
    _safe_url,
    _temporal_unreachable,
    is_connect_failure,
    pass_app,
)


@click.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="where the stack keeps its state (default: DATA_DIR)",
)
@click.option("--ui-port", type=int, default=8233, show_default=True, help="Temporal Web UI")
@click.option("--temporal-port", type=int, default=7233, show_default=True, help="Temporal gRPC")
@click.option("--api-port", type=int, default=8000, show_default=True, help="the HTTP API")
@click.pass_context
def serve(
    ctx: click.Context, data_dir: Path | None, ui_port: int, temporal_port: int, api_port: int
) -> None:
    """Run Temporal, PostgreSQL, the worker and the HTTP API on this machine (embedded stack)."""
    from starter.embedded import run_serve_command

    ctx.exit(run_serve_command(data_dir, ui_port, temporal_port, api_port))


@click.command()
@pass_app
def worker(app: App) -> None:
    """Run the appointment worker against TEMPORAL_ADDRESS until stopped (Ctrl-C)."""
    from gateway.logs import configure_logging
    from worker import run_worker

    _database_url(app.settings)  # the worker records every case there
    configure_logging(app.settings.log_level)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(app.settings, stop=stop)

    run_service(app, run())


def run_service(app: App, service: Coroutine[Any, Any, None]) -> None:
    """Run a long-lived service until it stops; a Temporal out of reach exits as such."""
    try:
        asyncio.run(service)
    except RuntimeError as exc:
        if is_connect_failure(exc):
            raise _temporal_unreachable(app.settings) from exc
        raise


@click.command()
@pass_app
def migrate(app: App) -> None:
    """Bring the database named by DATABASE_URL to the latest schema."""
    from sqlalchemy.exc import DBAPIError

    from store.migrate import upgrade_to_head

    url = _database_url(app.settings)
    try:
        asyncio.run(upgrade_to_head(url))
    except (OSError, DBAPIError) as exc:
        detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise Unreachable(f"cannot migrate the database at {_safe_url(url)}: {detail}") from exc
    click.echo(f"the database at {_safe_url(url)} is at the latest schema")


@click.command()
@click.option("--host", help="address to listen on  [default: WEB_HOST, else 127.0.0.1]")
@click.option("--port", type=int, help="port to listen on  [default: WEB_PORT, else 8000]")
@pass_app
def web(app: App, host: str | None, port: int | None) -> None:
    """Run the web service alone (HTTP API, console, public board) until stopped.

    Probes: /healthz (the process answers) and /readyz (database, Temporal and migrations).
    """
    from api.serve import serve_api
    from gateway.logs import configure_logging

    _database_url(app.settings)  # the API reads and records there
    configure_logging(app.settings.log_level)
    host = host or app.settings.web_host
    port = port or app.settings.web_port

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        listening = asyncio.Event()
        serving = asyncio.create_task(
            serve_api(app.settings, host=host, port=port, stop=stop, listening=listening)
        )
        await asyncio.wait(
            {serving, asyncio.create_task(listening.wait())}, return_when=asyncio.FIRST_COMPLETED
        )
        if listening.is_set():
            click.echo(f"the web service listens on http://{host}:{port}", err=True)
        await serving

    run_service(app, run())


@click.group()
def health() -> None:
    """Probes for compose and Kubernetes: exit status 0 when ready, 3 when not."""


@health.command("worker")
@pass_app
def health_worker(app: App) -> None:
    """Whether the worker on this machine polls its task queue (its WORKER_READY_FILE is fresh)."""
    from gateway.readiness import ready_file_problem

    path = app.settings.worker_ready_file
    if path is None:
        raise InputError("WORKER_READY_FILE is not set: the worker writes no ready file to probe")
    problem = ready_file_problem(path)
    if problem is not None:
        raise Unreachable(f"the worker is not ready: {problem}")
    click.echo("the worker is ready")


@health.command("web")
@click.option("--live", is_flag=True, help="ask /healthz (alive) instead of /readyz (ready)")
@click.option("--url", help="the web service  [default: http://127.0.0.1:WEB_PORT]")
@pass_app
def health_web(app: App, live: bool, url: str | None) -> None:
    """Ask the web service on this machine /readyz (or /healthz) and print its answer."""
    import urllib.error
    import urllib.request

    host = app.settings.web_host
    if host in ("0.0.0.0", "::"):  # listening everywhere: ask it here
        host = "127.0.0.1"
    base = (url or f"http://{host}:{app.settings.web_port}").rstrip("/")
    probe = f"{base}/{'healthz' if live else 'readyz'}"
    try:
        with urllib.request.urlopen(probe, timeout=5) as answer:
            click.echo(answer.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as exc:
        raise Unreachable(
            f"{probe} answered {exc.code}: {exc.read().decode('utf-8', 'replace')}"
        ) from None
    except OSError as exc:
        raise Unreachable(f"{probe} does not answer: {exc}") from None
