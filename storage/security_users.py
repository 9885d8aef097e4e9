"""Reading and changing the users table and the security settings (SQLAlchemy Core, one connection
given by the caller, who owns the transaction)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, Engine, func, insert, inspect, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from wardwatch.app.security.users import User
from wardwatch.storage.security_tables import security_settings, users


def has_user_tables(engine_or_conn: Engine | Connection) -> bool:
    """False on a record older than revision 0003 (not yet upgraded)."""
    return bool(inspect(engine_or_conn).has_table("users"))


def _user(row: Mapping[str, object]) -> User:
    return User(
        name=str(row["name"]),
        display_name=str(row["display_name"]),
        role=str(row["role"]),
        disabled=bool(row["disabled"]),
        totp_enabled=bool(row["totp_enabled"]),
        has_pin=row["pin_hash"] is not None,
        failed_logins=int(row["failed_logins"]),  # type: ignore[call-overload]
        locked_until=row["locked_until"],  # type: ignore[arg-type]
        created_at=float(row["created_at"]),  # type: ignore[arg-type]
        last_login=row["last_login"],  # type: ignore[arg-type]
    )


def count_users(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(users)).scalar() or 0)


def list_users(conn: Connection) -> list[User]:
    return [_user(r._mapping) for r in conn.execute(select(users).order_by(users.c.name))]


def get_user(conn: Connection, name: str) -> User | None:
    row = conn.execute(select(users).where(users.c.name == name)).one_or_none()
    return None if row is None else _user(row._mapping)


def secrets_of(conn: Connection, name: str) -> tuple[str, str | None, str | None, int | None] | None:
    """(password hash, PIN hash, TOTP secret, last TOTP step used) of a user, for checking a login;
    None if unknown."""
    u = users.c
    row = conn.execute(
        select(u.password_hash, u.pin_hash, u.totp_secret, u.totp_last_step).where(u.name == name)
    ).one_or_none()
    return None if row is None else (row[0], row[1], row[2], row[3])


def add_user(
    conn: Connection, name: str, display_name: str, role: str, password_hash: str, now: float
) -> None:
    conn.execute(
        insert(users),
        {
            "name": name,
            "display_name": display_name,
            "role": role,
            "password_hash": password_hash,
            "totp_enabled": False,
            "disabled": False,
            "failed_logins": 0,
            "created_at": now,
        },
    )


def change_user(conn: Connection, name: str, **values: object) -> bool:
    """Set columns of one user; False when there is no such user."""
    return bool(conn.execute(update(users).where(users.c.name == name).values(**values)).rowcount)


def get_setting(conn: Connection, key: str, default: str = "") -> str:
    value = conn.execute(select(security_settings.c.value).where(security_settings.c.key == key)).scalar()
    return default if value is None else str(value)


def set_setting(conn: Connection, key: str, value: str) -> None:
    conn.execute(
        sqlite_insert(security_settings)
        .values(key=key, value=value)
        .on_conflict_do_update(index_elements=["key"], set_={"value": value})
    )
