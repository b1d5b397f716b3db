"""The workflows' own modules keep their annotations as objects (no ``from __future__ import
annotations``): the sandbox runs a workflow's module body again for every run it brings into
memory, and the SDK reads each handler's annotations in that body; as strings each would be
compiled and evaluated again, for every case, probation and campaign the worker takes up."""

from __future__ import annotations

import ast
import inspect
import sys

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


def test_no_workflow_module_has_its_annotations_as_strings() -> None:
    workflows, _ = worker_parts(load_settings({}), async_sessionmaker())
    modules = {w.__module__ for w in workflows}
    assert "workflows.appointment_case" in modules and "workflows.probation" in modules
    found = {m: _future_imports(m) for m in sorted(modules)}
    assert all(not names for names in found.values()), found
