"""The ``extension`` commands: extension requests (延期申请) — file one, list them, approve,
refuse or withdraw one — through the same service as the API and the console
(``gateway.extension_requests``), as the account of the person's token."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TypeVar

import click
from pydantic import ValidationError

from gateway import extension_requests as service
from gateway.errors import GatewayError
from starter.cli_base import (
    App,
    InputError,
    _database_url,
    _problems,
    _rows_json,
    cli_error,
    echo_json,
    format_deadline,
    format_instant,
    open_client,
    pass_app,
    table,
    validation_lines,
)
from starter.click_zh import ZhGroup
from store.extension_requests import RequestRow, requests_of_case
from workflows.glossary import awaited
from workflows.rules.working_days import SHANGHAI

T = TypeVar("T")


@click.group(cls=ZhGroup)
def extension() -> None:
    """延期申请：办理人员申请延长待办事项的期限，由本地政策规定的审批人批准。"""


@asynccontextmanager
async def _door(app: App) -> AsyncIterator[service.Door]:
    from store.db import make_engine, make_session_factory

    engine = make_engine(_database_url(app.settings))
    try:
        client = await open_client(app.settings)
        yield service.Door(make_session_factory(engine), client, app.settings.policy_file)
    finally:
        await engine.dispose()


def _run(app: App, work: Callable[[service.Door], Awaitable[T]]) -> T:
    async def go() -> T:
        async with _door(app) as door:
            try:
                return await work(door)
            except GatewayError as exc:
                raise cli_error(exc, app.settings) from exc

    return asyncio.run(go())


def _today() -> datetime:
    return datetime.now(SHANGHAI)


def _show(row: RequestRow) -> None:
    click.echo(
        f"延期申请 #{row.id}（案件 {row.case_id}，{awaited(row.step)[0]}）："
        f"{service.decision_text(row)}"
    )
    click.echo(
        f"  {row.requested_by} 申请延长 {row.working_days} 个工作日，原期限 "
        f"{format_deadline(row.deadline_before)}；理由：{row.reason}"
    )
    if row.decision is not None:
        said = f"；{row.decision_reason}" if row.decision_reason else ""
        at = format_instant(row.decided_at or row.requested_at)
        click.echo(f"  {row.decided_by}，{at}{said}")
    if row.deadline_after is not None:
        click.echo(f"  新期限 {format_deadline(row.deadline_after)}")


@extension.command("request")
@click.argument("case_id", metavar="CASE")
@click.option("--step", required=True, help="待办事项编号（appointments case show 所示）")
@click.option("--days", "working_days", type=int, required=True, help="申请延长的工作日数")
@click.option("--reason", required=True, help="申请延期的理由")
@pass_app
def request(app: App, case_id: str, step: str, working_days: int, reason: str) -> None:
    """为案件 CASE 的待办事项申请延期；先按本地政策检查，不能批准的申请不予登记。"""
    actor = app.actor()
    try:
        data = service.ExtensionRequestInput(step=step, working_days=working_days, reason=reason)
    except ValidationError as exc:
        raise InputError(_problems("所填的值无法使用：", validation_lines(exc))) from exc
    row = _run(app, lambda door: service.file_request(door, actor, case_id, data, _today().date()))
    _show(row)


@extension.command("list")
@click.option("--case", "case_id", metavar="CASE", help="只列此案件的申请（默认：待我审批的）")
@click.option("--json", "as_json", is_flag=True, help="输出机器可读的 JSON")
@pass_app
def list_requests(app: App, case_id: str | None, as_json: bool) -> None:
    """待我审批的延期申请；或用 --case 列出一个案件的全部申请。"""
    actor = app.actor()

    async def read(door: service.Door) -> list[RequestRow]:
        if case_id is not None:
            async with door.sessions() as s:
                return await requests_of_case(s, case_id)
        return [p.request for p in await service.pending_for(door, actor)]

    rows = _run(app, read)
    if as_json:
        echo_json(_rows_json(rows))
        return
    if not rows:
        click.echo("没有延期申请")
        return
    click.echo(
        table(
            ["编号", "案件", "事项", "天数", "申请人", "状态", "理由"],
            [
                [
                    str(r.id),
                    r.case_id,
                    awaited(r.step)[0],
                    str(r.working_days),
                    r.requested_by,
                    service.decision_text(r),
                    r.reason,
                ]
                for r in rows
            ],
        )
    )


@extension.command("approve")
@click.argument("request_id", metavar="ID", type=click.IntRange(1))
@pass_app
def approve(app: App, request_id: int) -> None:
    """批准编号为 ID 的延期申请：案件的期限随即延长，提醒和督办按新期限发出。"""
    actor = app.actor()
    done = _run(app, lambda door: service.approve_request(door, actor, request_id, _today().date()))
    _show(done.request)


@extension.command("refuse")
@click.argument("request_id", metavar="ID", type=click.IntRange(1))
@click.option("--reason", required=True, help="不批准的理由")
@pass_app
def refuse(app: App, request_id: int, reason: str) -> None:
    """不批准编号为 ID 的延期申请（须写明理由）；案件的期限不变。"""
    actor = app.actor()
    try:
        data = service.ExtensionDecisionInput(reason=reason)
    except ValidationError as exc:
        raise InputError(_problems("所填的值无法使用：", validation_lines(exc))) from exc
    _show(_run(app, lambda door: service.refuse_request(door, actor, request_id, data)))


@extension.command("withdraw")
@click.argument("request_id", metavar="ID", type=click.IntRange(1))
@pass_app
def withdraw(app: App, request_id: int) -> None:
    """撤回自己提出、尚未审批的延期申请。"""
    actor = app.actor()
    _show(_run(app, lambda door: service.withdraw_request(door, actor, request_id)))
