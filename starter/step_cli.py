"""``appointments step STEP CASE FILE``: any human step of the step table, from a file.

The command is built from ``workflows.steps.CASE_STEPS``: every row is a choice, its input
model checks the file, and the roles its row names are the ones the case accepts. The
ergonomic commands (``exam``, ``inspection``, ``vote`` …) read CSV and flags for the common
steps; this one reaches every step, including one added to the table tomorrow.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from starter.cli_base import App, InputError, pass_app, record_step
from starter.click_zh import ZhCommand
from starter.inputs import load_data_file, model_of, parse_data
from workflows.glossary import ROLES
from workflows.steps import CASE_STEPS
from workflows.types import service_filled

STDIN = "-"


def _step_list() -> str:
    lines = ["\b", "STEP 可以是（括号内为可以办理的角色）："]
    for update, row in CASE_STEPS.items():
        roles = "、".join(sorted(ROLES[r] for r in row.roles))
        lines.append(f"  {update:<30} {row.title}（{roles}）")
    return "\n".join(lines)


@click.command("step", cls=ZhCommand, epilog=_step_list())
@click.argument("update", metavar="STEP", type=click.Choice(list(CASE_STEPS)))
@click.argument("case_id", metavar="CASE")
@click.argument("source", metavar="FILE|-")
@pass_app
def step(app: App, update: str, case_id: str, source: str) -> None:
    """从 FILE（.yaml 或 .json）登记案件 CASE 的 STEP 环节；FILE 写作 "-" 时从标准输入读取。

    文件中写该环节的各项内容，与 HTTP API 所收的一致，但不含 "actor"：该环节以你的令牌
    对应的账号登记（`appointments login`），案件会检查该账号的角色能否办理。

    文件格式：appointments schema step.STEP（如 appointments schema step.record_vote）。
    """
    row = CASE_STEPS[update]
    actor = app.actor()
    if source == STDIN:
        data = parse_data(sys.stdin.read(), "standard input")
    else:
        data = load_data_file(Path(source))
    filled = sorted(service_filled(row.input) & set(data) if isinstance(data, dict) else ())
    if filled:
        raise InputError(
            f"{source}：文件中不能写 {'、'.join(filled)}；它由系统按所批准的延期申请填写"
            "（appointments extension approve）"
        )
    arg = model_of(row.input, data, source, {"actor": actor.model_dump(mode="json")})
    record_step(app, case_id, update, arg)
