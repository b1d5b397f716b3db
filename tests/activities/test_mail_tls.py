"""The mail activity against real SMTP servers that encrypt and ask for a login: aiosmtpd with
STARTTLS required and AUTH, and aiosmtpd speaking TLS from the first byte (SMTPS), both with a
certificate of a CA made here, on the real test database."""

from __future__ import annotations

import ipaddress
import ssl
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.mail import MailActivities, MailConfig
from settings import load_settings
from store.probation_models import OutboxRow, outbox
from tests.probation.conftest import (
    DEFAULT_POLICY,
    HEAD_MAIL,
    SECTION_CHIEF_MAIL,
    Collector,
    free_port,
)
from workflows.probation_types import MailRequest
from workflows.types import Role

USER = "zzb-system"
PASSWORD = "correct-horse-battery-staple"
SENDER = "zzb-system@zzb.example"

# aiosmtpd's warning on the SMTPS server: it knows only STARTTLS as encryption, and the SMTPS
# connection is encrypted from its first byte
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


# --------------------------------------------------------------------------- certificates


@dataclass(frozen=True)
class Certificates:
    ca_file: Path  # what the client is told to trust (SMTP_CA_FILE)
    cert_file: Path  # the server's certificate, signed by that CA
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A department's own CA (self-signed) and the mail server's certificate for 127.0.0.1."""
    folder = tmp_path_factory.mktemp("smtp-tls")
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("组织部测试 CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("mail.zzb.example"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    found = Certificates(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    found.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    found.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    found.key_file.write_bytes(_pem(key))
    return found


# --------------------------------------------------------------------------- servers


class TlsCollector(Collector):
    """Keeps every message, and whether its session was encrypted and logged in."""

    def __init__(self) -> None:
        super().__init__()
        self.sessions: list[tuple[bool, bool]] = []  # (encrypted, authenticated)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        encrypted = server.transport.get_extra_info("ssl_object") is not None
        self.sessions.append((encrypted, bool(session.authenticated)))
        return await super().handle_DATA(server, session, envelope)


def _authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    good = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=good, handled=False)  # handled=False: aiosmtpd answers 535


@dataclass
class TlsServer:
    port: int
    collector: TlsCollector

    def about(self, source: str) -> list[Any]:
        return [m for m in self.collector.messages if m.key.startswith(f"{source}#")]


@pytest.fixture
def starttls_server(certificates: Certificates) -> Iterator[TlsServer]:
    """Port 587 style: plain at first, STARTTLS required before anything, then AUTH."""
    collector = TlsCollector()
    controller = Controller(
        collector,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=certificates.server_context(),
        require_starttls=True,
        auth_required=True,
        authenticator=_authenticator,
    )
    controller.start()
    try:
        yield TlsServer(controller.port, collector)
    finally:
        controller.stop()


@pytest.fixture
def smtps_server(certificates: Certificates) -> Iterator[TlsServer]:
    """Port 465 style (SMTPS): TLS from the first byte, then AUTH."""
    collector = TlsCollector()
    controller = Controller(
        collector,
        hostname="127.0.0.1",
        port=free_port(),
        ssl_context=certificates.server_context(),
        auth_required=True,
        auth_require_tls=False,  # the whole connection is TLS; aiosmtpd knows only STARTTLS
        authenticator=_authenticator,
    )
    controller.start()
    try:
        yield TlsServer(controller.port, collector)
    finally:
        controller.stop()


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def new_id() -> str:
    return f"TLS-{uuid.uuid4().hex[:10]}"


def mail_settings(port: int, security: str, ca_file: Path | None, password: str = PASSWORD):
    env = {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "MAIL_FROM": SENDER,
        "SMTP_SECURITY": security,
        "SMTP_USERNAME": USER,
        "SMTP_PASSWORD": password,
    }
    if ca_file is not None:
        env["SMTP_CA_FILE"] = str(ca_file)
    return load_settings(env)


def request(source: str) -> MailRequest:
    return MailRequest(
        source=source,
        seq=1,
        roles=[Role.SECTION_CHIEF, Role.DEPARTMENT_HEAD],
        subject="试用期提醒：张三（县发展和改革局副局长）试用期将于 2027-11-25 届满",
        body="张三同志的试用期将于 2027-11-25 届满。\n案件编号：C-1",
    )


async def rows(sessions: async_sessionmaker[AsyncSession], source: str) -> list[OutboxRow]:
    async with sessions() as s:
        return await outbox(s, source=source)


async def send(sessions: async_sessionmaker[AsyncSession], config: MailConfig, source: str):
    mailer = MailActivities(sessions, DEFAULT_POLICY, config)
    return await ActivityEnvironment().run(mailer.send_mail, request(source))


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_mail_goes_out_encrypted_and_logged_in(
    session_factory: async_sessionmaker[AsyncSession],
    certificates: Certificates,
    starttls_server: TlsServer,
    smtps_server: TlsServer,
    new_id: str,
    security: str,
) -> None:
    server = starttls_server if security == "starttls" else smtps_server
    settings = mail_settings(server.port, security, certificates.ca_file)
    result = await send(session_factory, MailConfig.from_settings(settings), new_id)

    assert sorted(result.sent) == sorted([SECTION_CHIEF_MAIL, HEAD_MAIL])
    got = server.about(new_id)
    assert sorted(r for m in got for r in m.rcpt_tos) == sorted([SECTION_CHIEF_MAIL, HEAD_MAIL])
    assert all(m.subject == request(new_id).subject for m in got)
    assert server.collector.sessions[-2:] == [(True, True), (True, True)]
    assert [r.status for r in await rows(session_factory, new_id)] == ["sent", "sent"]


async def test_a_wrong_password_keeps_the_mail_pending_and_says_which_setting(
    session_factory: async_sessionmaker[AsyncSession],
    certificates: Certificates,
    starttls_server: TlsServer,
    new_id: str,
) -> None:
    wrong = "not-the-password-at-all"
    settings = mail_settings(starttls_server.port, "starttls", certificates.ca_file, wrong)
    with pytest.raises(ApplicationError) as failed:
        await send(session_factory, MailConfig.from_settings(settings), new_id)

    assert failed.value.type == "MailTemporaryFailure" and not failed.value.non_retryable
    assert "拒绝登录（535）" in str(failed.value) and "SMTP_PASSWORD" in str(failed.value)
    assert wrong not in str(failed.value)
    assert starttls_server.about(new_id) == []
    found = await rows(session_factory, new_id)
    assert [r.status for r in found] == ["pending", "pending"]
    assert all("拒绝登录" in r.note and wrong not in r.note for r in found)

    # the administrator mends the password: the retry sends each message once
    mended = mail_settings(starttls_server.port, "starttls", certificates.ca_file)
    result = await send(session_factory, MailConfig.from_settings(mended), new_id)
    assert len(result.sent) == 2 and len(starttls_server.about(new_id)) == 2
    assert [(r.status, r.attempts) for r in await rows(session_factory, new_id)] == [
        ("sent", 2),
        ("sent", 2),
    ]


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_without_the_departments_ca_the_certificate_is_refused(
    session_factory: async_sessionmaker[AsyncSession],
    starttls_server: TlsServer,
    smtps_server: TlsServer,
    new_id: str,
    security: str,
) -> None:
    server = starttls_server if security == "starttls" else smtps_server
    settings = mail_settings(server.port, security, ca_file=None)  # the system's CAs only
    with pytest.raises(ApplicationError) as failed:
        await send(session_factory, MailConfig.from_settings(settings), new_id)

    assert failed.value.type == "MailTemporaryFailure"
    assert "证书不受信任" in str(failed.value) and "SMTP_CA_FILE" in str(failed.value)
    assert server.about(new_id) == [] and server.collector.sessions == []
    found = await rows(session_factory, new_id)
    assert [r.status for r in found] == ["pending", "pending"]
    assert all("证书不受信任" in r.note for r in found)


async def test_a_server_that_requires_starttls_refuses_plain_mail_without_failing_it(
    session_factory: async_sessionmaker[AsyncSession],
    starttls_server: TlsServer,
    new_id: str,
) -> None:
    plain = MailConfig(host="127.0.0.1", port=starttls_server.port, sender=SENDER)
    with pytest.raises(ApplicationError) as failed:
        await send(session_factory, plain, new_id)
    assert failed.value.type == "MailTemporaryFailure"
    assert "要求先加密连接或登录（530）" in str(failed.value)
    assert [r.status for r in await rows(session_factory, new_id)] == ["pending", "pending"]
    assert starttls_server.about(new_id) == []


async def test_smtps_against_a_starttls_port_says_which_setting(
    session_factory: async_sessionmaker[AsyncSession],
    certificates: Certificates,
    starttls_server: TlsServer,
    new_id: str,
) -> None:
    settings = mail_settings(starttls_server.port, "tls", certificates.ca_file)
    with pytest.raises(ApplicationError) as failed:
        await send(session_factory, MailConfig.from_settings(settings), new_id)
    assert "SMTP_SECURITY" in str(failed.value)
    assert [r.status for r in await rows(session_factory, new_id)] == ["pending", "pending"]


def test_bad_mail_settings_are_refused_at_startup_in_chinese(tmp_path: Path) -> None:
    bad: list[tuple[dict[str, str], str]] = [
        ({"SMTP_SECURITY": "ssl"}, "SMTP_SECURITY 只能是 none、starttls、tls 之一"),
        ({"SMTP_USERNAME": USER}, "SMTP_USERNAME 与 SMTP_PASSWORD 须同时设置"),
        ({"SMTP_USERNAME": USER, "SMTP_PASSWORD": PASSWORD}, "密码会以明文经网络发送"),
        ({"SMTP_CA_FILE": str(tmp_path / "ca.pem")}, "SMTP_SECURITY 却是 none"),
    ]
    for env, says in bad:
        with pytest.raises(ValueError, match=says):
            load_settings(env)

    missing = mail_settings(587, "starttls", tmp_path / "no-such-ca.pem")
    with pytest.raises(ValueError, match="SMTP_CA_FILE：找不到文件"):
        MailConfig.from_settings(missing)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate", "utf-8")
    with pytest.raises(ValueError, match="不是可读的 PEM 格式 CA 证书"):
        MailConfig.from_settings(mail_settings(587, "starttls", garbage))


def test_the_password_is_never_shown(certificates: Certificates) -> None:
    settings = mail_settings(587, "starttls", certificates.ca_file)
    config = MailConfig.from_settings(settings)
    assert config.password == PASSWORD and config.username == USER
    assert PASSWORD not in repr(settings) and PASSWORD not in repr(config)
