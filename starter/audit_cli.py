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
from enum import Enum
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
from starter.click_zh import ZhGroup
from workflows.glossary import awaited, zh, zh_recorded
from workflows.types import CaseStatus, ChainKind, SelectionMethod

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
    return with_stack_files(app.settings if app is not None else load_settings(stack=True))


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _private_key(path: Path | None) -> Ed25519PrivateKey:
    from audit.keys import KeyFileError, load_private_key

    path = path or _settings().audit_signing_key
    if path is None:
        raise InputError(
            f"没有签名密钥：请用 --key PEM 指定，或设置 {SIGNING_KEY_SETTING}"
            "（可用 `appointments audit keygen --out FILE` 生成）"
        )
    try:
        return load_private_key(path)
    except KeyFileError as exc:
        raise InputError(str(exc)) from exc


def _public_key(public: Path | None, private: Path | None) -> Ed25519PublicKey:
    from audit.keys import KeyFileError, load_public_key

    path = public or private
    if path is None:
        raise InputError("核验需要公钥：请用 --public-key PEM 指定")
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
            "核验需要公钥：请用 --public-key PEM 或 --keyring FILE 指定"
            "（或设置 AUDIT_KEYRING、AUDIT_SIGNING_KEY）"
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


def _named(kind: type[Enum], value: str) -> str:
    """The Chinese name of a value the log recorded; an unknown one as it is."""
    try:
        return zh(kind(value))
    except ValueError:
        return value


def _event_line(e: AuditEvent) -> str:
    return (
        f"{format_instant(e.occurred_at)}  #{e.seq:<3} [{e.chain_index}] {e.case_id}  "
        f"{zh_recorded(e.kind)}（{zh_recorded(e.stage)}）  {e.summary}——"
        f"{e.actor_name}（{zh_recorded(e.actor_role)}）  "
        f"{e.hash[:12]}…"
    )


def _events_json(events: Iterable[AuditEvent]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(e) for e in events]


@click.group(cls=ZhGroup)
def audit() -> None:
    """审计记录：检查点、核验、查询和案卷。"""


@audit.command()
@click.option("--out", type=KEY_PATH, required=True, help="要写出的私钥文件（PEM）")
def keygen(out: Path) -> None:
    """生成一对签名密钥：OUT（私钥，权限 0600）和 OUT 对应的 .pub.pem（公钥）。"""
    from audit.keys import KeyFileError, write_keypair

    try:
        private, public, ident = write_keypair(out)
    except KeyFileError as exc:
        raise InputError(str(exc)) from exc
    except OSError as exc:
        raise InputError(f"无法写入 {out}：{exc.strerror}") from exc
    click.echo(f"私钥      {private}（权限 0600，与服务一同保管）")
    click.echo(f"公钥      {public}（交给审计人员）")
    click.echo(f"密钥编号  {ident}")


@audit.command()
@click.option(
    "--key",
    type=KEY_PATH,
    help=f"签名密钥（默认：{SIGNING_KEY_SETTING}，或嵌入式运行环境自己的密钥）",
)
def checkpoint(key: Path | None) -> None:
    """立即对每条链（案件的和试用期的）的链头签名，保存检查点；其副本存入导出文件夹，并寄往审计人员
    邮箱。
    """
    from audit.checkpoints import CheckpointRefused

    try:
        cp = _sign(key)
    except CheckpointRefused as exc:
        raise Refused(
            _problems(
                "未签名：审计记录已不再是上一个检查点所签的内容"
                "（见 `appointments audit verify --checkpoints 0`）：",
                exc.problems,
            )
        ) from exc
    _said_signed(cp)


def _said_signed(cp: CheckpointResult) -> None:
    from audit.chain import iso_utc
    from audit.copies import checkpoint_from_copy

    signed = checkpoint_from_copy(json.loads(cp.statement_copy))
    click.echo(
        f"检查点 #{cp.checkpoint_id}，{iso_utc(signed.created_at)}：{cp.cases} 个案件，"
        f"{cp.events} 条记录，{cp.probations} 个试用期，"
        f"根哈希 {cp.merkle_root}，密钥 {cp.key_id}"
    )
    if cp.copied_to:
        click.echo(f"副本已写出：{cp.copied_to}")
    else:
        click.echo("未写出副本：没有副本文件夹（设置 AUDIT_EXPORT_DIR）")


