"""A station user as the rest of the program sees it (no secrets: those stay in storage)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from wardwatch.app.security.actions import SETUP_USER, STATION_USER, Role

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9._-]{1,31}$")
RESERVED_NAMES = frozenset({STATION_USER, SETUP_USER, "locked", "system", "root"})


@dataclass(frozen=True, slots=True)
class User:
    name: str
    display_name: str
    role: str
    disabled: bool = False
    totp_enabled: bool = False
    has_pin: bool = False
    failed_logins: int = 0
    locked_until: float | None = None
    created_at: float = 0.0
    last_login: float | None = None


def name_problem(name: str) -> str:
    """Why a login name cannot be used ("" when it can)."""
    if name in RESERVED_NAMES:
        return f"{name!r} is reserved"
    if not NAME_PATTERN.match(name):
        return "a login name is 2-32 lower-case letters, digits, '.', '_' or '-', starting with a letter"
    return ""


def role_problem(role: str) -> str:
    return (
        ""
        if role in {r.value for r in Role}
        else f"unknown role {role!r}: {', '.join(r.value for r in Role)}"
    )
