"""The command line of probations (试用期) and of the daily digest's schedule.

    appointments probation list | show | review | end-early | import
    appointments schedule list | create | pause | unpause | trigger | delete

``starter.cli`` registers both groups on the command line. The same conventions as there:
input is checked before anything is sent; exit status 1 refused, 2 malformed input,
3 unreachable.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from pydantic import BaseModel, ValidationError
from temporalio.client import (
    Client,
    ScheduleListDescription,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.policy import read_policy
from gateway import probations
from gateway.errors import GatewayError
from gateway.probations import find_probation_id
from settings import Settings
from starter.cli_base import (
    DATE,
    App,
    CliError,
    InputError,
    Unreachable,
    _pad,
    build,
    cli_error,
    database,
    echo_json,
    format_instant,
    open_client,
    pass_app,
    table,
)
from starter.click_zh import ZhGroup
from starter.inputs import CsvProblems, read_csv
from workflows import field_errors
from workflows.digest import DIGEST_SCHEDULE_ID
from workflows.glossary import with_value, zh_recorded
from workflows.policy import PolicyError
from workflows.probation_types import (
    EndEarlyInput,
    ProbationInput,
    ProbationState,
    ProbationStatus,
    ReviewInput,
    ReviewOutcome,
    ReviewStatus,
    probation_end,
)
from workflows.rules.working_days import SHANGHAI, at_hour

IMPORT_COLUMNS = ("case_id", "person_id", "name", "unit", "post", "starts_on")
IMPORT_OPTIONAL = ("former_rank", "former_post")


def _today() -> date:
    return datetime.now(SHANGHAI).date()


def _label(enum_value: str, kind: type[Any]) -> str:
    try:
        return with_value(kind(enum_value))
    except ValueError:
        return enum_value


# --------------------------------------------------------------------------- probation


@click.group(cls=ZhGroup)
def probation() -> None:
    """试用期：谁在试用期、试用期满考核、提前结束，以及导入已在试用期的干部。"""


@probation.command("list")
@click.option("--status", type=click.Choice([s.value for s in ProbationStatus]))
@click.option("--limit", type=click.IntRange(1, 10_000), default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="输出机器可读的 JSON")
@pass_app
def probation_list(app: App, status: str | None, limit: int, as_json: bool) -> None:
    """在试用期的干部，试用期满日最近的在前，并列出考核情况。"""
    import dataclasses

    from store.probation_models import list_probations

    async def read() -> list[Any]:
        async with database(app.settings) as session:
            return await list_probations(session, status=status, limit=limit)

    rows = asyncio.run(read())
    if as_json:
        echo_json([dataclasses.asdict(r) for r in rows])
        return
    if not rows:
        click.echo("没有试用期记录")
        return

    def review(r: Any) -> str:
        text = _label(r.review_status, ReviewStatus)
        if r.reviewed_on:
            text += f" {r.reviewed_on}"
        elif r.review_due_on:
            text += f"，{r.review_due_on} 前完成"
        return text + ("  已逾期" if r.review_overdue else "")

    click.echo(
        table(
            ["案件", "人员", "姓名", "单位", "职务", "起始", "届满", "状态", "考核"],
            [
                [
                    r.case_id,
                    r.person_id,
                    r.name,
                    r.unit,
                    r.post,
                    str(r.starts_on),
                    str(r.ends_on),
                    _label(r.status, ProbationStatus),
                    review(r),
                ]
                for r in rows
            ],
        )
    )


@probation.command("show")
@click.argument("case_id", metavar="CASE")
@click.argument("person_id", metavar="PERSON")
@pass_app
def probation_show(app: App, case_id: str, person_id: str) -> None:
    """CASE 中 PERSON 的试用期：列表行、办理记录和邮件。"""
    from store.probation_models import outbox, probation_history, probation_of

    async def read() -> tuple[Any, list[Any], list[Any]]:
        async with database(app.settings) as session:
            row = await probation_of(session, case_id, person_id)
            if row is None:
                return None, [], []
            pid = row.probation_id  # the ID it runs under, of whichever form
            return row, await probation_history(session, pid), await outbox(session, source=pid)

    r, history, mail = asyncio.run(read())
    if r is None:
        raise CliError(f"没有案件 {case_id} 中 {person_id} 的试用期记录")
    click.echo(f"试用期 {r.probation_id}  {r.name} · {r.unit} · {r.post}")
    click.echo(
        f"  {r.starts_on} 至 {r.ends_on} · "
        f"{_label(r.status, ProbationStatus)} · 考核 "
        f"{_label(r.review_status, ReviewStatus)}"
        + (f" · 已恢复原职级：{r.rank_restored}" if r.rank_restored else "")
    )
    click.echo(f"办理记录（{len(history)} 条）：")
    for e in history:
        kind = _pad(zh_recorded(e.kind), 16)
        click.echo(f"  {format_instant(e.occurred_at)}  #{e.seq:<3} {kind} {e.summary}")
    click.echo(f"邮件（{len(mail)} 封）：")
    for m in mail:
        click.echo(f"  #{m.seq:<3} {m.status:<8} 发给 {m.recipient}：{m.subject}")
        if m.note:
            click.echo(f"        {m.note}")


def send_update(app: App, case_id: str, person_id: str, update: str, arg: BaseModel) -> None:
    """Send one update to one probation; print where it stands afterwards."""

    async def send() -> tuple[str, ProbationState]:
        client = await open_client(app.settings)
        try:
            return await probations.execute_update(client, case_id, person_id, update, arg)
        except GatewayError as exc:
            raise cli_error(exc, app.settings) from exc

    pid, s = asyncio.run(send())
    click.echo(
        f"试用期 {pid}：{with_value(s.status)}，考核 "
        f"{with_value(s.review_status)}；试用期 {s.starts_on} 至 {s.ends_on}"
    )
    if s.rank_restored:
        click.echo(f"  已恢复原职级：{s.rank_restored}")


@probation.command("review")
@click.argument("case_id", metavar="CASE")
@click.argument("person_id", metavar="PERSON")
@click.option("--competent/--not-competent", default=None, help="考核结果（二者必选其一）")
@click.option("--reviewed-on", type=DATE, required=True)
@click.option("--summary", required=True, help="考核意见")
@click.option("--reference", default="", help="决定文号")
@pass_app
def probation_review(
    app: App,
    case_id: str,
    person_id: str,
    competent: bool | None,
    reviewed_on: date,
    summary: str,
    reference: str,
) -> None:
    """登记 CASE 中 PERSON 的试用期满考核。"""
    if competent is None:
        raise InputError("请写明考核结果：--competent 或 --not-competent")
    outcome = ReviewOutcome.COMPETENT if competent else ReviewOutcome.NOT_COMPETENT
    arg = build(
        ReviewInput,
        {
            "actor": app.actor(),
            "outcome": outcome,
            "reviewed_on": reviewed_on,
            "summary": summary,
            "reference": reference,
        },
    )
    send_update(app, case_id, person_id, "record_review", arg)


@probation.command("end-early")
@click.argument("case_id", metavar="CASE")
@click.argument("person_id", metavar="PERSON")
@click.option("--decided-on", type=DATE, required=True)
@click.option("--decided-by", required=True, help="决定机关（例如 县委常委会）")
@click.option("--reason", required=True)
@click.option("--reference", default="", help="决定文号")
@pass_app
def probation_end_early(
    app: App,
    case_id: str,
    person_id: str,
    decided_on: date,
    decided_by: str,
    reason: str,
    reference: str,
) -> None:
    """提前结束 CASE 中 PERSON 的试用期（出现严重问题时）。"""
    arg = build(
        EndEarlyInput,
        {
            "actor": app.actor(),
            "decided_on": decided_on,
            "decided_by": decided_by,
            "reason": reason,
            "reference": reference,
        },
    )
    send_update(app, case_id, person_id, "end_early", arg)


def read_probations(path: Path, today: date) -> list[ProbationInput]:
    """The probations of an import file, every problem reported at once."""
    rows = read_csv(path, IMPORT_COLUMNS, IMPORT_OPTIONAL)
    problems = CsvProblems(path)
    first: dict[tuple[str, str], int] = {}
    found: list[ProbationInput] = []
    for row in rows:
        cells = {k: v.strip() for k, v in row.cells.items()}
        key = (cells["case_id"], cells["person_id"])
        if key in first:
            problems.add(
                row.line,
                "person_id",
                f"案件 {key[0]} 的 {key[1]} 已在第 {first[key]} 行出现过",
            )
            continue
        first[key] = row.line
        try:
            item = ProbationInput.model_validate(
                {**{k: v for k, v in cells.items() if v}, "imported": True}
            )
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                column = str(error["loc"][0]) if error["loc"] else None
                problems.add(row.line, column, field_errors.message(error))
            continue
        if item.starts_on > today:
            problems.add(
                row.line,
                "starts_on",
                f"{item.starts_on} 是将来的日期：导入的试用期应当已经开始",
            )
            continue
        found.append(item)
    problems.raise_if_any()
    return found


def _missed_reminders(settings: Settings, item: ProbationInput, now: datetime) -> list[int]:
    try:
        policy = read_policy(settings.policy_file)
    except PolicyError as exc:
        raise Unreachable(f"无法读取政策文件 {settings.policy_file}：{exc}") from exc
    ends = probation_end(item.starts_on)
    hour = policy.policy.reminder_hour
    return [
        days
        for days in sorted(policy.policy.probation.reminder_days_before_end, reverse=True)
        if at_hour(ends - timedelta(days=days), hour) <= now
    ]


@probation.command("import")
@click.argument(
    "file", metavar="FILE.csv", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@pass_app
def probation_import(app: App, file: Path) -> None:
    """导入本服务部署时已在试用期的干部。

    列：`case_id,person_id,name,unit,post,starts_on`（试任职通知日期）；可选列：former_rank、
    former_post。每个试用期从实际开始日期起算；提醒时点已过的，记为未及时发出，不再发送。已有记录
    的试用期保持不变。

    文件格式：appointments schema probation-import。
    """
    from activities.probation_parts import start_probation

    items = read_probations(file, _today())
    now = datetime.now(SHANGHAI)
    plans = {i.workflow_id: _missed_reminders(app.settings, i, now) for i in items}

    async def run() -> tuple[list[str], list[str]]:
        client = await open_client(app.settings)
        started: list[str] = []
        existing: list[str] = []
        for item in items:
            try:
                # one started under the old form of ID (workflows.ids) is on record too
                on_record = await find_probation_id(client, item.case_id, item.person_id)
            except GatewayError as exc:
                raise Unreachable(
                    f"Temporal 未答复 {item.workflow_id} 的情况：{exc.message}\n"
                    f"已开始的试用期：{'、'.join(started) or '无'}"
                ) from exc
            if on_record != item.workflow_id:
                existing.append(on_record)
                click.echo(f"{on_record}：已有记录，保持不变")
                continue
            try:
                await start_probation(client, item, app.settings.task_queue)
            except WorkflowAlreadyStartedError:
                existing.append(item.workflow_id)
                click.echo(f"{item.workflow_id}：已有记录，保持不变")
                continue
            except RPCError as exc:
                raise Unreachable(
                    f"Temporal 未能开始 {item.workflow_id}：{exc.message}\n"
                    f"已开始的试用期：{'、'.join(started) or '无'}"
                ) from exc
            started.append(item.workflow_id)
            missed = plans[item.workflow_id]
            click.echo(
                f"{item.workflow_id}：{item.name}，{item.starts_on} 至 "
                f"{probation_end(item.starts_on)}"
                + (
                    f"；记为未及时发出的提醒：{'、'.join(f'届满前 {d} 天' for d in missed)}"
                    if missed
                    else ""
                )
            )
        return started, existing

    started, existing = asyncio.run(run())
    click.echo(f"已导入 {len(started)} 个试用期；{len(existing)} 个已有记录")


# --------------------------------------------------------------------------- schedule


@click.group(cls=ZhGroup)
def schedule() -> None:
    """定时发送每日待办汇总邮件的 Temporal 计划任务（Schedule）。"""


# what each action on a schedule is called, and what creating the digest's one came to
ACTIONS = {"pause": "暂停", "unpause": "恢复", "trigger": "立即执行", "delete": "删除"}
OUTCOMES = {
    "created": "已创建",
    "updated": "已调整到政策规定的时点",
    "unchanged": "已是政策规定的样子，未作改动",
    "unsupported": "此 Temporal 服务器不支持计划任务，不发送每日汇总",
}

SCHEDULE_ID = click.argument("schedule_id", metavar="[ID]", default=DIGEST_SCHEDULE_ID)


def _schedule_call(app: App, schedule_id: str, action: str, call: Any) -> None:
    async def run() -> None:
        client = await open_client(app.settings)
        handle = client.get_schedule_handle(schedule_id)
        try:
            await call(handle)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise CliError(
                    f"没有计划任务 {schedule_id}（可用 `appointments schedule create` 创建）"
                ) from exc
            raise Unreachable(
                f"Temporal 未能{ACTIONS[action]} {schedule_id}：{exc.message}"
            ) from exc

    asyncio.run(run())
    click.echo(f"计划任务 {schedule_id}：已{ACTIONS[action]}")


def _describe_listed(s: ScheduleListDescription) -> list[str]:
    paused = s.schedule.state.paused if s.schedule else False
    note = (s.schedule.state.note or "") if s.schedule else ""
    info = s.info
    upcoming = info.next_action_times[0] if info and info.next_action_times else None
    recent = info.recent_actions[-1].started_at if info and info.recent_actions else None
    return [
        s.id,
        "已暂停" + (f"（{note}）" if note else "") if paused else "运行中",
        format_instant(upcoming) if upcoming else "-",
        format_instant(recent) if recent else "-",
    ]


@schedule.command("list")
@pass_app
def schedule_list(app: App) -> None:
    """本命名空间的全部计划任务，及其下次和上次运行时间。"""

    async def read() -> list[list[str]]:
        client: Client = await open_client(app.settings)
        try:
            return [_describe_listed(s) async for s in await client.list_schedules()]
        except RPCError as exc:
            raise Unreachable(f"Temporal 无法列出计划任务：{exc.message}") from exc

    rows = asyncio.run(read())
    if not rows:
        click.echo("没有计划任务（每日汇总的计划任务可用 `appointments schedule create` 创建）")
        return
    click.echo(table(["计划任务", "状态", "下次运行", "上次运行"], rows))


@schedule.command("create")
@pass_app
def schedule_create(app: App) -> None:
    """创建每日待办汇总的计划任务，或将其调整到政策规定的时点（不会重复创建）。"""
    from activities.probation_parts import ensure_digest_schedule

    async def run() -> str:
        client = await open_client(app.settings)
        try:
            return (await ensure_digest_schedule(client, app.settings)).value
        except (OSError, PolicyError) as exc:
            raise Unreachable(f"政策文件无法使用：{exc}") from exc

    click.echo(f"计划任务 {DIGEST_SCHEDULE_ID}：{OUTCOMES[asyncio.run(run())]}")


@schedule.command("pause")
@SCHEDULE_ID
@click.option("--note", default="从命令行暂停", help="暂停的说明")
@pass_app
def schedule_pause(app: App, schedule_id: str, note: str) -> None:
    """暂停计划任务（恢复之前不再发送汇总）。"""
    _schedule_call(app, schedule_id, "pause", lambda h: h.pause(note=note))


@schedule.command("unpause")
@SCHEDULE_ID
@pass_app
def schedule_unpause(app: App, schedule_id: str) -> None:
    """恢复已暂停的计划任务。"""
    _schedule_call(app, schedule_id, "unpause", lambda h: h.unpause())


@schedule.command("trigger")
@SCHEDULE_ID
@pass_app
def schedule_trigger(app: App, schedule_id: str) -> None:
    """立即执行计划任务（立即发送一次汇总），不论其时间表。"""
    _schedule_call(app, schedule_id, "trigger", lambda h: h.trigger())


@schedule.command("delete")
@SCHEDULE_ID
@pass_app
def schedule_delete(app: App, schedule_id: str) -> None:
    """删除计划任务（已开始的运行会执行完毕）。"""
    _schedule_call(app, schedule_id, "delete", lambda h: h.delete())
