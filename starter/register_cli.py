"""The command line of the cadre register (干部名册) and its rotation scans (交流排查).

    appointments register import KIND FILE --reason 理由 | show PERSON | list [--search 文字]
    appointments register rotations [SCAN] | decide SCAN PERSON DECISION [--note 理由]

Who may do what is the API's table (``api.permissions``): reading the register, importing
it, deciding a rotation. Exit status as everywhere: 1 refused, 2 malformed input, 3
unreachable.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy.ext.asyncio import AsyncSession

from api.permissions import (
    CHANGE_REGISTER,
    DECIDE_ROTATION,
    READ_REGISTER,
)
from sheets.columns import REGISTER_SHEETS
from sheets.problems import SheetProblems
from starter.cli_base import (
    App,
    CliError,
    InputError,
    Refused,
    database,
    echo_json,
    format_instant,
    pass_app,
    table,
)
from starter.cli_calls import permitted, read_database
from starter.click_zh import ZhGroup
from workflows.glossary import zh
from workflows.register_types import RotationDecision
from workflows.rules.working_days import SHANGHAI


def _today() -> date:
    return datetime.now(SHANGHAI).date()


@click.group(cls=ZhGroup)
def register() -> None:
    """干部名册：导入（Excel，中文列名）、查阅人员记录及其历次变更、交流排查与决定。"""


@register.command("import")
@click.argument("kind", type=click.Choice([s.kind for s in REGISTER_SHEETS]), metavar="KIND")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--reason", required=True, help="变更的理由，记入每个版本和审计记录")
@pass_app
def register_import(app: App, kind: str, file: Path, reason: str) -> None:
    """导入 FILE（.xlsx）为干部名册的 KIND 表；任一行有误则一行也不导入。

    KIND：register-people（基本信息，先导入）、register-posts（任职经历）、
    register-sanctions（处分）、register-assessments（考核与测试）。
    空白模板：appointments template KIND。
    """
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from store.register import RegisterRefused, import_xlsx

    actor = permitted(app, CHANGE_REGISTER)
    data = file.read_bytes()

    async def run() -> Any:
        async with database(app.settings) as session:  # connection problems said in Chinese
            sessions = async_sessionmaker(session.bind, expire_on_commit=False)
            return await import_xlsx(sessions, kind, data, actor, reason)

    try:
        outcome = asyncio.run(run())
    except SheetProblems as exc:
        raise InputError("\n".join(exc.told())) from exc
    except RegisterRefused as exc:
        raise Refused(str(exc)) from exc
    click.echo(
        f"已导入{zh(outcome.section)}：{len(outcome.changed)} 人有变更，"
        f"{len(outcome.unchanged)} 人与名册相同"
    )
    for person_id, version in outcome.changed:
        click.echo(f"  {person_id} 第 {version} 版")


@register.command("list")
@click.option("--search", help="人员编号，或姓名中的文字")
@click.option("--limit", type=click.IntRange(1, 5000), default=200, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="输出机器可读的 JSON")
@pass_app
def register_list(app: App, search: str | None, limit: int, as_json: bool) -> None:
    """干部名册中的人员（各人的最新版本），按人员编号排列。"""
    from store.register_queries import list_register

    permitted(app, READ_REGISTER)

    rows = read_database(app, lambda session: list_register(session, search, limit))
    today = _today()
    if as_json:
        echo_json(
            [
                {"person_id": r.person_id, "version": r.version, **r.record.model_dump(mode="json")}
                for r in rows
            ]
        )
        return
    if not rows:
        click.echo("干部名册中没有符合条件的人员")
        return
    click.echo(
        table(
            ["人员编号", "姓名", "现任职务", "版本", "最近变更"],
            [
                [
                    r.person_id,
                    r.record.person.name,
                    r.current_post(today) or "—",
                    str(r.version),
                    format_instant(r.changed_at),
                ]
                for r in rows
            ],
        )
    )


@register.command("show")
@click.argument("person_id", metavar="PERSON")
@pass_app
def register_show(app: App, person_id: str) -> None:
    """PERSON 的名册记录（最新版本）及其历次变更：谁、何时、为何。"""
    from store.register_queries import person_history

    permitted(app, READ_REGISTER)

    history = read_database(app, lambda session: person_history(session, person_id))
    if not history:
        raise CliError(f"干部名册中没有 {person_id}")
    newest = history[-1]
    p = newest.record.person
    facts = [p.sex, p.ethnicity, str(p.birth_date or ""), p.education]
    click.echo(
        f"{p.name}（{p.person_id}）第 {newest.version} 版  " + " · ".join(f for f in facts if f)
    )
    click.echo(f"任职经历（{len(newest.record.posts)} 条）：")
    for post in newest.record.posts:
        until = post.ended_on.isoformat() if post.ended_on else "今"
        where = f"（{post.township}）" if post.township else ""
        kind = "领导职务" if post.leading else "一般干部"
        click.echo(
            f"  {post.started_on} 至 {until}  {post.unit}{where} {post.post} {post.rank} {kind}"
            + (f"，试用期至 {post.probation_ends_on}" if post.probation_ends_on else "")
        )
    click.echo(f"处分（{len(newest.record.sanctions)} 条）：")
    for s in newest.record.sanctions:
        click.echo(f"  {s.decided_on}  {zh(s.kind)}")
    click.echo(f"考核与测试（{len(newest.record.assessments)} 条）：")
    for a in newest.record.assessments:
        score = f" {a.score:g} 分" if a.score is not None else ""
        click.echo(f"  {a.held_on}  {zh(a.kind)} {zh(a.grade) if a.grade else ''}{score}")
    click.echo(f"历次变更（{len(history)} 次）：")
    for v in history:
        parts = "、".join(zh(s) for s in v.sections)
        click.echo(
            f"  第 {v.version} 版  {format_instant(v.changed_at)}  {v.changed_by}"
            f"（{zh(_role(v.changed_role))}）  {parts}：{v.reason}"
        )


def _role(value: str) -> Any:
    from workflows.types import Role

    try:
        return Role(value)
    except ValueError:
        return value


@register.command("rotations")
@click.argument("scan_id", metavar="[SCAN]", required=False)
@pass_app
def register_rotations(app: App, scan_id: str | None) -> None:
    """交流排查：不给 SCAN 时列出历次排查；给出时列出该次排查的人员及决定。"""
    from store.register_queries import rotation_listing, rotation_scans

    permitted(app, READ_REGISTER)

    async def read(session: AsyncSession) -> Any:
        if scan_id is None:
            return await rotation_scans(session)
        return await rotation_listing(session, scan_id)

    rows = read_database(app, read)
    if scan_id is None:
        if not rows:
            click.echo("还没有交流排查")
            return
        click.echo(
            table(
                ["排查", "截至", "年限", "人数", "应交流"],
                [
                    [r.scan_id, str(r.as_of), str(r.threshold_years), str(r.scanned), str(r.due)]
                    for r in rows
                ],
            )
        )
        return
    if not rows:
        click.echo(f"排查 {scan_id} 没有列出应交流的人员（或没有此次排查）")
        return
    click.echo(
        table(
            ["人员编号", "姓名", "乡镇", "自", "年数", "决定"],
            [
                [
                    r.person_id,
                    r.name,
                    r.township,
                    str(r.since),
                    str(r.years),
                    (zh(r.decision) + (f"：{r.note}" if r.note else "")) if r.decision else "待定",
                ]
                for r in rows
            ],
        )
    )


@register.command("decide")
@click.argument("scan_id", metavar="SCAN")
@click.argument("person_id", metavar="PERSON")
@click.argument(
    "decision", type=click.Choice([d.value for d in RotationDecision]), metavar="DECISION"
)
@click.option("--note", default="", help="理由（暂缓交流、不予交流时必填）")
@pass_app
def register_decide(app: App, scan_id: str, person_id: str, decision: str, note: str) -> None:
    """记录组织部对 SCAN 所列 PERSON 的交流决定。

    DECISION：rotate（交流）、defer（暂缓交流）、exempt（不予交流）。
    """
    from store.register import RegisterRefused, decide_rotation

    actor = permitted(app, DECIDE_ROTATION)
    chosen = RotationDecision(decision)

    async def run() -> None:
        async with database(app.settings) as session, session.begin():
            await decide_rotation(session, scan_id, person_id, chosen, note.strip(), actor)

    try:
        asyncio.run(run())
    except RegisterRefused as exc:
        raise Refused(str(exc)) from exc
    click.echo(f"已记录：{person_id} {zh(chosen)}")
