"""The README's command line runs as written: every ```sh block of its "Command line" section,
in order, one command at a time, against a fresh embedded stack (``appointments serve`` in a
subprocess, on free ports, with a data folder of its own).

Each command runs in ``bash -eo pipefail`` from the project folder, with ``appointments`` on
the PATH (what ``. .venv/bin/activate`` does) and none of the service's settings in the
environment but the data folder: the commands must find the stack by its state file, as the
README says. The person's configuration folder is a fresh one, where ``appointments login``
keeps the token by default. A command passes when it exits 0 and prints, among its output,
every text its comment shows after ``→``. The one command ``appointments login`` typed alone
is given what the README says to paste: the Admin API token the stack printed.

Blocks that do not run are listed in ``NOT_RUN`` with the reason, by their subsection.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from settings import PROJECT_DIR, SETTING_NAMES
from stack_state import STACK_NOT_RUNNING, STATE_FILE
from tests.test_embedded import ServeProcess

pytestmark = pytest.mark.devserver

README = PROJECT_DIR / "README.md"
SECTION = "Command line"
# subsection -> why its blocks do not run here
NOT_RUN = {
    "Finding cases in Temporal": "Temporal's own CLI talks to 127.0.0.1:7233, not the test's port",
}
# what the person types when a command asks (the token is not shown)
TYPED_LOGIN = "appointments login"
COMMAND_TIMEOUT = 60.0
EXPECTED = "→"


@dataclass(frozen=True)
class Command:
    text: str  # as bash runs it, comments and all
    expected: tuple[str, ...]  # what its comments show it prints
    line: int  # where it starts in the README

    @property
    def code(self) -> str:
        return " ".join(_code(line) for line in self.text.splitlines()).strip()


def _code(line: str) -> str:
    """The line without its comment (``#`` at the start or after a blank, as bash reads it)."""
    return re.split(r"(?:^|\s)#", line, maxsplit=1)[0]


def _comment(line: str) -> str:
    parts = re.split(r"(?:^|\s)#", line, maxsplit=1)
    return parts[1] if len(parts) == 2 else ""


def readme_blocks(text: str) -> list[tuple[str, int, str]]:
    """The ```sh blocks of the section: (subsection, first line's number, the block)."""
    blocks: list[tuple[str, int, str]] = []
    inside = False
    subsection = ""
    block: list[str] | None = None
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if block is not None:
            if line.startswith("```"):
                blocks.append((subsection, start, "\n".join(block)))
                block = None
            else:
                block.append(line)
            continue
        if line.startswith("## "):
            inside = line[3:].strip() == SECTION
            subsection = ""
        elif inside and line.startswith("### "):
            subsection = line[4:].strip()
        elif inside and line.strip() == "```sh":
            block, start = [], number + 1
    return blocks


def commands(block: str, first_line: int) -> list[Command]:
    """The block's commands: a line, with the lines it continues (``\\``) and, for a loop,
    every line to its ``done``. Blank lines and lines of comment alone are not commands."""
    found: list[Command] = []
    lines: list[str] = []
    depth = 0
    start = first_line
    for number, line in enumerate(block.splitlines(), start=first_line):
        code = _code(line)
        if not lines and not code.strip():
            continue
        if not lines:
            start = number
        lines.append(line)
        first = code.split()[0] if code.split() else ""
        depth += first in ("for", "while", "until")
        depth -= first == "done"
        if depth == 0 and not code.rstrip().endswith("\\"):
            expected = tuple(
                c.split(EXPECTED, 1)[1].strip() for c in map(_comment, lines) if EXPECTED in c
            )
            found.append(Command("\n".join(lines), expected, start))
            lines = []
    assert not lines, f"README line {start}: a command that does not end: {lines}"
    return found


def readme_commands() -> list[Command]:
    blocks = readme_blocks(README.read_text("utf-8"))
    subsections = {name for name, _, _ in blocks}
    assert set(NOT_RUN) <= subsections, f"NOT_RUN names no block of the README: {NOT_RUN}"
    return [
        command
        for name, line, block in blocks
        if name not in NOT_RUN
        for command in commands(block, line)
    ]


# --------------------------------------------------------------------------- the stack


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[ServeProcess, dict[str, str]]]:
    serve = ServeProcess(
        tmp_path / "data",
        ui_port=_free_port(),
        temporal_port=_free_port(),
        api_port=_free_port(),
    )
    try:
        yield serve, serve.wait_ready()
    finally:
        serve.kill()


