"""Which part of the service may import which: the front ends (the command line in
``starter``, the HTTP API in ``api``, the pages in ``web``) stand on the rest, never the
other way round, and the pages share the API's services, not its routes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from settings import PROJECT_DIR

BELOW_THE_FRONT_ENDS = ("workflows", "activities", "store", "audit", "gateway")
FRONT_ENDS = ("api", "web")
TOP_MODULES = ("worker.py", "settings.py")


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
