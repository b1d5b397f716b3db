"""Console passwords: how one is hashed and how a stored hash is checked.

New hashes are Argon2id (``$argon2id$...``) with ``pwdlib``'s defaults (argon2-cffi's RFC 9106
low-memory profile: 64 MiB, 3 passes). Hashes made before (``scrypt$N$r$p$salt$hash``, hex)
still verify, and a successful check of one returns its Argon2id replacement, so each account
moves over at its next sign-in without anybody resetting a password.

A hash takes tens of milliseconds of CPU: the async functions compute it in a worker thread,
so one sign-in does not stall every other request of the web service.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from functools import cache

from pwdlib import PasswordHash
from pwdlib.exceptions import PwdlibError
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.base import ensure_bytes, ensure_str

SCRYPT_PREFIX = "scrypt$"
# the cost the scrypt hashes were made with: 2**14 rounds of 8-byte blocks, 16 MiB
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


class ScryptHasher:
    """The hashes made before Argon2id: verified, never made for a password any more (its
    ``hash`` is kept so tests can write an old account)."""

    @classmethod
    def identify(cls, hash: str | bytes) -> bool:
        return ensure_str(hash).startswith(SCRYPT_PREFIX)

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        salt = salt if salt is not None else secrets.token_bytes(16)
        digest = hashlib.scrypt(
            ensure_bytes(password), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
        )
        return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"

    def verify(self, password: str | bytes, hash: str | bytes) -> bool:
        try:
            _, n, r, p, salt, digest = ensure_str(hash).split("$")
            computed = hashlib.scrypt(
                ensure_bytes(password),
                salt=bytes.fromhex(salt),
                n=int(n),
                r=int(r),
                p=int(p),
                dklen=len(digest) // 2,
            )
        except ValueError:
            return False
        return hmac.compare_digest(computed.hex(), digest)

    def check_needs_rehash(self, hash: str | bytes) -> bool:
        return True


# the first hasher makes every new hash; the others only verify
PASSWORDS = PasswordHash((Argon2Hasher(), ScryptHasher()))


def hash_password(password: str) -> str:
    """The Argon2id hash of a password (blocking: from async code use ``hashed``)."""
    return PASSWORDS.hash(password)


def check_password(password: str, stored: str) -> tuple[bool, str | None]:
    """(whether the password matches, the hash to store in place of ``stored`` or None); an
    unknown or damaged hash matches nothing (blocking: from async code use ``checked``)."""
    try:
        return PASSWORDS.verify_and_update(password, stored)
    except PwdlibError:
        return False, None


async def hashed(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


async def checked(password: str, stored: str | None) -> tuple[bool, str | None]:
    """``check_password`` in a worker thread. Without a stored hash the password is checked
    against a decoy, so the time of the answer does not tell which accounts exist."""
    matches, new_hash = await asyncio.to_thread(check_password, password, stored or _decoy())
    return (matches, new_hash) if stored else (False, None)


@cache
def _decoy() -> str:
    return hash_password(secrets.token_urlsafe(16))
