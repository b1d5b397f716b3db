"""Payload encryption (载荷加密): the codec between the service and Temporal.

Every payload the service's clients and workers send Temporal (workflow and activity inputs
and results, updates, queries' answers, schedules' arguments, failure messages) is encrypted
with AES-256-GCM before it leaves the process, so Temporal's database, its frontend and its
Web UI hold only ciphertext. The whole payload (its metadata and data) is encrypted into a
new one marked ``encoding: binary/encrypted``, with the id of the key in
``encryption-key-id``; the key id is also authenticated with the ciphertext, so a payload
moved to another key id does not decrypt.

Decoding reads the key id and decrypts with that key (``gateway.payload_keys``: keys
rotate); a payload without the marker is passed through as it is, so what was recorded in
plain before encryption was switched on (and the saved histories the tests replay) still
reads. A payload naming a key this process does not hold, or one that does not decrypt, is
an error that says so.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from gateway.payload_keys import PayloadKeyError, PayloadKeys

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12


def is_encrypted(payload: Payload) -> bool:
    return payload.metadata.get("encoding") == ENCODING


def key_id_of(payload: Payload) -> str:
    return payload.metadata.get(KEY_ID, b"").decode("ascii", errors="replace")


def _associated_data(key_id: str) -> bytes:
    return ENCODING + b";" + key_id.encode("ascii")


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM with the active key; decrypts with whichever key a payload names."""

    def __init__(self, keys: PayloadKeys) -> None:
        self.keys = keys
        self._ciphers = {kid: AESGCM(key) for kid, key in keys.by_id.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) if is_encrypted(p) else p for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        kid = self.keys.active_id
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[kid].encrypt(
            nonce, payload.SerializeToString(), _associated_data(kid)
        )
        return Payload(metadata={"encoding": ENCODING, KEY_ID: kid.encode()}, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        kid = key_id_of(payload)
        if not kid:
            raise PayloadKeyError("加密的载荷没有注明密钥（缺少 encryption-key-id）")
        self.keys.key(kid)  # a clear error for a key this process does not hold
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            plain = self._ciphers[kid].decrypt(nonce, sealed, _associated_data(kid))
        except (InvalidTag, ValueError):
            raise PayloadKeyError(
                f"用密钥 {kid} 加密的载荷无法用它解密：载荷被改动或已损坏"
            ) from None
        return Payload.FromString(plain)
