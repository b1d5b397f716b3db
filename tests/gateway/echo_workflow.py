"""A small workflow for the sandbox's tests, in a module of its own: the sandbox imports a
workflow's module again, and this one imports nothing but the SDK."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.worker.workflow_sandbox import RestrictedWorkflowAccessError


@activity.defn
async def echo(words: list[str]) -> list[str]:
    return [*words, "回声"]


@workflow.defn(sandboxed=True)
class EchoThrice:
    """Payloads through three activations: its input, a timer, an activity and its answer;
    then a call the sandbox must refuse (the wall clock)."""

    @workflow.run
    async def run(self, words: list[str]) -> dict[str, Any]:
        await workflow.sleep(timedelta(milliseconds=10))
        echoed = await workflow.execute_activity(
            echo, words, start_to_close_timeout=timedelta(seconds=10)
        )
        try:
            import datetime

            datetime.datetime.now()
            clock = "allowed"
        except RestrictedWorkflowAccessError:
            clock = "refused"
        return {"echoed": echoed, "clock": clock}
