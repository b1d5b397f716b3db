"""Every setting the service reads, from the environment, in one place.

The production compose file passes exactly these names; a test checks that it passes no
other, so a setting that the code does not read cannot hide in deployment files.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent
# a technical bound, not the regulation's: the largest attachment, unless set otherwise
ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
# the worker's sticky cache: its memory is the cache's, not the number of parked cases
# (bench/RESULTS.md, "Parked cases": 0.3–0.4 MB per cached workflow over a 120 MB base; 300
# kept the worker at 236 MB with 1,000 parked, and replays ran as fast as with 1,000 cached;
# the SDK's own default is 1,000)
WORKER_MAX_CACHED_WORKFLOWS = 300

# name -> what it is; the compose test reads this table
SETTING_NAMES: dict[str, str] = {
    "DATABASE_URL": "application database, SQLAlchemy URL (postgresql+asyncpg://...)",
    "TEMPORAL_ADDRESS": "Temporal frontend host:port",
    "TEMPORAL_NAMESPACE": "Temporal namespace",
    "TASK_QUEUE": "task queue of the appointment workers",
    "POLICY_FILE": "the local policy file (YAML)",
    "CALENDAR_SUPPLEMENT": "administrator's working-day calendar supplement (YAML)",
    "DATA_DIR": "where the embedded stack keeps its state",
    "SMTP_HOST": "mail server for notifications; unset: mail is kept in the outbox only",
    "SMTP_PORT": "mail server port",
    "SMTP_SECURITY": "how mail reaches the SMTP server: none (plain), starttls (upgraded on the"
    " port, usually 587) or tls (implicit TLS, SMTPS, usually 465); default none",
    "SMTP_USERNAME": "the account the service logs in to the SMTP server with (AUTH); unset: no"
    " login. Needs SMTP_SECURITY starttls or tls",
    "SMTP_PASSWORD": "the password of SMTP_USERNAME; never logged",
    "SMTP_CA_FILE": "CA certificates (PEM) the SMTP server's certificate is checked against"
    " instead of the system's, e.g. the department's own CA; unset: the system's",
    "MAIL_FROM": "sender address of notification mail",
    "AUDIT_SIGNING_KEY": "Ed25519 private key (PEM) that signs audit checkpoints",
    "AUDIT_KEYRING": "the audit keyring (YAML): every public key that signs or has signed"
    " checkpoints, with its validity period; unset: the signing key's public half alone",
    "AUDIT_EXPORT_DIR": "folder where a copy of every checkpoint's statement is written, to"
    " check the database against; unset: no copies (the embedded stack keeps one)",
    "AUDIT_SIGNER_DATABASE_URL": "the application database as the checkpoint signer (a login"
    " role in appointments_signer); unset: DATABASE_URL",
    "WORKER_STICKY_TIMEOUT": "seconds a case's next task waits for the worker that has the case"
    " in memory before any worker may take it (a dead worker's cases wait this long)",
    "TRUSTED_PROXIES": "addresses or networks (CIDR) of the reverse proxies whose"
    " X-Forwarded-For is believed, comma-separated; unset: none, the client is the peer",
    "PAYLOAD_KEY_FILES": "files of the AES-256 keys that encrypt what the service sends Temporal,"
    " comma-separated; the first encrypts, every one decrypts; unset: payloads are plain",
    "WEB_HOST": "address the web service (API, console, board) listens on; default 127.0.0.1",
    "WEB_PORT": "port the web service listens on; default 8000",
    "WORKER_MAX_CACHED_WORKFLOWS": "cases and probations the worker keeps in memory between"
    " their tasks (its sticky cache, about 0.3 MB each); one not kept is replayed from its"
    " history when it next moves; default 300",
    "WORKER_READY_FILE": "file the worker touches while it polls its task queue, for health"
    " probes (`appointments health worker`); unset: none is written",
    "LOG_LEVEL": "the lowest level of the lines the service logs: DEBUG, INFO, WARNING, ERROR;"
    " default INFO",
    "METRICS_TOKEN": "when set, /metrics answers only a request with `Authorization: Bearer"
    " <this token>` (the operator's Prometheus scraper); unset: /metrics is open",
    "WORKER_METRICS_ADDRESS": "host:port where the worker serves the Temporal SDK's metrics"
    " (Prometheus), e.g. 0.0.0.0:9464; unset: none",
    "TEMPORAL_UI_ORIGINS": "origins of the Temporal Web UI whose pages may call the service's"
    " codec endpoint (CORS), comma-separated, e.g. https://temporal.example.org",
    "ATTACHMENT_MAX_BYTES": "the largest attachment a step may be given, in bytes; default"
    " 20971520 (20 MiB)",
    "ATTACHMENT_SCAN_COMMAND": "a command (e.g. a virus scanner) given every uploaded attachment"
    " on its standard input before it is stored; a non-zero exit refuses the file; unset: none",
}


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    temporal_address: str
    temporal_namespace: str
    task_queue: str
    policy_file: Path
    calendar_supplement: Path | None
    data_dir: Path
    smtp_host: str | None = None
    smtp_port: int = 25
    mail_from: str = "appointments@localhost"
    audit_signing_key: Path | None = None
    audit_keyring: Path | None = None
    audit_export_dir: Path | None = None
    audit_signer_database_url: str | None = None
    worker_sticky_timeout: float = 10.0
    worker_max_cached_workflows: int = WORKER_MAX_CACHED_WORKFLOWS
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    payload_key_files: tuple[Path, ...] = ()
    temporal_ui_origins: tuple[str, ...] = ()
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    worker_ready_file: Path | None = None
    log_level: str = "INFO"
    smtp_security: str = "none"
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_ca_file: Path | None = None
    metrics_token: str | None = field(default=None, repr=False)
    worker_metrics_address: str | None = None
    attachment_max_bytes: int = ATTACHMENT_MAX_BYTES
    attachment_scan_command: str | None = None
    # the command line's only: why the embedded stack's settings could not be filled in (its
    # state file names a process that is gone); None when there was nothing to fill in
    stack_problem: str | None = None


def load_settings(env: Mapping[str, str] | None = None, *, stack: bool = False) -> Settings:
    """The settings from ``env`` (the process environment). With ``stack``, as the command
    line reads them: what the environment does not set is filled in from the state file of
    the embedded stack running on the data folder (``stack_state``); a variable set
    in the environment wins."""
    env = os.environ if env is None else env
    stack_problem = None
    if stack:
        env, stack_problem = _with_stack(env)
    supplement = env.get("CALENDAR_SUPPLEMENT")
    default_supplement = PROJECT_DIR / "policy" / "calendar-supplement.yaml"
    return Settings(
        database_url=env.get("DATABASE_URL") or None,
        temporal_address=env.get("TEMPORAL_ADDRESS", "localhost:7233"),
        temporal_namespace=env.get("TEMPORAL_NAMESPACE", "default"),
        task_queue=env.get("TASK_QUEUE", "appointments"),
        policy_file=Path(env.get("POLICY_FILE", str(PROJECT_DIR / "policy" / "default.yaml"))),
        calendar_supplement=(
            Path(supplement)
            if supplement
            else (default_supplement if default_supplement.exists() else None)
        ),
        data_dir=_data_dir(env),
        smtp_host=env.get("SMTP_HOST") or None,
        smtp_port=_port(env.get("SMTP_PORT", "25")),
        web_host=env.get("WEB_HOST") or "127.0.0.1",
        web_port=_port(env.get("WEB_PORT", "8000"), "WEB_PORT"),
        worker_ready_file=Path(env["WORKER_READY_FILE"]) if env.get("WORKER_READY_FILE") else None,
        mail_from=env.get("MAIL_FROM") or "appointments@localhost",
        audit_signing_key=Path(env["AUDIT_SIGNING_KEY"]) if env.get("AUDIT_SIGNING_KEY") else None,
        audit_keyring=Path(env["AUDIT_KEYRING"]) if env.get("AUDIT_KEYRING") else None,
        audit_export_dir=Path(env["AUDIT_EXPORT_DIR"]) if env.get("AUDIT_EXPORT_DIR") else None,
        audit_signer_database_url=env.get("AUDIT_SIGNER_DATABASE_URL") or None,
        worker_sticky_timeout=_seconds("WORKER_STICKY_TIMEOUT", env.get("WORKER_STICKY_TIMEOUT")),
        worker_max_cached_workflows=_count(
            "WORKER_MAX_CACHED_WORKFLOWS",
            env.get("WORKER_MAX_CACHED_WORKFLOWS"),
            WORKER_MAX_CACHED_WORKFLOWS,
        ),
        trusted_proxies=_networks("TRUSTED_PROXIES", env.get("TRUSTED_PROXIES", "")),
        payload_key_files=tuple(Path(p) for p in _items(env.get("PAYLOAD_KEY_FILES", ""))),
        temporal_ui_origins=_origins("TEMPORAL_UI_ORIGINS", env.get("TEMPORAL_UI_ORIGINS", "")),
        log_level=_level(env.get("LOG_LEVEL") or "INFO"),
        **_smtp_security(env),
        metrics_token=env.get("METRICS_TOKEN") or None,
        worker_metrics_address=_listen_address(
            "WORKER_METRICS_ADDRESS", env.get("WORKER_METRICS_ADDRESS", "")
        ),
        attachment_max_bytes=_size(
            "ATTACHMENT_MAX_BYTES", env.get("ATTACHMENT_MAX_BYTES"), ATTACHMENT_MAX_BYTES
        ),
        attachment_scan_command=env.get("ATTACHMENT_SCAN_COMMAND") or None,
        stack_problem=stack_problem,
    )


def _data_dir(env: Mapping[str, str]) -> Path:
    return Path(env.get("DATA_DIR", str(PROJECT_DIR / "data")))


def _with_stack(env: Mapping[str, str]) -> tuple[Mapping[str, str], str | None]:
    """``env`` and the settings of the embedded stack running on its data folder; or ``env``
    alone and, when the stack's state file names a process that is gone while ``env`` lacks
    what the file would have given, the sentence that says so."""
    from stack_state import STACK_NOT_RUNNING, read_state, stack_settings

    state = read_state(_data_dir(env))
    if state is None:
        return env, None
    added = stack_settings(env, state)
    if not added:
        return env, None
    if not state.running:
        return env, STACK_NOT_RUNNING
    return {**env, **added}, None


SMTP_SECURITY = ("none", "starttls", "tls")


def _smtp_security(env: Mapping[str, str]) -> dict[str, Any]:
    """SMTP_SECURITY, the login and the CA file, refused together when they do not fit."""
    security = (env.get("SMTP_SECURITY") or "none").strip().lower()
    if security not in SMTP_SECURITY:
        raise ValueError(
            f"SMTP_SECURITY 只能是 {'、'.join(SMTP_SECURITY)} 之一，不能是 {security!r}"
        )
    username = env.get("SMTP_USERNAME") or None
    password = env.get("SMTP_PASSWORD") or None
    if (username is None) != (password is None):
        raise ValueError("SMTP_USERNAME 与 SMTP_PASSWORD 须同时设置（登录邮件服务器需要两者）")
    if username is not None and security == "none":
        raise ValueError(
            "设置了 SMTP_USERNAME，SMTP_SECURITY 却是 none：密码会以明文经网络发送；"
            "请将 SMTP_SECURITY 设为 starttls 或 tls"
        )
    ca_file = Path(env["SMTP_CA_FILE"]) if env.get("SMTP_CA_FILE") else None
    if ca_file is not None and security == "none":
        raise ValueError("设置了 SMTP_CA_FILE，SMTP_SECURITY 却是 none：请设为 starttls 或 tls")
    return {
        "smtp_security": security,
        "smtp_username": username,
        "smtp_password": password,
        "smtp_ca_file": ca_file,
    }


_LISTEN = re.compile(r"(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(?P<port>[0-9]{1,5})")


def _listen_address(name: str, text: str) -> str | None:
    """host:port to listen on ([v6]:port for IPv6), or None when unset."""
    text = text.strip()
    if not text:
        return None
    found = _LISTEN.fullmatch(text)
    if not found or not 0 < int(found["port"]) < 65536:
        raise ValueError(f"{name} 须为“主机:端口”，例如 0.0.0.0:9464，不能是 {text!r}")
    return text


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _level(text: str) -> str:
    if text.upper() not in LOG_LEVELS:
        raise ValueError(f"LOG_LEVEL 只能是 {'、'.join(LOG_LEVELS)} 之一，不能是 {text!r}")
    return text.upper()


def _items(text: str) -> list[str]:
    return [item for item in (part.strip() for part in text.split(",")) if item]


def _origins(name: str, text: str) -> tuple[str, ...]:
    """Web origins (scheme://host[:port]), as a browser sends them in its Origin header."""
    found = []
    for item in _items(text):
        if not _ORIGIN.fullmatch(item):
            raise ValueError(
                f"{name}：{item!r} 不是来源（origin），应如 https://temporal.example.org"
                "（协议与主机名，非默认端口时加端口；不带路径，不用 *）"
            )
        found.append(item.rstrip("/").lower())
    return tuple(found)


_ORIGIN = re.compile(r"https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?/?")


def _networks(name: str, text: str) -> tuple[IPv4Network | IPv6Network, ...]:
    found = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            network = ip_network(item)
        except ValueError:
            raise ValueError(f"{name}：{item!r} 不是 IP 地址或网段（如 10.0.0.0/8）") from None
        if network.prefixlen == 0:
            # every address a proxy: any client could write its own X-Forwarded-For
            raise ValueError(f"{name}：{item} 会把所有地址都当作可信代理")
        found.append(network)
    return tuple(found)


def _seconds(name: str, text: str | None, default: float = 10.0) -> float:
    if not text:
        return default
    try:
        seconds = float(text)
    except ValueError:
        raise ValueError(f"{name} 须为秒数，不能是 {text!r}") from None
    if not 1 <= seconds <= 300:
        raise ValueError(f"{name} 须在 1 至 300 秒之间，不能是 {text}")
    return seconds


def _count(name: str, text: str | None, default: int) -> int:
    if not text:
        return default
    try:
        count = int(text)
    except ValueError:
        raise ValueError(f"{name} 须为正整数，不能是 {text!r}") from None
    if count < 1:
        raise ValueError(f"{name} 须为正整数，不能是 {count}")
    return count


def _size(name: str, text: str | None, default: int) -> int:
    if not text:
        return default
    try:
        size = int(text)
    except ValueError:
        raise ValueError(f"{name} 须为字节数（正整数），不能是 {text!r}") from None
    if size < 1:
        raise ValueError(f"{name} 须为正的字节数，不能是 {size}")
    return size


def _port(text: str, name: str = "SMTP_PORT") -> int:
    try:
        port = int(text)
    except ValueError:
        raise ValueError(f"{name} 须为端口号，不能是 {text!r}") from None
    if not 0 < port < 65536:
        raise ValueError(f"{name} 须在 1 至 65535 之间，不能是 {port}")
    return port