@audit.command("rotate-key")
@click.option("--out", type=KEY_PATH, required=True, help="要写出的新私钥文件")
@click.option(
    "--keyring",
    "keyring_file",
    type=KEY_PATH,
    help="登记新密钥的公钥环（默认：AUDIT_KEYRING，或嵌入式运行环境的公钥环）",
)
@click.option("--key", type=KEY_PATH, help="此前用于签名的密钥（默认：同 `checkpoint`）")
def rotate_key(out: Path, keyring_file: Path | None, key: Path | None) -> None:
    """生成新的签名密钥，自此刻起登记在公钥环中；此前的密钥仍留在其中，有效至此刻，因此已签名的检查
    点仍可核验。
    """
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
@click.option("--public-key", type=KEY_PATH, help="签名密钥的公钥（PEM）")
@click.option("--key", type=KEY_PATH, help="或签名密钥本身")
@click.option(
    "--keyring",
    "keyring_file",
    type=KEY_PATH,
    help="或公钥环（默认：AUDIT_KEYRING、AUDIT_SIGNING_KEY，或嵌入式运行环境的）",
)
@click.option(
    "--against",
    type=click.Path(file_okay=False, path_type=Path),
    help="用来对照数据库的检查点副本文件夹（默认：AUDIT_EXPORT_DIR，或嵌入式运行环境的）",
)
@click.option("--case", "case_id", metavar="CASE", help="只核验此案件及其任用人员的试用期")
@click.option(
    "--checkpoints",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="核验最新的几个检查点（0：全部）",
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
    """检查每条链（案件的和试用期的）、检查点链及其副本，以及最新的检查点；发现问题则逐一列出，并以
    退出状态 1 结束。
    """
    from audit.last_checks import record_check
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
    if case_id is None:  # the whole log: its outcome for monitoring (/metrics)
        record_check(_settings().data_dir, "verify", report.ok, len(report.faults))
    if as_json:
        echo_json(dataclasses.asdict(report) | {"ok": report.ok})
        if not report.ok:
            ctx.exit(1)
        return
    rate = report.events / report.seconds if report.seconds else 0.0
    compared = "、".join(f"#{i}" for i in report.checkpoints) or "（没有检查点）"
    probations = f"和 {report.probations} 个试用期" if report.probations else ""
    click.echo(
        f"已对照检查点 {compared} 核验 {report.cases} 个案件{probations}的 {report.events} 条"
        f"记录，用时 {report.seconds:.1f} 秒（每秒 {rate:,.0f} 条）"
    )
    if report.checkpoint_chain:
        click.echo(f"检查点链：{report.checkpoint_chain} 个检查点的签名与前后链接已核对")
    if copies is not None:
        click.echo(f"检查点副本：与 {copies} 中的 {report.copies} 份副本核对")
    for note in report.notes:
        click.echo(f"说明：{note}")
    if report.ok:
        click.echo("通过：每条链完整无缺，且与已签名的检查点一致")
        return
    click.echo(f"发现问题（{len(report.faults)} 处）：")
    cases = {f.case_id for f in report.faults if f.case_id}
    faulty = {f.probation_id for f in report.faults if f.probation_id}
    probations = f"、{len(faulty)} 个试用期" if faulty else ""
    signed = {f.checkpoint for f in report.faults if f.checkpoint}
    of_checkpoints = f"、{len(signed)} 个检查点" if signed else ""
    _fail(
        ctx,
        (f"[{f.kind}] {f.message}" for f in report.faults),
        f"核验未通过：{len(cases)} 个案件{probations}{of_checkpoints}中共有 "
        f"{len(report.faults)} 处问题",
    )


@audit.command()
@click.argument("case_id", metavar="CASE")
@click.option("--json", "as_json", is_flag=True)
def timeline(case_id: str, as_json: bool) -> None:
    """CASE 的全部记录，按顺序列出，并标明其在链中的位置和哈希值。"""
    from audit.queries import timeline as read

    events = _run_db(lambda session: read(session, case_id))
    if as_json:
        echo_json(_events_json(events))
        return
    if not events:
        raise CliError(f"审计记录中没有案件 {case_id}")
    for e in events:
        click.echo(_event_line(e))


@audit.command()
@click.option("--person", help="记录中任一处提到的人员编号")
@click.option("--actor", help="经办人，与记录中的写法完全一致")
@click.option("--unit", help="案件的单位，与案件文件中的写法完全一致")
@click.option("--stage")
@click.option(
    "--kind", help="记录类别：opened、transition、input、deadline、reminder、escalation 等"
)
@click.option(
    "--from",
    "date_from",
    type=DAY,
    metavar="YYYY-MM-DD",
    help="自当日零时起（北京时间）",
)
@click.option("--to", "date_to", type=DAY, metavar="YYYY-MM-DD", help="至当日日终")
@click.option("--page-size", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--after", metavar="CURSOR", help="上一页给出的翻页标记（next）")
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
    """按所给的全部条件查询记录，最早的在前，分页列出。"""
    from audit.queries import Cursor, Search
    from audit.queries import search as run_search

    try:
        cursor = Cursor.parse(after) if after else None
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    from store.queries import chain_kinds

    filters = Search(person, actor, unit, stage, kind, _day(date_from), _day(date_to))

    async def read(session: Any) -> tuple[Any, dict[str, ChainKind]]:
        found = await run_search(session, filters, page_size=page_size, after=cursor)
        return found, await chain_kinds(session, {e.case_id for e in found.events})

    try:
        page, chains = _run_db(read)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    if as_json:
        events = [{**e, "chain": chains.get(e["case_id"])} for e in _events_json(page.events)]
        echo_json({"events": events, "next": str(page.next) if page.next else None})
        return
    if not page.events:
        click.echo("没有符合条件的记录")
    for e in page.events:
        # each event with what its chain records: a case, or an audit chain that is not
        click.echo(f"{zh(chains.get(e.case_id))}  {_event_line(e)}")
    if page.next is not None:
        click.echo(f"下一页：--after {page.next}")


@audit.command("as-of")
@click.argument("case_id", metavar="CASE")
@click.argument("day", metavar="DATE", type=DAY)
@click.option("--json", "as_json", is_flag=True)
def as_of(case_id: str, day: datetime, as_json: bool) -> None:
    """CASE 在 DATE 日终（北京时间）时的情况。"""
    from audit.queries import as_of as read

    view = _run_db(lambda session: read(session, case_id, day.date()))
    if as_json:
        echo_json(dataclasses.asdict(view))
        return
    s = view.standing
    if s is None:
        raise CliError(f"案件 {case_id} 截至 {view.on} 日终尚未立案")
    method = _named(SelectionMethod, s.method)
    click.echo(f"案件 {case_id} 截至 {view.on} 日终：{s.unit} · {s.post} · {method}")
    outcome = f"：{s.outcome_reason}" if s.outcome_reason else ""
    click.echo(f"  环节 {zh_recorded(s.stage)}，{_named(CaseStatus, s.status)}{outcome}")
    click.echo(f"  政策版本 {s.policy_version or '-'}")
    if s.last_deadline is not None:
        p = s.last_deadline.payload
        click.echo(
            f"  最近设定的期限：{awaited(str(p.get('step', '?')))[0]}，"
            f"{p.get('deadline_on', '?')} 前办结"
            f"（日历数据：{p.get('calendar_source', '?')}）"
        )
    click.echo(f"截至当时的记录（{len(view.events)} 条）：")
    for e in view.events:
        click.echo(f"  {_event_line(e)}")


@audit.command()
@click.argument("case_id", metavar="CASE")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "html"]), default="json")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--key",
    type=KEY_PATH,
    help="如最新的检查点未覆盖本案件（或其试用期）的最后一条记录，先以此密钥签一个新的检查点",
)
def export(case_id: str, fmt: str, out: Path, key: Path | None) -> None:
    """写出 CASE 的案卷（含其任用人员的试用期），可离线用 `audit verify-dossier` 核验。"""
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
            raise Refused(_problems("未签检查点，未导出任何内容：", exc.problems)) from exc
        dossier = _run_db(build)
    if dossier is None:
        raise CliError(f"审计记录中没有案件 {case_id}")
    try:
        dossiers.write(dossiers.render(dossier, fmt), out, fmt)
    except OSError as exc:
        raise InputError(f"无法写入 {out}：{exc.strerror}") from exc
    events = len(dossier["events"])
    probations = dossier["probations"]
    with_probations = (
        f"，{len(probations)} 个试用期共 {sum(len(p['events']) for p in probations)} 条记录"
        if probations
        else ""
    )
    click.echo(f"{out}：案件 {case_id}，{events} 条记录{with_probations}，格式 {fmt}")
    covered = dossiers.covered_through(dossier)
    behind = [chain for chain in dossiers.uncovered(dossier) if chain.startswith("试用期 ")]
    if covered == events and not behind:
        click.echo(f"  全部由检查点 #{dossier['checkpoint']['id']} 覆盖")
    if covered < events:
        click.echo(
            f"  注意：只有第 {covered} 条及以前的记录有已签名的检查点覆盖；"
            "请运行 `appointments audit checkpoint`（或指定 --key）后重新导出",
            err=True,
        )
    if behind:
        click.echo(
            f"  注意：{'、'.join(behind)} 最新的记录没有已签名的检查点覆盖；"
            "请运行 `appointments audit checkpoint`（或指定 --key）后重新导出",
            err=True,
        )


