"""Command-line and station hooks of the users issue (see wardwatch.app.extensions).

    wardwatch user add NAME --role ROLE [--display-name TEXT]   (the first user: an administrator)
    wardwatch user disable|enable|reset-password|reset-totp NAME
    wardwatch user set-role NAME ROLE
    wardwatch user list
    wardwatch user mfa-policy --roles admin,clinician
    wardwatch user enrol-totp NAME      (a user enrols their own authenticator app: QR on the terminal)
    wardwatch user set-pin NAME         (a user sets their own PIN for the quick switch)
    wardwatch audit verify
    wardwatch audit export --out FILE.csv [--from T] [--to T] [--who USER] [--action PREFIX]
    wardwatch bench security [--entries N] [--logins N]

Each command is checked by the one authorisation check (`authorize_command`, called by `wardwatch`'s
main before any command runs); the acting administrator is named with --user.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wardwatch.app.extensions import CommandGroups, Service, ServiceContext
    from wardwatch.app.security.directory import UserDirectory

USER_COMMANDS = (
    ("add", "add a user (the first one must be an administrator)"),
    ("disable", "disable a user (they can no longer log in)"),
    ("enable", "enable a user again; also lifts a lockout"),
    ("reset-password", "give a user a new password; also lifts a lockout"),
    ("reset-totp", "forget a user's authenticator app (lost phone); they enrol again"),
    ("set-role", "change a user's role"),
    ("list", "list the users, their roles, second factors and lockouts"),
    ("mfa-policy", "which roles must log in with an authenticator code"),
    ("enrol-totp", "enrol your authenticator app (shows a QR code on the terminal)"),
    ("set-pin", "set your PIN for the quick user switch at the station"),
)


def add_commands(groups: CommandGroups) -> None:
    from wardwatch.app.cli import _record_command_options

    user = groups.top.add_parser("user", help="station users, roles and second factors")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    for name, text in USER_COMMANDS:
        p = user_sub.add_parser(name, help=text)
        if name not in ("list", "mfa-policy"):
            p.add_argument("name", metavar="NAME", help="login name")
        if name == "add":
            p.add_argument("--role", required=True, help="viewer, nurse, charge_nurse, clinician or admin")
            p.add_argument("--display-name", default="", metavar="TEXT", help="the name shown on the station")
        if name == "set-role":
            p.add_argument("role", metavar="ROLE")
        if name == "mfa-policy":
            p.add_argument("--roles", default=None, metavar="R1,R2", help="set the roles ('' for none)")
        if name in ("add", "reset-password"):
            p.add_argument(
                "--new-password-fd",
                type=int,
                metavar="N",
                help="read the new password from this file descriptor (default: ask twice on the terminal)",
            )
        if name == "set-pin":
            p.add_argument(
                "--new-pin-fd", type=int, metavar="N", help="read the new PIN from this descriptor"
            )
        _record_command_options(p)
        p.set_defaults(handler=cmd_user, command_name=f"user {name}")

    audit = groups.top.add_parser("audit", help="the hash-chained audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="check that no audit row was edited, inserted or deleted")
    _record_command_options(verify)
    verify.set_defaults(handler=cmd_audit, command_name="audit verify")
    export = audit_sub.add_parser("export", help="write the audit trail (or a filtered part) as CSV")
    export.add_argument("--out", required=True, metavar="FILE.csv")
    export.add_argument("--from", dest="start", metavar="TIME", help="ISO 8601 (UTC unless it says)")
    export.add_argument("--to", dest="end", metavar="TIME", help="ISO 8601 (UTC unless it says)")
    export.add_argument("--who", default="", metavar="USER", help="only this user's rows")
    export.add_argument("--action", default="", metavar="PREFIX", help="e.g. session. or patient.admit")
    _record_command_options(export)
    export.set_defaults(handler=cmd_audit, command_name="audit export")

    bench = groups.bench.add_parser("security", help="login time (argon2) and audit verification time")
    bench.add_argument("--logins", type=int, default=10, help="logins to time")
    bench.add_argument("--entries", type=int, default=1_000_000, help="audit rows to build and verify")
    bench.add_argument("--dir", default=None, metavar="DIR", help="where to build the record (default: temp)")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.set_defaults(handler=cmd_bench_security, command_name="bench security")


# -- user commands --------------------------------------------------------------------------------------
@contextmanager
def _directory(args: argparse.Namespace) -> Iterator[UserDirectory]:
    """The user directory of the record (created and upgraded if need be), auditing straight into it."""
    from wardwatch.app.cli import _load
    from wardwatch.app.config import resolve_data_dir
    from wardwatch.app.security.access import AccessControl
    from wardwatch.app.security.directory import UserDirectory
    from wardwatch.app.security.lockout import LockoutPolicy
    from wardwatch.app.security.permissions import load_permissions
    from wardwatch.storage.database import DATABASE_NAME, open_for_reading, open_record
    from wardwatch.storage.errors import RecordError
    from wardwatch.storage.security_audit import DirectAudit
    from wardwatch.storage.security_users import has_user_tables

    config = _load(args).config
    folder = resolve_data_dir(config)
    if (folder / DATABASE_NAME).exists():
        # no lock: users can be managed while the station runs (SQLite serialises the writes)
        record = open_for_reading(folder, key_file=args.key_file)
        if not has_user_tables(record.engine):
            record.close()
            raise RecordError(
                "this record is older than the users revision: run 'wardwatch db upgrade' first"
            )
    else:
        record = open_record(folder, key_file=args.key_file)  # a new station: made here
    try:
        access = AccessControl(load_permissions(), DirectAudit(record.engine))
        yield UserDirectory(record.engine, access, LockoutPolicy(config.max_failed_logins, config.lockout_s))
    finally:
        record.close()


def _new_secret(args: argparse.Namespace, what: str, fd_attr: str) -> str:
    from wardwatch.app.security.command_line import AuthError, read_secret

    if getattr(args, fd_attr, None) is not None:
        return read_secret(args, f"New {what}: ", fd_attr)
    first = read_secret(args, f"New {what}: ", fd_attr)
    if read_secret(args, f"New {what} again: ", fd_attr) != first:
        raise AuthError(f"the two {what}s differ", 2)
    return first


def cmd_user(args: argparse.Namespace) -> int:
    from wardwatch.app.cli import CliError
    from wardwatch.app.security.command_line import AuthError
    from wardwatch.app.security.directory import DirectoryError

    command = args.user_command
    try:
        with _directory(args) as d:
            # the caller was logged in and checked by authorize_command; here we act as them
            by = _acting(d, args)
            if command == "add":
                password = _new_secret(args, "password", "new_password_fd")
                if by is None:
                    if args.role != "admin":
                        raise CliError("the first user must be an administrator: --role admin")
                    d.add_first_admin(args.name, args.display_name, password)
                else:
                    d.add(by, args.name, args.display_name, args.role, password)
                print(f"user {args.name.lower()} added ({args.role})")
            elif command in ("disable", "enable"):
                d.set_disabled(_need(by), args.name, command == "disable")
                print(f"user {args.name} {command}d")
            elif command == "reset-password":
                d.reset_password(_need(by), args.name, _new_secret(args, "password", "new_password_fd"))
                print(f"password of {args.name} reset")
            elif command == "reset-totp":
                d.reset_totp(_need(by), args.name)
                print(f"{args.name} has no authenticator now; they enrol again at their next login")
            elif command == "set-role":
                d.set_role(_need(by), args.name, args.role)
                print(f"{args.name} is now {args.role}")
            elif command == "list":
                _print_users(d)
            elif command == "mfa-policy":
                if args.roles is not None:
                    roles = frozenset(r.strip() for r in args.roles.split(",") if r.strip())
                    d.set_mfa_roles(_need(by), roles)
                print(f"roles that need an authenticator code: {', '.join(sorted(d.mfa_roles())) or 'none'}")
            elif command == "enrol-totp":
                return _enrol(d, args)
            elif command == "set-pin":
                from wardwatch.app.security.command_line import read_secret

                password = read_secret(args, f"Password for {args.name}: ")
                d.set_pin(args.name, password, _new_secret(args, "PIN", "new_pin_fd"))
                print(f"PIN of {args.name} set")
    except DirectoryError as exc:
        raise CliError(str(exc)) from None
    except AuthError as exc:
        raise CliError(str(exc), exc.code) from None
    return 0


def _acting(d: UserDirectory, args: argparse.Namespace) -> Any:
    """The administrator running the command (authorize_command checked them), or None in set-up."""
    import os

    from wardwatch.app.security.access import Actor
    from wardwatch.app.security.command_line import USER_ENV

    if not d.has_users():
        return None
    name = (getattr(args, "user", None) or os.environ.get(USER_ENV) or "").strip().lower()
    user = d.user(name) if name else None
    return Actor(user.name, user.role) if user is not None else None


def _need(by: Any) -> Any:
    from wardwatch.app.cli import CliError

    if by is None:
        raise CliError(
            "there are no users yet: add the administrator first (wardwatch user add NAME --role admin)"
        )
    return by


def _print_users(d: UserDirectory) -> None:
    now = time.time()
    print(f"{'name':<20} {'role':<13} {'state':<22} {'2nd factor':<10} {'PIN':<4} last login")
    for u in d.users():
        if u.disabled:
            state = "disabled"
        elif u.locked_until is not None and u.locked_until > now and u.failed_logins >= d.policy.max_failures:
            state = f"LOCKED OUT ({u.failed_logins} fails)"
        else:
            state = f"active ({u.failed_logins} fails)" if u.failed_logins else "active"
        last = (
            dt.datetime.fromtimestamp(u.last_login, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
            if u.last_login
            else "never"
        )
        print(
            f"{u.name:<20} {u.role:<13} {state:<22} {'TOTP' if u.totp_enabled else '-':<10} "
            f"{'yes' if u.has_pin else '-':<4} {last}"
        )


def _enrol(d: UserDirectory, args: argparse.Namespace) -> int:
    import segno
    from wardwatch.app.cli import CliError, _load
    from wardwatch.app.security import totp
    from wardwatch.app.security.command_line import read_secret

    password = read_secret(args, f"Password for {args.name}: ")
    secret = totp.new_secret()
    uri = totp.enrolment_uri(secret, args.name.lower(), _load(args).config.station_name)
    print("Scan this code with your authenticator app (or type the key shown below it):", file=sys.stderr)
    segno.make(uri, error="m").terminal(out=sys.stderr, compact=True)
    print(f"key: {secret}", file=sys.stderr)
    code = args.totp or (input("Code shown by the app: ") if sys.stdin.isatty() else "")
    result = d.enrol_totp(args.name, secret, password, code)
    if not result.ok:
        raise CliError(f"not enrolled: {result.message}")
    print(f"{args.name} now logs in with an authenticator code")
    return 0


# -- audit commands -------------------------------------------------------------------------------------
def cmd_audit(args: argparse.Namespace) -> int:
    from pathlib import Path

    from wardwatch.app.cli import CliError, _load, parse_time
    from wardwatch.app.config import resolve_data_dir
    from wardwatch.storage.database import open_for_reading
    from wardwatch.storage.security_audit import AuditFilter, read_audit, verify_chain, write_audit_csv

    record = open_for_reading(resolve_data_dir(_load(args).config), key_file=args.key_file)
    try:
        if args.audit_command == "verify":
            started = time.perf_counter()
            with record.engine.connect() as conn:
                result = verify_chain(conn)
            took = time.perf_counter() - started
            for problem in result.problems:
                print(f"TAMPERED: {problem}")
            verdict = "intact" if result.ok else "NOT INTACT"
            print(f"audit trail {verdict}: {result.entries} entries checked in {took:.2f} s")
            print(f"head hash: {result.head_hash}  (write it down elsewhere to compare later)")
            return 0 if result.ok else 1
        start = parse_time(args.start, 0.0) if args.start else None
        end = parse_time(args.end, time.time()) if args.end else None
        rows = read_audit(record.engine, AuditFilter(start, end, args.who, args.action, limit=-1))
        n = write_audit_csv(rows, Path(args.out))
    except OSError as exc:
        raise CliError(f"cannot write {args.out}: {exc.strerror}") from None
    finally:
        record.close()
    print(f"{n} audit rows written to {args.out}")
    return 0


def cmd_bench_security(args: argparse.Namespace) -> int:
    import json

    from wardwatch.app.security.bench import bench_security

    result = bench_security(args.logins, args.entries, args.dir)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>28}: {value}")
    return 0


# -- beside a running station ---------------------------------------------------------------------------
def start_services(ctx: ServiceContext) -> Sequence[Service]:
    """The security service: sessions, logins, locking and the audit trail into the record. Without a
    record there is no user directory: the station runs locked (monitoring and alarms go on)."""
    from wardwatch.app.security.access import AccessControl
    from wardwatch.app.security.directory import UserDirectory
    from wardwatch.app.security.lockout import LockoutPolicy
    from wardwatch.app.security.permissions import load_permissions
    from wardwatch.app.security.service import (
        SERVICE_NAME,
        SecurityService,
        SessionSettings,
        station_audit_sink,
    )

    config = ctx.config
    settings = SessionSettings(config.idle_lock_s, config.mask_names_when_locked, config.station_name)
    clock: Callable[[], float] = time.time
    permissions = load_permissions()
    if ctx.record is None:
        service = SecurityService(AccessControl(permissions, clock=clock), None, settings, None, clock)
    else:
        access = AccessControl(permissions, station_audit_sink(ctx.record.recorder), clock)
        policy = LockoutPolicy(config.max_failed_logins, config.lockout_s)
        directory = UserDirectory(ctx.record.record.engine, access, policy, clock)
        service = SecurityService(access, directory, settings, ctx.record.record.engine, clock)
        access.record(
            "station.start", config.station_name, user="station", detail="station locked until a login"
        )
    ctx.station.services[SERVICE_NAME] = service
    return [service]
