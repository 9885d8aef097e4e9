"""The station's users: logins (password or PIN, then a TOTP code when enrolled), back-off and
lockout, and user management by an administrator. Every login, failure, lockout and change is
written to the audit trail through the AccessControl; no password, PIN, TOTP secret or code ever is.

Methods do database work: the window calls them on the security service's worker thread, the
command line directly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Engine
from wardwatch.app.security import passwords, totp
from wardwatch.app.security.access import DENIED, FAILED, AccessControl, Actor
from wardwatch.app.security.actions import SETUP_USER, Action, Role
from wardwatch.app.security.lockout import LockoutPolicy, after_failure, wait_left
from wardwatch.app.security.users import User, name_problem, role_problem
from wardwatch.storage import security_users as store

log = logging.getLogger(__name__)

MFA_ROLES_KEY = "mfa_roles"
LOGIN = "session.login"
LOCKOUT = "session.lockout"


class DirectoryError(Exception):
    """A user change that cannot be made; the message is for the person who asked."""


class LoginStatus(StrEnum):
    OK = "ok"
    WRONG = "wrong name, password or PIN"
    WAIT = "too many failed tries: wait"
    LOCKED_OUT = "locked out after repeated failures: ask an administrator"
    DISABLED = "this account is disabled"
    NEED_CODE = "enter the code of your authenticator app"
    NEED_ENROLMENT = "your role needs a second factor: enrol an authenticator app"


@dataclass(frozen=True, slots=True)
class LoginResult:
    status: LoginStatus
    actor: Actor | None = None
    wait_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status is LoginStatus.OK

    @property
    def message(self) -> str:
        if self.status is LoginStatus.WAIT:
            return f"Too many failed tries: wait {self.wait_s:.0f} s and try again."
        return self.status.value[:1].upper() + self.status.value[1:] + "."


class UserDirectory:
    def __init__(
        self,
        engine: Engine,
        access: AccessControl,
        policy: LockoutPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self.access = access
        self.policy = policy or LockoutPolicy()
        self._clock = clock

    # -- reading --------------------------------------------------------------------------------------
    def has_users(self) -> bool:
        with self._engine.connect() as conn:
            return store.has_user_tables(conn) and store.count_users(conn) > 0

    def users(self) -> list[User]:
        with self._engine.connect() as conn:
            return store.list_users(conn)

    def user(self, name: str) -> User | None:
        with self._engine.connect() as conn:
            return store.get_user(conn, name)

    def mfa_roles(self) -> frozenset[str]:
        with self._engine.connect() as conn:
            text = store.get_setting(conn, MFA_ROLES_KEY)
        return frozenset(r for r in text.split(",") if r)

    # -- logging in -----------------------------------------------------------------------------------
    def login(self, name: str, secret: str, code: str = "", *, pin: bool = False) -> LoginResult:
        """Check a password (or PIN) and, when the user has a second factor, its code."""
        name = name.strip().lower()
        now = self._clock()
        with self._engine.connect() as conn:
            user = store.get_user(conn, name)
            stored = store.secrets_of(conn, name)
            mfa_roles = frozenset(r for r in store.get_setting(conn, MFA_ROLES_KEY).split(",") if r)
        if user is None or stored is None:
            passwords.verify_secret(None, secret)  # as slow as a real check: names cannot be probed
            # what was typed as a name is not recorded: it may be a password typed in the wrong box
            self.access.record(
                LOGIN, "(unknown user)", user="(unknown)", outcome=FAILED, detail="unknown user"
            )
            return LoginResult(LoginStatus.WRONG)
        if user.disabled:
            self.access.record(LOGIN, name, user=name, outcome=DENIED, detail="account disabled")
            return LoginResult(LoginStatus.DISABLED)
        wait = wait_left(user.locked_until, now)
        if wait > 0:
            status = (
                LoginStatus.LOCKED_OUT if user.failed_logins >= self.policy.max_failures else LoginStatus.WAIT
            )
            self.access.record(
                LOGIN, name, user=name, outcome=DENIED, detail=f"{status.name.lower()} {wait:.0f} s"
            )
            return LoginResult(status, wait_s=wait)
        password_hash, pin_hash, secret_totp, last_step = stored
        if not passwords.verify_secret(pin_hash if pin else password_hash, secret):
            return self._failed(user, now, "wrong PIN" if pin else "wrong password")
        step = None
        if user.totp_enabled:
            if not code:
                return LoginResult(LoginStatus.NEED_CODE)
            step = totp.code_step(secret_totp, code, now, after_step=last_step)
            if step is None:
                return self._failed(user, now, "wrong or already used authenticator code")
        elif user.role in mfa_roles:
            return LoginResult(LoginStatus.NEED_ENROLMENT)
        with self._engine.begin() as conn:
            store.change_user(conn, name, failed_logins=0, locked_until=None, last_login=now)
            if step is not None:
                store.change_user(conn, name, totp_last_step=step)
            if not pin and passwords.needs_rehash(password_hash):
                store.change_user(conn, name, password_hash=passwords.hash_secret(secret))
        how = ("PIN" if pin else "password") + (" + TOTP" if step is not None else "")
        self.access.record(LOGIN, name, user=name, detail=how)
        return LoginResult(LoginStatus.OK, Actor(name, user.role))

    def _failed(self, user: User, now: float, why: str) -> LoginResult:
        result = after_failure(user.failed_logins, now, self.policy)
        with self._engine.begin() as conn:
            store.change_user(
                conn, user.name, failed_logins=result.failures, locked_until=result.locked_until
            )
        self.access.record(
            LOGIN, user.name, user=user.name, outcome=FAILED, detail=f"{why} ({result.failures})"
        )
        if result.locked_out:
            # reported to the administrator: the audit viewer's "lockouts" filter, `wardwatch user list`
            self.access.record(
                LOCKOUT,
                user.name,
                user=user.name,
                outcome="lockout",
                detail=f"{result.failures} failed logins in a row; locked for {self.policy.lockout_s:.0f} s",
            )
            log.warning("a user was locked out after %d failed logins", result.failures)
            return LoginResult(LoginStatus.LOCKED_OUT, wait_s=self.policy.lockout_s)
        return LoginResult(LoginStatus.WRONG)

    def enrol_totp(self, name: str, secret: str, password: str, code: str) -> LoginResult:
        """Enrol an authenticator: the user's password and a first code from the app prove both."""
        name = name.strip().lower()
        now = self._clock()
        with self._engine.connect() as conn:
            user = store.get_user(conn, name)
            stored = store.secrets_of(conn, name)
        if user is None or stored is None or user.disabled or wait_left(user.locked_until, now) > 0:
            return LoginResult(LoginStatus.WRONG)
        if not passwords.verify_secret(stored[0], password):
            return self._failed(user, now, "wrong password (enrolment)")
        step = totp.code_step(secret, code, now)
        if step is None:
            return LoginResult(LoginStatus.NEED_CODE)
        with self._engine.begin() as conn:
            store.change_user(
                conn,
                name,
                totp_secret=secret,
                totp_enabled=True,
                totp_last_step=step,
                failed_logins=0,
                locked_until=None,
            )
        self.access.record("user.enrol_totp", name, user=name, before="no second factor", after="TOTP")
        return LoginResult(LoginStatus.OK, Actor(name, user.role))

    # -- managing users (administrators) -------------------------------------------------------------
    def add_first_admin(self, name: str, display_name: str, password: str) -> User:
        """The administrator of a new station; only while there are no users at all."""
        if self.has_users():
            raise DirectoryError("there are users already: an administrator adds the others")
        return self._add(Actor(SETUP_USER, Role.ADMIN.value), name, display_name, Role.ADMIN.value, password)

    def add(self, by: Actor, name: str, display_name: str, role: str, password: str) -> User:
        return self._add(by, name, display_name, role, password)

    def _add(self, by: Actor, name: str, display_name: str, role: str, password: str) -> User:
        name = name.strip().lower()
        problem = name_problem(name) or role_problem(role) or passwords.password_problem(password)
        if problem:
            raise DirectoryError(problem)
        if self.user(name) is not None:
            raise DirectoryError(f"there is a user {name!r} already")
        self._require(by, name, after=f"role={role}")
        with self._engine.begin() as conn:
            store.add_user(
                conn, name, display_name.strip(), role, passwords.hash_secret(password), self._clock()
            )
            return store.get_user(conn, name)  # type: ignore[return-value]

    def set_disabled(self, by: Actor, name: str, disabled: bool) -> None:
        user = self._existing(name)
        if by.name == user.name and disabled:
            raise DirectoryError("you cannot disable your own account")
        self._require(
            by,
            user.name,
            before="disabled" if user.disabled else "enabled",
            after="disabled" if disabled else "enabled",
        )
        with self._engine.begin() as conn:
            # enabling also lifts a lockout: that is how an administrator unlocks an account
            store.change_user(conn, user.name, disabled=disabled, failed_logins=0, locked_until=None)

    def reset_password(self, by: Actor, name: str, password: str) -> None:
        user = self._existing(name)
        problem = passwords.password_problem(password)
        if problem:
            raise DirectoryError(problem)
        self._require(by, user.name, detail="password reset")
        with self._engine.begin() as conn:
            store.change_user(
                conn,
                user.name,
                password_hash=passwords.hash_secret(password),
                failed_logins=0,
                locked_until=None,
            )

    def set_role(self, by: Actor, name: str, role: str) -> None:
        user = self._existing(name)
        if role_problem(role):
            raise DirectoryError(role_problem(role))
        self._require(by, user.name, before=f"role={user.role}", after=f"role={role}")
        with self._engine.begin() as conn:
            store.change_user(conn, user.name, role=role)

    def reset_totp(self, by: Actor, name: str) -> None:
        """Forget a user's authenticator (lost phone); they enrol again at their next login."""
        user = self._existing(name)
        self._require(by, user.name, before="TOTP" if user.totp_enabled else "none", after="none")
        with self._engine.begin() as conn:
            store.change_user(conn, user.name, totp_secret=None, totp_enabled=False, totp_last_step=None)

    def set_pin(self, name: str, password: str, pin: str) -> None:
        """A user sets their own PIN for the quick switch, proving who they are with their password."""
        user = self._existing(name)
        problem = passwords.pin_problem(pin)
        if problem:
            raise DirectoryError(problem)
        with self._engine.connect() as conn:
            stored = store.secrets_of(conn, user.name)
        if stored is None or not passwords.verify_secret(stored[0], password):
            self._failed(user, self._clock(), "wrong password (PIN change)")
            raise DirectoryError("wrong password")
        with self._engine.begin() as conn:
            store.change_user(conn, user.name, pin_hash=passwords.hash_secret(pin))
        self.access.record("user.set_pin", user.name, user=user.name, detail="PIN set")

    def set_mfa_roles(self, by: Actor, roles: frozenset[str]) -> None:
        for role in roles:
            if role_problem(role):
                raise DirectoryError(role_problem(role))
        before = ",".join(sorted(self.mfa_roles()))
        after = ",".join(sorted(roles))
        self._require(by, MFA_ROLES_KEY, before=before, after=after, action=Action.SECURITY_SETTINGS)
        with self._engine.begin() as conn:
            store.set_setting(conn, MFA_ROLES_KEY, after)

    def _existing(self, name: str) -> User:
        user = self.user(name.strip().lower())
        if user is None:
            raise DirectoryError(f"there is no user {name!r}")
        return user

    def _require(
        self,
        by: Actor,
        target: str,
        *,
        before: str = "",
        after: str = "",
        detail: str = "",
        action: Action = Action.USER_MANAGE,
    ) -> None:
        decision = self.access.check(action, target, before=before, after=after, detail=detail, actor=by)
        if not decision:
            raise DirectoryError(decision.reason)
