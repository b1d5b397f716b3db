"""The workflow sandbox the worker runs every workflow in (沙箱), its code strings compiled once.

The SDK's sandbox reaches into a workflow's own copy of the modules by ``exec`` of a short
string of Python: once to create the instance, once per activation, and once per payload it
encodes (to ask the workflow for the payload's serialization and storage context). ``exec`` of a
string compiles it every time, about 16 µs each, and a case's life makes thousands of such
calls: in a county-year that compiling was a tenth of the worker's interpreter time
(bench/RESULTS.md). The strings are the SDK's constants, so ``workflow_runner`` hands the
sandbox each one compiled once; ``exec`` of the compiled code does exactly what ``exec`` of
its string does (same globals, same locals, same file name).

A payload's serialization and storage context is asked of the workflow's object in the sandbox
directly, not by ``exec`` inside the sandbox's import restrictions: the SDK asks it four to six
times for every payload sequence it encodes or decodes (with a payload codec, as the service
has), and the answer is a lookup in the SDK's own tables of the instance (the command's
activity, the workflow's id) that runs no workflow code and imports nothing; entering and
leaving the restrictions for it was a tenth of the case worker's interpreter time under the
pipeline benchmark (bench/RESULTS.md).

A workflow's module, imported afresh for every run, is compiled once per worker process
(``gateway.module_code``), not once per run where no bytecode file is written.

Nothing else of the sandbox changes: its restrictions, its imports and its checks are the
SDK's, for the workflow's code and every activation.

The sandbox's instance class is the SDK's own (not public): with an SDK whose instance no
longer runs its code through ``_run_code``, ``workflow_runner`` gives the SDK's sandbox as it
is (slower, never wrong), and ``tests/gateway/test_sandbox.py`` fails, saying so.
"""

from __future__ import annotations

import functools
import logging
from types import CodeType
from typing import Any

from temporalio.worker import WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from gateway.module_code import keep_module_code

try:
    from temporalio.worker.workflow_sandbox._runner import _Instance
except ImportError:  # pragma: no cover - another SDK; the test says so
    _Instance = None  # type: ignore[assignment,misc]

log = logging.getLogger(__name__)

# the name the SDK gives the workflow's object inside the sandbox, in the instance's globals
IN_SANDBOX = "__temporal_in_sandbox"


@functools.lru_cache(maxsize=64)
def compiled(code: str) -> CodeType:
    """The SDK's code string, compiled as ``exec`` would compile it, once per string."""
    return compile(code, "<string>", "exec")


def _runs_code_by_exec() -> bool:
    return _Instance is not None and callable(getattr(_Instance, "_run_code", None))


if _runs_code_by_exec():

    class _CompiledInstance(_Instance):
        """The SDK's sandboxed instance, given its code strings compiled."""

        def _run_code(self, code: str, **extra_globals: Any) -> None:
            # the SDK hands its string to exec, which takes the compiled code alike
            super()._run_code(compiled(code), **extra_globals)  # type: ignore[arg-type]

        def get_serialization_context(self, command_info: Any) -> Any:
            in_sandbox: Any = self.globals_and_locals.get(IN_SANDBOX)
            if in_sandbox is None:  # the instance was never made: the SDK's way
                return super().get_serialization_context(command_info)
            return in_sandbox.get_serialization_context(command_info)

        def get_external_store_context(self, command_info: Any) -> Any:
            in_sandbox: Any = self.globals_and_locals.get(IN_SANDBOX)
            if in_sandbox is None:
                return super().get_external_store_context(command_info)
            return in_sandbox.get_external_store_context(command_info)


class CompiledSandboxRunner(SandboxedWorkflowRunner):
    """The SDK's sandbox, with its code strings compiled once (the restrictions its own); the
    SDK's sandbox as it is where its instance is not what this module knows."""

    def create_instance(self, det: Any) -> Any:
        if _runs_code_by_exec():
            return _CompiledInstance(det, self.runner_class, self.restrictions)
        return super().create_instance(det)


def workflow_runner() -> WorkflowRunner:
    """The runner every worker of the service gives its workflows: the SDK's sandbox, its
    code strings compiled once where this SDK allows it, else the SDK's sandbox as it is;
    either way each workflow module's source compiled once (``gateway.module_code``)."""
    keep_module_code()
    if _runs_code_by_exec():
        return CompiledSandboxRunner()
    log.warning("temporalio's sandbox has changed: its code strings are compiled per call")
    return SandboxedWorkflowRunner()
