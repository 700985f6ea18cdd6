"""Password hashing with scrypt (standard library), a random salt per password."""

from __future__ import annotations

import hashlib
import hmac
import secrets

# n=2**14, r=8, p=1: about 16 MiB and tens of milliseconds per check (OWASP's minimum).
N, R, P, KEY_BYTES = 2**14, 8, 1, 32
MIN_LENGTH = 10


class WeakPassword(ValueError):
    pass


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES,
                          maxmem=64 * 1024 * 1024)


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"the password needs at least {MIN_LENGTH} characters")
    salt = secrets.token_bytes(16)
    key = _derive(password, salt, N, R, P)
    return f"scrypt${N}${R}${P}${salt.hex()}${key.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check; a malformed hash never matches."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        derived = _derive(password, bytes.fromhex(salt), int(n), int(r), int(p))
        return hmac.compare_digest(derived, bytes.fromhex(key))
    except ValueError:
        return False


# Checked against when the username is unknown, so the answer takes as long either way.
DUMMY_HASH = f"scrypt${N}${R}${P}${'00' * 16}${'00' * KEY_BYTES}"
