"""Real mail over SMTP, through the ``outbox`` table, never twice for one message.

A message is named by (source, seq) — a probation and its event, or a digest run — and
goes to the addresses of the roles it names, looked up in the policy file
(``probation.recipients``) the first time the message is written. Then, per recipient:

1. the outbox rows are inserted in one transaction, under an advisory lock on (source, seq),
   and only if none exist yet: a retry uses the rows (and so the addresses) of the first
   attempt;
2. each row still ``pending`` is locked (SELECT ... FOR UPDATE), handed to the SMTP server,
   and marked ``sent`` in the same transaction; a row already ``sent`` is skipped.

So a retried activity never mails a recipient twice, except in one window no outbox can
close: the SMTP server accepted the message and the commit that marks it sent was lost.
The Message-ID is derived from the row, so a receiving server can recognise that repeat.

With no SMTP server configured the rows are marked ``not_sent`` ("not sent: no SMTP server
configured"); a role without an address gets a ``not_sent`` row saying so. A refusal for
good (5xx) marks the row ``failed``; a temporary failure (connection refused, 4xx) is
written to the row's note and raised, and Temporal retries. A message that cannot even be
written (a header value holding a line break: a subject naming someone whose name has one,
recorded before names were checked) marks its row ``failed`` and is raised as a
non-retryable error: no retry could mend it, and the step that mails waits for the mail.

Real servers (SMTP_SECURITY): ``starttls`` upgrades the connection before anything else is
said, ``tls`` speaks TLS from the first byte (SMTPS); either checks the server's certificate
and name, against SMTP_CA_FILE when given. With SMTP_USERNAME the service logs in (AUTH) once
the connection is encrypted, never before. A certificate that is not trusted, a server that
offers no STARTTLS or no AUTH, a server that asks for them (530) and a login the server
refuses are the service's settings at fault, not the message: the row stays ``pending`` with
a note saying which setting to mend, and Temporal retries, so the mail goes out once an
administrator has mended it. The password is never written to a note, a log line or an error.
"""

from __future__ import annotations

import asyncio
import email.errors
import re
import smtplib
import ssl
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.policy import read_policy
from audit.driver import ActivityConnections
from store.probation_models import OutboxStatus
from workflows.glossary import zh
from workflows.policy import PolicyError
from workflows.probation_types import MailRequest, MailResult
from workflows.types import Role

NOT_CONFIGURED = "未发送：未配置邮件服务器（SMTP）"
DEFAULT_SENDER = "appointments@localhost"
SMTP_TIMEOUT = 30.0  # seconds, for connecting and for each command
# "must issue STARTTLS first" / "authentication required" (RFC 3207, RFC 4954): a refusal of
# how the service connects, not of the message
NEEDS_ENCRYPTION_OR_LOGIN = 530


SECURITIES = ("none", "starttls", "tls")


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """What checks the SMTP server's certificate and name: the system's CAs, or only those of
    ``ca_file`` (a department's own CA). ValueError naming SMTP_CA_FILE when it cannot be read."""
    if ca_file is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=str(ca_file))
    except FileNotFoundError:
        raise ValueError(f"SMTP_CA_FILE：找不到文件 {ca_file}") from None
    except (OSError, ssl.SSLError) as e:
        raise ValueError(f"SMTP_CA_FILE：{ca_file} 不是可读的 PEM 格式 CA 证书（{e}）") from None


@dataclass(frozen=True)
class MailConfig:
    """Where mail goes out: SMTP_HOST, SMTP_PORT and MAIL_FROM (no host: outbox only), how
    (SMTP_SECURITY, with the certificate check of SMTP_CA_FILE) and as whom (SMTP_USERNAME,
    SMTP_PASSWORD)."""

    host: str | None = None
    port: int = 25
    sender: str = DEFAULT_SENDER
    timeout: float = SMTP_TIMEOUT
    security: str = "none"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.security not in SECURITIES:
            raise ValueError(f"SMTP_SECURITY 只能是 {'、'.join(SECURITIES)} 之一")
        if self.username and self.security == "none":
            raise ValueError(
                "登录邮件服务器（SMTP_USERNAME）须先加密连接：SMTP_SECURITY 不能是 none"
            )
        if self.security != "none" and self.tls is None:
            object.__setattr__(self, "tls", tls_context(None))

    @classmethod
    def from_settings(cls, settings: Any) -> MailConfig:
        """From ``settings.smtp_host``, ``smtp_port``, ``mail_from`` and the ``smtp_security``
        settings; a CA file that cannot be read is refused here, when the worker starts."""
        security = getattr(settings, "smtp_security", "none")
        ca_file = getattr(settings, "smtp_ca_file", None)
        return cls(
            host=settings.smtp_host,
            port=int(settings.smtp_port),
            sender=settings.mail_from or DEFAULT_SENDER,
            security=security,
            username=getattr(settings, "smtp_username", None),
            password=getattr(settings, "smtp_password", None),
            tls=tls_context(ca_file) if security != "none" else None,
        )


