"""Time-based one-time passwords (RFC 6238) with pyotp: 6 digits, 30-second steps, SHA-1 — what
every authenticator app reads from the enrolment QR code."""

from __future__ import annotations

import pyotp

ISSUER = "WardWatch"


def new_secret() -> str:
    return pyotp.random_base32()


def enrolment_uri(secret: str, user: str, station: str) -> str:
    """The otpauth:// URI the QR code carries."""
    return pyotp.TOTP(secret).provisioning_uri(name=f"{user}@{station}", issuer_name=ISSUER)


def code_ok(secret: str | None, code: str, now: float) -> bool:
    """A code of the current step or the one before or after (clock drift of the phone)."""
    code = code.strip().replace(" ", "")
    if secret is None or not (code.isdigit() and len(code) == 6):
        return False
    return bool(pyotp.TOTP(secret).verify(code, for_time=int(now), valid_window=1))


def current_code(secret: str, now: float) -> str:
    """The code an authenticator shows at `now` (tests, the bench)."""
    return str(pyotp.TOTP(secret).at(int(now)))
