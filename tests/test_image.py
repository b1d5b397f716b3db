"""The image, the wheel and the checkout hold the same files.

The Dockerfile's build stage copies the checkout less what ``.dockerignore`` leaves out and
builds the wheel from it; the image installs that wheel. Here the same file set is copied
to a folder of its own, the wheel is built from it and installed into a clean virtual
environment (its third-party packages lent from this one, the project itself not), and
there the commands the image runs must work and every module must import, from the
installed files rather than from this checkout. A folder the package list forgot, or a file
a package needs that the wheel leaves out, fails here instead of in production.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from settings import PROJECT_DIR

DOCKERFILE = PROJECT_DIR / "Dockerfile"
DOCKERIGNORE = PROJECT_DIR / ".dockerignore"
SKIPPED_IN_CHECKOUT = {"__pycache__"}
COMMAND_TIMEOUT = 120  # seconds for one build, install or command


def _pattern(line: str) -> re.Pattern[str]:
    """A .dockerignore line as a regular expression over slash-separated relative paths
    (``*`` and ``?`` stay within one path element, ``**`` spans any number of them)."""
    out = ""
    i = 0
    while i < len(line):
        if line.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif line.startswith("**", i):
            out += ".*"
            i += 2
        elif line[i] == "*":
            out += "[^/]*"
            i += 1
        elif line[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(line[i])
            i += 1
    return re.compile(out)


def ignore_patterns() -> list[re.Pattern[str]]:
    lines = [ln.strip() for ln in DOCKERIGNORE.read_text("utf-8").splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    assert not [ln for ln in lines if ln.startswith("!")], "exceptions (!) are not read here"
    return [_pattern(ln.strip("/")) for ln in lines]


def ignored(relative: str, patterns: list[re.Pattern[str]]) -> bool:
    """Docker leaves out a path when a pattern matches it or one of its parent folders."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(p.fullmatch(prefix) for p in patterns for prefix in prefixes)


def context_sources() -> list[str]:
    """The build-context paths the Dockerfile's COPY lines name (not ``COPY --from``)."""
    sources: list[str] = []
    for line in DOCKERFILE.read_text("utf-8").splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(w.startswith("--from") for w in words):
            sources += [w for w in words[1:-1] if not w.startswith("--")]
    return sources


def context_files() -> list[str]:
    """Every file of the checkout that the Dockerfile copies into a build, relative."""
    patterns = ignore_patterns()
    found: set[str] = set()
    for source in context_sources():
        root = (PROJECT_DIR / source).resolve()
        paths = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        for path in paths:
            relative = path.relative_to(PROJECT_DIR).as_posix()
            if not ignored(relative, patterns):
                found.add(relative)
    return sorted(found)


def checkout_package_files() -> set[str]:
    """The files of the packages and modules that pyproject.toml says the project is."""
    config = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text("utf-8"))
    setuptools = config["tool"]["setuptools"]
    tops = {
        pattern.split("*")[0].split(".")[0] for pattern in setuptools["packages"]["find"]["include"]
    }
    files = {f"{module}.py" for module in setuptools.get("py-modules", [])}
    for top in tops:
        for path in (PROJECT_DIR / top).rglob("*"):
            relative = path.relative_to(PROJECT_DIR)
            if path.is_file() and not SKIPPED_IN_CHECKOUT & set(relative.parts):
                if path.suffix != ".pyc":
                    files.add(relative.as_posix())
    return files


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
    )
    assert done.returncode == 0, (
        f"{command} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    )
    return done.stdout


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    site_packages: Path
    workdir: Path  # an empty folder: nothing there to import from
    env: dict[str, str]

    def python(self, code: str) -> str:
        return run([str(self.venv / "bin" / "python"), "-c", code], self.workdir, self.env)

    def command(self, *args: str) -> str:
        return run([str(self.venv / "bin" / "appointments"), *args], self.workdir, self.env)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    top = tmp_path_factory.mktemp("image")
    context = top / "context"
    for relative in context_files():
        target = context / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_DIR / relative, target)
    wheels = top / "wheels"
    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "--wheel-dir", str(wheels), str(context)],
        top,
    )  # fmt: skip
    (wheel,) = wheels.glob("*.whl")
    venv = top / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], top)
    python = venv / "bin" / "python"
    site_packages = Path(
        run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], top
        ).strip()
    )
    # third-party packages from this environment; its .pth files (the editable install of
    # this checkout among them) are not read from a folder added this way
    lent = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site_packages / "lent-dependencies.pth").write_text("\n".join(sorted(lent)) + "\n")
    run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", str(wheel)],
        top,
    )  # fmt: skip
    workdir = top / "empty"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return Installed(wheel, venv, site_packages, workdir, env)


def test_the_build_context_leaves_out_what_is_not_the_service() -> None:
    files = context_files()
    assert "pyproject.toml" in files and "workflows/appointment_case.py" in files
    assert "policy/default.yaml" in files
    for left_out in ("tests/", "bench/", ".venv/", ".git/", "data/", "secrets/"):
        assert not [f for f in files if f.startswith(left_out)], left_out
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]


def test_the_ignore_patterns_read_as_docker_reads_them() -> None:
    patterns = [_pattern(p) for p in ("**/__pycache__", "*.egg-info", "data", "**/*.pyc")]
    assert ignored("web/__pycache__/x.cpython-311.pyc", patterns)
    assert ignored("__pycache__/settings.cpython-311.pyc", patterns)
    assert ignored("cadre_appointments.egg-info/PKG-INFO", patterns)
    assert not ignored("store/x.egg-info/PKG-INFO", patterns)  # * stays in one element
    assert ignored("data/pg/postgresql.conf", patterns)
    assert not ignored("store/data.py", patterns) and not ignored("metadata/x", patterns)


def test_the_wheel_holds_exactly_the_checkouts_package_files(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        in_wheel = {n for n in wheel.namelist() if ".dist-info/" not in n}
    in_checkout = checkout_package_files()
    assert in_wheel == in_checkout, (
        f"in the checkout, not in the wheel: {sorted(in_checkout - in_wheel)}; "
        f"in the wheel, not in the checkout: {sorted(in_wheel - in_checkout)}"
    )
    for package in ("workflows", "activities", "store", "starter", "audit", "api", "web"):
        assert f"{package}/__init__.py" in in_wheel, package


def test_the_images_commands_run_from_the_installed_wheel(installed: Installed) -> None:
    assert "worker" in installed.command("--help")
    for command in ("worker", "migrate"):
        shown = installed.command(command, "--help")
        assert f"Usage: appointments {command}" in shown, shown
    where = installed.python(
        "import starter.cli, worker; print(starter.cli.__file__, worker.__file__)"
    )
    for path in where.split():
        assert Path(path).is_relative_to(installed.site_packages), path


def test_every_installed_module_imports_from_the_installed_files(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        modules = sorted(
            n[: -len(".py")].replace("/", ".").removesuffix(".__init__")
            for n in wheel.namelist()
            # alembic runs the migration scripts itself, inside its own context
            if n.endswith(".py") and not n.startswith("store/migrations/")
        )
    assert len(modules) > 50
    code = (
        "import importlib, sys\n"
        f"site = {str(installed.site_packages)!r}\n"
        f"for name in {modules!r}:\n"
        "    module = importlib.import_module(name)\n"
        "    assert module.__file__.startswith(site), (name, module.__file__)\n"
        "print(len(sys.modules))\n"
    )
    assert int(installed.python(code)) > len(modules)