class _Temporary(Exception):
    """The SMTP server could not take the message now; retrying may help."""


class _Refused(Exception):
    """The SMTP server refused the message for good."""


@dataclass(frozen=True)
class _Problem:
    """Why a row was not sent this time; ``retry``: whether a later attempt may succeed."""

    text: str
    retry: bool


def _code_of(e: smtplib.SMTPException) -> int | None:
    if isinstance(e, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in e.recipients.values()]
        return min(codes) if codes else None
    code = getattr(e, "smtp_code", None)
    return code if isinstance(code, int) else None


def _message_id(row_id: int, sender: str) -> str:
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<outbox-{row_id}@{re.sub(r'[^A-Za-z0-9.-]', '', domain) or 'localhost'}>"


@dataclass(slots=True)
class _Row:
    """An outbox row as delivery reads and changes it."""

    id: int
    source: str
    seq: int
    recipient: str
    subject: str
    body: str
    status: str
    note: str
    attempts: int
    sent_at: datetime | None = None


_EXISTING = "SELECT id FROM outbox WHERE source = $1 AND seq = $2 ORDER BY id"
_QUEUE = "SELECT pg_advisory_xact_lock(hashtext($1), $2)"
_INSERT = """
    INSERT INTO outbox (source, seq, recipient, recipient_role, subject, body, status, note)
    SELECT $1, $2, r.recipient, r.role, $3, $4, r.status, r.note
    FROM unnest($5::text[], $6::text[], $7::text[], $8::text[])
        WITH ORDINALITY AS r(recipient, role, status, note, ord)
    ORDER BY r.ord
    ON CONFLICT (source, seq, recipient) DO NOTHING
    RETURNING id
"""
_LOCKED = f"SELECT {', '.join(f.name for f in fields(_Row))} FROM outbox WHERE id = $1 FOR UPDATE"
_CHANGED = "UPDATE outbox SET status = $2, note = $3, attempts = $4, sent_at = $5 WHERE id = $1"


async def _existing(driver: asyncpg.Connection, input: MailRequest) -> list[int]:
    """The outbox rows of (source, seq) already written, in the order they were."""
    return [r["id"] for r in await driver.fetch(_EXISTING, input.source, input.seq)]


