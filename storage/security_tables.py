"""Tables of the users issue, on the record's shared metadata (revision 0003 creates them).

Passwords and PINs are stored only as argon2id hashes; a TOTP secret is stored as is, inside the
encrypted file (the station must read it to check a code), and is never logged nor audited.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Integer, String, Table, Text
from wardwatch.storage.schema import metadata

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),  # login name, lower case
    Column("display_name", String(128), nullable=False, default=""),
    Column("role", String(32), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("pin_hash", Text),  # quick user switch at the station; None: password only
    Column("totp_secret", String(64)),  # base32; None: not enrolled
    Column("totp_enabled", Boolean, nullable=False, default=False),
    Column("totp_last_step", Integer),  # the time step of the last code accepted: each code works once
    Column("disabled", Boolean, nullable=False, default=False),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", Float),  # UTC seconds; None: not locked out
    Column("created_at", Float, nullable=False),
    Column("last_login", Float),
)

# One row (id 1): the newest audit row's id and hash, updated in the same transaction as the row.
# Deleting rows from the end of the trail leaves them behind the head, which `audit verify` reports.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("last_id", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
)

# Security policy an administrator sets (e.g. which roles must use a second factor).
security_settings = Table(
    "security_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
