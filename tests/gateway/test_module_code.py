"""A workflow's module is imported afresh for each run in the sandbox, from its source compiled
once per worker process (gateway/module_code.py): each run has its own module, class and code
objects, as from a bytecode file, and the source is not compiled again while it is unchanged."""

from __future__ import annotations

import os
import sys
from importlib.machinery import ExtensionFileLoader, PathFinder, SourceFileLoader
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.worker import WorkflowInstance
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

import gateway.module_code
from bench.instance_bench import instance_details
from gateway.module_code import KeptCodeLoader, SandboxCodeFinder, keep_module_code
from gateway.sandbox import IN_SANDBOX, workflow_runner
from workflows import search_attributes
from workflows.appointment_case import AppointmentCaseWorkflow


def _sandboxed_class(instance: WorkflowInstance) -> Any:
    """The workflow class the run's sandbox imported (not the worker's own)."""
    globals_and_locals: dict[str, Any] = instance.globals_and_locals  # type: ignore[attr-defined]
    assert globals_and_locals[IN_SANDBOX] is not None
    return globals_and_locals["__temporal_workflow_class"]


def _counting_compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths ``KeptCodeLoader`` compiles from now on, with nothing kept before."""
    compiled: list[str] = []
    compile_source = KeptCodeLoader.source_to_code

    def counted(self: KeptCodeLoader, data: Any, path: Any, **kwargs: Any) -> Any:
        compiled.append(str(path))
        return compile_source(self, data, path, **kwargs)

    monkeypatch.setattr(gateway.module_code, "_compiled", {})
    monkeypatch.setattr(KeptCodeLoader, "source_to_code", counted)
    return compiled


async def test_each_run_imports_its_module_afresh_from_one_compile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compiled = _counting_compiles(monkeypatch)
    runner = workflow_runner()
    first, second, third = (
        _sandboxed_class(runner.create_instance(instance_details(AppointmentCaseWorkflow)))
        for _ in range(3)
    )
    # the case's module compiled once for the three runs
    assert [p for p in compiled if p.endswith("workflows/appointment_case.py")] == [
        str(Path(sys.modules[AppointmentCaseWorkflow.__module__].__file__ or ""))
    ]
    # each run its own module, class and code objects, as from a bytecode file
    assert len({id(first), id(second), id(third)}) == 3
    assert AppointmentCaseWorkflow not in (first, second, third)
    assert first.run.__globals__ is not second.run.__globals__
    codes = [cls.run.__code__ for cls in (first, second, third)]
    assert len({id(code) for code in codes}) == 3
    assert codes[0] == codes[1] == codes[2]
    assert first.record_vote.__code__ == third.record_vote.__code__
    # what it imports passed through is the worker's own module, not imported again per run
    assert first.run.__globals__["sa"] is second.run.__globals__["sa"] is search_attributes


async def test_without_it_each_run_compiles_where_no_bytecode_is_written(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The contrast that shows the test above can fail: the SDK's import, each run compiling
    the module anew when there is no bytecode file to read (bytecode written elsewhere)."""
    monkeypatch.setattr(sys, "meta_path", [f for f in sys.meta_path if f is not SandboxCodeFinder])
    monkeypatch.setattr(sys, "pycache_prefix", str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    compiled: list[str] = []
    compile_source = SourceFileLoader.source_to_code

    def counted(self: SourceFileLoader, data: Any, path: Any, **kwargs: Any) -> Any:
        compiled.append(str(path))
        return compile_source(self, data, path, **kwargs)

    monkeypatch.setattr(SourceFileLoader, "source_to_code", counted)
    runner = SandboxedWorkflowRunner()
    for _ in range(2):
        runner.create_instance(instance_details(AppointmentCaseWorkflow))
    assert len([p for p in compiled if p.endswith("workflows/appointment_case.py")]) == 2


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def test_the_loader_compiles_a_source_once_and_again_when_it_changes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = tmp_path / "kept_code_probe.py"
    _write(source, "ANSWER = '任用'\n")
    loader = KeptCodeLoader("kept_code_probe", str(source))
    compiled = _counting_compiles(monkeypatch)
    code = loader.get_code("kept_code_probe")
    again = KeptCodeLoader("kept_code_probe", str(source)).get_code("kept_code_probe")
    assert again == code and again is not code
    assert compiled == [str(source)]
    names: dict[str, Any] = {}
    exec(again, names)
    assert names["ANSWER"] == "任用"

    _write(source, "ANSWER = '免去职务'\n")  # an edit: a new size and a later time
    later = source.stat().st_mtime_ns + 1_000_000_000
    os.utime(source, ns=(later, later))
    changed = loader.get_code("kept_code_probe")
    assert changed != code and compiled == [str(source)] * 2
    exec(changed, names)
    assert names["ANSWER"] == "免去职务"


def test_a_source_that_does_not_compile_is_refused_and_not_kept(tmp_path: Path) -> None:
    source = tmp_path / "broken_probe.py"
    _write(source, "def broken(:\n")
    loader = KeptCodeLoader("broken_probe", str(source))
    with pytest.raises(SyntaxError):
        loader.get_code("broken_probe")
    assert str(source) not in gateway.module_code._compiled


def test_outside_a_sandbox_the_finder_gives_no_answer() -> None:
    keep_module_code()
    assert not workflow.unsafe.in_sandbox()
    assert SandboxCodeFinder.find_spec("workflows.glossary") is None


def test_inside_a_sandbox_it_keeps_a_source_modules_code_and_nothing_else() -> None:
    keep_module_code()
    workflow.unsafe._set_in_sandbox(True)
    try:
        source = SandboxCodeFinder.find_spec("workflows.glossary", None)
        import asyncpg.protocol

        extension = SandboxCodeFinder.find_spec(
            "asyncpg.protocol.protocol", list(asyncpg.protocol.__path__)
        )
        missing = SandboxCodeFinder.find_spec("no_such_module_anywhere")
    finally:
        workflow.unsafe._set_in_sandbox(False)
    assert source is not None and isinstance(source.loader, KeptCodeLoader)
    assert source.origin is not None and source.origin.endswith("workflows/glossary.py")
    assert extension is not None and type(extension.loader) is ExtensionFileLoader
    assert missing is None


def test_it_is_put_once_just_before_the_path_finder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "meta_path", [f for f in sys.meta_path if f is not SandboxCodeFinder])
    keep_module_code()
    keep_module_code()
    assert sys.meta_path.count(SandboxCodeFinder) == 1
    assert sys.meta_path.index(SandboxCodeFinder) + 1 == sys.meta_path.index(PathFinder)


def test_asked_directly_when_not_installed_it_asks_every_finder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "meta_path", [f for f in sys.meta_path if f is not SandboxCodeFinder])
    workflow.unsafe._set_in_sandbox(True)
    try:
        spec = SandboxCodeFinder.find_spec("workflows.glossary", None)
    finally:
        workflow.unsafe._set_in_sandbox(False)
    assert spec is not None and isinstance(spec.loader, KeptCodeLoader)
