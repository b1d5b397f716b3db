"""The checkpoint signing key (签名密钥): Ed25519, kept by the service, published by its owner.

The private key is a PEM file (PKCS#8, unencrypted; its protection is the file's mode, 0600,
and where it is kept). Its path comes from the caller: the command line takes ``--key`` or
the setting ``AUDIT_SIGNING_KEY``. The public key is a PEM file (SubjectPublicKeyInfo) that
auditors are given; with it a dossier verifies offline.

A key is named by its ``key_id``: the first 16 hex digits of sha256 of the raw 32-byte public
key. A checkpoint records the key_id it was signed with, so keys can be rotated: old
checkpoints keep verifying with the old public key.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class KeyFileError(ValueError):
    """A key file that cannot be used, with a sentence saying why."""


def public_key_path(private_path: Path) -> Path:
    """Where ``keygen`` puts the public key: ``signing.pem`` → ``signing.pub.pem``."""
    name = private_path.name
    stem = name[: -len(".pem")] if name.endswith(".pem") else name
    return private_path.with_name(f"{stem}.pub.pem")


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def write_keypair(private_path: Path) -> tuple[Path, Path, str]:
    """A new key pair: the private key at ``private_path`` (mode 0600), the public key beside it.

    Refuses to overwrite either file: replacing a signing key by accident would leave every
    checkpoint signed so far without the public key that verifies it.
    """
    public_path = public_key_path(private_path)
    for path in (private_path, public_path):
        if path.exists():
            raise KeyFileError(f"{path} 已存在；不会覆盖已有的密钥")
    key = Ed25519PrivateKey.generate()
    private_bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # O_EXCL with the mode given at creation: the key is never readable by others, not even
    # for the moment between writing it and a chmod.
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(private_bytes)
    public_path.write_bytes(public_pem(key.public_key()))
    return private_path, public_path, key_id(key.public_key())


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"无法读取签名密钥 {path}：{exc.strerror}") from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"{path} 不是未加密的 PEM 私钥") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} 不是 Ed25519 密钥")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """A public key from a PEM file; a private key file is accepted too (its public half)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"无法读取公钥 {path}：{exc.strerror}") from exc
    if b"PRIVATE KEY" in data:
        return load_private_key(path).public_key()
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"{path} 不是 PEM 公钥") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path} 不是 Ed25519 密钥")
    return key


def sign(private_key: Ed25519PrivateKey, message: bytes) -> str:
    return private_key.sign(message).hex()


def signature_valid(public_key: Ed25519PublicKey, message: bytes, signature_hex: str) -> bool:
    try:
        public_key.verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True
