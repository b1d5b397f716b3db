"""The workflows' own modules keep their annotations as objects (no ``from __future__ import
annotations``): the sandbox runs a workflow's module body again for every run it brings into
memory, and the SDK reads each handler's annotations in that body; as strings each would be
compiled and evaluated again, for every case, probation and campaign the worker takes up.

Nor do they import a module as ``from workflows import module``: the sandbox imports a workflow
module's own packages afresh for each run, and a module named from such a fresh package is
imported again for every run even inside ``imports_passed_through()`` (``import
workflows.module as name`` is passed through)."""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
from types import ModuleType

from sqlalchemy.ext.asyncio import async_sessionmaker

from settings import load_settings
from worker import worker_parts


def _future_imports(module_name: str) -> list[str]:
    tree = ast.parse(inspect.getsource(sys.modules[module_name]))
    return [
        alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module == "__future__"
        for alias in node.names
    ]


def _workflow_modules() -> set[str]:
    workflows, _ = worker_parts(load_settings({}), async_sessionmaker())
    modules = {w.__module__ for w in workflows}
    assert "workflows.appointment_case" in modules and "workflows.probation" in modules
    return modules


def test_no_workflow_module_has_its_annotations_as_strings() -> None:
    found = {m: _future_imports(m) for m in sorted(_workflow_modules())}
    assert all(not names for names in found.values()), found


def _modules_named_from_a_parent_package(module_name: str) -> list[str]:
    """The modules ``module_name``'s body imports as ``from parent import module``, where the
    parent is one of its own packages (which the sandbox imports afresh for each run)."""
    parts = module_name.split(".")
    parents = {".".join(parts[:n]) for n in range(1, len(parts))}
    tree = ast.parse(inspect.getsource(sys.modules[module_name]))
    return [
        f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in parents
        for alias in node.names
        if isinstance(getattr(importlib.import_module(node.module), alias.name, None), ModuleType)
    ]


def test_no_workflow_module_names_a_module_the_sandbox_would_import_again() -> None:
    found = {m: _modules_named_from_a_parent_package(m) for m in sorted(_workflow_modules())}
    assert all(not names for names in found.values()), found
