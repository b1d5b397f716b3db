"""The ``attachment`` commands (附件): give a case a file a step relies on, list a case's files,
save one of them; each file's sha256 checked at both ends.

    appointments attachment add CASE FILE [--sha256 HEX]
    appointments attachment list CASE
    appointments attachment get CASE SHA256 --out FILE

``add`` hashes the file before it sends anything and prints the hash; given ``--sha256`` (the
hash the sender was told, e.g. in the approval reply's covering letter) it refuses a file
that does not give it, sending nothing. The store hashes what it received again and refuses
bytes that do not give the sender's hash, keeping nothing (``store.attachments.put``); its
answer names the hash it keeps, which must be the sender's. The file passes the checks every
door applies (``api.attachment_checks``: size, type by its own bytes, the scan hook). ``get``
writes a file only if its bytes give the hash asked for.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import click

from api.attachment_checks import AttachmentRefused, check, too_large
from api.permissions import ATTACH_FILE, READ_CASES, allowed, refusal
from starter.cli_base import App, CliError, InputError, Refused, database, pass_app, table
from starter.click_zh import ZhGroup
from store import attachments as store

SHA256_HEX = re.compile(r"[0-9a-f]{64}")


@click.group(cls=ZhGroup)
def attachment() -> None:
    """案件的附件：上传（先核对 SHA-256）、列出、取回。"""


def _hex(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    cleaned = value.strip().lower()
    if not SHA256_HEX.fullmatch(cleaned):
        raise InputError(f"{what}“{value}”不是 SHA-256 摘要（应为 64 位十六进制数字）")
    return cleaned


def _permitted(app: App, action: str) -> str:
    actor = app.actor()
    if not allowed(action, actor.role):
        raise Refused(refusal(action, actor.role))
    return actor.name


@attachment.command("add")
@click.argument("case_id", metavar="CASE")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--sha256", "expected", metavar="HEX", help="应有的 SHA-256 摘要；不符则不上传")
@pass_app
def attachment_add(app: App, case_id: str, file: Path, expected: str | None) -> None:
    """把 FILE 作为案件 CASE 的附件上传（PDF、JPEG、PNG），按其 SHA-256 保存。"""
    expected = _hex(expected, "--sha256 ")
    actor = app.actor()
    if not allowed(ATTACH_FILE, actor.role):
        raise Refused(refusal(ATTACH_FILE, actor.role))
    try:
        if file.stat().st_size > app.settings.attachment_max_bytes:
            raise InputError(too_large(app.settings).message)
        content = file.read_bytes()
    except OSError as exc:
        raise InputError(f"无法读取 {file}：{exc.strerror}") from exc
    digest = store.sha256_of(content)
    click.echo(f"{file}：SHA-256 {digest}")
    if expected is not None and digest != expected:
        raise InputError(
            f"{file} 的 SHA-256 是 {digest}，与所给的 {expected} 不符："
            "文件可能已损坏或不是要上传的那一份；未上传任何内容"
        )

    async def send() -> store.Listed:
        try:
            checked = await check(app.settings, content, file.name)
        except AttachmentRefused as refused:
            raise Refused(refused.message) from None
        async with database(app.settings) as session:
            if not await store.case_exists(session, case_id):
                raise CliError(f"没有案件 {case_id}")
            try:
                return await store.put(
                    session,
                    case_id,
                    checked.content,
                    media_type=checked.media_type,
                    file_name=checked.file_name,
                    uploaded_by=actor.name,
                    uploaded_role=actor.role.value,
                    expected_sha256=digest,
                )
            except store.HashMismatch as exc:
                raise CliError(str(exc)) from exc

    entry = asyncio.run(send())
    if entry.sha256 != digest:
        raise CliError(
            f"服务端记下的 SHA-256 是 {entry.sha256}，与本地算得的 {digest} 不符；"
            "请勿在任何环节引用它，并告知系统管理员"
        )
    done = "已上传" if entry.new else "案件已有此文件，未重复保存"
    click.echo(
        f"{done}：案件 {case_id} 附件 #{entry.number} {entry.file_name}"
        f"（{entry.media_type}，{entry.size:,} 字节），SHA-256 {entry.sha256}（已与服务端核对）"
    )


@attachment.command("list")
@click.argument("case_id", metavar="CASE")
@pass_app
def attachment_list(app: App, case_id: str) -> None:
    """列出案件 CASE 的附件（按上传先后）。"""
    _permitted(app, READ_CASES)

    async def read() -> list[store.Listed]:
        async with database(app.settings) as session:
            if not await store.case_exists(session, case_id):
                raise CliError(f"没有案件 {case_id}")
            return await store.case_attachments(session, case_id)

    entries = asyncio.run(read())
    if not entries:
        click.echo(f"案件 {case_id} 尚无附件")
        return
    click.echo(
        table(
            ["序号", "名称", "类型", "字节", "上传人", "SHA-256"],
            [
                [str(e.number), e.file_name, e.media_type, f"{e.size:,}", e.uploaded_by, e.sha256]
                for e in entries
            ],
        )
    )


@attachment.command("get")
@click.argument("case_id", metavar="CASE")
@click.argument("sha256", metavar="SHA256")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="存为此文件"
)
@pass_app
def attachment_get(app: App, case_id: str, sha256: str, out: Path) -> None:
    """把案件 CASE 摘要为 SHA256 的附件存为 --out；内容与摘要不符则不写出。"""
    wanted = _hex(sha256, "")
    assert wanted is not None
    _permitted(app, READ_CASES)
    if out.exists():
        raise InputError(f"{out} 已存在，不覆盖")

    async def read() -> tuple[store.Listed, bytes] | None:
        async with database(app.settings) as session:
            return await store.get(session, case_id, wanted)

    found = asyncio.run(read())
    if found is None:
        raise CliError(f"案件 {case_id} 没有摘要为 {wanted} 的附件")
    entry, content = found
    actual = store.sha256_of(content)
    if actual != wanted:
        raise CliError(
            f"取回的内容的 SHA-256 是 {actual}，与 {wanted} 不符：存储被改动过；未写出任何文件"
        )
    try:
        out.write_bytes(content)
    except OSError as exc:
        raise InputError(f"无法写入 {out}：{exc.strerror}") from exc
    click.echo(f"{out}：{entry.file_name}（{len(content):,} 字节），SHA-256 {actual}（已核对）")
