"""The ``audit`` commands (审计): keys, checkpoints, verification, auditors' queries, exports.

Registered on the main command line (``appointments audit ...``) and sharing its conventions:
the database is DATABASE_URL, exit status 0 when all is well, 1 when verification or
reconciliation found a fault (each one named), 2 for malformed input, 3 when the database or
Temporal cannot be reached.

The signing key's path comes from ``--key`` or the setting AUDIT_SIGNING_KEY (settings.py);
the public key's from ``--public-key`` (verifying the log also accepts the signing key, whose
public half it uses). An auditor verifying a dossier needs the public key file only.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from starter.cli_base import (
    App,
    CliError,
    InputError,
    Refused,
    _database_url,
    _problems,
    database,
    echo_json,
    format_instant,
    open_client,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

    from audit.queries import AuditEvent
    from settings import Settings

SIGNING_KEY_SETTING = "AUDIT_SIGNING_KEY"
DAY = click.DateTime(formats=["%Y-%m-%d"])
KEY_PATH = click.Path(dir_okay=False, path_type=Path)


def _settings() -> Settings:
    from settings import load_settings

    app = click.get_current_context().find_object(App)
    return app.settings if app is not None else load_settings()


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _private_key(path: Path | None) -> Ed25519PrivateKey:
    from audit.keys import KeyFileError, load_private_key

    path = path or _settings().audit_signing_key
    if path is None:
        raise InputError(
            f"no signing key: give --key PEM or set {SIGNING_KEY_SETTING} "
            "(make one with `appointments audit keygen --out FILE`)"
        )
    try:
        return load_private_key(path)
    except KeyFileError as exc:
        raise InputError(str(exc)) from exc


def _public_key(public: Path | None, private: Path | None) -> Ed25519PublicKey:
    from audit.keys import KeyFileError, load_public_key

    path = public or private
    if path is None:
        raise InputError("verification needs the public key: give --public-key PEM")
    try:
        return load_public_key(path)
    except KeyFileError as exc:
        raise InputError(str(exc)) from exc


def _run_db(work: Any) -> Any:
    """Run ``work(session)`` in one session on the application database."""

    async def go() -> Any:
        async with database(_settings()) as session:
            return await work(session)

    return asyncio.run(go())


def _fail(ctx: click.Context, lines: Iterable[str], summary: str) -> None:
    for line in lines:
        click.echo(f"  {line}")
    click.echo(summary, err=True)
    ctx.exit(1)


def _event_line(e: AuditEvent) -> str:
    return (
        f"{format_instant(e.occurred_at)}  #{e.seq:<3} [{e.chain_index}] {e.case_id}  "
        f"{e.kind} ({e.stage})  {e.summary} — {e.actor_name} ({e.actor_role})  "
        f"{e.hash[:12]}…"
    )


def _events_json(events: Iterable[AuditEvent]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(e) for e in events]


@click.group()
def audit() -> None:
    """The audit trail: checkpoints, verification, searches and dossiers (审计)."""


@audit.command()
@click.option("--out", type=KEY_PATH, required=True, help="the private key file to write (PEM)")
def keygen(out: Path) -> None:
    """Make a signing key pair: OUT (private, mode 0600) and OUT's .pub.pem (public)."""
    from audit.keys import KeyFileError, write_keypair

    try:
        private, public, ident = write_keypair(out)
    except KeyFileError as exc:
        raise InputError(str(exc)) from exc
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror}") from exc
    click.echo(f"private key {private} (keep it with the service, mode 0600)")
    click.echo(f"public key  {public} (give it to auditors)")
    click.echo(f"key id      {ident}")


@audit.command()
@click.option("--key", type=KEY_PATH, help=f"the signing key (default: {SIGNING_KEY_SETTING})")
def checkpoint(key: Path | None) -> None:
    """Sign the heads of every chain (cases' and probations') now, and store the checkpoint."""
    from audit.chain import iso_utc
    from audit.checkpoints import CheckpointRefused, create_checkpoint

    private = _private_key(key)
    try:
        cp = _run_db(lambda session: create_checkpoint(session, private))
    except CheckpointRefused as exc:
        raise Refused(
            _problems(
                "nothing was signed: the log no longer holds what the last checkpoint signed "
                "(see `appointments audit verify --checkpoints 0`):",
                exc.problems,
            )
        ) from exc
    click.echo(
        f"checkpoint #{cp.id} at {iso_utc(cp.created_at)}: {len(cp.case_heads)} case(s), "
        f"{cp.event_count} event(s), {len(cp.probation_heads)} probation(s), "
        f"root {cp.merkle_root}, key {cp.key_id}"
    )


