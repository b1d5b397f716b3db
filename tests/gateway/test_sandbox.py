"""The worker's sandbox compiles the SDK's code strings once and is still the SDK's sandbox:
a workflow runs, its payloads go through it, a restricted call inside it is still refused."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

import gateway.sandbox
from gateway.sandbox import CompiledSandboxRunner, compiled, workflow_runner
from settings import load_settings
from store.db import make_engine, make_session_factory
from tests.gateway.echo_workflow import EchoThrice, echo
from worker import build_worker

pytestmark = pytest.mark.devserver


def test_this_sdk_takes_the_compiled_sandbox() -> None:
    """Fails when an SDK upgrade changed the sandbox's instance: the worker then falls back to
    the SDK's sandbox as it is (see gateway/sandbox.py) and this runner needs a look."""
    assert isinstance(workflow_runner(), CompiledSandboxRunner), (
        "temporalio 的沙箱实现已变：工作进程退回逐次编译的沙箱，请检查 gateway/sandbox.py"
    )


async def test_the_service_worker_runs_its_workflows_in_it(
    devserver: WorkflowEnvironment, database_url: str
) -> None:
    settings = load_settings({"DATABASE_URL": database_url, "TASK_QUEUE": "sandbox-config"})
    engine = make_engine(database_url)
    try:
        worker = build_worker(devserver.client, settings, make_session_factory(engine))
        runner = worker.config()["workflow_runner"]
    finally:
        await engine.dispose()
    assert isinstance(runner, CompiledSandboxRunner)
    assert isinstance(runner, SandboxedWorkflowRunner)  # the SDK's restrictions, unchanged


async def test_a_workflow_runs_with_each_string_compiled_once(
    devserver: WorkflowEnvironment,
) -> None:
    queue = f"sandbox-{uuid.uuid4().hex[:8]}"
    before = compiled.cache_info()
    async with Worker(
        devserver.client,
        task_queue=queue,
        workflows=[EchoThrice],
        activities=[echo],
        workflow_runner=workflow_runner(),
    ):
        answers = [
            await devserver.client.execute_workflow(
                EchoThrice.run, ["任用", str(n)], id=f"{queue}-{n}", task_queue=queue
            )
            for n in range(3)
        ]
    assert answers == [{"echoed": ["任用", str(n), "回声"], "clock": "refused"} for n in range(3)]
    after = compiled.cache_info()
    # the SDK's few strings (instance creation, activation, a payload's contexts), each
    # compiled at most once however many workflows, activations and payloads ran
    assert after.misses - before.misses <= 6
    assert after.hits - before.hits >= 3 * 4


def test_the_compiled_code_is_the_strings_code() -> None:
    names: dict[str, Any] = {"given": 20}
    exec(compiled("taken = given + 1\n"), names, names)
    assert names["taken"] == 21
    assert compiled("taken = given + 1\n") is compiled("taken = given + 1\n")


def test_another_sdk_gets_the_sdks_sandbox_as_it_is(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(gateway.sandbox, "_runs_code_by_exec", lambda: False)
    with caplog.at_level(logging.WARNING, logger="gateway.sandbox"):
        runner = workflow_runner()
    assert type(runner) is SandboxedWorkflowRunner
    assert "sandbox has changed" in caplog.text
