"""The command line of the capability test (能力测试) and the double evaluation (双重考核).

    appointments capability start CAMPAIGN FILE --title … --tested-on … --notified-on …
    appointments capability list | show CAMPAIGN
    appointments capability retest CAMPAIGN PERSON --tested-on … --score …
    appointments capability handle CAMPAIGN PERSON DECISION --decided-on … --reason …
    appointments evaluation start EVALUATION UNIFIED OWN --title … --held-on … [--preview]
    appointments evaluation list | show EVALUATION
    appointments evaluation vote EVALUATION PERSON --meeting-id … …

Files are .xlsx or .csv with the Chinese headers of ``appointments template KIND``; any bad
row, and nothing starts. Who may start is the API's table (``api.permissions``); who may
record a step is the workflow's policy (refused, exit 1). Exit status as everywhere: 1
refused, 2 malformed input, 3 unreachable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

from api.permissions import (
    READ_CADRE_WORK,
    START_CAPABILITY_TEST,
    START_DOUBLE_EVALUATION,
)
from gateway import cadre, cadre_checks
from gateway.errors import GatewayError
from sheets.cadre_imports import Upload, read_leaders, read_results
from sheets.columns import CAPABILITY_RESULTS
from sheets.problems import SheetProblems
from starter.cli_base import (
    DATE,
    App,
    InputError,
    build,
    cli_error,
    echo_json,
    format_instant,
    pass_app,
    table,
)
from starter.cli_calls import permitted, read_database, through_temporal
from starter.click_zh import ZhGroup
from workflows.cadre_enums import RemovalMeasure
from workflows.capability_types import (
    CampaignState,
    CapabilityCampaignInput,
    HandlingInput,
    RetestInput,
    RetestState,
)
from workflows.double_evaluation_types import (
    DoubleEvaluationInput,
    RankedRow,
    RemovalState,
    RemovalVoteInput,
)
from workflows.glossary import zh
from workflows.rules.cadre_capability import HandlingOption
from workflows.types import VoteMethod

T = TypeVar("T")


def _upload(path: Path) -> Upload:
    return Upload(path.name, path.read_bytes())


def _checked(app: App, check: Coroutine[Any, Any, T]) -> T:
    """The up-front check with the policy in force: a sheet's rows, or the rule's refusal."""
    try:
        return asyncio.run(check)
    except SheetProblems as exc:
        raise InputError("\n".join(exc.told())) from exc
    except GatewayError as exc:
        raise cli_error(exc, app.settings) from exc


def _list(
    app: App, query: Callable[[Any], Awaitable[list[Any]]], nothing: str, day: str, people: str
) -> None:
    """The campaigns or the evaluations, the newest first; ``nothing`` when there are none."""
    permitted(app, READ_CADRE_WORK)
    rows = read_database(app, query)
    if not rows:
        click.echo(nothing)
        return
    _opened(rows, day, people)


def _opened(rows: list[Any], day: str, people: str) -> None:
    click.echo(
        table(
            ["编号", "名称", day, people, "导入人", "导入时间", "状态"],
            [
                [
                    r.key,
                    r.title,
                    str(r.held_on),
                    str(r.people),
                    r.opened_by,
                    format_instant(r.opened_at),
                    "已办结" if r.finished else "办理中",
                ]
                for r in rows
            ],
        )
    )


# --------------------------------------------------------------------------- capability test


@click.group(cls=ZhGroup)
def capability() -> None:
    """行政管理能力测试：导入成绩开始测试，查看各人情况，登记补测成绩和组织处理决定。"""


@capability.command("start")
@click.argument("campaign_id", metavar="CAMPAIGN")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--title", required=True, help="测试名称，如 2026 年行政管理能力测试")
@click.option("--tested-on", type=DATE, required=True, help="测试日期")
@click.option("--notified-on", type=DATE, required=True, help="成绩通知日期：自学自此日起算")
@pass_app
def capability_start(
    app: App, campaign_id: str, file: Path, title: str, tested_on: date, notified_on: date
) -> None:
    """导入 FILE（.xlsx 或 .csv，中文列名）中的成绩，开始能力测试 CAMPAIGN。

    任一行有误则不开始。

    空白模板：appointments template capability-results

    文件格式：appointments schema capability-results
    """
    actor = permitted(app, START_CAPABILITY_TEST)
    try:
        numbered = read_results(_upload(file))
    except SheetProblems as exc:
        raise InputError("\n".join(exc.told())) from exc
    data = build(
        CapabilityCampaignInput,
        {
            "campaign_id": campaign_id,
            "title": title,
            "tested_on": tested_on,
            "notified_on": notified_on,
            "results": [row for _, row in numbered],
            "opened_by": actor,
        },
        positional=("campaign_id",),
    )
    check = cadre_checks.check_campaign_input(
        data, app.settings.policy_file, numbered, CAPABILITY_RESULTS.title
    )
    _checked(app, check)
    workflow_id = through_temporal(
        app, lambda client: cadre.start_campaign(client, app.settings.task_queue, data)
    )
    click.echo(f"能力测试已开始：{len(data.results)} 人（{workflow_id}）")


@capability.command("list")
@pass_app
def capability_list(app: App) -> None:
    """列出能力测试，最新的在前。"""
    from store.cadre_queries import campaigns

    _list(app, campaigns, "还没有能力测试", "测试日期", "人数")


def _standing(r: RetestState) -> str:
    text = zh(r.status)
    if r.status.value == "self_study":
        text += f"：自学至 {r.self_study_ends_on}，{r.retest_opens_on} 起补测"
    if r.retest is not None:
        text += f"；补测 {r.retest.score} 分（{r.retest.tested_on}）"
    if r.handling is not None:
        text += f"；{zh(r.handling.decision)}（{r.handling.decided_on}）"
    elif r.handling_schedule is not None and r.status.value == "awaiting_handling":
        text += f"：须于 {r.handling_schedule.deadline_on} 前决定"
    elif r.retest_schedule is not None and r.status.value == "awaiting_retest":
        text += f"：须于 {r.retest_schedule.deadline_on} 前登记"
    return text + ("，已逾期" if r.overdue else "")


@capability.command("show")
@click.argument("campaign_id", metavar="CAMPAIGN")
@click.option("--json", "as_json", is_flag=True, help="输出机器可读的 JSON")
@pass_app
def capability_show(app: App, campaign_id: str, as_json: bool) -> None:
    """能力测试 CAMPAIGN：各人的成绩、结果，不合格者的自学、补测和组织处理情况。"""
    permitted(app, READ_CADRE_WORK)

    async def read(client: Any) -> tuple[CampaignState | None, dict[str, RetestState]]:
        state = await cadre.campaign_state(client, campaign_id)
        if state is None:
            return None, {}
        found = await asyncio.gather(
            *(
                cadre.retest_state(client, campaign_id, wid.rpartition(":")[2])
                for wid in state.retests
            )
        )
        return state, {r.person_id: r for r in found}

    state, retests = through_temporal(app, read)
    if state is None:
        click.echo(f"能力测试 {campaign_id} 正在启动（读取政策），请稍后再查看")
        return
    if as_json:
        echo_json(
            {
                "state": state.model_dump(mode="json"),
                "retests": {k: v.model_dump(mode="json") for k, v in retests.items()},
            }
        )
        return
    click.echo(
        f"{state.title}（{state.campaign_id}）测试 {state.tested_on}，通知 {state.notified_on}，"
        + ("已办结" if state.finished else "办理中")
    )
    click.echo(
        table(
            ["人员编号", "姓名", "单位", "成绩", "结果", "目前情况"],
            [
                [
                    c.person_id,
                    c.name,
                    c.unit,
                    str(c.score),
                    zh(c.outcome) + ("，可列为后备干部" if c.reserve else ""),
                    _standing(retests[c.person_id]) if c.person_id in retests else c.final or "—",
                ]
                for c in state.cadres
            ],
        )
    )


@capability.command("retest")
@click.argument("campaign_id", metavar="CAMPAIGN")
@click.argument("person_id", metavar="PERSON")
@click.option("--tested-on", type=DATE, required=True, help="补测日期")
@click.option("--score", type=str, required=True, help="补测成绩，如 72.5")
@click.option("--note", default="", help="备注")
@pass_app
def capability_retest(
    app: App, campaign_id: str, person_id: str, tested_on: date, score: str, note: str
) -> None:
    """登记能力测试 CAMPAIGN 中 PERSON 的补测成绩（自学期满后）。"""
    fields = {"actor": app.actor(), "tested_on": tested_on, "score": score, "note": note}
    data = build(RetestInput, fields)
    state = through_temporal(
        app, lambda client: cadre.record_retest(client, campaign_id, person_id, data)
    )
    click.echo(f"已记录补测成绩 {data.score} 分：{state.name}{_standing(state)}")


@capability.command("handle")
@click.argument("campaign_id", metavar="CAMPAIGN")
@click.argument("person_id", metavar="PERSON")
@click.argument(
    "decision", type=click.Choice([o.value for o in HandlingOption]), metavar="DECISION"
)
@click.option("--decided-on", type=DATE, required=True, help="决定日期")
@click.option("--reason", required=True, help="理由")
@click.option("--reference", default="", help="决定文号")
@pass_app
def capability_handle(
    app: App,
    campaign_id: str,
    person_id: str,
    decision: str,
    decided_on: date,
    reason: str,
    reference: str,
) -> None:
    """登记组织部对补测仍不合格的 PERSON 的组织处理决定。

    DECISION：reverse_rotation（逆向交流）、demotion（降职）、
    non_leading_post（改任非领导职务）。
    """
    fields = {
        "actor": app.actor(),
        "decision": decision,
        "decided_on": decided_on,
        "reason": reason,
        "reference": reference,
    }
    data = build(HandlingInput, fields)
    state = through_temporal(
        app, lambda client: cadre.record_handling(client, campaign_id, person_id, data)
    )
    click.echo(f"已记录组织处理决定：{state.name}{_standing(state)}")


# --------------------------------------------------------------------------- double evaluation


@click.group(cls=ZhGroup)
def evaluation() -> None:
    """双重考核：导入两张测评表，预览排队结果后开始，查看排队和降免职案件，登记常委会票决。"""


RANKING_HEADERS = ["名次", "倒数", "姓名", "单位", "统一优秀率", "统一不称职率"]
RANKING_HEADERS += ["本单位优秀率", "本单位不称职率", "建议"]


def _ranking(rows: list[RankedRow], outcomes: dict[str, str] | None = None) -> str:
    return table(
        RANKING_HEADERS,
        [
            [
                str(r.place),
                str(r.place_from_bottom),
                f"{r.name}（{r.person_id}）",
                r.unit,
                r.unified_excellent,
                r.unified_incompetent,
                r.own_excellent,
                r.own_incompetent,
                ("建议降免职" if r.proposed else "—")
                + ((outcomes or {}).get(r.person_id, "") if r.proposed else ""),
            ]
            for r in rows
        ],
    )


@evaluation.command("start")
@click.argument("evaluation_id", metavar="EVALUATION")
@click.argument("unified", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("own", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--title", required=True, help="名称，如 2026 年度县直单位双重考核")
@click.option("--held-on", type=DATE, required=True, help="测评日期")
@click.option(
    "--measure",
    type=click.Choice([m.value for m in RemovalMeasure]),
    default=RemovalMeasure.REMOVAL.value,
    show_default=True,
    help="提请常委会的处理：demotion（降职）或 removal（免职）",
)
@click.option("--preview", is_flag=True, help="只显示排队结果和降免职建议，不开始")
@pass_app
def evaluation_start(
    app: App,
    evaluation_id: str,
    unified: Path,
    own: Path,
    title: str,
    held_on: date,
    measure: str,
    preview: bool,
) -> None:
    """导入统一民主测评表 UNIFIED 和本单位民主测评表 OWN（.xlsx 或 .csv），开始双重考核。

    先显示排队结果和降免职建议；任一行有误则不开始。

    空白模板：appointments template evaluation-unified

    空白模板：appointments template evaluation-own

    文件格式：appointments schema evaluation-unified

    文件格式：appointments schema evaluation-own
    """
    actor = permitted(app, START_DOUBLE_EVALUATION)
    try:
        leaders = read_leaders(_upload(unified), _upload(own))
    except SheetProblems as exc:
        raise InputError("\n".join(exc.told())) from exc
    data = build(
        DoubleEvaluationInput,
        {
            "evaluation_id": evaluation_id,
            "title": title,
            "held_on": held_on,
            "leaders": leaders,
            "opened_by": actor,
            "measure": measure,
        },
        positional=("evaluation_id",),
    )
    ranked = _checked(app, cadre_checks.preview_evaluation(data, app.settings.policy_file))
    click.echo(_ranking(ranked))
    proposed = [r.name for r in ranked if r.proposed]
    click.echo(f"建议降免职 {len(proposed)} 人" + (f"：{'、'.join(proposed)}" if proposed else ""))
    if preview:
        click.echo("（仅预览，未开始）")
        return
    workflow_id = through_temporal(
        app, lambda client: cadre.start_evaluation(client, app.settings.task_queue, data)
    )
    click.echo(f"双重考核已开始（{workflow_id}）")


@evaluation.command("list")
@pass_app
def evaluation_list(app: App) -> None:
    """列出双重考核，最新的在前。"""
    from store.cadre_queries import evaluations

    _list(app, evaluations, "还没有双重考核", "测评日期", "党政正职人数")


def _case_text(c: RemovalState) -> str:
    text = f"{c.name}（{c.unit}{c.post}）：{zh(c.status)}（{zh(c.measure)}）"
    if c.schedule is not None and not c.settled:
        text += f"，须于 {c.schedule.deadline_on} 前表决"
    return text + "".join(f"\n    {v.held_on}：{v.note}" for v in c.votes)


@evaluation.command("show")
@click.argument("evaluation_id", metavar="EVALUATION")
@pass_app
def evaluation_show(app: App, evaluation_id: str) -> None:
    """双重考核 EVALUATION：排队结果、降免职建议和各降免职案件的情况。"""
    permitted(app, READ_CADRE_WORK)

    async def read(client: Any) -> Any:
        state = await cadre.evaluation_state(client, evaluation_id)
        if state is None:
            return None, []
        found = await asyncio.gather(
            *(cadre.removal_state(client, evaluation_id, pid) for pid in state.cases)
        )
        return state, found

    state, found = through_temporal(app, read)
    if state is None:
        click.echo(f"双重考核 {evaluation_id} 正在启动（读取政策），请稍后再查看")
        return
    click.echo(
        f"{state.title}（{state.evaluation_id}）{state.held_on}，"
        + ("已办结" if state.finished else "办理中")
    )
    click.echo(_ranking(state.ranking, state.outcomes))
    for c in found:
        click.echo(_case_text(c))


@evaluation.command("vote")
@click.argument("evaluation_id", metavar="EVALUATION")
@click.argument("person_id", metavar="PERSON")
@click.option("--meeting-id", required=True, help="常委会会议编号")
@click.option("--held-on", type=DATE, required=True, help="会议日期")
@click.option("--members", type=int, required=True, help="常委会应到人数")
@click.option("--present", type=int, required=True, help="实到人数")
@click.option(
    "--method",
    type=click.Choice([m.value for m in VoteMethod]),
    default=VoteMethod.SECRET_BALLOT.value,
    show_default=True,
    help="表决方式",
)
@click.option("--agree", type=int, default=0, help="同意票数")
@click.option("--disagree", type=int, default=0, help="不同意票数")
@click.option("--defer", type=int, default=0, help="缓议票数")
@click.option("--deferred-reason", default="", help="暂缓表决的理由")
@pass_app
def evaluation_vote(
    app: App,
    evaluation_id: str,
    person_id: str,
    meeting_id: str,
    held_on: date,
    members: int,
    present: int,
    method: str,
    agree: int,
    disagree: int,
    defer: int,
    deferred_reason: str,
) -> None:
    """登记常委会对双重考核 EVALUATION 中 PERSON 降免职的票决结果。"""
    data = build(
        RemovalVoteInput,
        {
            "actor": app.actor(),
            "meeting": {
                "meeting_id": meeting_id,
                "held_on": held_on,
                "members": members,
                "present": present,
                "method": method,
            },
            "agree": agree,
            "disagree": disagree,
            "defer": defer,
            "deferred_reason": deferred_reason,
        },
    )
    state = through_temporal(
        app, lambda client: cadre.record_removal_vote(client, evaluation_id, person_id, data)
    )
    click.echo("已记录：" + _case_text(state))
