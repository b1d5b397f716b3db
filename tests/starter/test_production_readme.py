"""The README's production section tells an operator only commands that exist: every
`appointments ...` it names is a command of the command line, with options that command has,
and every compose service it names is one of docker-compose.yml's."""

from __future__ import annotations

import re

import click
import pytest
import yaml

from settings import PROJECT_DIR
from starter.cli import cli

README = PROJECT_DIR / "README.md"
COMPOSE = PROJECT_DIR / "docker-compose.yml"

# a command as the README writes it: up to a closing backtick, a comment or the line's end
_COMMAND = re.compile(r"(?<![\w-])appointments ((?:[a-z][\w-]*)(?:[ ]+[^`#\n]*)?)")
_COMPOSE_SERVICE = re.compile(
    r"docker compose (?:exec|run|logs|restart|stop|start|up)\b((?:[ ]+-{1,2}[\w-]+(?:=\S+)?)*)"
    r"[ ]+([a-z][\w-]*(?:[ ]+[a-z][\w-]*)*)"
)


def _section() -> str:
    """The section, each command on one line: a shell line continued with a backslash, and
    inline code that the prose wraps, joined up."""
    text = README.read_text("utf-8")
    start = text.index("## Production: docker compose")
    parts = text[start : text.index("\n## ", start + 1)].replace("\\\n", " ").split("```")
    for i in range(0, len(parts), 2):  # outside the fenced blocks
        parts[i] = re.sub(r"`[^`]+`", lambda m: re.sub(r"\s*\n\s*", " ", m.group(0)), parts[i])
    return "```".join(parts)


def _commands() -> list[str]:
    return [m.group(1).strip() for m in _COMMAND.finditer(_section())]


def test_the_section_names_commands() -> None:
    named = {" ".join(c.split()[:2]) for c in _commands()}
    for wanted in ("encryption keygen", "audit rotate-key", "audit verify", "health worker"):
        assert wanted in named, named


@pytest.mark.parametrize("written", sorted(set(_commands())))
def test_every_command_the_section_names_exists(written: str) -> None:
    tokens = written.split()
    command: click.Command = cli
    used: list[str] = []
    while isinstance(command, click.Group) and tokens:
        sub = command.get_command(click.Context(command), tokens[0])
        if sub is None:
            break
        command, used = sub, [*used, tokens.pop(0)]
    assert used, f"`appointments {written}`: no such command"
    assert not isinstance(command, click.Group), f"`appointments {written}` names a group"
    options = {opt for param in command.params for opt in param.opts}
    for token in tokens:
        if token.startswith("--"):
            assert token.split("=")[0] in options, f"`appointments {written}`: no {token}"


def test_every_compose_service_the_section_names_exists() -> None:
    services = set(yaml.safe_load(COMPOSE.read_text("utf-8"))["services"])
    named: set[str] = set()
    for match in _COMPOSE_SERVICE.finditer(_section()):
        words = match.group(2).split()
        # `exec`/`run` take one service, then its command; the others a list of services
        named |= {words[0]} if re.search(r"compose (exec|run)", match.group(0)) else set(words)
    assert named and named <= services, named - services
