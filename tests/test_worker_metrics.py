"""The worker's Temporal SDK metrics for Prometheus (WORKER_METRICS_ADDRESS): the real
``run_worker`` on the Temporal dev server and the test database serves them while it polls."""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid

import httpx
import pytest
from temporalio import activity
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from gateway.client import CORE_LOGGER, worker_runtime
from settings import load_settings
from tests.conftest import free_port
from tests.workflows.conftest import start_time_skipping
from worker import run_worker

pytestmark = pytest.mark.devserver


async def test_the_worker_serves_the_sdks_metrics(
    devserver: WorkflowEnvironment, database_url: str
) -> None:
    address = f"127.0.0.1:{free_port()}"
    settings = load_settings(
        {
            "DATABASE_URL": database_url,
            "TEMPORAL_ADDRESS": devserver.client.service_client.config.target_host,
            "TASK_QUEUE": f"metrics-{uuid.uuid4().hex[:8]}",
            "WORKER_METRICS_ADDRESS": address,
        }
    )
    stop = asyncio.Event()
    running = asyncio.create_task(run_worker(settings, stop=stop))
    text = ""
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(100):  # the worker polls within a second or two
                assert not running.done(), running.exception()
                try:
                    text = (await http.get(f"http://{address}/metrics")).text
                except httpx.TransportError:
                    text = ""
                if f'task_queue="{settings.task_queue}"' in text:
                    break
                await asyncio.sleep(0.2)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=30)
    assert "temporal_" in text
    # the worker's own polls on its task queue, counted by the SDK
    assert any(
        line.startswith("temporal_") and f'task_queue="{settings.task_queue}"' in line
        for line in text.splitlines()
    ), text[:2000]


def test_an_address_in_use_is_refused_with_the_settings_name() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = load_settings({"WORKER_METRICS_ADDRESS": f"127.0.0.1:{port}"})
        with pytest.raises(RuntimeError, match=f"WORKER_METRICS_ADDRESS 127.0.0.1:{port}"):
            worker_runtime(settings)


def test_a_metrics_address_that_is_not_host_and_port_is_refused() -> None:
    for bad in ("9464", "0.0.0.0", "0.0.0.0:99999", "http://0.0.0.0:9464"):
        with pytest.raises(ValueError, match="WORKER_METRICS_ADDRESS 须为“主机:端口”"):
            load_settings({"WORKER_METRICS_ADDRESS": bad})
    assert load_settings({}).worker_metrics_address is None


@activity.defn
async def _idle(_: str) -> str:
    return ""


async def test_the_sdk_cores_own_lines_go_through_python_logging(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The core warns, on a worker's start against the time-skipping server, that it lacks a
    capability: that line reaches Python's logging (and so the service's JSON lines) instead
    of the core's own text on stderr."""
    caplog.set_level(logging.WARNING)
    env = await start_time_skipping()
    try:
        client = await Client.connect(
            env.client.service_client.config.target_host, runtime=worker_runtime(load_settings({}))
        )
        async with Worker(client, task_queue="core-logs", activities=[_idle]):
            for _ in range(100):
                core = [r for r in caplog.records if r.name.startswith(CORE_LOGGER)]
                if core:
                    break
                await asyncio.sleep(0.05)
    finally:
        await env.shutdown()
    assert core, [r.name for r in caplog.records]
    assert any("Temporal Server" in r.getMessage() for r in core), [r.getMessage() for r in core]
