"""The worker's sticky cache is the setting's size (WORKER_MAX_CACHED_WORKFLOWS): the worker's
memory is its cache's, however many cases wait (bench/RESULTS.md, "Parked cases")."""

from __future__ import annotations

import uuid

import pytest
from temporalio.testing import WorkflowEnvironment

from settings import WORKER_MAX_CACHED_WORKFLOWS, load_settings
from store.db import make_engine, make_session_factory
from worker import build_worker

pytestmark = pytest.mark.devserver


@pytest.mark.parametrize(
    ("env", "size"),
    [({}, WORKER_MAX_CACHED_WORKFLOWS), ({"WORKER_MAX_CACHED_WORKFLOWS": "37"}, 37)],
)
async def test_the_worker_keeps_as_many_as_the_setting_says(
    devserver: WorkflowEnvironment, database_url: str, env: dict[str, str], size: int
) -> None:
    queue = f"cache-{uuid.uuid4().hex[:8]}"  # a worker of its own
    settings = load_settings({"DATABASE_URL": database_url, "TASK_QUEUE": queue, **env})
    engine = make_engine(database_url)
    try:
        worker = build_worker(devserver.client, settings, make_session_factory(engine))
        assert worker.config()["max_cached_workflows"] == size
    finally:
        await engine.dispose()
