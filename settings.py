"""Every setting the service reads, from the environment, in one place.

The production compose file passes exactly these names; a test checks that it passes no
other, so a setting that the code does not read cannot hide in deployment files.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent

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
    "WORKER_READY_FILE": "file the worker touches while it polls its task queue, for health"
    " probes (`appointments health worker`); unset: none is written",
    "LOG_LEVEL": "the lowest level of the lines the service logs: DEBUG, INFO, WARNING, ERROR;"
    " default INFO",
    "TEMPORAL_UI_ORIGINS": "origins of the Temporal Web UI whose pages may call the service's"
    " codec endpoint (CORS), comma-separated, e.g. https://temporal.example.org",
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
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    payload_key_files: tuple[Path, ...] = ()
    temporal_ui_origins: tuple[str, ...] = ()
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    worker_ready_file: Path | None = None
    log_level: str = "INFO"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
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
        data_dir=Path(env.get("DATA_DIR", str(PROJECT_DIR / "data"))),
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
        trusted_proxies=_networks("TRUSTED_PROXIES", env.get("TRUSTED_PROXIES", "")),
        payload_key_files=tuple(Path(p) for p in _items(env.get("PAYLOAD_KEY_FILES", ""))),
        temporal_ui_origins=_origins("TEMPORAL_UI_ORIGINS", env.get("TEMPORAL_UI_ORIGINS", "")),
        log_level=_level(env.get("LOG_LEVEL") or "INFO"),
    )


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _level(text: str) -> str:
    if text.upper() not in LOG_LEVELS:
        raise ValueError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {text!r}")
    return text.upper()


def _items(text: str) -> list[str]:
    return [item for item in (part.strip() for part in text.split(",")) if item]


def _origins(name: str, text: str) -> tuple[str, ...]:
    """Web origins (scheme://host[:port]), as a browser sends them in its Origin header."""
    found = []
    for item in _items(text):
        if not _ORIGIN.fullmatch(item):
            raise ValueError(
                f"{name}: {item!r} is not an origin such as https://temporal.example.org"
                " (a scheme and a host, and a port if not the default; no path, no *)"
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
            raise ValueError(
                f"{name}: {item!r} is not an IP address or a network such as 10.0.0.0/8"
            ) from None
        if network.prefixlen == 0:
            # every address a proxy: any client could write its own X-Forwarded-For
            raise ValueError(f"{name}: {item} would trust every address as a proxy")
        found.append(network)
    return tuple(found)


def _seconds(name: str, text: str | None, default: float = 10.0) -> float:
    if not text:
        return default
    try:
        seconds = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {text!r}") from None
    if not 1 <= seconds <= 300:
        raise ValueError(f"{name} must be between 1 and 300 seconds, not {text}")
    return seconds


def _port(text: str, name: str = "SMTP_PORT") -> int:
    try:
        port = int(text)
    except ValueError:
        raise ValueError(f"{name} must be a port number, not {text!r}") from None
    if not 0 < port < 65536:
        raise ValueError(f"{name} must be between 1 and 65535, not {port}")
    return port
