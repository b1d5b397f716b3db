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

from api.permissions import ALLOWED, START_CASE, allowed
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
from starter.inputs import load_model
from workflows.rules.errors import RuleViolation
from workflows.rules.working_days import SHANGHAI
from workflows.types import CaseInput, CaseStage, CaseState, CaseStatus, WithdrawInput

# --------------------------------------------------------------------------- case


@click.group()
def case() -> None:
    """Open, list, show and withdraw cases."""


def _today() -> date:
    return datetime.now(SHANGHAI).date()


def _recommendation_valid_months(settings: Settings) -> int:
    from activities.policy import read_policy
    from workflows.policy import PolicyError

    path = settings.policy_file
    try:
        loaded = read_policy(path)
    except PolicyError as exc:
        raise Unreachable(
            _problems(f"the policy file {path} is not usable:", exc.problems)
        ) from exc
    return int(loaded.policy.recommendation.valid_months)


@case.command("start")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
def case_start(app: App, file: Path) -> None:
    """Open a case from FILE (YAML or JSON: a case without `opened_by`)."""
    from workflows.case_book import check_case_input

    actor = app.actor()
    if not allowed(START_CASE, actor.role):
        # No workflow runs yet to check who opens it: the API's table decides, for both doors.
        roles = ", ".join(sorted(r.value for r in ALLOWED[START_CASE]))
        raise Refused(f"the role {actor.role.value} may not start a case (it is for: {roles})")
    case_input = load_model(CaseInput, file, {"opened_by": actor.model_dump(mode="json")})
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
        click.echo(f"case {case_input.case_id} started (workflow {workflow_id})")
        return await first_state(client, app.settings, case_input.case_id)

    state, why = asyncio.run(start())
    if state is not None:
        echo_state(state)
    else:
        click.echo(f"  its state is not available yet: {why}")


@case.command("list")
@click.option("--stage", type=_choice(CaseStage))
@click.option("--status", type=_choice(CaseStatus))
@click.option("--unit", help="exactly as written in the case file")
@click.option("--overdue", is_flag=True, default=None, help="only cases past a deadline")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@pass_app
def case_list(
    app: App,
    stage: str | None,
    status: str | None,
    unit: str | None,
    overdue: bool | None,
    limit: int,
    as_json: bool,
) -> None:
    """Cases, the nearest deadline first."""
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
            )

    rows = asyncio.run(read())
    if as_json:
        echo_json(_rows_json(rows))
        return
    if not rows:
        click.echo("no cases")
        return
    click.echo(
        table(
            ["CASE", "UNIT", "POST", "STAGE", "STATUS", "NEXT DEADLINE", "OVERDUE"],
            [
                [
                    r.case_id,
                    r.unit,
                    r.post,
                    r.stage.value,
                    r.status.value,
                    format_deadline(r.next_deadline),
                    "overdue" if r.overdue else "",
                ]
                for r in rows
            ],
        )
    )


def echo_case_details(state: CaseState) -> None:
    s = state
    click.echo(
        f"case {s.case_id}  {s.unit} · {s.post} · {s.method.value} · "
        f"{s.positions} position{'s' if s.positions > 1 else ''}"
    )
    extras = [f"opened {s.opened_on}"]
    if s.policy_version:
        extras.append(f"policy {s.policy_version}")
    if s.probation_required:
        extras.append("probation required")
    if s.economic_audit_required:
        extras.append("economic audit required")
    click.echo("  " + " · ".join(extras))
    for line in standing(s):
        click.echo(f"  {line}")
    if s.candidates:
        click.echo("candidates:")
        width = max(_width(c.name) for c in s.candidates)
        status_width = max(len(c.status.value) for c in s.candidates)
        for c in s.candidates:
            facts = [
                f"{label} {value:g}" if isinstance(value, float) else f"{label} {value}"
                for label, value in (
                    ("written", c.written_score),
                    ("interview", c.interview_score),
                    ("total", c.total_score),
                    ("rank", c.rank),
                    ("vote", c.vote.value if c.vote else None),
                    ("suspended until", c.suspended_until),
                )
                if value is not None
            ]
            if c.exceptional:
                facts.append("exceptional promotion (破格)")
            if c.reminded:
                facts.append("reminded (提醒)")
            click.echo(
                f"  {c.person_id}  {_pad(c.name, width)}  {c.status.value:<{status_width}}"
                + (f"  {' · '.join(facts)}" if facts else "")
            )
            if c.checks:
                done = ", ".join(f"{k} {v}" for k, v in c.checks.items())
                click.echo(f"      checks: {done}")
            if c.note:
                click.echo(f"      {c.note}")
    if s.inspection_team:
        click.echo(f"inspection team: {', '.join(s.inspection_team)}")
    if s.one_to_one_reason:
        click.echo(f"one-to-one (等额) because: {s.one_to_one_reason}")
    if s.dates:
        click.echo("dates: " + " · ".join(f"{k} {v}" for k, v in s.dates.items()))
    if s.notice_id:
        click.echo(f"public notice: {s.notice_id}")
    for o in s.objections:
        outcome = f"{o.outcome.value} on {o.verified_on}" if o.outcome else "not yet verified"
        who = " (anonymous)" if o.anonymous else ""
        click.echo(
            f"objection {o.objection_id} about {o.person_id}, received {o.received_on}"
            f"{who}: {outcome}"
        )


@case.command("show")
@click.argument("case_id", metavar="CASE")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@pass_app
def case_show(app: App, case_id: str, as_json: bool) -> None:
    """The live state of CASE (from Temporal) and its history (from the database)."""
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
                    f"case {case_id} cannot be shown:",
                    [f"live state: {live_note}", f"history: {db_note}"],
                )
            )
        raise CliError(f"no case {case_id}")
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
        click.echo(f"case {row.case_id}  {row.unit} · {row.post} · {row.method.value}")
        click.echo(
            f"  stage {stage_text(row.stage)}, {row.status.value}; next deadline "
            f"{format_deadline(row.next_deadline)}{'  OVERDUE' if row.overdue else ''}"
        )
        click.echo(f"  (live state not available: {live_note})", err=True)
    if db_note:
        click.echo(f"(history not available: {db_note})", err=True)
        return
    click.echo(f"history ({len(history)} event{'s' if len(history) != 1 else ''}):")
    kind_width = max((len(e.kind) for e in history), default=0)
    for e in history:
        click.echo(
            f"  {format_instant(e.occurred_at)}  #{e.seq:<3} {e.kind:<{kind_width}} "
            f"[{e.stage.value}] {e.summary} — {e.actor_name} ({e.actor_role.value})"
        )


@case.command("withdraw")
@click.argument("case_id", metavar="CASE")
@click.option("--reason", required=True)
@pass_app
def case_withdraw(app: App, case_id: str, reason: str) -> None:
    """Withdraw CASE (it closes as withdrawn)."""
    arg = build(WithdrawInput, {"actor": app.actor(), "reason": reason})
    record_step(app, case_id, "withdraw", arg)
