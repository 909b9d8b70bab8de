"""Memory-hard password hashes (scrypt): slow on purpose, so a copied database resists offline guessing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import cache

from shared.store.errors import ValidationFailed

# scrypt with N=2^15, r=8: 32 MiB and ~100 ms per guess, so a copied database resists offline guessing.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MIN_PASSWORD = 10


def hash_password(password: str) -> str:
    """A salted scrypt hash in a self-describing text form."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of a password against a stored hash."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, base64.b64decode(digest))


def check_password(password: str) -> None:
    """Refuse a password too short to resist guessing."""
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(f"password must be at least {MIN_PASSWORD} characters")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@cache
def dummy_hash() -> str:
    """A hash of a random password, checked for unknown users so their refusal costs the same."""
    return hash_password(secrets.token_urlsafe(16))
