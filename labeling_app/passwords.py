"""Password hashing with the standard library's scrypt (memory-hard, salted), and the rules
a new password must meet."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

_N, _R, _P = 2**14, 8, 1  # OWASP's scrypt minimum: 16 MiB, about 50 ms a hash
MIN_LENGTH = 12
MAX_LENGTH = 1024  # the login form takes no more
USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
"""A user name: letters, digits and `._@+-`, at most 64 characters. Names appear in the page,
in exports and in logs, so they are kept to characters that mean nothing anywhere."""


class WeakPassword(ValueError):
    """A password that the rules refuse."""


def check_user_name(name: str) -> str:
    if not USER_NAME.fullmatch(name):
        raise ValueError(f"user name {name!r}: use 1 to 64 letters, digits or . _ @ + - "
                         "(starting with a letter or digit)")
    return name


def check_new_password(password: str, user: str) -> None:
    """Refuse passwords that are short, blank or the user's name (NIST SP 800-63B's rules:
    a minimum length and a check against obvious choices, no composition rules)."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise WeakPassword(f"password: at least {MIN_LENGTH} characters and at most "
                           f"{MAX_LENGTH} (this one has {len(password)})")
    if not password.strip() or len(set(password)) == 1:
        raise WeakPassword("password: not blank or one repeated character")
    name, secret = user.casefold(), password.strip().casefold()
    if secret == name or (len(name) >= 4 and name in secret):
        raise WeakPassword("password: must not be or contain the user name")


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$hash`, all parameters kept so they can be raised later."""
    if not password:
        raise ValueError("password: must not be empty")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


# Checked against when a user is unknown, disabled or has no password, so that a login takes
# the same time whether or not the name exists (no user enumeration by timing).
_DUMMY = hash_password(secrets.token_urlsafe(16))


def verify_password(password: str, stored: str | None) -> bool:
    """True when `password` matches `stored`. Costs one scrypt hash in every case, also
    without a stored hash (see `_DUMMY`)."""
    usable = bool(stored) and bool(password)
    scheme, n, r, p, salt, digest = (stored if usable else _DUMMY).split("$")
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                               p=int(p))
    return hmac.compare_digest(candidate.hex(), digest) and usable
