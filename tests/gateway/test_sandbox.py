"""The worker's sandbox compiles the SDK's code strings once and is still the SDK's sandbox:
a workflow runs, its payloads go through it, a restricted call inside it is still refused, and
each payload's serialization context, read off the workflow's object directly, is the one the
SDK's own sandbox gives."""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.converter import (
    ActivitySerializationContext,
    DataConverter,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
)
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

import gateway.sandbox
from gateway.sandbox import IN_SANDBOX, CompiledSandboxRunner, compiled, workflow_runner
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


class _NotingCodec(PayloadCodec, WithSerializationContext):
    """Passes payloads through as they are, noting the context each sequence was coded in."""

    def __init__(self, noted: list[SerializationContext | None], context: Any = None) -> None:
        self.noted, self.context = noted, context

    def with_context(self, context: SerializationContext) -> _NotingCodec:
        return _NotingCodec(self.noted, context)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        self.noted.append(self.context)
        return list(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        self.noted.append(self.context)
        return list(payloads)


async def _contexts(devserver: WorkflowEnvironment, runner: WorkflowRunner) -> Counter[Any]:
    """Every context the codec was given while EchoThrice ran once on ``runner``."""
    noted: list[SerializationContext | None] = []
    client = Client(
        devserver.client.service_client,
        namespace=devserver.client.namespace,
        data_converter=DataConverter(payload_codec=_NotingCodec(noted)),
    )
    queue = f"sandbox-context-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client, task_queue=queue, workflows=[EchoThrice], activities=[echo], workflow_runner=runner
    ):
        await client.execute_workflow(EchoThrice.run, ["任用"], id=queue, task_queue=queue)

    def seen(c: SerializationContext | None) -> tuple[Any, ...]:
        if c is None:
            return (None,)
        same = {k: ("(this workflow)" if v == queue else v) for k, v in vars(c).items()}
        same.pop("activity_id", None)  # numbered per run alike; the type says which activity
        return (type(c).__name__, tuple(sorted(same.items(), key=lambda kv: kv[0])))

    return Counter(seen(c) for c in noted)


async def test_each_payloads_context_is_the_one_the_sdks_sandbox_gives(
    devserver: WorkflowEnvironment,
) -> None:
    """The compiled sandbox reads a payload's context off the workflow's object directly, not
    by exec inside the import restrictions: the same contexts, payload for payload, as the
    SDK's sandbox, the activity's payloads in the activity's own."""
    ours = await _contexts(devserver, workflow_runner())
    sdks = await _contexts(devserver, SandboxedWorkflowRunner())
    assert ours == sdks
    activity = [k for k in ours if k[0] == ActivitySerializationContext.__name__]
    assert activity and all(("activity_type", "echo") in k[1] for k in activity), activity


def test_the_sdk_keeps_the_workflows_object_where_the_sandbox_reads_it() -> None:
    """Fails when an SDK upgrade renamed the sandbox's object: the compiled sandbox would then
    ask the context the SDK's way (slower, never wrong)."""
    source = gateway.sandbox._Instance._create_instance.__code__.co_consts
    assert any(isinstance(c, str) and f"{IN_SANDBOX} = InSandbox(" in c for c in source), (
        "temporalio 的沙箱实现已变：载荷的序列化上下文退回沙箱内逐次执行，请检查 gateway/sandbox.py"
    )
