"""The command line of the rotation batches (交流批次).

    appointments rotation batches
    appointments rotation make SCAN BATCH --title … --move 人员编号,去向单位[,去向乡镇[,新任职务]] …
    appointments rotation show BATCH [--json]
    appointments rotation document BATCH PERSON --issued-on … --reference …
    appointments rotation arrive BATCH PERSON --arrived-on … [--note …]
    appointments rotation cancel BATCH PERSON --reason …

Everything through ``gateway.rotation_batch``, as the API and the console. Who may make a
batch is the API's table (``api.permissions``); who may record a step is the batch's policy
(refused, exit 1). Exit status as everywhere: 1 refused, 2 malformed input, 3 unreachable.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import TypeVar

import click

from api.permissions import MAKE_ROTATION_BATCH, READ_REGISTER
from gateway import rotation_batch
from gateway.errors import GatewayError
from starter.cli_base import (
    DATE,
    App,
    InputError,
    build,
    cli_error,
    database,
    echo_json,
    format_instant,
    open_client,
    pass_app,
    table,
)
from starter.cli_calls import permitted, read_database, through_temporal
from starter.click_zh import ZhGroup
from workflows.glossary import zh
from workflows.rotation_batch_types import (
    ArrivalInput,
    CancelMoveInput,
    DocumentInput,
    MoveState,
)
from workflows.rules.working_days import SHANGHAI

T = TypeVar("T")


def _destination(text: str) -> rotation_batch.Destination:
    parts = [p.strip() for p in text.replace("，", ",").split(",")]
    if len(parts) < 2 or len(parts) > 4 or not parts[0] or not parts[1]:
        raise InputError(
            f"--move {text}：应为“人员编号,去向单位[,去向乡镇[,新任职务]]”，"
            "如 R001,樟市镇人民政府,樟市镇"
        )
    township = parts[2] if len(parts) > 2 and parts[2] else None
    post = parts[3] if len(parts) > 3 else ""
    return rotation_batch.Destination(parts[0], parts[1], township, post)


def _standing(m: MoveState) -> str:
    text = zh(m.status)
    schedule = m.awaited_schedule
    if schedule is not None:
        text += f"：须于 {schedule.deadline_on} 前登记"
    if m.document is not None:
        text += f"；交流文件 {m.document.reference}（{m.document.issued_on}）"
    if m.arrival is not None:
        text += f"；{m.arrival.arrived_on} 到岗，名册第 {m.arrival.register_version} 版"
    if m.cancellation is not None:
        text += f"；撤销理由：{m.cancellation.reason}"
    return text + ("，已逾期" if m.overdue else "")


@click.group(cls=ZhGroup)
def rotation() -> None:
    """交流批次：把组织部决定交流的人员编组，跟踪每人的交流文件印发和到岗报到。"""


@rotation.command("batches")
@pass_app
def rotation_batches(app: App) -> None:
    """列出交流批次，最新的在前。"""
    from store.rotation_batch_queries import batches

    permitted(app, READ_REGISTER)
    rows = read_database(app, batches)
    if not rows:
        click.echo("还没有交流批次")
        return
    click.echo(
        table(
            ["编号", "名称", "交流排查", "编组日期", "人数", "编组人", "编组时间", "状态"],
            [
                [
                    r.batch_id,
                    r.title,
                    r.scan_id,
                    str(r.made_on),
                    str(r.people),
                    r.opened_by,
                    format_instant(r.opened_at),
                    "已办结" if r.finished else "办理中",
                ]
                for r in rows
            ],
        )
    )


@rotation.command("make")
@click.argument("scan_id", metavar="SCAN")
@click.argument("batch_id", metavar="BATCH")
@click.option("--title", required=True, help="批次名称，如 2026 年第一批乡镇一般干部交流")
@click.option(
    "--move",
    "moves",
    multiple=True,
    required=True,
    help="人员编号,去向单位[,去向乡镇[,新任职务]]；每人一个 --move",
)
@pass_app
def rotation_make(
    app: App, scan_id: str, batch_id: str, title: str, moves: tuple[str, ...]
) -> None:
    """把交流排查 SCAN 中组织部决定交流的人员编为交流批次 BATCH，开始跟踪。

    只能列入排查列为应交流、决定交流的人员，每人一次，且不在其他未办结的批次中。
    """
    from sqlalchemy.ext.asyncio import async_sessionmaker

    actor = permitted(app, MAKE_ROTATION_BATCH)
    destinations = [_destination(m) for m in moves]
    made_on = datetime.now(SHANGHAI).date()

    async def run() -> str:
        client = await open_client(app.settings)
        async with database(app.settings) as session:
            sessions = async_sessionmaker(session.bind, expire_on_commit=False)
            try:
                return await rotation_batch.make_batch(
                    client,
                    app.settings.task_queue,
                    sessions,
                    app.settings.policy_file,
                    batch_id=batch_id,
                    title=title,
                    scan_id=scan_id,
                    made_on=made_on,
                    moves=destinations,
                    opened_by=actor,
                )
            except GatewayError as exc:
                raise cli_error(exc, app.settings) from exc

    workflow_id = asyncio.run(run())
    click.echo(f"交流批次已编组：{len(destinations)} 人（{workflow_id}）")


@rotation.command("show")
@click.argument("batch_id", metavar="BATCH")
@click.option("--json", "as_json", is_flag=True, help="输出机器可读的 JSON")
@pass_app
def rotation_show(app: App, batch_id: str, as_json: bool) -> None:
    """交流批次 BATCH：每人的交流去向和目前情况。"""
    permitted(app, READ_REGISTER)
    state = through_temporal(app, lambda client: rotation_batch.batch_state(client, batch_id))
    if as_json:
        echo_json(state.model_dump(mode="json"))
        return
    click.echo(
        f"{state.title}（{state.batch_id}）排查 {state.scan_id}，编组 {state.made_on}，"
        + ("已办结" if state.finished else "办理中")
    )
    click.echo(
        table(
            ["人员编号", "姓名", "原乡镇", "交流去向", "目前情况"],
            [
                [m.person_id, m.name, m.from_township, m.destination, _standing(m)]
                for m in state.moves
            ],
        )
    )


@rotation.command("document")
@click.argument("batch_id", metavar="BATCH")
@click.argument("person_id", metavar="PERSON")
@click.option("--issued-on", type=DATE, required=True, help="交流文件印发日期")
@click.option("--reference", required=True, help="文号")
@pass_app
def rotation_document(
    app: App, batch_id: str, person_id: str, issued_on: date, reference: str
) -> None:
    """登记交流批次 BATCH 中 PERSON 的交流文件印发。"""
    fields = {
        "actor": app.actor(),
        "person_id": person_id,
        "issued_on": issued_on,
        "reference": reference,
    }
    data = build(DocumentInput, fields, positional=("person_id",))
    move = through_temporal(
        app, lambda client: rotation_batch.record_document(client, batch_id, data)
    )
    click.echo(f"已记录交流文件印发：{move.name}{_standing(move)}")


@rotation.command("arrive")
@click.argument("batch_id", metavar="BATCH")
@click.argument("person_id", metavar="PERSON")
@click.option("--arrived-on", type=DATE, required=True, help="到岗报到日期")
@click.option("--note", default="", help="备注")
@pass_app
def rotation_arrive(app: App, batch_id: str, person_id: str, arrived_on: date, note: str) -> None:
    """登记交流批次 BATCH 中 PERSON 到岗报到；干部名册随即记入新职务（新版本）。"""
    fields = {"actor": app.actor(), "person_id": person_id, "arrived_on": arrived_on, "note": note}
    data = build(ArrivalInput, fields, positional=("person_id",))
    move = through_temporal(
        app, lambda client: rotation_batch.record_arrival(client, batch_id, data)
    )
    click.echo(f"已记录到岗报到：{move.name}{_standing(move)}")


@rotation.command("cancel")
@click.argument("batch_id", metavar="BATCH")
@click.argument("person_id", metavar="PERSON")
@click.option("--reason", required=True, help="撤销理由")
@pass_app
def rotation_cancel(app: App, batch_id: str, person_id: str, reason: str) -> None:
    """撤销交流批次 BATCH 中 PERSON 的交流（尚未到岗时），须说明理由。"""
    fields = {"actor": app.actor(), "person_id": person_id, "reason": reason}
    data = build(CancelMoveInput, fields, positional=("person_id",))
    move = through_temporal(app, lambda client: rotation_batch.cancel_move(client, batch_id, data))
    click.echo(f"已撤销交流：{move.name}{_standing(move)}")