class MailActivities:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        policy_file: Path,
        config: MailConfig,
    ) -> None:
        self._connections = ActivityConnections(session_factory)
        self._policy_file = policy_file
        self._config = config

    @activity.defn
    async def send_mail(self, input: MailRequest) -> MailResult:
        """Send one message to the roles' addresses, each at most once (see the module)."""
        rows = await self._rows(input)
        result = MailResult()
        problems = [p for row_id in rows if (p := await self._deliver(row_id, result))]
        temporary = [p.text for p in problems if p.retry]
        if temporary:
            # the rows that went out stay sent; the retry sends only the rest
            raise ApplicationError(
                "邮件尚未送达：" + "；".join(temporary), type="MailTemporaryFailure"
            )
        if problems:
            raise ApplicationError(
                "邮件无法生成：" + "；".join(p.text for p in problems),
                type="MailMalformed",
                non_retryable=True,
            )
        return result

    # ------------------------------------------------------------------ the outbox rows

    async def _rows(self, input: MailRequest) -> list[int]:
        async with self._connections.connection() as driver:
            existing = await _existing(driver, input)
        if existing:
            return existing
        addresses = await self._addresses()
        recipients, roles, statuses, notes = [], [], [], []
        for role in input.roles:
            address = addresses.get(role, "").strip()
            recipient = address or f"role:{role.value}"
            if recipient in recipients:  # two roles, one person: one message
                continue
            recipients.append(recipient)
            roles.append(role.value)
            statuses.append(OutboxStatus.PENDING if address else OutboxStatus.NOT_SENT)
            notes.append(
                ""
                if address
                else f"未发送：政策文件没有写{zh(role)}（{role.value}）的邮件地址"
                "（probation.recipients）"
            )
        async with self._connections.connection() as driver, driver.transaction():
            await driver.execute(_QUEUE, input.source, input.seq)
            existing = await _existing(driver, input)
            if existing:  # another attempt wrote them while we read the policy
                return existing
            written = await driver.fetch(
                _INSERT,
                input.source,
                input.seq,
                input.subject,
                input.body,
                recipients,
                roles,
                statuses,
                notes,
            )
            return sorted(r["id"] for r in written)  # none was there: all are written here

    async def _addresses(self) -> dict[Role, str]:
        path = self._policy_file
        try:
            snapshot = await asyncio.to_thread(read_policy, path)
        except PolicyError as e:
            # retryable: an administrator may fix the file; nothing was written yet
            raise ApplicationError(
                f"无法从政策文件 {path} 读取邮件地址：{e}",
                type="PolicyInvalid",
            ) from e
        return dict(snapshot.policy.probation.recipients)

    # ------------------------------------------------------------------ sending

    async def _deliver(self, row_id: int, result: MailResult) -> _Problem | None:
        """Send one row if it is still pending; why it was not sent now, if it was not."""
        async with self._connections.connection() as driver, driver.transaction():
            found = await driver.fetchrow(_LOCKED, row_id)
            assert found is not None
            row = _Row(*found)
            before = (row.status, row.note, row.attempts)
            problem = await self._send(row, result)
            if (row.status, row.note, row.attempts) != before:
                await driver.execute(
                    _CHANGED, row.id, row.status, row.note, row.attempts, row.sent_at
                )
        return problem

    async def _send(self, row: _Row, result: MailResult) -> _Problem | None:
        """Hand a locked row to the SMTP server if it is pending, changing it as it went."""
        if row.status == OutboxStatus.SENT:
            result.already_sent.append(row.recipient)
            return None
        if row.status != OutboxStatus.PENDING:
            result.not_sent.append(f"{row.recipient}: {row.note}")
            return None
        if not self._config.host:
            row.status, row.note = OutboxStatus.NOT_SENT, NOT_CONFIGURED
            result.not_sent.append(f"{row.recipient}: {NOT_CONFIGURED}")
            return None
        row.attempts += 1
        try:
            message = self._message(row)
        except (ValueError, email.errors.MessageError) as e:
            row.status, row.note = OutboxStatus.FAILED, f"未发送：邮件无法生成：{e}"
            result.not_sent.append(f"{row.recipient}: {row.note}")
            return _Problem(f"{row.recipient}: {e}", retry=False)
        try:
            await asyncio.to_thread(self._smtp_send, message, row.recipient)
        except _Refused as e:
            row.status, row.note = OutboxStatus.FAILED, f"邮件服务器拒收：{e}"
            result.not_sent.append(f"{row.recipient}: {row.note}")
        except _Temporary as e:
            row.note = f"第 {row.attempts} 次尝试：{e}"
            return _Problem(f"{row.recipient}: {e}", retry=True)
        else:
            row.status, row.note, row.sent_at = OutboxStatus.SENT, "", datetime.now(UTC)
            result.sent.append(row.recipient)
        return None

    def _message(self, row: _Row) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = row.subject
        message["From"] = self._config.sender
        message["To"] = row.recipient
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = _message_id(row.id, self._config.sender)
        message["X-Appointments-Key"] = f"{row.source}#{row.seq}"
        message.set_content(row.body)
        return message

    def _connect(self) -> smtplib.SMTP:
        """A connection to the server, encrypted and logged in as the settings say."""
        config = self._config
        assert config.host
        if config.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                config.host, config.port, timeout=config.timeout, context=config.tls
            )
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        try:
            if config.security == "starttls":
                smtp.starttls(context=config.tls)
            if config.username:
                smtp.login(config.username, config.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _smtp_send(self, message: EmailMessage, recipient: str) -> None:
        host, port = self._config.host, self._config.port
        assert host
        try:
            with self._connect() as smtp:
                smtp.send_message(message, from_addr=self._config.sender, to_addrs=[recipient])
        except smtplib.SMTPAuthenticationError as e:
            # the settings' fault, not the message's: kept pending until they are mended
            raise _Temporary(
                f"SMTP {host}:{port} 拒绝登录（{e.smtp_code}）："
                "请检查 SMTP_USERNAME 与 SMTP_PASSWORD"
            ) from e
        except smtplib.SMTPNotSupportedError as e:
            raise _Temporary(
                f"SMTP {host}:{port} 不支持所需功能（{e}）：请检查 SMTP_SECURITY 与 SMTP_USERNAME"
            ) from e
        except ssl.SSLCertVerificationError as e:
            raise _Temporary(
                f"SMTP {host}:{port} 的证书不受信任（{e.verify_message}）：请检查 SMTP_CA_FILE"
                " 与 SMTP_HOST（须与证书上的名称一致）"
            ) from e
        except ssl.SSLError as e:
            raise _Temporary(
                f"SMTP {host}:{port} 的加密连接失败（{e.reason or e}）：请检查 SMTP_SECURITY"
                "（tls 用于 SMTPS 端口，starttls 用于先明文后升级的端口）"
            ) from e
        except smtplib.SMTPException as e:
            code = _code_of(e)
            if code == NEEDS_ENCRYPTION_OR_LOGIN:  # the settings' fault, as above
                raise _Temporary(
                    f"SMTP {host}:{port} 要求先加密连接或登录（{code}）："
                    "请检查 SMTP_SECURITY 与 SMTP_USERNAME"
                ) from e
            if code is not None and code >= 500:
                raise _Refused(f"{code} {e}") from e
            raise _Temporary(f"SMTP {host}:{port}：{e}") from e
        except OSError as e:
            raise _Temporary(f"无法连接 SMTP {host}:{port}：{e}") from e
