"""The mail activity against a real SMTP server: once per recipient, however often retried."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.mail import NOT_CONFIGURED, MailActivities, MailConfig
from tests.probation.conftest import (
    DEFAULT_POLICY,
    HEAD_MAIL,
    SECTION_CHIEF_MAIL,
    SmtpServer,
    free_port,
)
from workflows.probation_types import MailRequest
from workflows.types import Role


def request(source: str, seq: int = 1, roles: list[Role] | None = None) -> MailRequest:
    return MailRequest(
        source=source,
        seq=seq,
        roles=roles or [Role.SECTION_CHIEF, Role.DEPARTMENT_HEAD],
        subject="试用期提醒：张三（县发展和改革局副局长）试用期将于 2027-11-25 届满（还有7天）",
        body="张三同志的试用期将于 2027-11-25 届满。\n案件编号：C-1\n到期日：2027-11-25",
    )


async def outbox_rows(mailer_sessions: async_sessionmaker[AsyncSession], source: str):
    from store.probation_models import outbox

    async with mailer_sessions() as s:
        return await outbox(s, source=source)


async def test_a_retried_send_mails_each_recipient_once(
    session_factory: async_sessionmaker[AsyncSession], smtp: SmtpServer, new_id: str
) -> None:
    mailer = MailActivities(session_factory, DEFAULT_POLICY, smtp.config())
    env = ActivityEnvironment()
    first = await env.run(mailer.send_mail, request(new_id))
    again = await env.run(mailer.send_mail, request(new_id))

    assert sorted(first.sent) == sorted([SECTION_CHIEF_MAIL, HEAD_MAIL])
    assert again.sent == [] and sorted(again.already_sent) == sorted(first.sent)
    got = smtp.about(new_id)
    assert sorted(r for m in got for r in m.rcpt_tos) == sorted([SECTION_CHIEF_MAIL, HEAD_MAIL])
    for m in got:
        assert m.rcpt_tos == [str(m.message["To"])]
        assert m.subject == request(new_id).subject  # the Chinese subject survives encoding
        assert "案件编号：C-1" in m.body and "到期日：2027-11-25" in m.body
        assert m.key == f"{new_id}#1"
    rows = await outbox_rows(session_factory, new_id)
    assert [(r.status, r.attempts) for r in rows] == [("sent", 1), ("sent", 1)]


async def test_two_roles_of_one_person_get_one_message(
    session_factory: async_sessionmaker[AsyncSession],
    smtp: SmtpServer,
    new_id: str,
    tmp_path: Path,
) -> None:
    data = yaml.safe_load(DEFAULT_POLICY.read_text("utf-8"))
    data["probation"]["recipients"]["section_chief"] = HEAD_MAIL
    del data["probation"]["recipients"]["committee_secretary"]
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    mailer = MailActivities(session_factory, policy, smtp.config())
    roles = [Role.SECTION_CHIEF, Role.DEPARTMENT_HEAD, Role.COMMITTEE_SECRETARY]
    result = await ActivityEnvironment().run(mailer.send_mail, request(new_id, roles=roles))
    assert result.sent == [HEAD_MAIL]
    assert result.not_sent == [
        "role:committee_secretary: 未发送：政策文件没有写常委会秘书（committee_secretary）"
        "的邮件地址（probation.recipients）"
    ]
    assert [m.rcpt_tos for m in smtp.about(new_id)] == [[HEAD_MAIL]]


async def test_without_an_smtp_server_mail_stays_in_the_outbox(
    session_factory: async_sessionmaker[AsyncSession], new_id: str
) -> None:
    mailer = MailActivities(session_factory, DEFAULT_POLICY, MailConfig(host=None))
    result = await ActivityEnvironment().run(mailer.send_mail, request(new_id))
    assert result.sent == [] and len(result.not_sent) == 2
    rows = await outbox_rows(session_factory, new_id)
    assert {(r.status, r.note) for r in rows} == {("not_sent", NOT_CONFIGURED)}
    assert NOT_CONFIGURED == "未发送：未配置邮件服务器（SMTP）"


async def test_an_unreachable_server_is_retried_and_then_sends_once(
    session_factory: async_sessionmaker[AsyncSession], smtp: SmtpServer, new_id: str
) -> None:
    down = MailActivities(
        session_factory, DEFAULT_POLICY, MailConfig(host="127.0.0.1", port=free_port())
    )
    with pytest.raises(ApplicationError) as failed:
        await ActivityEnvironment().run(down.send_mail, request(new_id))
    assert failed.value.type == "MailTemporaryFailure" and not failed.value.non_retryable
    rows = await outbox_rows(session_factory, new_id)
    assert [r.status for r in rows] == ["pending", "pending"]
    assert all(r.note.startswith("第 1 次尝试：") and "SMTP 127.0.0.1" in r.note for r in rows)

    up = MailActivities(session_factory, DEFAULT_POLICY, smtp.config())
    result = await ActivityEnvironment().run(up.send_mail, request(new_id))
    assert len(result.sent) == 2
    assert len(smtp.about(new_id)) == 2
    rows = await outbox_rows(session_factory, new_id)
    assert [(r.status, r.attempts) for r in rows] == [("sent", 2), ("sent", 2)]


async def test_a_line_break_in_a_header_fails_once_for_good(
    session_factory: async_sessionmaker[AsyncSession], smtp: SmtpServer, new_id: str
) -> None:
    """A subject naming someone whose name holds CR/LF (recorded before names were checked):
    no retry could write it, so the activity says so once instead of retrying for ever."""
    mailer = MailActivities(session_factory, DEFAULT_POLICY, smtp.config())
    broken = request(new_id).model_copy(update={"subject": "试用期提前结束：张\r\nBcc: x@y.z 三"})
    with pytest.raises(ApplicationError) as failed:
        await ActivityEnvironment().run(mailer.send_mail, broken)
    assert failed.value.type == "MailMalformed" and failed.value.non_retryable
    assert smtp.about(new_id) == []
    rows = await outbox_rows(session_factory, new_id)
    assert [(r.status, r.attempts) for r in rows] == [("failed", 1), ("failed", 1)]
    assert all(r.note.startswith("未发送：邮件无法生成：") for r in rows)
    # a retry all the same (Temporal would not) sends nothing and fails nothing
    again = await ActivityEnvironment().run(mailer.send_mail, broken)
    assert again.sent == [] and len(again.not_sent) == 2
