"""What the HTTP API's audit routes and the web console's auditor pages share: the dossier
formats with their media types, and the service's public key for verifying the log."""

from __future__ import annotations

import asyncio
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from api.errors import ApiError
from audit.keys import KeyFileError, load_public_key
from settings import Settings

DossierFormat = Literal["json", "csv", "html"]
MEDIA_TYPES: dict[str, str] = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
}


async def service_public_key(settings: Settings) -> Ed25519PublicKey:
    path = settings.audit_signing_key
    if path is None:
        raise ApiError(
            503,
            "the service has no audit signing key (setting AUDIT_SIGNING_KEY): the log cannot "
            "be verified against its checkpoints here; use `appointments audit verify "
            "--public-key`",
        )
    try:
        return await asyncio.to_thread(load_public_key, path)
    except KeyFileError as exc:
        raise ApiError(503, f"the audit key cannot be used: {exc}") from exc
