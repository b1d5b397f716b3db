"""The ``audit`` commands (审计): keys, checkpoints, verification, auditors' queries, exports.

Registered on the main command line (``appointments audit ...``) and sharing its conventions:
the database is DATABASE_URL, exit status 0 when all is well, 1 when verification or
reconciliation found a fault (each one named), 2 for malformed input, 3 when the database or
Temporal cannot be reached.

The signing key's path comes from ``--key``, the setting AUDIT_SIGNING_KEY (settings.py), or
else the embedded stack's own key in the data folder (DATA_DIR); verifying uses ``--keyring``,
``--public-key`` or ``--key`` (its public half), or else the service's keyring found the same
way (``audit.locations``), so against the embedded stack neither needs a flag. An auditor
verifying a dossier needs the public key file (or the keyring) only. Checkpoints are signed on
AUDIT_SIGNER_DATABASE_URL when it is set (the only role that may insert them), and each one's
copy is written to the export folder and mailed to the auditors through the outbox.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
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

    from audit.keyring import Keyring
    from audit.queries import AuditEvent
    from settings import Settings
    from workflows.checkpoint_types import CheckpointResult

SIGNING_KEY_SETTING = "AUDIT_SIGNING_KEY"
DAY = click.DateTime(formats=["%Y-%m-%d"])
KEY_PATH = click.Path(dir_okay=False, path_type=Path)


def _settings() -> Settings:
    """The settings, and the embedded stack's audit files in the data folder where no
    setting names them (``audit.locations``)."""
    from audit.locations import with_stack_files
    from settings import load_settings

    app = click.get_current_context().find_object(App)
    return with_stack_files(app.settings if app is not None else load_settings())


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


def _keyring(keyring: Path | None, public: Path | None, private: Path | None) -> Keyring:
    """The keys to verify with: ``--keyring``, ``--public-key`` or ``--key`` as given, else
    the service's keyring (the keyring file, or the signing key's public half)."""
    from audit.keyring import Keyring, load_keyring
    from audit.keys import KeyFileError
    from audit.locations import NoAuditKey, service_keyring

    try:
        if keyring is not None:
            return load_keyring(keyring)
        if public is not None or private is not None:
            return Keyring.single(_public_key(public, private))
        return service_keyring(_settings())
    except NoAuditKey as exc:
        raise InputError(
            "verification needs the public key: give --public-key PEM or --keyring FILE "
            "(or set AUDIT_KEYRING / AUDIT_SIGNING_KEY)"
        ) from exc
    except KeyFileError as exc:
        raise InputError(str(exc)) from exc


def _sign(key: Path | None) -> CheckpointResult:
    """A checkpoint signed as ``audit checkpoint`` signs it (on the signer's database), its
    copy written and mailed to the auditors; CheckpointRefused if it may not be."""
    from activities.audit_checkpoint import mail_checkpoint, sign_checkpoint
    from audit.checkpoints import CheckpointConflict
    from audit.keys import KeyFileError
    from audit.locations import signer_database_url
    from store.db import make_engine, make_session_factory

    settings = _settings()
    signer = dataclasses.replace(settings, database_url=signer_database_url(settings))

    async def go() -> CheckpointResult:
        async with database(signer) as session:
            try:
                result = await sign_checkpoint(session, settings, key_path=key)
            except KeyFileError as exc:
                raise InputError(str(exc)) from exc
            except CheckpointConflict as exc:
                raise CliError(str(exc)) from exc
        engine = make_engine(_database_url(settings))
        try:
            await mail_checkpoint(make_session_factory(engine), settings, result)
        except Exception as exc:  # the checkpoint stands; say why the mail did not go
            click.echo(f"检查点 #{result.checkpoint_id} 的副本未能寄出：{exc}", err=True)
        finally:
            await engine.dispose()
        return result

    result: CheckpointResult = asyncio.run(go())
    return result


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
@click.option(
    "--key",
    type=KEY_PATH,
    help=f"the signing key (default: {SIGNING_KEY_SETTING}, or the embedded stack's own)",
)
def checkpoint(key: Path | None) -> None:
    """Sign the heads of every chain (cases' and probations') now, and store the checkpoint;
    its copy goes to the export folder and the auditors' mailbox."""
    from audit.checkpoints import CheckpointRefused

    try:
        cp = _sign(key)
    except CheckpointRefused as exc:
        raise Refused(
            _problems(
                "nothing was signed: the log no longer holds what the last checkpoint signed "
                "(see `appointments audit verify --checkpoints 0`):",
                exc.problems,
            )
        ) from exc
    _said_signed(cp)


def _said_signed(cp: CheckpointResult) -> None:
    from audit.chain import iso_utc
    from audit.copies import checkpoint_from_copy

    signed = checkpoint_from_copy(json.loads(cp.statement_copy))
    click.echo(
        f"checkpoint #{cp.checkpoint_id} at {iso_utc(signed.created_at)}: {cp.cases} case(s), "
        f"{cp.events} event(s), {cp.probations} probation(s), "
        f"root {cp.merkle_root}, key {cp.key_id}"
    )
    if cp.copied_to:
        click.echo(f"副本已写出：{cp.copied_to}")
    else:
        click.echo("未写出副本：没有副本文件夹（设置 AUDIT_EXPORT_DIR）")


@audit.command("rotate-key")
@click.option("--out", type=KEY_PATH, required=True, help="the new private key file to write")
@click.option(
    "--keyring",
    "keyring_file",
    type=KEY_PATH,
    help="the keyring to enter it in (default: AUDIT_KEYRING, or the embedded stack's)",
)
@click.option("--key", type=KEY_PATH, help="the key signing until now (default: as `checkpoint`)")
def rotate_key(out: Path, keyring_file: Path | None, key: Path | None) -> None:
    """Make a new signing key and enter it in the keyring from now on; the keys before it stay
    there, valid until now, so every checkpoint signed so far still verifies."""
    from audit.keyring import rotate
    from audit.keys import KeyFileError

    path = keyring_file or _settings().audit_keyring
    if path is None:
        raise InputError("没有公钥环：请用 --keyring 指定文件（或设置 AUDIT_KEYRING）")
    current = None if path.exists() else _private_key(key).public_key()
    try:
        done = rotate(path, out, current=current)
    except KeyFileError as exc:
        raise InputError(str(exc)) from exc
    except OSError as exc:
        raise InputError(f"cannot write {exc.filename}: {exc.strerror}") from exc
    click.echo(f"新签名密钥 {done.private_path}（权限 0600，与服务一同保管）")
    click.echo(f"新公钥     {done.public_path}（交给审计人员）")
    click.echo(f"密钥编号   {done.key_id}，自 {done.at.isoformat()} 起有效")
    click.echo(f"公钥环     {path}（已更新：此前的密钥有效至此刻，请重新发布）")
    click.echo(
        f"下一步：让服务改用新密钥（{SIGNING_KEY_SETTING}={done.private_path}）并重启；"
        "旧私钥可离线封存"
    )


@audit.command()
@click.option("--public-key", type=KEY_PATH, help="the public key of the signing key (PEM)")
@click.option("--key", type=KEY_PATH, help="or the signing key itself")
@click.option(
    "--keyring",
    "keyring_file",
    type=KEY_PATH,
    help="or the keyring (default: AUDIT_KEYRING, AUDIT_SIGNING_KEY, or the embedded stack's)",
)
@click.option(
    "--against",
    type=click.Path(file_okay=False, path_type=Path),
    help="a folder of checkpoint copies to check the database against (default: "
    "AUDIT_EXPORT_DIR, or the embedded stack's)",
)
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
    keyring_file: Path | None,
    against: Path | None,
    case_id: str | None,
    checkpoints: int,
    as_json: bool,
) -> None:
    """Check every chain (cases' and probations'), the chain of checkpoints and its copies,
    and the newest checkpoints; exit 1 naming each fault."""
    from audit.verify import verify_log

    keys = _keyring(keyring_file, public_key, key)
    if against is not None and not against.is_dir():
        raise InputError(f"没有副本文件夹 {against}")
    copies = against or _settings().audit_export_dir
    report = _run_db(
        lambda session: verify_log(
            session, keys, checkpoints=checkpoints or None, case_id=case_id, copies=copies
        )
    )
    if as_json:
        echo_json(dataclasses.asdict(report) | {"ok": report.ok})
        if not report.ok:
            ctx.exit(1)
        return
    rate = report.events / report.seconds if report.seconds else 0.0
    compared = ", ".join(f"#{i}" for i in report.checkpoints) or "no checkpoint"
    probations = f" and {report.probations} probation(s)" if report.probations else ""
    click.echo(
        f"checked {report.events} event(s) of {report.cases} case(s){probations} against "
        f"{compared} in {report.seconds:.1f} s ({rate:,.0f} events/s)"
    )
    if report.checkpoint_chain:
        click.echo(f"检查点链：{report.checkpoint_chain} 个检查点的签名与前后链接已核对")
    if copies is not None:
        click.echo(f"检查点副本：与 {copies} 中的 {report.copies} 份副本核对")
    for note in report.notes:
        click.echo(f"note: {note}")
    if report.ok:
        click.echo("OK: every chain is whole and matches the signed checkpoints")
        return
    click.echo(f"FAULTS ({len(report.faults)}):")
    cases = {f.case_id for f in report.faults if f.case_id}
    faulty = {f.probation_id for f in report.faults if f.probation_id}
    probations = f" and {len(faulty)} probation(s)" if faulty else ""
    signed = {f.checkpoint for f in report.faults if f.checkpoint}
    of_checkpoints = f" and {len(signed)} checkpoint(s)" if signed else ""
    _fail(
        ctx,
        (f"[{f.kind}] {f.message}" for f in report.faults),
        f"verification failed: {len(report.faults)} fault(s) in {len(cases)} case(s)"
        f"{probations}{of_checkpoints}",
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
    from audit.checkpoints import CheckpointRefused

    if key is not None:
        _private_key(key)  # refused before anything is read if it cannot be used

    async def build(session: AsyncSession) -> dict[str, Any] | None:
        return await dossiers.build_dossier(session, case_id)

    dossier = _run_db(build)
    if dossier is not None and key is not None and dossiers.uncovered(dossier):
        try:
            _sign(key)
        except CheckpointRefused as exc:
            raise Refused(
                _problems("no checkpoint was signed, nothing exported:", exc.problems)
            ) from exc
        dossier = _run_db(build)
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
@click.option(
    "--keyring",
    "keyring_file",
    type=KEY_PATH,
    help="or the keyring, for a dossier signed with an older key (default: the service's)",
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def verify_dossier(
    ctx: click.Context,
    file: Path,
    public_key: Path | None,
    keyring_file: Path | None,
    as_json: bool,
) -> None:
    """Verify an exported dossier (JSON, CSV or HTML) offline, with the public key (or the
    keyring) only."""
    from audit.dossier import verify_dossier_file

    report = verify_dossier_file(file, _keyring(keyring_file, public_key, None))
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
