"""The command line: how the department's staff open cases and record each step of them.

A step is recorded as the account whose token the person gave (``appointments login``, or
``APPOINTMENTS_TOKEN``; ``starter.identity``), looked up before anything else is read, and
the case's workflow checks that account's role as it does for the HTTP API. Every command
reads and checks all of its input (files, options, the rules that can be checked without
the case) before it talks to Temporal, so malformed input never leaves a step half
recorded. Steps go to the case's workflow as updates; the workflow's answer, the case's
state, is printed back. Listings and histories come from the database.

Exit status: 0 done; 1 refused (by a rule, by the step table for the account's role, a token
that is not valid, or the case is missing or already exists); 2 malformed input, or no
token; 3 Temporal, the database, the policy file or a payload key (PAYLOAD_KEY_FILES) cannot
be reached; 70 a fault of this program (with a traceback).

This module is the entry point (``appointments``, ``python -m starter.cli``): the root group,
every command group registered on it, and ``run``/``main``. What the commands share is in
``starter.cli_base``, the reading of input files in ``starter.inputs``, the commands in the
``*_cli`` modules. The names other code imports from here are re-exported.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

import click

from gateway.payload_keys import EMBEDDED_KEY_FILE, PayloadKeyError
from settings import Settings, load_settings
from starter.cli_base import (
    DATE,
    EXIT_BUG,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_REFUSED,
    EXIT_UNREACHABLE,
    PERSON_ROLES,
    App,
    CliError,
    InputError,
    Refused,
    Unreachable,
    _problems,
    build,
    database,
    echo_json,
    format_instant,
    open_client,
    pass_app,
    table,
    validation_lines,
)
from starter.click_zh import ZhGroup, show_usage_problem
from starter.inputs import (
    CsvProblems,
    load_data_file,
    load_model,
    read_applicants,
    read_csv,
    read_scores,
)

__all__ = [
    "DATE",
    "EXIT_BUG",
    "EXIT_INPUT",
    "EXIT_INTERRUPTED",
    "EXIT_REFUSED",
    "EXIT_UNREACHABLE",
    "PERSON_ROLES",
    "App",
    "CliError",
    "CsvProblems",
    "InputError",
    "Refused",
    "Unreachable",
    "_problems",
    "build",
    "cli",
    "database",
    "echo_json",
    "format_instant",
    "load_data_file",
    "load_model",
    "main",
    "open_client",
    "pass_app",
    "read_applicants",
    "read_csv",
    "read_scores",
    "run",
    "table",
    "validation_lines",
]


# Each command's module, imported only when the command runs (or --help lists it): a step
# need not import the web service, the worker and the dossier exporter before it starts.
COMMAND_MODULES: dict[str, str] = {
    "serve": "starter.service_cli",
    "worker": "starter.service_cli",
    "migrate": "starter.service_cli",
    "web": "starter.service_cli",
    "health": "starter.service_cli",
    "case": "starter.case_cli",
    "attachment": "starter.attachment_cli",
    "exam": "starter.steps_cli",
    "inspection": "starter.steps_cli",
    "approval": "starter.steps_cli",
    "vote": "starter.steps_cli",
    "notice": "starter.steps_cli",
    "appoint": "starter.steps_cli",
    "retry": "starter.steps_cli",
    "step": "starter.step_cli",
    "extension": "starter.extension_cli",
    "inbox": "starter.inbox_cli",
    "probation": "starter.probation_cli",
    "schedule": "starter.probation_cli",
    "register": "starter.register_cli",
    "rotation": "starter.rotation_cli",
    "capability": "starter.cadre_cli",
    "evaluation": "starter.cadre_cli",
    "audit": "starter.audit_cli",
    "encryption": "starter.encryption_cli",
    "accounts": "starter.accounts_cli",
    "login": "starter.login_cli",
    "logout": "starter.login_cli",
    "schema": "starter.schema_cli",
    "template": "starter.schema_cli",
}


class LazyGroup(ZhGroup):
    """The root group: its commands are found in ``COMMAND_MODULES`` when first asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(cmd_name)
        if module is None:
            return None
        command = getattr(importlib.import_module(module), cmd_name)
        assert isinstance(command, click.Command), (module, cmd_name)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """组织部干部选拔任用案件办理。

    各环节以你所给令牌对应的账号登记：先运行一次 `appointments login`（或设置
    APPOINTMENTS_TOKEN）；令牌由管理员用 `appointments accounts token NAME` 签发。
    """
    # the embedded stack's own settings (its state file) fill in what the environment lacks
    ctx.obj = App(with_stack_payload_key(load_settings(stack=True)), os.environ)


def with_stack_payload_key(settings: Settings) -> Settings:
    """``settings``, and when no PAYLOAD_KEY_FILES names keys, the embedded stack's own key if
    its data folder (DATA_DIR) has one: the command line then encrypts what it sends to the
    stack as the stack's worker and web service do, never in plain text beside them."""
    own = settings.data_dir / EMBEDDED_KEY_FILE
    if settings.payload_key_files or not own.exists():
        return settings
    return dataclasses.replace(settings, payload_key_files=(own,))


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status (the errors printed, nothing raised)."""
    try:
        result = cli.main(args=argv, prog_name="appointments", standalone_mode=False)
    except click.UsageError as exc:
        show_usage_problem(exc)
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        click.echo("已中断", err=True)
        return EXIT_INTERRUPTED
    except PayloadKeyError as exc:  # a payload key missing or unreadable: the settings
        click.echo(f"错误：{exc}", err=True)
        return EXIT_UNREACHABLE
    except Exception:
        traceback.print_exc()
        return EXIT_BUG
    return result if isinstance(result, int) else 0


def main() -> NoReturn:
    status = run()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    # temporalio/sdk-python#300: the interpreter can abort while tearing down after a
    # client was used; all output is written, so skip the teardown.
    os._exit(status)


if __name__ == "__main__":
    main()
