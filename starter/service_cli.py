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
from starter.click_zh import ZhCommand, ZhGroup


@click.command(cls=ZhCommand)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="运行环境保存状态的文件夹（默认：DATA_DIR）",
)
@click.option("--ui-port", type=int, default=8233, show_default=True, help="Temporal Web UI 的端口")
@click.option(
    "--temporal-port", type=int, default=7233, show_default=True, help="Temporal 的 gRPC 端口"
)
@click.option("--api-port", type=int, default=8000, show_default=True, help="HTTP API 的端口")
@click.pass_context
def serve(
    ctx: click.Context, data_dir: Path | None, ui_port: int, temporal_port: int, api_port: int
) -> None:
    """在本机运行 Temporal、PostgreSQL、工作进程和 HTTP API（嵌入式运行环境）。"""
    from starter.embedded import run_serve_command

    ctx.exit(run_serve_command(data_dir, ui_port, temporal_port, api_port))


@click.command(cls=ZhCommand)
@pass_app
def worker(app: App) -> None:
    """连接 TEMPORAL_ADDRESS 运行案件工作进程，直到停止（Ctrl-C）。"""
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


@click.command(cls=ZhCommand)
@pass_app
def migrate(app: App) -> None:
    """将 DATABASE_URL 所指的数据库升级到最新结构。"""
    from sqlalchemy.exc import DBAPIError

    from store.migrate import upgrade_to_head

    url = _database_url(app.settings)
    try:
        asyncio.run(upgrade_to_head(url))
    except (OSError, DBAPIError) as exc:
        detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise Unreachable(f"无法升级 {_safe_url(url)} 上的数据库：{detail}") from exc
    click.echo(f"{_safe_url(url)} 上的数据库已是最新结构")


@click.command(cls=ZhCommand)
@click.option("--host", help="监听地址  [默认：WEB_HOST，未设置时 127.0.0.1]")
@click.option("--port", type=int, help="监听端口  [默认：WEB_PORT，未设置时 8000]")
@pass_app
def web(app: App, host: str | None, port: int | None) -> None:
    """单独运行网页服务（HTTP API、管理台、公示栏），直到停止。

    探针：/healthz（进程有应答）和 /readyz（数据库、Temporal 和数据库结构均已就绪）。
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
            click.echo(f"网页服务在 http://{host}:{port} 上监听", err=True)
        await serving

    run_service(app, run())


@click.group(cls=ZhGroup)
def health() -> None:
    """供 compose 和 Kubernetes 使用的探针：就绪时退出状态为 0，未就绪为 3。"""


@health.command("worker")
@pass_app
def health_worker(app: App) -> None:
    """本机工作进程是否在轮询其任务队列（其 WORKER_READY_FILE 是否新近更新）。"""
    from gateway.readiness import ready_file_problem

    path = app.settings.worker_ready_file
    if path is None:
        raise InputError("未设置 WORKER_READY_FILE：工作进程不写就绪文件，无从探测")
    problem = ready_file_problem(path)
    if problem is not None:
        raise Unreachable(f"工作进程尚未就绪：{problem}")
    click.echo("工作进程已就绪")


@health.command("web")
@click.option("--live", is_flag=True, help="询问 /healthz（是否存活），而不是 /readyz（是否就绪）")
@click.option("--url", help="网页服务地址  [默认：http://127.0.0.1:WEB_PORT]")
@pass_app
def health_web(app: App, live: bool, url: str | None) -> None:
    """向本机网页服务询问 /readyz（或 /healthz），并打印其答复。"""
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
            f"{probe} 答复 {exc.code}：{exc.read().decode('utf-8', 'replace')}"
        ) from None
    except OSError as exc:
        raise Unreachable(f"{probe} 没有应答：{exc}") from None
