"""Password and PIN hashing with argon2id (argon2-cffi).

Parameters: RFC 9106's second recommended option ("low memory"), argon2-cffi's own default profile:
t=3 passes over m=64 MiB with p=4 lanes. On this project's 2-core machines a verification takes about
0.19 s (`wardwatch bench security`), inside the 0.3 s a login may take at a busy station, while each
guess costs an attacker who copied the hashes 64 MiB of memory, which is what makes GPU guessing dear.
The OWASP minimum (m=19 MiB, t=2, p=1) would be ~35 ms; the full RFC first option (2 GiB) is out of
reach of a ward PC. A stored hash made with other parameters is re-hashed at the next good login.
"""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.profiles import RFC_9106_LOW_MEMORY

MIN_PASSWORD = 8
PIN_DIGITS = (4, 8)

_hasher = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(stored: str | None, secret: str) -> bool:
    """True when `secret` matches the stored hash. A missing hash is checked against a throw-away one,
    so that an unknown user takes as long to refuse as a wrong password."""
    try:
        return _hasher.verify(stored or _dummy_hash(), secret) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def password_problem(password: str) -> str:
    """Why a new password is not accepted ("" when it is)."""
    if len(password) < MIN_PASSWORD:
        return f"a password needs at least {MIN_PASSWORD} characters"
    if password.strip() != password:
        return "a password may not begin or end with a space"
    return ""


def pin_problem(pin: str) -> str:
    lo, hi = PIN_DIGITS
    if not (pin.isdigit() and lo <= len(pin) <= hi):
        return f"a PIN is {lo} to {hi} digits"
    return ""


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash("not a password of anyone")
