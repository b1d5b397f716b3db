"""Where the service's audit key, keyring and checkpoint copies are (审计密钥与副本的位置):
named by the settings (AUDIT_SIGNING_KEY, AUDIT_KEYRING, AUDIT_EXPORT_DIR), and the
embedded stack's own files in its data folder.

The embedded stack (``appointments serve``) makes its own signing key, keyring and copy
folder in its data folder on first start (``embedded_audit_settings``) and runs its worker,
API and console with settings that name them. The command line, run with the same data
folder (DATA_DIR, default ``data/``), finds them there without being told
(``with_stack_files``), so ``appointments audit verify`` and ``audit checkpoint`` need no
flags against the embedded stack. A setting always wins over the data folder; nothing but
the command line looks into the data folder.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from audit.keyring import Keyring, keyring_for_key, load_keyring, save_keyring
from audit.keys import KeyFileError, write_keypair
from settings import Settings

EMBEDDED_SIGNING_KEY = "audit_signing_key.pem"
EMBEDDED_KEYRING = "audit_keyring.yaml"
EMBEDDED_COPIES = "audit-checkpoints"


class NoAuditKey(KeyFileError):
    """Neither the settings nor the data folder name a key."""


def with_stack_files(settings: Settings) -> Settings:
    """``settings``, and wherever no setting names one, the embedded stack's own audit file
    found in the data folder: what the command line runs with."""

    def own(name: str) -> Path | None:
        path = settings.data_dir / name
        return path if path.exists() else None

    return replace(
        settings,
        audit_signing_key=settings.audit_signing_key or own(EMBEDDED_SIGNING_KEY),
        audit_keyring=settings.audit_keyring or own(EMBEDDED_KEYRING),
        audit_export_dir=settings.audit_export_dir or own(EMBEDDED_COPIES),
    )


def signer_database_url(settings: Settings) -> str | None:
    """The database as the checkpoint signer: AUDIT_SIGNER_DATABASE_URL, else DATABASE_URL."""
    return settings.audit_signer_database_url or settings.database_url


def service_keyring(settings: Settings) -> Keyring:
    """The keyring that verifies the service's checkpoints: the keyring file, or else the
    signing key's public half alone. NoAuditKey if there is neither; KeyFileError if one
    cannot be read."""
    if settings.audit_keyring is not None:
        return load_keyring(settings.audit_keyring)
    key = settings.audit_signing_key
    if key is None:
        raise NoAuditKey(
            "没有审计密钥：请设置 AUDIT_KEYRING 或 AUDIT_SIGNING_KEY"
            "（可用 `appointments audit keygen --out FILE` 生成密钥）"
        )
    return keyring_for_key(key)


def embedded_audit_settings(settings: Settings, data_dir: Path) -> tuple[Settings, str]:
    """``settings`` with the embedded stack's own audit files in ``data_dir`` wherever no
    setting names one, each made if missing: the signing key (0600) and its public half, a
    keyring of that key valid from the start, the folder of copies (0700). Also the key id of
    a key made now ("" if none was)."""
    made = ""
    own_key = settings.audit_signing_key is None
    if own_key:
        private = data_dir / EMBEDDED_SIGNING_KEY
        if not private.exists():
            _, _, made = write_keypair(private)
        settings = replace(settings, audit_signing_key=private)
    if settings.audit_keyring is None:
        # kept after a rotation (`audit rotate-key`), when AUDIT_SIGNING_KEY names the new key
        keyring = data_dir / EMBEDDED_KEYRING
        if own_key and not keyring.exists():
            save_keyring(keyring, keyring_for_key(private))
        if keyring.exists():
            settings = replace(settings, audit_keyring=keyring)
    if settings.audit_export_dir is None:
        copies = data_dir / EMBEDDED_COPIES
        copies.mkdir(mode=0o700, exist_ok=True)
        settings = replace(settings, audit_export_dir=copies)
    return settings, made
