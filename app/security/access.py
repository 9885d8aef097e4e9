"""The one authorisation check: every action taken through the window or the command line asks
`AccessControl.check(action, target, before=…, after=…)` and acts only when the answer is allowed.

The check decides from the permission matrix (resources/permissions.toml) and the person on the
station (or named on the command line), and writes its answer to the audit trail: an allowed action
as itself with its before/after, a refused one as "denied". Seeing the station is never checked: a
locked station keeps monitoring, drawing waves and sounding alarms.

Usage, for any new action (add its name to actions.py and to a role in the matrix):

    decision = access.check(Action.INTEROP_SETTINGS, target="hl7 host", before=old, after=new)
    if not decision:
        tell_the_user(decision.reason)   # already audited as denied
        return
    apply(new)

In the window, `MainWindow.authorized(action, target, before=…, after=…)` wraps this and returns the
user name to act as, or None after telling the user why not.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from wardwatch.app.security.actions import STATION_USER, Action
from wardwatch.app.security.permissions import Permissions, RoleInfo

log = logging.getLogger(__name__)

OK = "ok"
DENIED = "denied"
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a user's login name and role."""

    name: str
    role: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit trail. Never holds a password, a PIN, a TOTP secret or code, nor a
    patient's name or identifier (`target` names beds, users, settings)."""

    time: float
    user: str
    action: str
    target: str = ""
    outcome: str = OK
    before: str = ""
    after: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    user: str  # the name to record the action under
    action: str
    reason: str = ""  # for the person, when refused

    def __bool__(self) -> bool:
        return self.allowed


AuditSink = Callable[[AuditEntry], object]


def _no_audit(_entry: AuditEntry) -> None:
    return None


class AccessControl:
    """The permission matrix, who is on the station now, and where decisions are written.

    Thread-safe: the window asks from the GUI thread, logins complete on a worker. Nothing here does
    I/O: the audit sink queues the entry for the record's writer thread."""

    def __init__(
        self,
        permissions: Permissions,
        audit: AuditSink = _no_audit,
        clock: Callable[[], float] = time.time,
        actor: Actor | None = None,
        *,
        unsecured: bool = False,
    ) -> None:
        self.permissions = permissions
        self._audit = audit
        self._clock = clock
        self._actor = actor
        self._lock = threading.Lock()
        self.unsecured = unsecured  # no user directory: everything is allowed as the station

    @classmethod
    def without_users(cls, clock: Callable[[], float] = time.time) -> AccessControl:
        """For a window built without the composition root (embedding, display benches): every action
        allowed as the station. `wardwatch` itself always starts the security service instead."""
        every = frozenset(a.value for a in Action)
        role = RoleInfo(STATION_USER, "Station", "no user directory", every)
        perms = Permissions({STATION_USER: role}, {}, frozenset())
        return cls(perms, _no_audit, clock, Actor(STATION_USER, STATION_USER), unsecured=True)

    # -- who is on the station --------------------------------------------------------------------
    @property
    def actor(self) -> Actor | None:
        with self._lock:
            return self._actor

    def set_actor(self, actor: Actor | None) -> None:
        with self._lock:
            self._actor = actor

    # -- the check -----------------------------------------------------------------------------------
    def allows(self, action: str, actor: Actor | None = None) -> bool:
        """Whether the action would be allowed (no audit): for greying out what cannot be done."""
        who = actor if actor is not None else self.actor
        return who is not None and self.permissions.allows(who.role, str(action))

    def check(
        self,
        action: str,
        target: str = "",
        *,
        before: str = "",
        after: str = "",
        detail: str = "",
        actor: Actor | None = None,
    ) -> Decision:
        """May the person on the station (or `actor`, for the command line) take `action` now?
        The decision is audited either way."""
        action = str(action)
        who = actor if actor is not None else self.actor
        if who is None:
            decision = Decision(False, "", action, "The station is locked: log in first.")
        elif self.permissions.allows(who.role, action):
            decision = Decision(True, who.name, action)
        else:
            decision = Decision(False, who.name, action, self._refusal(who, action))
        name = who.name if who is not None else "(locked)"
        if decision.allowed:
            self.record(action, target, user=name, before=before, after=after, detail=detail)
        else:
            self.record(action, target, user=name, outcome=DENIED, detail=decision.reason)
            log.info("refused %s to %s", action, name)
        return decision

    def _refusal(self, who: Actor, action: str) -> str:
        allowed = [self.permissions.title(r) for r in self.permissions.roles_allowed(action)]
        role = self.permissions.title(who.role)
        if not allowed:
            return f"No role may do {action}."
        return f"{who.name} ({role}) may not do this: {action} needs {' or '.join(allowed)}."

    def record(
        self,
        action: str,
        target: str = "",
        *,
        user: str | None = None,
        outcome: str = OK,
        before: str = "",
        after: str = "",
        detail: str = "",
    ) -> None:
        """Write an event that is not a permission (login, logout, failed login, lock) or an action's
        result to the audit trail."""
        if user is None:
            who = self.actor
            user = who.name if who is not None else "(locked)"
        entry = AuditEntry(self._clock(), user, str(action), target, outcome, before, after, detail)
        try:
            self._audit(entry)
        except Exception:  # a broken record must not stop the ward's work; the writer raises its alarm
            log.exception("an audit entry could not be queued")
