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
    build,
    cli_error,
    database,
    echo_json,
    format_instant,
    open_client,
    pass_app,
    table,
)
from starter.inputs import CsvProblems, read_csv
from workflows.digest import DIGEST_SCHEDULE_ID
from workflows.glossary import with_value
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


@click.group()
def probation() -> None:
    """Probations (试用期): who is on one, reviews, early ends, bringing them in."""


@probation.command("list")
@click.option("--status", type=click.Choice([s.value for s in ProbationStatus]))
@click.option("--limit", type=click.IntRange(1, 10_000), default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@pass_app
def probation_list(app: App, status: str | None, limit: int, as_json: bool) -> None:
    """Who is on probation, the nearest end of year first, with the review's standing."""
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
        click.echo("no probations")
        return

    def review(r: Any) -> str:
        text = _label(r.review_status, ReviewStatus)
        if r.reviewed_on:
            text += f" {r.reviewed_on}"
        elif r.review_due_on:
            text += f", due {r.review_due_on}"
        return text + ("  OVERDUE" if r.review_overdue else "")

    click.echo(
        table(
            ["CASE", "PERSON", "NAME", "UNIT", "POST", "STARTS", "ENDS", "STATUS", "REVIEW"],
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
    """The probation of PERSON in CASE: its listing row, history and mail."""
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
        raise CliError(f"no probation of {person_id} in case {case_id} on record")
    click.echo(f"probation {r.probation_id}  {r.name} · {r.unit} · {r.post}")
    click.echo(
        f"  {r.starts_on} to {r.ends_on} · "
        f"{_label(r.status, ProbationStatus)} · review "
        f"{_label(r.review_status, ReviewStatus)}"
        + (f" · former rank restored: {r.rank_restored}" if r.rank_restored else "")
    )
    click.echo(f"history ({len(history)} events):")
    for e in history:
        click.echo(f"  {format_instant(e.occurred_at)}  #{e.seq:<3} {e.kind:<15} {e.summary}")
    click.echo(f"mail ({len(mail)}):")
    for m in mail:
        click.echo(f"  #{m.seq:<3} {m.status:<8} to {m.recipient}: {m.subject}")
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
        f"probation {pid}: {with_value(s.status)}, review "
        f"{s.review_status.value}; year {s.starts_on} to {s.ends_on}"
    )
    if s.rank_restored:
        click.echo(f"  former rank restored: {s.rank_restored}")


@probation.command("review")
@click.argument("case_id", metavar="CASE")
@click.argument("person_id", metavar="PERSON")
@click.option("--competent/--not-competent", default=None, help="the outcome (one is required)")
@click.option("--reviewed-on", type=DATE, required=True)
@click.option("--summary", required=True, help="the assessment (考核意见)")
@click.option("--reference", default="", help="the decision's document number")
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
    """Record the review (考核) of PERSON's probation in CASE."""
    if competent is None:
        raise InputError("say what the review found: --competent or --not-competent")
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
@click.option("--decided-by", required=True, help="who decided (e.g. 县委常委会)")
@click.option("--reason", required=True)
@click.option("--reference", default="", help="the decision's document number")
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
    """End PERSON's probation in CASE early (serious errors)."""
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
                f"{key[1]} of case {key[0]} already appears on line {first[key]}",
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
                message = "missing value" if error["type"] == "missing" else str(error["msg"])
                problems.add(row.line, column, message)
            continue
        if item.starts_on > today:
            problems.add(
                row.line,
                "starts_on",
                f"{item.starts_on} is in the future: a probation brought in has already begun",
            )
            continue
        found.append(item)
    problems.raise_if_any()
    return found


def _missed_reminders(settings: Settings, item: ProbationInput, now: datetime) -> list[int]:
    try:
        policy = read_policy(settings.policy_file)
    except PolicyError as exc:
        raise Unreachable(f"cannot read the policy file {settings.policy_file}: {exc}") from exc
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
    """Bring in cadres already on probation when the service is deployed.

    Columns: case_id,person_id,name,unit,post,starts_on (the trial appointment notice);
    optional former_rank, former_post. Each probation runs from its real start date;
    reminders whose moment has passed are recorded as missed, not sent. A probation already
    on record is left as it is.
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
                    f"Temporal did not answer about {item.workflow_id}: {exc.message}\n"
                    f"started so far: {', '.join(started) or 'none'}"
                ) from exc
            if on_record != item.workflow_id:
                existing.append(on_record)
                click.echo(f"{on_record}: already on record, left as it is")
                continue
            try:
                await start_probation(client, item, app.settings.task_queue)
            except WorkflowAlreadyStartedError:
                existing.append(item.workflow_id)
                click.echo(f"{item.workflow_id}: already on record, left as it is")
                continue
            except RPCError as exc:
                raise Unreachable(
                    f"Temporal did not start {item.workflow_id}: {exc.message}\n"
                    f"started so far: {', '.join(started) or 'none'}"
                ) from exc
            started.append(item.workflow_id)
            missed = plans[item.workflow_id]
            click.echo(
                f"{item.workflow_id}: {item.name}, {item.starts_on} to "
                f"{probation_end(item.starts_on)}"
                + (
                    f"; reminders recorded as missed: {', '.join(f'{d} days' for d in missed)}"
                    if missed
                    else ""
                )
            )
        return started, existing

    started, existing = asyncio.run(run())
    click.echo(f"imported {len(started)} probation(s); {len(existing)} already on record")


# --------------------------------------------------------------------------- schedule


@click.group()
def schedule() -> None:
    """The Temporal Schedule that mails the daily digest (每日待办汇总)."""


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
                    f"no schedule {schedule_id} (create it with `appointments schedule create`)"
                ) from exc
            raise Unreachable(f"Temporal did not {action} {schedule_id}: {exc.message}") from exc

    asyncio.run(run())
    click.echo(f"schedule {schedule_id}: {action} done")


def _describe_listed(s: ScheduleListDescription) -> list[str]:
    paused = s.schedule.state.paused if s.schedule else False
    note = (s.schedule.state.note or "") if s.schedule else ""
    info = s.info
    upcoming = info.next_action_times[0] if info and info.next_action_times else None
    recent = info.recent_actions[-1].started_at if info and info.recent_actions else None
    return [
        s.id,
        "paused" + (f" ({note})" if note else "") if paused else "active",
        format_instant(upcoming) if upcoming else "-",
        format_instant(recent) if recent else "-",
    ]


@schedule.command("list")
@pass_app
def schedule_list(app: App) -> None:
    """Every schedule of the namespace, with its next and last run."""

    async def read() -> list[list[str]]:
        client: Client = await open_client(app.settings)
        try:
            return [_describe_listed(s) async for s in await client.list_schedules()]
        except RPCError as exc:
            raise Unreachable(f"Temporal cannot list schedules: {exc.message}") from exc

    rows = asyncio.run(read())
    if not rows:
        click.echo("no schedules (create the digest's with `appointments schedule create`)")
        return
    click.echo(table(["SCHEDULE", "STATE", "NEXT RUN", "LAST RUN"], rows))


@schedule.command("create")
@pass_app
def schedule_create(app: App) -> None:
    """Create the daily digest's schedule, or bring it to the policy's hour (never twice)."""
    from activities.probation_parts import ensure_digest_schedule

    async def run() -> str:
        client = await open_client(app.settings)
        try:
            return (await ensure_digest_schedule(client, app.settings)).value
        except (OSError, PolicyError) as exc:
            raise Unreachable(f"the policy file cannot be used: {exc}") from exc

    click.echo(f"schedule {DIGEST_SCHEDULE_ID}: {asyncio.run(run())}")


@schedule.command("pause")
@SCHEDULE_ID
@click.option("--note", default="paused from the command line")
@pass_app
def schedule_pause(app: App, schedule_id: str, note: str) -> None:
    """Pause the schedule (the digest stops until unpaused)."""
    _schedule_call(app, schedule_id, "pause", lambda h: h.pause(note=note))


@schedule.command("unpause")
@SCHEDULE_ID
@pass_app
def schedule_unpause(app: App, schedule_id: str) -> None:
    """Resume a paused schedule."""
    _schedule_call(app, schedule_id, "unpause", lambda h: h.unpause())


@schedule.command("trigger")
@SCHEDULE_ID
@pass_app
def schedule_trigger(app: App, schedule_id: str) -> None:
    """Run the schedule's action now (a digest now), whatever its timetable."""
    _schedule_call(app, schedule_id, "trigger", lambda h: h.trigger())


@schedule.command("delete")
@SCHEDULE_ID
@pass_app
def schedule_delete(app: App, schedule_id: str) -> None:
    """Delete the schedule (runs already started finish)."""
    _schedule_call(app, schedule_id, "delete", lambda h: h.delete())
