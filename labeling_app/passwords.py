"""Password hashing with the standard library's scrypt (memory-hard, salted)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

_N, _R, _P = 2**14, 8, 1  # OWASP's scrypt minimum: 16 MiB, about 50 ms a hash


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$hash`, all parameters kept so they can be raised later."""
    if not password:
        raise ValueError("password: must not be empty")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str | None) -> bool:
    """True when `password` matches `stored`; False for users without a password."""
    if not stored or not password:
        return False
    scheme, n, r, p, salt, digest = stored.split("$")
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                               p=int(p))
    return hmac.compare_digest(candidate.hex(), digest)
