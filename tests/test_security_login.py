"""Logins on a real encrypted record: argon2 passwords and PINs, TOTP enrolment and codes (RFC 6238,
generated here as an authenticator app would), back-off and lockout, and the command line's --user with
the password read from a file descriptor. Passwords, PINs and TOTP secrets never reach the logs or the
audit trail."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pyotp
import pytest
from wardwatch.app.cli import main
from wardwatch.app.security import totp
from wardwatch.app.security.access import AccessControl, Actor, AuditEntry
from wardwatch.app.security.directory import DirectoryError, LoginStatus, UserDirectory
from wardwatch.app.security.lockout import LockoutPolicy, after_failure
from wardwatch.app.security.permissions import load_permissions
from wardwatch.storage import database
from wardwatch.storage.database import make_engine, open_record
from wardwatch.storage.keys import DatabaseKey, read_key_file, write_key_file
from wardwatch.storage.security_audit import DirectAudit

ADMIN_PW = "admin horse battery"
NURSE_PW = "nurse staple 42!"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "station.key"
    write_key_file(path, DatabaseKey.new())
    return path


@pytest.fixture
def ward(tmp_path: Path, key_file: Path):
    """A record with an administrator and a nurse; entries go to the trail and to `entries`."""
    record = open_record(tmp_path / "data", key_file=key_file)
    entries: list[AuditEntry] = []
    direct = DirectAudit(record.engine)

    def sink(entry: AuditEntry) -> None:
        entries.append(entry)
        direct(entry)

    clock = Clock()
    access = AccessControl(load_permissions(), sink, clock)
    d = UserDirectory(record.engine, access, LockoutPolicy(max_failures=3, lockout_s=600), clock)
    d.add_first_admin("admin", "Ada Admin", ADMIN_PW)
    d.add(Actor("admin", "admin"), "nurse.a", "Nora Nurse", "nurse", NURSE_PW)
    yield d, clock, entries, record
    record.close()


def audit_text(tmp_path: Path, key_file: Path) -> str:
    engine = make_engine(tmp_path / "data" / database.DATABASE_NAME, read_key_file(key_file))
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT * FROM audit").fetchall()
    engine.dispose()
    return "\n".join(" | ".join(str(v) for v in r) for r in rows)


def test_password_login_gives_the_users_role(ward):
    d, _clock, entries, _ = ward
    result = d.login("Nurse.A", NURSE_PW)
    assert result.ok and result.actor == Actor("nurse.a", "nurse")
    assert entries[-1].action == "session.login" and entries[-1].outcome == "ok"


def test_totp_enrolment_and_login_with_a_generated_code(ward):
    d, clock, entries, _ = ward
    secret = totp.new_secret()
    uri = totp.enrolment_uri(secret, "nurse.a", "Ward 7")
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri and "issuer=WardWatch" in uri
    app = pyotp.parse_uri(uri)  # what the phone reads from the QR code
    assert d.enrol_totp("nurse.a", secret, NURSE_PW, "000000").status is LoginStatus.NEED_CODE
    assert d.enrol_totp("nurse.a", secret, NURSE_PW, app.at(int(clock.now))).ok
    assert d.login("nurse.a", NURSE_PW).status is LoginStatus.NEED_CODE
    wrong = f"{(int(app.at(int(clock.now))) + 1) % 1_000_000:06d}"
    assert d.login("nurse.a", NURSE_PW, wrong).status is LoginStatus.WRONG
    clock.now += 120  # a later code, as the phone shows it two minutes on
    assert d.login("nurse.a", NURSE_PW, app.at(int(clock.now))).ok
    clock.now += 5  # the same code again, still on the phone's screen: each code works once
    assert d.login("nurse.a", NURSE_PW, app.at(int(clock.now))).status is LoginStatus.WRONG
    clock.now += 1.1 + 30
    assert d.login("nurse.a", NURSE_PW, app.at(int(clock.now))).ok
    assert d.login("nurse.a", NURSE_PW, app.at(int(clock.now) - 600)).status is not LoginStatus.OK
    assert any(e.action == "user.enrol_totp" for e in entries)


def test_a_role_that_needs_a_second_factor_must_enrol_first(ward):
    d, clock, _, _ = ward
    d.set_mfa_roles(Actor("admin", "admin"), frozenset({"nurse"}))
    assert d.login("nurse.a", NURSE_PW).status is LoginStatus.NEED_ENROLMENT
    secret = totp.new_secret()
    assert d.enrol_totp("nurse.a", secret, NURSE_PW, totp.current_code(secret, clock.now)).ok
    clock.now += 30
    assert d.login("nurse.a", NURSE_PW, totp.current_code(secret, clock.now)).ok
    with pytest.raises(DirectoryError, match="may not"):
        d.set_mfa_roles(Actor("nurse.a", "nurse"), frozenset())


def test_lockout_after_repeated_failures_even_with_the_right_password(ward):
    d, clock, entries, _ = ward
    assert d.login("nurse.a", "wrong one").status is LoginStatus.WRONG
    assert d.login("nurse.a", NURSE_PW).status is LoginStatus.WAIT  # back-off: 1 s after the first
    clock.now += 1.1
    assert d.login("nurse.a", "wrong two").status is LoginStatus.WRONG
    clock.now += 2.1
    assert d.login("nurse.a", "wrong three").status is LoginStatus.LOCKED_OUT
    clock.now += 60
    result = d.login("nurse.a", NURSE_PW)
    assert result.status is LoginStatus.LOCKED_OUT and result.wait_s > 500
    lockouts = [e for e in entries if e.action == "session.lockout"]
    assert len(lockouts) == 1 and lockouts[0].target == "nurse.a" and lockouts[0].outcome == "lockout"
    assert d.user("nurse.a").failed_logins == 3  # type: ignore[union-attr]
    d.set_disabled(Actor("admin", "admin"), "nurse.a", False)  # the administrator lifts it
    assert d.login("nurse.a", NURSE_PW).ok


def test_a_lockout_ends_on_its_own_after_its_time(ward):
    d, clock, _, _ = ward
    for _ in range(3):
        d.login("nurse.a", "wrong")
        clock.now += 40
    assert d.login("nurse.a", NURSE_PW).status is LoginStatus.LOCKED_OUT
    clock.now += 601
    assert d.login("nurse.a", NURSE_PW).ok


def test_back_off_doubles_up_to_its_ceiling_and_the_limit_locks_out():
    policy = LockoutPolicy(max_failures=8, lockout_s=900, backoff_base_s=1, backoff_max_s=30)
    waits = [after_failure(n, 0.0, policy).locked_until for n in range(7)]
    assert waits == [1, 2, 4, 8, 16, 30, 30]
    last = after_failure(7, 0.0, policy)
    assert last.locked_out and last.locked_until == 900


def test_a_disabled_user_cannot_log_in(ward):
    d, _, _, _ = ward
    d.set_disabled(Actor("admin", "admin"), "nurse.a", True)
    assert d.login("nurse.a", NURSE_PW).status is LoginStatus.DISABLED
    with pytest.raises(DirectoryError, match="own account"):
        d.set_disabled(Actor("admin", "admin"), "admin", True)


def test_pin_quick_switch(ward):
    d, _, _, _ = ward
    with pytest.raises(DirectoryError, match="PIN"):
        d.set_pin("nurse.a", NURSE_PW, "12")
    d.set_pin("nurse.a", NURSE_PW, "4711")
    assert d.login("nurse.a", "4711", pin=True).ok
    assert not d.login("nurse.a", "4712", pin=True).ok
    assert not d.login("admin", "4711", pin=True).ok  # the admin has no PIN


def test_unknown_user_is_refused_without_recording_what_was_typed(ward):
    d, _, entries, _ = ward
    assert d.login(ADMIN_PW, "x").status is LoginStatus.WRONG  # a password typed into the name box
    assert entries[-1].outcome == "failed"
    assert ADMIN_PW not in repr(entries[-1])


def test_user_management_checks_the_role_and_audits_before_and_after(ward):
    d, _, entries, _ = ward
    with pytest.raises(DirectoryError, match="may not"):
        d.add(Actor("nurse.a", "nurse"), "nurse.b", "", "nurse", "long enough")
    assert entries[-1].outcome == "denied" and entries[-1].user == "nurse.a"
    d.set_role(Actor("admin", "admin"), "nurse.a", "charge_nurse")
    assert (entries[-1].before, entries[-1].after) == ("role=nurse", "role=charge_nurse")
    assert d.login("nurse.a", NURSE_PW).actor == Actor("nurse.a", "charge_nurse")
    with pytest.raises(DirectoryError, match="8 characters"):
        d.reset_password(Actor("admin", "admin"), "nurse.a", "short")
    with pytest.raises(DirectoryError, match="reserved"):
        d.add(Actor("admin", "admin"), "station", "", "nurse", "long enough")


def test_passwords_pins_and_totp_secrets_never_appear_in_logs_or_the_audit_trail(
    ward, tmp_path, key_file, caplog
):
    caplog.set_level(logging.DEBUG)
    d, clock, _, _ = ward
    secret = totp.new_secret()
    code = totp.current_code(secret, clock.now)
    d.login("nurse.a", "Wr0ng-Passw0rd")
    clock.now += 5
    d.enrol_totp("nurse.a", secret, NURSE_PW, code)
    d.set_pin("nurse.a", NURSE_PW, "908172")
    assert d.login("nurse.a", "908172", totp.current_code(secret, clock.now + 30), pin=True).ok
    d.reset_password(Actor("admin", "admin"), "nurse.a", "Brand-New-Pass 9")
    d.login("nurse.a", "Brand-New-Pass 9", "123456")
    d.login(ADMIN_PW, ADMIN_PW)
    trail = audit_text(tmp_path, key_file)
    logs = "\n".join(r.getMessage() for r in caplog.records)
    assert "session.login" in trail and "user.enrol_totp" in trail
    for secret_text in (NURSE_PW, ADMIN_PW, "Wr0ng-Passw0rd", "Brand-New-Pass 9", "908172", secret, code):
        assert secret_text not in trail
        assert secret_text not in logs


def _pipe(text: str) -> int:
    read, write = os.pipe()
    os.write(write, (text + "\n").encode())
    os.close(write)
    return read


def test_command_line_first_administrator_then_commands_need_a_user(tmp_path, key_file, capsys):
    data = ["--data-dir", str(tmp_path / "cli"), "--key-file", str(key_file)]
    assert (
        main(["user", "add", "boss", "--role", "nurse", *data, "--new-password-fd", str(_pipe(ADMIN_PW))])
        == 2
    )
    assert (
        main(["user", "add", "boss", "--role", "admin", *data, "--new-password-fd", str(_pipe(ADMIN_PW))])
        == 0
    )
    assert main(["user", "list", *data]) == 5
    assert "needs --user" in capsys.readouterr().err
    add = ["user", "add", "nurse.c", "--role", "nurse", *data]
    assert (
        main(
            [
                *add,
                "--user",
                "boss",
                "--password-fd",
                str(_pipe(ADMIN_PW)),
                "--new-password-fd",
                str(_pipe(NURSE_PW)),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["user", "list", *data, "--user", "boss", "--password-fd", str(_pipe(ADMIN_PW))]) == 0
    out = capsys.readouterr().out
    assert "nurse.c" in out and "boss" in out
    # a nurse may not export the audit trail; the refusal is audited
    export = ["audit", "export", "--out", str(tmp_path / "a.csv"), *data]
    assert main([*export, "--user", "nurse.c", "--password-fd", str(_pipe(NURSE_PW))]) == 5
    assert "may not" in capsys.readouterr().err
    assert main([*export, "--user", "boss", "--password-fd", str(_pipe(ADMIN_PW))]) == 0
    csv_text = (tmp_path / "a.csv").read_text()
    assert "denied" in csv_text and "nurse.c" in csv_text and "audit.export" in csv_text
    assert ADMIN_PW not in csv_text and NURSE_PW not in csv_text
    capsys.readouterr()
    assert main(["user", "list", *data, "--user", "boss", "--password-fd", str(_pipe("wrong password"))]) == 5
    assert "Wrong name, password or PIN" in capsys.readouterr().err


def test_a_headless_station_with_users_runs_locked_without_asking_anything(tmp_path, key_file):
    import subprocess
    import sys

    data = tmp_path / "headless"
    where = ["--data-dir", str(data), "--key-file", str(key_file)]
    new_password = ["--new-password-fd", str(_pipe(ADMIN_PW))]
    assert main(["user", "add", "boss", "--role", "admin", *where, *new_password]) == 0
    result = subprocess.run(
        [sys.executable, "-m", "wardwatch.app.cli", "run", "--headless", "--duration", "20", "--speed", "10",
         "--beds", "2", "--data-dir", str(data), "--key-file", str(key_file)],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "t=" in result.stdout and "assword" not in result.stdout + result.stderr
    engine = make_engine(data / database.DATABASE_NAME, read_key_file(key_file))
    with engine.connect() as conn:
        actions = [r[0] for r in conn.exec_driver_sql("SELECT action FROM audit ORDER BY id")]
    engine.dispose()
    assert "station.start" in actions and "session.login" not in actions  # nobody logged in: locked


CLINICIAN_PW = "clinician pass 7"


@pytest.mark.parametrize(
    ("command", "user", "allowed"),
    [
        (["db", "check"], "boss", True),
        (["db", "check"], "doc.c", False),
        (["export", "events", "--out", "{tmp}/e.csv"], "doc.c", True),
        (["export", "events", "--out", "{tmp}/e.csv"], "nurse.n", False),
        (["backup", "{tmp}/copy.db"], "boss", True),
        (["backup", "{tmp}/copy.db"], "doc.c", False),
        (["audit", "verify"], "nurse.n", False),
    ],
)
def test_record_commands_go_through_the_check(tmp_path, key_file, capsys, command, user, allowed):
    where = ["--data-dir", str(tmp_path / "d"), "--key-file", str(key_file)]
    assert (
        main(["user", "add", "boss", "--role", "admin", *where, "--new-password-fd", str(_pipe(ADMIN_PW))])
        == 0
    )
    record = open_record(tmp_path / "d", key_file=key_file)
    d = UserDirectory(record.engine, AccessControl(load_permissions(), DirectAudit(record.engine)))
    d.add(Actor("boss", "admin"), "doc.c", "", "clinician", CLINICIAN_PW)
    d.add(Actor("boss", "admin"), "nurse.n", "", "nurse", NURSE_PW)
    record.close()
    password = {"boss": ADMIN_PW, "doc.c": CLINICIAN_PW, "nurse.n": NURSE_PW}[user]
    argv = [part.replace("{tmp}", str(tmp_path)) for part in command]
    code = main([*argv, *where, "--user", user, "--password-fd", str(_pipe(password))])
    err = capsys.readouterr().err
    assert (code != 5) is allowed, err  # allowed: it ran (an empty record may have nothing to export)
    if not allowed:
        assert code == 5 and "may not" in err
    engine = make_engine(tmp_path / "d" / database.DATABASE_NAME, read_key_file(key_file))
    with engine.connect() as conn:
        last = conn.exec_driver_sql(
            "SELECT \"user\", outcome FROM audit WHERE action NOT LIKE 'session.%' ORDER BY id DESC LIMIT 1"
        ).one()
    engine.dispose()
    assert tuple(last) == (user, "ok" if allowed else "denied")
