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
"""

from __future__ import annotations

import asyncio
import email.errors
import re
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.policy import read_policy
from store.probation_models import OutboxMail, OutboxStatus
from workflows.policy import PolicyError
from workflows.probation_types import MailRequest, MailResult
from workflows.types import Role

NOT_CONFIGURED = "not sent: no SMTP server configured"
DEFAULT_SENDER = "appointments@localhost"
SMTP_TIMEOUT = 30.0  # seconds, for connecting and for each command


@dataclass(frozen=True)
class MailConfig:
    """Where mail goes out: SMTP_HOST, SMTP_PORT and MAIL_FROM (no host: outbox only)."""

    host: str | None = None
    port: int = 25
    sender: str = DEFAULT_SENDER
    timeout: float = SMTP_TIMEOUT

    @classmethod
    def from_settings(cls, settings: Any) -> MailConfig:
        """From ``settings.smtp_host``, ``smtp_port`` and ``mail_from``."""
        host = settings.smtp_host
        port = settings.smtp_port
        sender = settings.mail_from or DEFAULT_SENDER
        return cls(host=host, port=int(port), sender=sender)


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


class MailActivities:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        policy_file: Path,
        config: MailConfig,
    ) -> None:
        self._sessions = session_factory
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
                "mail not delivered yet: " + "; ".join(temporary), type="MailTemporaryFailure"
            )
        if problems:
            raise ApplicationError(
                "mail cannot be written: " + "; ".join(p.text for p in problems),
                type="MailMalformed",
                non_retryable=True,
            )
        return result

    # ------------------------------------------------------------------ the outbox rows

    async def _existing(self, session: AsyncSession, input: MailRequest) -> list[int]:
        ids = await session.scalars(
            select(OutboxMail.id)
            .where(OutboxMail.source == input.source, OutboxMail.seq == input.seq)
            .order_by(OutboxMail.id)
        )
        return list(ids)

    async def _rows(self, input: MailRequest) -> list[int]:
        async with self._sessions() as session:
            existing = await self._existing(session, input)
        if existing:
            return existing
        addresses = await self._addresses()
        async with self._sessions() as session, session.begin():
            await session.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:source), :seq)"),
                {"source": input.source, "seq": input.seq},
            )
            existing = await self._existing(session, input)
            if existing:  # another attempt wrote them while we read the policy
                return existing
            seen: set[str] = set()
            for role in input.roles:
                address = addresses.get(role, "").strip()
                recipient = address or f"role:{role.value}"
                if recipient in seen:  # two roles, one person: one message
                    continue
                seen.add(recipient)
                values: dict[str, Any] = {
                    "source": input.source,
                    "seq": input.seq,
                    "recipient": recipient,
                    "recipient_role": role.value,
                    "subject": input.subject,
                    "body": input.body,
                }
                if not address:
                    values["status"] = OutboxStatus.NOT_SENT
                    values["note"] = (
                        f"not sent: the policy gives no mail address for {role.value} "
                        "(probation.recipients)"
                    )
                await session.execute(insert(OutboxMail).values(**values).on_conflict_do_nothing())
            return await self._existing(session, input)

    async def _addresses(self) -> dict[Role, str]:
        path = self._policy_file
        try:
            snapshot = await asyncio.to_thread(read_policy, path)
        except PolicyError as e:
            # retryable: an administrator may fix the file; nothing was written yet
            raise ApplicationError(
                f"mail addresses cannot be read from the policy file {path}: {e}",
                type="PolicyInvalid",
            ) from e
        return dict(snapshot.policy.probation.recipients)

    # ------------------------------------------------------------------ sending

    async def _deliver(self, row_id: int, result: MailResult) -> _Problem | None:
        """Send one row if it is still pending; why it was not sent now, if it was not."""
        problem: _Problem | None = None
        async with self._sessions() as session, session.begin():
            row = await session.get(
                OutboxMail, row_id, with_for_update=True, populate_existing=True
            )
            assert row is not None
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
                row.status, row.note = OutboxStatus.FAILED, f"not sent: cannot be written: {e}"
                result.not_sent.append(f"{row.recipient}: {row.note}")
                return _Problem(f"{row.recipient}: {e}", retry=False)
            try:
                await asyncio.to_thread(self._smtp_send, message, row.recipient)
            except _Refused as e:
                row.status, row.note = OutboxStatus.FAILED, f"refused by the SMTP server: {e}"
                result.not_sent.append(f"{row.recipient}: {row.note}")
            except _Temporary as e:
                row.note = f"attempt {row.attempts}: {e}"
                problem = _Problem(f"{row.recipient}: {e}", retry=True)
            else:
                row.status, row.note, row.sent_at = OutboxStatus.SENT, "", datetime.now(UTC)
                result.sent.append(row.recipient)
        return problem

    def _message(self, row: OutboxMail) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = row.subject
        message["From"] = self._config.sender
        message["To"] = row.recipient
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = _message_id(row.id, self._config.sender)
        message["X-Appointments-Key"] = f"{row.source}#{row.seq}"
        message.set_content(row.body)
        return message

    def _smtp_send(self, message: EmailMessage, recipient: str) -> None:
        host, port = self._config.host, self._config.port
        assert host
        try:
            with smtplib.SMTP(host, port, timeout=self._config.timeout) as smtp:
                smtp.send_message(message, from_addr=self._config.sender, to_addrs=[recipient])
        except smtplib.SMTPException as e:
            code = _code_of(e)
            if code is not None and code >= 500:
                raise _Refused(f"{code} {e}") from e
            raise _Temporary(f"SMTP {host}:{port}: {e}") from e
        except OSError as e:
            raise _Temporary(f"SMTP {host}:{port} cannot be reached: {e}") from e
