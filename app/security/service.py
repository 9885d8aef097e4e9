"""Users and sessions beside a running station: who is logged in, logins and user changes on a worker
thread, locking (by hand or after idle time), and the audit trail fed into the record's writer.

Published as `station.services["security"]`; the window finds it there. Monitoring never depends on
it: a locked station, or one whose record cannot be opened, keeps drawing and sounding alarms.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine
from wardwatch.app.security.access import AccessControl, Actor, AuditEntry
from wardwatch.app.security.directory import LoginResult, UserDirectory
from wardwatch.storage.security_audit import (
    AuditFilter,
    Verification,
    read_audit,
    verify_chain,
    write_audit_csv,
)

log = logging.getLogger(__name__)

SERVICE_NAME = "security"
LOGOUT = "session.logout"
LOCK = "session.lock"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SessionSettings:
    idle_lock_s: float = 600.0  # 0: never
    mask_names_when_locked: bool = True
    station: str = "WardWatch"


class SecurityService:
    def __init__(
        self,
        access: AccessControl,
        directory: UserDirectory | None,
        settings: SessionSettings,
        engine: Engine | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.access = access
        self.directory = directory
        self.settings = settings
        self._engine = engine
        self._clock = clock
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="security")
        self._listeners: list[Callable[[Actor | None], None]] = []
        self._lock = threading.Lock()
        # known at start (read on the composition root's thread, never by the window): whether the
        # first-run dialog must ask for an administrator
        self.needs_first_admin = directory is not None and not directory.has_users()

    # -- state ------------------------------------------------------------------------------------------
    @property
    def actor(self) -> Actor | None:
        return self.access.actor

    @property
    def has_directory(self) -> bool:
        return self.directory is not None

    def on_change(self, listener: Callable[[Actor | None], None]) -> None:
        """`listener(actor)` after each login, switch, logout and lock (on the thread that caused it)."""
        self._listeners.append(listener)

    def _set(self, actor: Actor | None) -> None:
        self.access.set_actor(actor)
        for listener in list(self._listeners):
            try:
                listener(actor)
            except Exception:
                log.exception("a session listener failed")

    # -- sessions ----------------------------------------------------------------------------------------
    def login(self, name: str, secret: str, code: str = "", *, pin: bool = False) -> Future[LoginResult]:
        """Check a login on the worker; on success the user takes over the station (a quick switch
        when someone else was logged in: theirs ends)."""
        return self._submit(lambda d: self._login(d, name, secret, code, pin))

    def _login(self, d: UserDirectory, name: str, secret: str, code: str, pin: bool) -> LoginResult:
        result = d.login(name, secret, code, pin=pin)
        if result.ok and result.actor is not None:
            previous = self.actor
            if previous is not None and previous.name != result.actor.name:
                self.access.record(
                    LOGOUT, previous.name, user=previous.name, detail=f"switched to {result.actor.name}"
                )
            self._set(result.actor)
        return result

    def enrol_totp(self, name: str, secret: str, password: str, code: str) -> Future[LoginResult]:
        def run(d: UserDirectory) -> LoginResult:
            result = d.enrol_totp(name, secret, password, code)
            if result.ok and result.actor is not None:
                self._set(result.actor)
            return result

        return self._submit(run)

    def create_first_admin(self, name: str, display_name: str, password: str) -> Future[Actor]:
        def run(d: UserDirectory) -> Actor:
            user = d.add_first_admin(name, display_name, password)
            self.needs_first_admin = False
            actor = Actor(user.name, user.role)
            self.access.record("session.login", user.name, user=user.name, detail="first administrator")
            self._set(actor)
            return actor

        return self._submit(run)

    def lock(self, reason: str = "locked by hand") -> None:
        """Lock now (cheap, any thread): actions are refused until someone logs in; monitoring goes on."""
        actor = self.actor
        if actor is None or self.access.unsecured:
            return
        self.access.record(LOCK, actor.name, user=actor.name, detail=reason)
        self._set(None)

    def logout(self) -> None:
        actor = self.actor
        if actor is None or self.access.unsecured:
            return
        self.access.record(LOGOUT, actor.name, user=actor.name)
        self._set(None)

    # -- work for the administrator's screens (worker thread) ---------------------------------------------
    def call(self, fn: Callable[[UserDirectory], T]) -> Future[T]:
        """Run `fn(directory)` on the worker (user management from the window)."""
        return self._submit(fn)

    def audit_rows(
        self,
        start: float | None = None,
        end: float | None = None,
        user: str = "",
        action: str = "",
        outcome: str = "",
        limit: int = 5000,
    ) -> Future[list[dict[str, Any]]]:
        """Audit rows, newest first (`action` is a prefix: "session." gives logins, lockouts, locks)."""
        f = AuditFilter(start, end, user, action, outcome, limit)
        return self._with_engine(lambda e: read_audit(e, f))

    def verify(self) -> Future[Verification]:
        def run(e: Engine) -> Verification:
            with e.connect() as conn:
                return verify_chain(conn)

        return self._with_engine(run)

    def export_csv(
        self,
        out: Path,
        start: float | None = None,
        end: float | None = None,
        user: str = "",
        action: str = "",
    ) -> Future[int]:
        f = AuditFilter(start, end, user, action, limit=-1)

        def run(e: Engine) -> int:
            return write_audit_csv(read_audit(e, f), out)  # the window's check audited the export

        return self._with_engine(run)

    def _with_engine(self, fn: Callable[[Engine], T]) -> Future[T]:
        engine = self._engine
        if engine is None:
            return _failed(RuntimeError("there is no record, so there is no audit trail"))
        return self._pool.submit(fn, engine)

    def _submit(self, fn: Callable[[UserDirectory], T]) -> Future[T]:
        d = self.directory
        if d is None:
            return _failed(RuntimeError("the station has no user directory (it is not recording)"))
        try:
            return self._pool.submit(fn, d)
        except RuntimeError as exc:  # closed: the station is stopping
            return _failed(exc)

    def close(self) -> None:
        actor = self.actor
        if actor is not None and not self.access.unsecured:
            self.access.record(LOGOUT, actor.name, user=actor.name, detail="station stopped")
        self._pool.shutdown(wait=True, cancel_futures=True)


def _failed(exc: Exception) -> Future[Any]:
    f: Future[Any] = Future()
    f.set_exception(exc)
    return f


def station_audit_sink(recorder: Any) -> Callable[[AuditEntry], object]:
    """Audit entries of a running station go to the record's writer, which chains them in order."""

    def sink(entry: AuditEntry) -> object:
        return recorder.audit(
            entry.user,
            entry.action,
            entry.detail,
            entry.time,
            target=entry.target,
            outcome=entry.outcome,
            before=entry.before,
            after=entry.after,
        )

    return sink


def acting_user(services: dict[str, object], default: str) -> str:
    """Who is on the station now, for records made outside the check (ward changes): the logged-in
    user's name, or `default` when nobody is or the station has no security service."""
    service = services.get(SERVICE_NAME)
    actor = service.actor if isinstance(service, SecurityService) else None
    return actor.name if actor is not None else default
