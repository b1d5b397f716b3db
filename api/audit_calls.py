"""What the HTTP API's audit routes and the web console's auditor pages share: the dossier
formats with their media types, and the service's keyring and copies for verifying the log."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Literal

from api.errors import ApiError
from audit.keyring import Keyring
from audit.keys import KeyFileError
from audit.locations import NoAuditKey
from audit.locations import service_keyring as read_service_keyring
from settings import Settings

DossierFormat = Literal["json", "csv", "html"]
MEDIA_TYPES: dict[str, str] = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
}


async def service_keyring(settings: Settings) -> Keyring:
    """The keyring the service's checkpoints verify with (``audit.locations``); 503 when
    the service has none or it cannot be read."""
    try:
        return await asyncio.to_thread(read_service_keyring, settings)
    except NoAuditKey as exc:
        raise ApiError(
            503,
            "本服务未设置审计密钥（AUDIT_KEYRING、AUDIT_SIGNING_KEY），无法在此对照检查点核验"
            "审计记录；请改用 `appointments audit verify --public-key`",
            code="no_audit_key",
        ) from exc
    except KeyFileError as exc:
        raise ApiError(503, f"审计密钥无法使用：{exc}", code="audit_key_unusable") from exc


def service_copies(settings: Settings) -> Path | None:
    """The folder of checkpoint copies every verification checks the database against."""
    return settings.audit_export_dir
