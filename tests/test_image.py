"""The image, the wheel and the checkout hold the same files.

The Dockerfile's build stage copies the checkout less what ``.dockerignore`` leaves out and
builds the wheel from it; the image installs that wheel. Here the same file set is copied
to a folder of its own, the wheel is built from it and installed into a clean virtual
environment (its third-party packages lent from this one, the project itself not), and
there the commands the image runs must work and every module must import, from the
installed files rather than from this checkout. A folder the package list forgot, or a file
a package needs that the wheel leaves out, fails here instead of in production.

Then the image's roles run from that environment as compose runs them, each its own process:
``migrate`` on an empty database, two ``worker`` processes on one task queue and ``web``,
against the Temporal dev server; their probes (``appointments health worker|web``) must
pass, and one case goes from its start to the appointment through the HTTP API.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import tomllib
import uuid
import zipfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from settings import PROJECT_DIR
from store.account_models import create_account, issue_token
from store.db import make_engine, make_session_factory
from tests.conftest import free_port
from tests.workflows.scenarios import (
    APPOINTED_ON,
    INSPECTION_DONE,
    INSPECTION_START,
    INVESTIGATION_NOTICE,
    MEETING_DAY,
    NOTICE_DAY,
    regular_case,
)
from workflows.types import FOUR_MUSTS, Role

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
    policy: Path  # the default policy, as the image copies it

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
    return Installed(wheel, venv, site_packages, workdir, env, context / "policy" / "default.yaml")


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
    for command in ("worker", "migrate", "web", "health"):
        shown = installed.command(command, "--help")
        assert f"用法：appointments {command}" in shown, shown
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


# --------------------------------------------------------------------------- the roles running

TEST_SUPPLEMENT = PROJECT_DIR / "tests" / "fixtures" / "calendar-test-supplement.yaml"
START_TIMEOUT = 60.0  # seconds for a role to pass its probe
STOP_TIMEOUT = 30.0


@dataclass
class RoleProcess:
    name: str
    process: asyncio.subprocess.Process
    log: Path

    def tail(self) -> str:
        return f"--- {self.name} ({self.log}):\n" + self.log.read_text("utf-8", "replace")[-3000:]


@dataclass
class Roles:
    installed: Installed
    env: dict[str, str]
    logs_dir: Path
    running: list[RoleProcess]

    async def start(self, name: str, *args: str, **extra: str) -> RoleProcess:
        log = self.logs_dir / f"{name}.log"
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                str(self.installed.venv / "bin" / "appointments"),
                *args,
                cwd=self.installed.workdir,
                env={**self.env, **extra},
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )
        role = RoleProcess(name, process, log)
        self.running.append(role)
        return role

    async def probe(self, *args: str, **extra: str) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            str(self.installed.venv / "bin" / "appointments"),
            "health",
            *args,
            cwd=self.installed.workdir,
            env={**self.env, **extra},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await process.communicate()
        return process.returncode or 0, out.decode("utf-8", "replace")

    async def until_probe_passes(self, role: RoleProcess, *args: str, **extra: str) -> str:
        loop = asyncio.get_running_loop()
        give_up = loop.time() + START_TIMEOUT
        while True:
            status, said = await self.probe(*args, **extra)
            if status == 0:
                return said
            assert role.process.returncode is None, f"{role.name} stopped:\n{role.tail()}"
            assert loop.time() < give_up, f"{role.name} never ready: {said}\n{role.tail()}"
            await asyncio.sleep(0.3)

    def logs(self) -> str:
        return "\n".join(role.tail() for role in self.running)


@asynccontextmanager
async def running_roles(
    installed: Installed, env: dict[str, str], logs_dir: Path
) -> AsyncIterator[Roles]:
    roles = Roles(installed, env, logs_dir, [])
    try:
        yield roles
    finally:
        for role in roles.running:
            if role.process.returncode is None:
                role.process.kill()
                await role.process.wait()


async def stop(role: RoleProcess) -> int:
    role.process.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(role.process.wait(), STOP_TIMEOUT)
    except TimeoutError:
        pytest.fail(f"{role.name} did not stop on SIGTERM:\n{role.tail()}")


async def make_accounts(database_url: str) -> dict[Role, tuple[str, dict[str, str]]]:
    """An account with a token for each person of the story: name and request headers."""
    engine = make_engine(database_url)
    made: dict[Role, tuple[str, dict[str, str]]] = {}
    try:
        sessions = make_session_factory(engine)
        for role in (Role.CLERK, Role.INSPECTION_TEAM, Role.COMMITTEE_SECRETARY, Role.AUDITOR):
            name = f"{role.value}-{uuid.uuid4().hex[:6]}"
            async with sessions() as session:
                await create_account(session, name, role)
                _, token = await issue_token(session, name)
                await session.commit()
            made[role] = (name, {"Authorization": f"Bearer {token}"})
    finally:
        await engine.dispose()
    return made


async def appoint_through_the_api(
    base_url: str,
    people: dict[Role, tuple[str, dict[str, str]]],
    case_id: str,
    logs: Callable[[], str],
) -> None:
    """A regular case from its start to appointed, every step by its role's account through
    the HTTP API; ``logs`` says what the services printed, for a failure."""
    clerk = people[Role.CLERK][1]
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        body = regular_case(case_id).model_dump(mode="json", exclude={"opened_by"})
        started = await http.post("/cases", json=body, headers=clerk)
        assert started.status_code == 201, (started.text, logs())
        for who, update, step in the_story(case_id, people[Role.INSPECTION_TEAM][0]):
            answer = await http.post(
                f"/cases/{case_id}/steps/{update}", json=step, headers=people[who][1]
            )
            assert answer.status_code == 200, (update, answer.text, logs())
        # the notice period is over (the real clock is past it): the case moves on itself
        stage = ""
        for _ in range(300):
            shown = await http.get(f"/cases/{case_id}", headers=people[Role.AUDITOR][1])
            stage = shown.json()["state"]["stage"]
            if stage == "appointment":
                break
            await asyncio.sleep(0.1)
        assert stage == "appointment", (stage, logs())
        appointment = {
            "person_id": "p1",
            "notice_issued_on": str(APPOINTED_ON),
            "talk_held_on": str(APPOINTED_ON),
            "talk_by": "部长 赵",
        }
        done = await http.post(
            f"/cases/{case_id}/steps/record_appointment", json=appointment, headers=clerk
        )
        assert done.status_code == 200, (done.text, logs())
        assert (done.json()["stage"], done.json()["status"]) == ("closed", "appointed")


def the_story(case_id: str, team: str) -> list[tuple[Role, str, dict[str, Any]]]:
    """Every step of a regular case up to the public notice (who, update, body), on the
    known-good timeline of tests/workflows/scenarios.py."""
    steps: list[tuple[Role, str, dict[str, Any]]] = [
        (Role.CLERK, "record_investigation_notice", {"published_on": str(INVESTIGATION_NOTICE)}),
        (
            Role.CLERK,
            "record_inspection_team",
            {"members": [team, "周干事"], "started_on": str(INSPECTION_START)},
        ),
    ]
    for pid in ("p1", "p2"):
        steps += [
            (
                Role.INSPECTION_TEAM,
                "record_inspection_check",
                {
                    "person_id": pid,
                    "check": c.value,
                    "completed_on": "2026-09-10",
                    "finding": "无问题",
                },
            )
            for c in FOUR_MUSTS
        ]
        steps += [
            (
                Role.INSPECTION_TEAM,
                "record_democratic_evaluation",
                {
                    "person_id": pid,
                    "held_on": "2026-09-09",
                    "participants": 40,
                    "excellent": 30,
                    "competent": 8,
                    "basically_competent": 2,
                    "incompetent": 0,
                },
            ),
            (
                Role.INSPECTION_TEAM,
                "record_inspection_report",
                {"person_id": pid, "submitted_on": str(INSPECTION_DONE), "summary": "德才表现良好"},
            ),
        ]
    meeting = {
        "meeting_id": "M1",
        "held_on": str(MEETING_DAY),
        "members": 11,
        "present": 9,
        "method": "secret_ballot",
    }
    return [
        *steps,
        (Role.CLERK, "conclude_inspection", {"concluded_on": "2026-09-16", "proposed": ["p1"]}),
        (
            Role.COMMITTEE_SECRETARY,
            "record_vote",
            {"meeting": meeting, "items": [{"person_id": "p1", "agree": 8, "disagree": 1}]},
        ),
        (Role.CLERK, "record_public_notice", {"notice_id": "N1", "published_on": str(NOTICE_DAY)}),
    ]


@pytest.mark.devserver
async def test_migrate_worker_and_web_run_from_the_installed_wheel_and_appoint(
    installed: Installed,
    devserver: WorkflowEnvironment,
    throwaway_database_url: str,
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {
        **installed.env,
        "DATABASE_URL": throwaway_database_url,
        "TEMPORAL_ADDRESS": devserver.client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": devserver.client.namespace,
        "TASK_QUEUE": f"image-{uuid.uuid4().hex[:8]}",
        "POLICY_FILE": str(installed.policy),
        "CALENDAR_SUPPLEMENT": str(TEST_SUPPLEMENT),
        "WEB_HOST": "127.0.0.1",
        "WEB_PORT": str(port),
    }
    for name in ("PAYLOAD_KEY_FILES", "AUDIT_SIGNING_KEY", "SMTP_HOST", "WORKER_READY_FILE"):
        env.pop(name, None)
    async with running_roles(installed, env, tmp_path) as roles:
        migrate = await roles.start("migrate", "migrate")
        assert await migrate.process.wait() == 0, migrate.tail()
        assert "上的数据库已是最新结构" in migrate.log.read_text("utf-8")

        # two workers on one queue, as compose runs them, each with its own ready file
        workers = [
            await roles.start(f"worker-{i}", "worker", WORKER_READY_FILE=str(tmp_path / f"w{i}"))
            for i in (1, 2)
        ]
        web = await roles.start("web", "web")
        for i, worker in enumerate(workers, 1):
            await roles.until_probe_passes(
                worker, "worker", WORKER_READY_FILE=str(tmp_path / f"w{i}")
            )
        ready = await roles.until_probe_passes(web, "web")
        assert '"status":"ready"' in ready.replace(" ", ""), ready

        people = await make_accounts(throwaway_database_url)
        case_id = f"IMG-{uuid.uuid4().hex[:8]}"
        await appoint_through_the_api(f"http://127.0.0.1:{port}", people, case_id, roles.logs)

        for role in (web, *workers):
            assert await stop(role) == 0, role.tail()
        for i in (1, 2):  # a stopped worker withdraws its signal
            assert not (tmp_path / f"w{i}").exists()