@audit.command("verify-dossier")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--public-key", type=KEY_PATH, help="签名密钥的公钥（PEM）")
@click.option(
    "--keyring",
    "keyring_file",
    type=KEY_PATH,
    help="或公钥环，用于以较早密钥签名的案卷（默认：本服务的公钥环）",
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
    """仅用公钥（或公钥环）离线核验导出的案卷（JSON、CSV、HTML，或带附件的 zip 包）。"""
    from audit.dossier import verify_dossier_file

    report = verify_dossier_file(file, _keyring(keyring_file, public_key, None))
    if as_json:
        echo_json(dataclasses.asdict(report) | {"ok": report.ok})
        if not report.ok:
            ctx.exit(1)
        return
    if report.ok:
        probations = (
            f"，{report.probations} 个试用期共 {report.probation_events} 条记录"
            if report.probations
            else ""
        )
        click.echo(
            f"通过：{file}（{report.format}）：案件 {report.case_id}，{report.events} 条记录"
            f"{probations}，全部由已签名的检查点 #{report.checkpoint_id} 覆盖"
        )
        if report.format == "zip":
            click.echo(
                f"  附件 {report.files} 个，内容均与其 SHA-256 相符；"
                f"其中 {report.files_named} 个为已签名的记录所引用"
            )
        return
    click.echo(f"{file}（{report.format}）发现问题：")
    _fail(ctx, report.faults, f"案卷核验未通过：共 {len(report.faults)} 处问题")


@audit.command()
@click.option("--case", "case_ids", multiple=True, metavar="CASE", help="可重复；默认：全部案件")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def reconcile(ctx: click.Context, case_ids: tuple[str, ...], as_json: bool) -> None:
    """将审计记录与 Temporal 仍保存的每个案件的历史逐一比对。"""
    from audit.last_checks import record_check
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
    if not case_ids:  # every case: the outcome for monitoring (/metrics)
        differences = sum(len(r.problems()) for r in results)
        record_check(settings.data_dir, "reconcile", differences == 0, differences)
    if as_json:
        echo_json([dataclasses.asdict(r) | {"ok": r.ok} for r in results])
        if not all(r.ok for r in results):
            ctx.exit(1)
        return
    held = [r for r in results if r.held]
    click.echo(
        f"审计记录中有 {len(results)} 个案件；Temporal 仍保存其中 {len(held)} 个；"
        f"{len(results) - len(held)} 个只在审计记录中（历史已过保存期限）"
    )
    for r in held:
        if r.in_flight:
            click.echo(f"  案件 {r.case_id}：第 {r.in_flight} 条记录仍在登记中")
    problems = [p for r in results for p in r.problems()]
    if not problems:
        click.echo("通过：审计记录与 Temporal 的记录完全一致")
        return
    click.echo(f"不一致之处（{len(problems)} 处）：")
    _fail(ctx, problems, f"比对发现 {len(problems)} 处不一致")
