"""The commands that run the service rather than record a step: ``serve`` (the embedded
stack), ``worker`` and ``migrate``.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import click

from starter.cli_base import (
    App,
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
    from worker import run_worker

    _database_url(app.settings)  # the worker records every case there

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(app.settings, stop=stop)

    try:
        asyncio.run(run())
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
