"""The ``case`` commands: open a case from its file, list cases, show one (its live state
from Temporal, its history from the database), withdraw one.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from api.permissions import ALLOWED, START_CASE, allowed, refusal
from gateway import cases
from gateway.errors import GatewayError
from settings import Settings
from starter.cli_base import (
    App,
    CliError,
    Refused,
    Unreachable,
    _choice,
    _pad,
    _problems,
    _rows_json,
    _width,
    build,
    cli_error,
    database,
    echo_json,
    echo_state,
    first_state,
    format_deadline,
    format_instant,
    open_client,
    pass_app,
    query_state,
    record_step,
    stage_text,
    standing,
    table,
)
from starter.click_zh import ZhGroup
from starter.inputs import load_model
from workflows.glossary import with_value, zh, zh_recorded
from workflows.rules.errors import RuleViolation
from workflows.rules.working_days import SHANGHAI
from workflows.types import (
    CaseInput,
    CaseStage,
    CaseState,
    CaseStatus,
    ChainKind,
    InspectionCheck,
    WithdrawInput,
)

# --------------------------------------------------------------------------- case


@click.group(cls=ZhGroup)
def case() -> None:
    """立案、列出、查看和撤回案件。"""


def _today() -> date:
    return datetime.now(SHANGHAI).date()


def _recommendation_valid_months(settings: Settings) -> int:
    from activities.policy import read_policy
    from workflows.policy import PolicyError

    path = settings.policy_file
    try:
        loaded = read_policy(path)
    except PolicyError as exc:
        raise Unreachable(_problems(f"政策文件 {path} 无法使用：", exc.problems)) from exc
    return int(loaded.policy.recommendation.valid_months)


async def _from_register(app: App, case_input: CaseInput) -> CaseInput:
    """The file's register candidates with their facts from the register (the database is
    opened only when the file names one)."""
    from store.register_cases import RegisterRefusal, fill_candidates

    if not any(c.register_id is not None for c in case_input.candidates):
        return case_input
    async with database(app.settings) as session:
        try:
            return await fill_candidates(session, case_input, _today())
        except RegisterRefusal as exc:
            raise Refused(_problems("案件未立案，干部名册与案件文件不符：", exc.problems)) from exc


@case.command("start")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
def case_start(app: App, file: Path) -> None:
    """依 FILE 立案（YAML 或 JSON 格式的案件文件，不含 `opened_by`）。

    文件格式：appointments schema new-case。
    """
    from workflows.case_book import check_case_input

    actor = app.actor()
    if not allowed(START_CASE, actor.role):
        # No workflow runs yet to check who opens it: the API's table decides, for both doors.
        roles = "、".join(sorted(with_value(r) for r in ALLOWED[START_CASE]))
        raise Refused(f"{refusal(START_CASE, actor.role)}（新建案件由{roles}办理）")
    case_input = load_model(CaseInput, file, {"opened_by": actor.model_dump(mode="json")})
    case_input = asyncio.run(_from_register(app, case_input))
    try:
        check_case_input(case_input, _today(), _recommendation_valid_months(app.settings))
    except RuleViolation as exc:
        raise Refused(exc.message) from exc

    async def start() -> tuple[CaseState | None, str]:
        client = await open_client(app.settings)
        try:
            workflow_id = await cases.start_case(client, app.settings.task_queue, case_input)
        except GatewayError as exc:
            raise cli_error(exc, app.settings) from exc
        click.echo(f"案件 {case_input.case_id} 已立案（流程 {workflow_id}）")
        return await first_state(client, app.settings, case_input.case_id)

    state, why = asyncio.run(start())
    if state is not None:
        echo_state(state)
    else:
        click.echo(f"  暂时读不到案件情况：{why}")


@case.command("list")
@click.option("--stage", type=_choice(CaseStage))
@click.option("--status", type=_choice(CaseStatus))
@click.option("--unit", help="与案件文件中的写法完全一致")
@click.option("--overdue", is_flag=True, default=None, help="只列已逾期的案件")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option(
    "--chain",
    type=_choice(ChainKind),
    default=ChainKind.APPOINTMENT.value,
    show_default=True,
    help="审计链类别：默认只列任用案件；其他类别列出干部名册、能力测试等审计链的登记行",
)
@click.option("--json", "as_json", is_flag=True, help="输出机器可读的 JSON")
@pass_app
def case_list(
    app: App,
    stage: str | None,
    status: str | None,
    unit: str | None,
    overdue: bool | None,
    limit: int,
    chain: str,
    as_json: bool,
) -> None:
    """案件列表，期限最近的在前（默认只列任用案件）。"""
    from store.queries import list_cases

    async def read() -> list[Any]:
        async with database(app.settings) as session:
            return await list_cases(
                session,
                stage=stage,
                status=status,
                unit=unit,
                overdue=overdue or None,
                limit=limit,
                chain=ChainKind(chain),
            )

    rows = asyncio.run(read())
    if as_json:
        echo_json(_rows_json(rows))
        return
    if not rows:
        click.echo("没有案件")
        return
    click.echo(
        table(
            ["案件", "单位", "职务", "环节", "状态", "下一期限", "逾期"],
            [
                [
                    r.case_id,
                    r.unit,
                    r.post,
                    zh(r.stage),
                    zh(r.status),
                    format_deadline(r.next_deadline),
                    "已逾期" if r.overdue else "",
                ]
                for r in rows
            ],
        )
    )


def _check(key: str) -> str:
    """A check of the inspection by its name (``personnel_file`` → 干部人事档案)."""
    try:
        return zh(InspectionCheck(key))
    except ValueError:
        return key


def echo_case_details(state: CaseState) -> None:
    s = state
    click.echo(
        f"案件 {s.case_id}  {s.unit} · {s.post} · {with_value(s.method)} · 职数 {s.positions}"
    )
    extras = [f"立案 {s.opened_on}"]
    if s.policy_version:
        extras.append(f"政策版本 {s.policy_version}")
    if s.probation_required:
        extras.append("实行试用期")
    if s.economic_audit_required:
        extras.append("需经济责任审计")
    click.echo("  " + " · ".join(extras))
    for line in standing(s):
        click.echo(f"  {line}")
    if s.candidates:
        click.echo("人选：")
        width = max(_width(c.name) for c in s.candidates)
        status_width = max(_width(zh(c.status)) for c in s.candidates)
        for c in s.candidates:
            facts = [
                f"{label} {value:g}" if isinstance(value, float) else f"{label} {value}"
                for label, value in (
                    ("笔试", c.written_score),
                    ("面试", c.interview_score),
                    ("总成绩", c.total_score),
                    ("名次", c.rank),
                    ("票决", zh(c.vote) if c.vote else None),
                    ("暂缓任用至", c.suspended_until),
                )
                if value is not None
            ]
            if c.exceptional:
                facts.append("破格提拔")
            if c.reminded:
                facts.append("任职时提醒")
            click.echo(
                f"  {c.person_id}  {_pad(c.name, width)}  {_pad(zh(c.status), status_width)}"
                + (f"  {' · '.join(facts)}" if facts else "")
            )
            if c.checks:
                done = "，".join(f"{_check(k)} {v}" for k, v in c.checks.items())
                click.echo(f"      核查：{done}")
            if c.note:
                click.echo(f"      {c.note}")
    if s.inspection_team:
        click.echo(f"考察组：{'、'.join(s.inspection_team)}")
    if s.one_to_one_reason:
        click.echo(f"等额考察理由：{s.one_to_one_reason}")
    if s.dates:
        click.echo("日期：" + " · ".join(f"{k} {v}" for k, v in s.dates.items()))
    if s.notice_id:
        click.echo(f"公示编号：{s.notice_id}")
    for o in s.objections:
        outcome = f"{zh(o.outcome)}（{o.verified_on} 核查）" if o.outcome else "尚未核查"
        who = "（匿名）" if o.anonymous else ""
        click.echo(
            f"反映 {o.objection_id}：关于 {o.person_id}，{o.received_on} 收到{who}；{outcome}"
        )


@case.command("show")
@click.argument("case_id", metavar="CASE")
@click.option("--json", "as_json", is_flag=True, help="输出机器可读的 JSON")
@pass_app
def case_show(app: App, case_id: str, as_json: bool) -> None:
    """CASE 的实时情况（来自 Temporal）和办理记录（来自数据库）。"""
    from store.queries import case_history, get_case

    async def live() -> tuple[CaseState | None, str]:
        try:
            client = await open_client(app.settings)
        except Unreachable as exc:
            return None, exc.message
        return await query_state(client, app.settings, case_id)

    async def recorded() -> tuple[Any, list[Any], str]:
        try:
            async with database(app.settings) as session:
                return await get_case(session, case_id), await case_history(session, case_id), ""
        except Unreachable as exc:
            return None, [], exc.message

    async def both() -> tuple[tuple[CaseState | None, str], tuple[Any, list[Any], str]]:
        return await asyncio.gather(live(), recorded())

    (state, live_note), (row, history, db_note) = asyncio.run(both())
    if state is None and row is None:
        if db_note and live_note:
            raise Unreachable(
                _problems(
                    f"无法显示案件 {case_id}：",
                    [f"实时情况：{live_note}", f"办理记录：{db_note}"],
                )
            )
        raise CliError(f"案件 {case_id} 不存在")
    history = sorted(history, key=lambda e: (e.occurred_at, e.seq))
    if as_json:
        echo_json(
            {
                "state": state.model_dump(mode="json") if state else None,
                "case": dataclasses.asdict(row) if row else None,
                "history": _rows_json(history),
                "notes": [n for n in (live_note, db_note) if n],
            }
        )
        return
    if state is not None:
        echo_case_details(state)
    else:
        click.echo(f"案件 {row.case_id}  {row.unit} · {row.post} · {with_value(row.method)}")
        click.echo(
            f"  环节 {stage_text(row.stage)}，{with_value(row.status)}；下一期限 "
            f"{format_deadline(row.next_deadline)}{'  已逾期' if row.overdue else ''}"
        )
        click.echo(f"  （暂时读不到实时情况：{live_note}）", err=True)
    if db_note:
        click.echo(f"（暂时读不到办理记录：{db_note}）", err=True)
        return
    click.echo(f"办理记录（{len(history)} 条）：")
    kind_width = max((_width(zh_recorded(e.kind)) for e in history), default=0)
    for e in history:
        click.echo(
            f"  {format_instant(e.occurred_at)}  #{e.seq:<3} "
            f"{_pad(zh_recorded(e.kind), kind_width)} [{zh(e.stage)}] {e.summary}"
            f"——{e.actor_name}（{zh(e.actor_role)}）"
        )


@case.command("resync")
@pass_app
def case_resync(app: App) -> None:
    """升级后补齐待办：向每个尚未在列表中登记待办事项的在办案件询问一次当前待办，并写入列表。"""
    from store.task_backfill import cases_without_step, fill_step

    async def run() -> tuple[int, list[str]]:
        client = await open_client(app.settings)
        filled, problems = 0, []
        async with database(app.settings) as session:
            for case_id in await cases_without_step(session):
                state, note = await query_state(client, app.settings, case_id)
                if state is None or state.step is None:
                    if note:
                        problems.append(f"{case_id}：{note}")
                    continue
                filled += await fill_step(session, case_id, state.step)
            await session.commit()
        return filled, problems

    filled, problems = asyncio.run(run())
    click.echo(f"已补齐 {filled} 个案件的待办事项")
    for line in problems:
        click.echo(f"  未能询问：{line}", err=True)


@case.command("withdraw")
@click.argument("case_id", metavar="CASE")
@click.option("--reason", required=True)
@pass_app
def case_withdraw(app: App, case_id: str, reason: str) -> None:
    """撤回 CASE（案件以撤回办结）。"""
    arg = build(WithdrawInput, {"actor": app.actor(), "reason": reason})
    record_step(app, case_id, "withdraw", arg)