def shell_env(data_dir: Path, home: Path) -> dict[str, str]:
    """A shell as the README's reader has one: ``appointments`` on the PATH, no setting of
    the service exported, a configuration folder of their own; only the data folder is this
    test's (the README: ``DATA_DIR``, default ``data/``)."""
    personal = {"APPOINTMENTS_TOKEN", "APPOINTMENTS_TOKEN_FILE", "XDG_CONFIG_HOME", "HOME"}
    env = {k: v for k, v in os.environ.items() if k not in {*SETTING_NAMES, *personal}}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(DATA_DIR=str(data_dir), HOME=str(home), PYTHONIOENCODING="utf-8", COLUMNS="200")
    return env


def run_command(command: Command, env: dict[str, str], typed: str | None) -> str:
    """Run one command; fail with its output unless it exits 0 and prints what it should."""
    try:
        done = subprocess.run(
            ["bash", "-eo", "pipefail", "-c", command.text],
            cwd=PROJECT_DIR,
            env=env,
            input=typed,
            stdin=None if typed is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"README line {command.line}: no answer within {COMMAND_TIMEOUT} s: {exc}")
    output = done.stdout + done.stderr
    report = (
        f"README line {command.line}:\n{command.text}\nexited {done.returncode}\n"
        f"--- stdout:\n{done.stdout}--- stderr:\n{done.stderr}"
    )
    assert done.returncode == 0, report
    for text in command.expected:
        assert text in output, f"{text!r} not printed; {report}"
    return output


# --------------------------------------------------------------------------- the tests


def test_the_section_splits_into_commands() -> None:
    found = readme_commands()
    assert len(found) >= 20, [c.text for c in found]
    # the first one signs in with the token the stack printed, as the README tells
    assert found[0].code == TYPED_LOGIN
    loops = [c for c in found if c.code.startswith("for ")]
    assert loops and loops[0].code.endswith("done"), loops
    continued = [c for c in found if "\\\n" in c.text]
    assert continued and all(c.expected for c in continued[1:]), continued
    assert sum(bool(c.expected) for c in found) >= 15


def test_a_command_fails_unless_it_does_what_the_text_says(tmp_path: Path) -> None:
    env = shell_env(tmp_path / "data", tmp_path)
    block = "echo 已登录：admin   # → 已登录\nfalse | true  # a pipe fails with any part\n"
    said, piped = commands(block, 1)
    assert run_command(said, env, None) == "已登录：admin\n"
    with pytest.raises(AssertionError, match="exited 1"):
        run_command(piped, env, None)
    [wrong] = commands("echo 已登录：admin   # → 已退出", 1)
    with pytest.raises(AssertionError, match="'已退出' not printed"):
        run_command(wrong, env, None)
    [loop] = commands("for x in 1 2; do\n  test $x = 1   # → nothing\ndone", 7)
    assert (loop.line, loop.expected) == (7, ("nothing",))
    with pytest.raises(AssertionError, match="README line 7"):
        run_command(loop, env, None)


def test_the_readme_runs_as_written(
    stack: tuple[ServeProcess, dict[str, str]], tmp_path: Path
) -> None:
    serve, banner = stack
    state_file = serve.data_dir / STATE_FILE
    assert state_file.exists() and (state_file.stat().st_mode & 0o777) == 0o600
    admin_token = banner["Admin API token"].split()[0]
    home = tmp_path / "home"
    home.mkdir()
    env = shell_env(serve.data_dir, home)

    ran = 0
    for command in readme_commands():
        typed = admin_token + "\n" if command.code == TYPED_LOGIN else None
        run_command(command, env, typed)
        ran += 1
    assert ran >= 20

    # stopped, the stack says so: its state file is gone, and so is the stack for a command
    assert serve.interrupt_and_wait() == 0, serve.output()
    assert not state_file.exists()
    done = subprocess.run(
        ["appointments", "case", "list"],
        cwd=PROJECT_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )
    assert done.returncode == 3, done
    assert done.stderr.startswith(f"错误：{STACK_NOT_RUNNING}"), done.stderr
