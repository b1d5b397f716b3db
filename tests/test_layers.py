"""Which part of the service may import which: the front ends (the command line in
``starter``, the HTTP API in ``api``, the pages in ``web``) stand on the rest, never the
other way round, and the pages share the API's services, not its routes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from settings import PROJECT_DIR

BELOW_THE_FRONT_ENDS = ("workflows", "activities", "store", "audit", "gateway", "sheets")
FRONT_ENDS = ("api", "web")
TOP_MODULES = ("worker.py", "settings.py", "stack_state.py")


def imported(path: Path) -> set[str]:
    """Every module a file imports, at any depth of its code (lazy imports included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def files(*tops: str) -> list[Path]:
    found: list[Path] = []
    for top in tops:
        path = PROJECT_DIR / top
        found += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return found


@pytest.mark.parametrize(
    "path",
    files(*BELOW_THE_FRONT_ENDS, *FRONT_ENDS, *TOP_MODULES),
    ids=lambda p: p.relative_to(PROJECT_DIR).as_posix(),
)
def test_nothing_but_the_command_line_imports_the_command_line(path: Path) -> None:
    assert not [m for m in imported(path) if m == "starter" or m.startswith("starter.")]


@pytest.mark.parametrize(
    "path", files(*BELOW_THE_FRONT_ENDS), ids=lambda p: p.relative_to(PROJECT_DIR).as_posix()
)
def test_the_core_imports_no_front_end(path: Path) -> None:
    front = [m for m in imported(path) if m.split(".")[0] in FRONT_ENDS]
    assert not front, front


@pytest.mark.parametrize("path", files("web"), ids=lambda p: p.relative_to(PROJECT_DIR).as_posix())
def test_the_pages_import_no_route_of_the_api(path: Path) -> None:
    routes = [m for m in imported(path) if m == "api.routers" or m.startswith("api.routers.")]
    assert not routes, routes


def test_the_check_sees_an_import_where_there_is_one(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from starter.cli import cli\n    import api.routers.audit\n")
    assert {"starter.cli", "starter.cli.cli", "api.routers.audit"} <= imported(sample)


# Temporal's client calls that reach a workflow; only the gateway makes them for a front end.
WORKFLOW_CALLS = {"get_workflow_handle", "start_workflow", "execute_update", "query"}


def workflow_calls(path: Path) -> set[str]:
    """The client methods of ``WORKFLOW_CALLS`` a file calls on something other than the
    gateway's own modules (``cases.execute_update`` is the gateway's; ``handle.query`` is not)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            via_gateway = isinstance(owner, ast.Name) and owner.id in (
                "cases",
                "probations",
                "temporal",
            )
            if node.func.attr in WORKFLOW_CALLS and not via_gateway:
                found.add(node.func.attr)
    return found


@pytest.mark.parametrize(
    "path", files("starter", *FRONT_ENDS), ids=lambda p: p.relative_to(PROJECT_DIR).as_posix()
)
def test_the_front_ends_reach_the_workflows_only_through_the_gateway(path: Path) -> None:
    assert not workflow_calls(path)


def test_the_gateway_check_sees_a_direct_call(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "async def f(client, cases):\n"
        "    await client.get_workflow_handle('x').query('state')\n"
        "    await cases.execute_update(client, 'c', 'u', None)\n"
    )
    assert workflow_calls(sample) == {"get_workflow_handle", "query"}
