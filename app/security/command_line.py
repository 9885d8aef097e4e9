"""The command line's side of the one authorisation check.

Every `wardwatch` command is an action of the permission matrix (its `[commands]` table; benchmarks,
evaluations and running the station are open). Before such a command runs, `authorize_command` opens
the record, logs the user in and asks `AccessControl.check`; both are audited in the record.

Who: `--user NAME` (or the WARDWATCH_USER environment variable, for commands of other features that
have no such option). The password is never an argument: it is read from `--password-fd N` (a file
descriptor a script opened, e.g. `3<secret`) or asked on the terminal; so is the TOTP code (`--totp`
may give it, as it is good for 30 s only).

A record with no users yet (a fresh install, or one older than the users revision) is in set-up:
commands run as "setup" (audited as such when the trail can take it) until an administrator exists,
made with `wardwatch user add NAME --role admin`.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from wardwatch.app.security.actions import SETUP_USER, Action
from wardwatch.app.security.permissions import Permissions, load_permissions
from wardwatch.storage.errors import RecordError

if TYPE_CHECKING:  # the database side is imported when a command needs it: `wardwatch decode` starts fast
    from sqlalchemy import Engine

log = logging.getLogger(__name__)

USER_ENV = "WARDWATCH_USER"
# Commands that still run when the record cannot be opened (its key is missing): nobody can be checked,
# and they cannot read the record either.
WITHOUT_RECORD = frozenset({Action.DIAGNOSTICS.value})
EXIT_AUTH = 5


class AuthError(Exception):
    def __init__(self, message: str, code: int = EXIT_AUTH) -> None:
        super().__init__(message)
        self.code = code


def add_auth_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", metavar="NAME", help=f"who runs the command (default: ${USER_ENV})")
    parser.add_argument(
        "--password-fd",
        type=int,
        metavar="N",
        help="read the password from this open file descriptor (default: ask on the terminal)",
    )
    parser.add_argument("--totp", metavar="CODE", help="the authenticator code, if the user has one")


def command_name(args: argparse.Namespace) -> str:
    """ "db upgrade", "export", "user add", "" (the station): as the matrix's [commands] table names them."""
    explicit = getattr(args, "command_name", None)
    if explicit:
        return str(explicit)
    command = getattr(args, "command", None) or ""
    if command == "db":
        return f"db {args.db}"
    return str(command)


def read_secret(args: argparse.Namespace, prompt: str, fd_attr: str = "password_fd") -> str:
    fd = getattr(args, fd_attr, None)
    if fd is not None:
        try:
            with os.fdopen(fd, "r", encoding="utf-8", closefd=True) as fh:
                return fh.readline().rstrip("\r\n")
        except OSError as exc:
            raise AuthError(f"cannot read the password from file descriptor {fd}: {exc.strerror}") from None
    if not sys.stdin.isatty():
        raise AuthError(f"{prompt.rstrip(': ')} needed: give --password-fd N, or run on a terminal")
    return getpass.getpass(prompt)


def _engine_of(args: argparse.Namespace) -> tuple[Engine, object] | None:
    """The record's engine (read/write, no lock, no migration), or None when there is no record yet."""
    from wardwatch.app.config import apply_overrides, load_config, resolve_data_dir
    from wardwatch.storage.database import DATABASE_NAME, open_for_reading

    config = load_config(getattr(args, "config", None)).config
    data_dir = getattr(args, "data_dir", None)
    if data_dir is not None:
        config = apply_overrides(config, data_dir=data_dir)
    folder: Path = resolve_data_dir(config)
    path = folder / DATABASE_NAME
    if not path.exists() or path.stat().st_size == 0:
        return None
    record = open_for_reading(folder, key_file=getattr(args, "key_file", None))
    return record.engine, record


def has_chain(engine: Engine) -> bool:
    from sqlalchemy import inspect

    return any(c["name"] == "hash" for c in inspect(engine).get_columns("audit"))


def authorize_command(args: argparse.Namespace, permissions: Permissions | None = None) -> str:
    """Log the command's user in and check the command's action; the user name to act as. Raises
    AuthError with a message for the person."""
    permissions = permissions or load_permissions()
    name = command_name(args)
    action = permissions.command_action(name)
    if action is None:
        return ""
    try:
        opened = _engine_of(args)
    except RecordError as exc:
        if action not in WITHOUT_RECORD:
            raise AuthError(str(exc), exc.exit_code) from None
        # a support bundle is most needed when the record cannot be opened; it holds no patient data
        log.warning("%s runs unchecked: the record cannot be opened (%s)", name, type(exc).__name__)
        return SETUP_USER
    if opened is None:
        return SETUP_USER  # nothing recorded yet, nobody to check against
    engine, record = opened
    try:
        return _authorize(args, engine, permissions, name, action)
    finally:
        record.close()  # type: ignore[attr-defined]


def _authorize(
    args: argparse.Namespace, engine: Engine, permissions: Permissions, name: str, action: str
) -> str:
    from wardwatch.app.security.access import AccessControl, Actor
    from wardwatch.app.security.directory import LoginStatus, UserDirectory
    from wardwatch.app.security.lockout import LockoutPolicy
    from wardwatch.storage.security_audit import DirectAudit
    from wardwatch.storage.security_users import count_users, has_user_tables

    if not has_user_tables(engine) or not has_chain(engine):
        log.info("command %r on a record without users (schema before the users revision)", name)
        return SETUP_USER
    access = AccessControl(permissions, DirectAudit(engine))
    with engine.connect() as conn:
        users = count_users(conn)
    if users == 0:
        access.check(action, name, actor=Actor(SETUP_USER, "admin"), detail="command line, before any user")
        return SETUP_USER
    user = getattr(args, "user", None) or os.environ.get(USER_ENV)
    if not user:
        raise AuthError(f"this station has users: '{name or 'wardwatch'}' needs --user NAME (or ${USER_ENV})")
    directory = UserDirectory(engine, access, LockoutPolicy())
    password = read_secret(args, f"Password for {user}: ")
    result = directory.login(user, password, getattr(args, "totp", None) or "")
    if result.status is LoginStatus.NEED_CODE:
        code = input("Authenticator code: ") if sys.stdin.isatty() else ""
        if not code:
            raise AuthError("this user has a second factor: give --totp CODE")
        result = directory.login(user, password, code)
    if not result.ok or result.actor is None:
        if result.status is LoginStatus.NEED_ENROLMENT:
            raise AuthError(
                f"{result.message} first: wardwatch user enrol-totp {user} (then use the code with --totp)"
            )
        raise AuthError(result.message)
    decision = access.check(action, name, actor=result.actor, detail="command line")
    if not decision:
        raise AuthError(decision.reason)
    return result.actor.name
