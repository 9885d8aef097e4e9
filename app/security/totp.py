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


STEP_S = 30


def code_step(secret: str | None, code: str, now: float, after_step: int | None = None) -> int | None:
    """The time step whose code this is (the current one, or the one before or after: the phone's clock
    may drift), or None. A step at or before `after_step` (the last one used) is refused: RFC 6238
    (5.2) wants each code accepted once only, so a code seen over a shoulder cannot be used again."""
    code = code.strip().replace(" ", "")
    if secret is None or not (code.isdigit() and len(code) == 6):
        return None
    otp = pyotp.TOTP(secret)
    for offset in (0, -1, 1):
        when = int(now) + offset * STEP_S
        step = when // STEP_S
        if (after_step is None or step > after_step) and otp.verify(code, for_time=when, valid_window=0):
            return step
    return None


def code_ok(secret: str | None, code: str, now: float) -> bool:
    return code_step(secret, code, now) is not None


def current_code(secret: str, now: float) -> str:
    """The code an authenticator shows at `now` (tests, the bench)."""
    return str(pyotp.TOTP(secret).at(int(now)))
