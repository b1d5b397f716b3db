"""Every help text of the command line is in Chinese: the root group's, every command's and
subcommand's (walked down click's command tree, the lazily loaded groups too), and every
option's and argument's. What may stay in Latin letters: option names, metavars and
settings (``--held-on``, ``FILE``, ``DATABASE_URL``), commands in backticks, file names,
codes and the names of the tools the service runs on."""

from __future__ import annotations

import re
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from starter.cli import cli, run
from starter.click_zh import ZhCommand

# three words of Latin letters in a row: an English sentence, or the start of one
ENGLISH = re.compile(r"\b[A-Za-z][a-z']+(?:[ ,;:()/-]+[A-Za-z][a-z']+){2,}\b")
KEEP_OUT = [
    re.compile(r"`[^`]*`"),  # a command or a value quoted as code
    re.compile(r"\bappointments(?: [a-z][a-z-]*)+"),  # a command of this program
    re.compile(r"https?://\S+"),
    re.compile(r"(?<!\w)--?[a-z][a-z0-9-]*"),  # option names
    re.compile(r"\b[A-Z][A-Z0-9_]*[A-Z0-9]\b"),  # metavars, settings, formats (YYYY-MM-DD)
    re.compile(r"\b[\w.-]+\.(?:csv|yaml|yml|json|html|pem|xlsx|key|db)\b"),  # file names
    re.compile(r"\b[a-z]+(?:[._][a-z]+)+\b"),  # codes and identifiers: vote.quorum, case_id
]
# Names of the tools the service runs on and of the things they hold, as they call them.
NAMES = ("Temporal Web UI", "Web UI", "Temporal", "PostgreSQL", "Excel", "CSV UTF-8")


def english_in(text: str) -> list[str]:
    for name in NAMES:
        text = text.replace(name, " ")
    for pattern in KEEP_OUT:
        text = pattern.sub(" ", text)
    return ENGLISH.findall(text)


def commands(
    group: click.Group, ctx: click.Context, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, (path, name)
        yield (*path, name), command
        if isinstance(command, click.Group):
            sub = click.Context(command, info_name=name, parent=ctx)
            yield from commands(command, sub, (*path, name))


def help_texts(command: click.Command) -> Iterator[tuple[str, str]]:
    for where, text in (
        ("help", command.help),
        ("short_help", command.short_help),
        ("epilog", command.epilog),
    ):
        if text:
            yield where, text
    for param in command.params:
        if isinstance(param, click.Option) and param.help:
            yield f"option {param.opts[0]}", param.help


ROOT = click.Context(cli, info_name="appointments")
TREE = [(("appointments",), cli), *commands(cli, ROOT)]


def test_the_tree_is_walked_whole() -> None:
    names = {path for path, _ in TREE}
    assert len(names) > 40, "too few commands found: the walk missed the groups"
    assert ("audit", "verify") in names and ("case", "start") in names


@pytest.mark.parametrize(("path", "command"), TREE, ids=[" ".join(p) for p, _ in TREE])
def test_every_help_text_is_chinese(path: tuple[str, ...], command: click.Command) -> None:
    english = {
        f"{where}: {found!r} in {text!r}"
        for where, text in help_texts(command)
        for found in english_in(text)
    }
    assert not english, sorted(english)
    if command.help is not None:
        assert re.search(r"[\u4e00-\u9fff]", command.help), f"no Chinese in {command.help!r}"


@pytest.mark.parametrize(
    "path", [p for p, _ in TREE if p != ("appointments",)], ids=lambda p: " ".join(p)
)
def test_every_help_page_shows(path: tuple[str, ...]) -> None:
    shown = CliRunner().invoke(cli, [*path, "--help"], prog_name="appointments")
    assert shown.exit_code == 0, shown.output
    assert re.search(r"[\u4e00-\u9fff]", shown.output), shown.output
    assert not english_in(shown.output), english_in(shown.output)
    assert "default:" not in shown.output and "required]" not in shown.output


@pytest.mark.parametrize(
    ("text", "english"),
    [
        ("record the vote of the standing committee", True),
        ("登记常委会票决结果（见 `appointments vote record --help`）", False),
        ("文件格式：appointments schema scores。", False),
        ("期限（YYYY-MM-DD），默认 DATABASE_URL；文件 case.yaml", False),
        ("代码 vote.quorum，字段 person_id", False),
    ],
)
def test_the_scan_sees_a_sentence(text: str, english: bool) -> None:
    assert bool(english_in(text)) == english


def test_clicks_own_words_are_chinese_too() -> None:
    """The headings, the help option and a malformed command line's refusal."""
    runner = CliRunner()
    page = runner.invoke(cli, ["case", "--help"], prog_name="appointments").output
    assert page.startswith("用法：appointments case")
    assert "选项：" in page and "命令：" in page and "显示本帮助并退出。" in page
    assert "Usage" not in page and "Show this message" not in page
    listing = runner.invoke(cli, ["case", "list", "--help"], prog_name="appointments").output
    assert "[默认：100；1<=x<=10000]" in listing, listing


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["case", "show"], "错误：缺少参数 'CASE'"),
        (["nosuch"], "错误：没有命令 nosuch"),
        (["case", "list", "--bogus"], "错误：没有选项 --bogus"),
        (["case", "list", "--limit", "abc"], "错误：'--limit' 的值不对：应为整数"),
    ],
)
def test_a_malformed_command_line_is_refused_in_chinese(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(argv) == 2
    err = capsys.readouterr().err
    assert said in err and "请运行「appointments" in err
    assert "Error" not in err and "Try '" not in err


def test_every_command_speaks_chinese_of_its_own() -> None:
    """Every command and group is of the classes that put click's own words in Chinese."""
    root = click.Context(cli, info_name="appointments")
    plain = [" ".join(path) for path, c in commands(cli, root) if not isinstance(c, ZhCommand)]
    assert plain == []