@audit.command()
@click.option("--public-key", type=KEY_PATH, help="the public key of the signing key (PEM)")
@click.option("--key", type=KEY_PATH, help="or the signing key itself")
@click.option(
    "--case", "case_id", metavar="CASE", help="only this case and its appointees' probations"
)
@click.option(
    "--checkpoints",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="how many of the newest checkpoints to check (0: all)",
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def verify(
    ctx: click.Context,
    public_key: Path | None,
    key: Path | None,
    case_id: str | None,
    checkpoints: int,
    as_json: bool,
) -> None:
    """Check every chain (cases' and probations') and the newest checkpoints; exit 1 naming
    each fault."""
    from audit.verify import verify_log

    pub = _public_key(public_key, key or _settings().audit_signing_key)
    report = _run_db(
        lambda session: verify_log(session, pub, checkpoints=checkpoints or None, case_id=case_id)
    )
    if as_json:
        echo_json(dataclasses.asdict(report) | {"ok": report.ok})
        if not report.ok:
            ctx.exit(1)
        return
    rate = report.events / report.seconds if report.seconds else 0.0
    against = ", ".join(f"#{i}" for i in report.checkpoints) or "no checkpoint"
    probations = f" and {report.probations} probation(s)" if report.probations else ""
    click.echo(
        f"checked {report.events} event(s) of {report.cases} case(s){probations} against "
        f"{against} in {report.seconds:.1f} s ({rate:,.0f} events/s)"
    )
    for note in report.notes:
        click.echo(f"note: {note}")
    if report.ok:
        click.echo("OK: every chain is whole and matches the signed checkpoints")
        return
    click.echo(f"FAULTS ({len(report.faults)}):")
    cases = {f.case_id for f in report.faults if f.case_id}
    faulty = {f.probation_id for f in report.faults if f.probation_id}
    probations = f" and {len(faulty)} probation(s)" if faulty else ""
    _fail(
        ctx,
        (f"[{f.kind}] {f.message}" for f in report.faults),
        f"verification failed: {len(report.faults)} fault(s) in {len(cases)} case(s){probations}",
    )


@audit.command()
@click.argument("case_id", metavar="CASE")
@click.option("--json", "as_json", is_flag=True)
def timeline(case_id: str, as_json: bool) -> None:
    """Every event of CASE, in order, with its place in the chain and its hash."""
    from audit.queries import timeline as read

    events = _run_db(lambda session: read(session, case_id))
    if as_json:
        echo_json(_events_json(events))
        return
    if not events:
        raise CliError(f"the log has no case {case_id}")
    for e in events:
        click.echo(_event_line(e))


@audit.command()
@click.option("--person", help="a person id named anywhere in the event")
@click.option("--actor", help="who did it, exactly as recorded")
@click.option("--unit", help="the case's unit, exactly as written")
@click.option("--stage")
@click.option("--kind", help="opened, transition, input, deadline, reminder, escalation, ...")
@click.option(
    "--from",
    "date_from",
    type=DAY,
    metavar="YYYY-MM-DD",
    help="from the start of this day (Beijing time)",
)
@click.option("--to", "date_to", type=DAY, metavar="YYYY-MM-DD", help="to the end of this day")
@click.option("--page-size", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--after", metavar="CURSOR", help="the `next` cursor of the previous page")
@click.option("--json", "as_json", is_flag=True)
def search(
    person: str | None,
    actor: str | None,
    unit: str | None,
    stage: str | None,
    kind: str | None,
    date_from: datetime | None,
    date_to: datetime | None,
    page_size: int,
    after: str | None,
    as_json: bool,
) -> None:
    """Events matching every filter given, oldest first, a page at a time."""
    from audit.queries import Cursor, Search
    from audit.queries import search as run_search

    try:
        cursor = Cursor.parse(after) if after else None
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    filters = Search(person, actor, unit, stage, kind, _day(date_from), _day(date_to))
    try:
        page = _run_db(
            lambda session: run_search(session, filters, page_size=page_size, after=cursor)
        )
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    if as_json:
        echo_json(
            {"events": _events_json(page.events), "next": str(page.next) if page.next else None}
        )
        return
    if not page.events:
        click.echo("no events")
    for e in page.events:
        click.echo(_event_line(e))
    if page.next is not None:
        click.echo(f"next page: --after {page.next}")


@audit.command("as-of")
@click.argument("case_id", metavar="CASE")
@click.argument("day", metavar="DATE", type=DAY)
@click.option("--json", "as_json", is_flag=True)
def as_of(case_id: str, day: datetime, as_json: bool) -> None:
    """What CASE looked like at the end of DATE (Beijing time)."""
    from audit.queries import as_of as read

    view = _run_db(lambda session: read(session, case_id, day.date()))
    if as_json:
        echo_json(dataclasses.asdict(view))
        return
    s = view.standing
    if s is None:
        raise CliError(f"case {case_id} had not been opened by the end of {view.on}")
    click.echo(f"case {case_id} at the end of {view.on}: {s.unit} · {s.post} · {s.method}")
    outcome = f": {s.outcome_reason}" if s.outcome_reason else ""
    click.echo(f"  stage {s.stage}, {s.status}{outcome}")
    click.echo(f"  policy {s.policy_version or '-'}")
    if s.last_deadline is not None:
        p = s.last_deadline.payload
        click.echo(
            f"  last deadline set: {p.get('step', '?')} due {p.get('deadline_on', '?')} "
            f"(calendar: {p.get('calendar_source', '?')})"
        )
    click.echo(f"events until then ({len(view.events)}):")
    for e in view.events:
        click.echo(f"  {_event_line(e)}")


@audit.command()
@click.argument("case_id", metavar="CASE")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "html"]), default="json")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--key",
    type=KEY_PATH,
    help="sign a new checkpoint first if the newest does not cover the case's last event "
    "(or a probation's)",
)
def export(case_id: str, fmt: str, out: Path, key: Path | None) -> None:
    """Write CASE's dossier (with its appointees' probations), verifiable offline with
    `audit verify-dossier`."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from audit import dossier as dossiers
    from audit.checkpoints import CheckpointRefused, create_checkpoint

    private = _private_key(key) if key is not None else None

    async def build(session: AsyncSession) -> dict[str, Any] | None:
        dossier = await dossiers.build_dossier(session, case_id)
        if dossier is None or private is None:
            return dossier
        if dossiers.uncovered(dossier):
            await session.commit()  # end the reading transaction: the checkpoint needs its own
            await create_checkpoint(session, private)
            dossier = await dossiers.build_dossier(session, case_id)
        return dossier

    try:
        dossier = _run_db(build)
    except CheckpointRefused as exc:
        raise Refused(
            _problems("no checkpoint was signed, nothing exported:", exc.problems)
        ) from exc
    if dossier is None:
        raise CliError(f"the log has no case {case_id}")
    try:
        dossiers.write(dossiers.render(dossier, fmt), out, fmt)
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror}") from exc
    events = len(dossier["events"])
    probations = dossier["probations"]
    with_probations = (
        f", {len(probations)} probation(s) with {sum(len(p['events']) for p in probations)} "
        "event(s)"
        if probations
        else ""
    )
    click.echo(f"{out}: case {case_id}, {events} event(s){with_probations}, {fmt}")
    covered = dossiers.covered_through(dossier)
    behind = [chain for chain in dossiers.uncovered(dossier) if chain.startswith("probation ")]
    if covered == events and not behind:
        click.echo(f"  all covered by checkpoint #{dossier['checkpoint']['id']}")
    if covered < events:
        click.echo(
            f"  warning: only events up to {covered} are covered by a signed checkpoint; "
            "run `appointments audit checkpoint` (or give --key) and export again",
            err=True,
        )
    if behind:
        click.echo(
            f"  warning: the newest events of {', '.join(behind)} are not covered by a signed "
            "checkpoint; run `appointments audit checkpoint` (or give --key) and export again",
            err=True,
        )


@audit.command("verify-dossier")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--public-key", type=KEY_PATH, help="the public key of the signing key (PEM)")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def verify_dossier(ctx: click.Context, file: Path, public_key: Path | None, as_json: bool) -> None:
    """Verify an exported dossier (JSON, CSV or HTML) offline, with the public key only."""
    from audit.dossier import verify_dossier_file

    report = verify_dossier_file(file, _public_key(public_key, None))
    if as_json:
        echo_json(dataclasses.asdict(report) | {"ok": report.ok})
        if not report.ok:
            ctx.exit(1)
        return
    if report.ok:
        probations = (
            f", {report.probations} probation(s) with {report.probation_events} event(s)"
            if report.probations
            else ""
        )
        click.echo(
            f"OK: {file} ({report.format}): case {report.case_id}, {report.events} event(s)"
            f"{probations}, all covered by signed checkpoint #{report.checkpoint_id}"
        )
        return
    click.echo(f"FAULTS in {file} ({report.format}):")
    _fail(ctx, report.faults, f"the dossier does not verify: {len(report.faults)} fault(s)")


@audit.command()
@click.option("--case", "case_ids", multiple=True, metavar="CASE", help="repeat; default: all")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def reconcile(ctx: click.Context, case_ids: tuple[str, ...], as_json: bool) -> None:
    """Compare the log with Temporal's history of each case it still holds."""
    from audit.reconcile import reconcile as run_reconcile
    from store.db import make_engine, make_session_factory

    settings = _settings()
    url = _database_url(settings)

    async def go() -> list[Any]:
        client = await open_client(settings)
        engine = make_engine(url)
        try:
            return await run_reconcile(client, make_session_factory(engine), case_ids or None)
        finally:
            await engine.dispose()

    results = asyncio.run(go())
    if as_json:
        echo_json([dataclasses.asdict(r) | {"ok": r.ok} for r in results])
        if not all(r.ok for r in results):
            ctx.exit(1)
        return
    held = [r for r in results if r.held]
    click.echo(
        f"{len(results)} case(s) in the log; Temporal still holds {len(held)}; "
        f"{len(results) - len(held)} are in the log alone (history past retention)"
    )
    for r in held:
        if r.in_flight:
            click.echo(f"  case {r.case_id}: seq {r.in_flight} still being recorded")
    problems = [p for r in results for p in r.problems()]
    if not problems:
        click.echo("OK: the log holds exactly what Temporal recorded")
        return
    click.echo(f"DIFFERENCES ({len(problems)}):")
    _fail(ctx, problems, f"reconciliation found {len(problems)} difference(s)")
