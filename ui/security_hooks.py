"""Main-window hooks of the users issue (see wardwatch.ui.window_extensions): the Users menu (log in,
quick switch, lock, log out, authenticator, PIN, users, audit trail), the lock banner, name masking
while locked, the idle lock, the first-run administrator and what the window does when the check says no.

Locking never touches monitoring: tiles keep sweeping, the alarm bar keeps flashing and the tone keeps
sounding (StationSound follows the alarm engine, not the session). A locked station only refuses actions.
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QWidget,
)
from wardwatch.app.security.access import Actor, Decision
from wardwatch.app.security.actions import Action, Role
from wardwatch.app.security.service import SecurityService
from wardwatch.ui.security_audit_view import AuditViewer
from wardwatch.ui.security_enrol import EnrolDialog
from wardwatch.ui.security_login import FirstAdminDialog, LoginDialog
from wardwatch.ui.security_users import UsersDialog, user_state

if TYPE_CHECKING:
    from wardwatch.ui.main_window import MainWindow

IDLE_CHECK_MS = 1000
INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TouchUpdate,
    }
)


class InputWatch(QObject):
    """Notes the time of the last touch, key or mouse input anywhere in the application."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.last_input = time.monotonic()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in INPUT_EVENTS:
            self.last_input = time.monotonic()
        return False


class SecurityUi(QObject):
    actorChanged = Signal(object)  # Actor | None, delivered on the GUI thread

    def __init__(self, window: MainWindow, service: SecurityService) -> None:
        super().__init__(window)
        self.window = window
        self.service = service
        self.dialogs: dict[str, Any] = {}
        self.actorChanged.connect(self._show_actor)
        service.on_change(self.actorChanged.emit)  # the worker's logins hop to the GUI thread here
        self._build_banner()
        self._build_menu()
        self.input = InputWatch(self)
        instance = QApplication.instance()
        if instance is not None:
            instance.installEventFilter(self.input)
        self.idle_timer = QTimer(self)
        self.idle_timer.timeout.connect(self.check_idle)
        self.idle_timer.start(IDLE_CHECK_MS)
        window.on_refused = self.refused
        self._show_actor(service.actor)
        if service.needs_first_admin:
            QTimer.singleShot(0, self.first_run)

    # -- pieces of the window ---------------------------------------------------------------------------
    def _build_banner(self) -> None:
        self.banner = QWidget()
        self.banner.setObjectName("lockBanner")
        self.banner.setStyleSheet(
            "QWidget#lockBanner { background: #1d2633; } QLabel { color: #e8edf3; font-size: 16px; }"
        )
        row = QHBoxLayout(self.banner)
        row.setContentsMargins(8, 2, 8, 2)
        self.banner_text = QLabel()
        self.login_button = QPushButton("Log in")
        self.login_button.setMinimumHeight(36)
        self.login_button.clicked.connect(lambda: self.login())
        row.addWidget(self.banner_text, 1)
        row.addWidget(self.login_button)
        layout = self.window.centralWidget().layout()
        # below the fault banner and the alarm bar: alarms stay on top, the waves stay uncovered
        layout.insertWidget(2, self.banner)  # type: ignore[attr-defined]

    def _build_menu(self) -> None:
        menu = self.window.menuBar().addMenu("&Users")
        self.actions: dict[str, QAction] = {}
        for key, text, shortcut, slot in (
            ("login", "&Log in / switch user…", "Ctrl+L", lambda: self.login()),
            ("lock", "Loc&k station", "Ctrl+Shift+L", lambda: self.service.lock("locked by hand")),
            ("logout", "Log &out", "", self.service.logout),
            ("enrol", "Set up &authenticator app…", "", self.enrol),
            ("pin", "Set my &PIN for quick switch…", "", self.set_pin),
            ("users", "&Users…", "", self.users),
            ("audit", "Audit &trail…", "", self.audit),
        ):
            action = QAction(text, self.window)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
                action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
            action.triggered.connect(lambda _=False, f=slot: f())
            menu.addAction(action)
            self.actions[key] = action

    def _show_actor(self, actor: Actor | None) -> None:
        locked = actor is None
        mask = locked and self.service.settings.mask_names_when_locked
        for tile in self.window.tiles:
            tile.mask_names = mask
        for view in list(getattr(self.window, "bed_views", {}).values()):  # none yet while the window builds
            if hasattr(view, "set_mask_names"):
                view.set_mask_names(mask)
        if not self.service.has_directory:
            text = "LOCKED: no user directory (not recording). Monitoring and alarms go on."
        elif actor is None:
            text = "STATION LOCKED — monitoring, waves and alarm sounds go on. Log in to act (Ctrl+L)."
        else:
            title = self.service.access.permissions.title(actor.role)
            text = f"{actor.name} ({title}) is acting at this station. Lock it when you leave: Ctrl+Shift+L."
        # the banner stays, only its words change: locking (by hand or idle) never shifts the beds' grid
        self.banner_text.setText(text)
        self.banner.setProperty("locked", locked)
        self.login_button.setText("Log in" if locked else "Switch user")
        self.login_button.setEnabled(self.service.has_directory)
        for key in ("login", "enrol"):
            self.actions[key].setEnabled(self.service.has_directory)
        for key in ("lock", "logout", "enrol", "pin"):
            self.actions[key].setEnabled(not locked and self.service.has_directory)
        self.window._update_status()  # the status bar names the user
        if actor is not None and actor.role == Role.ADMIN.value:
            self._report_lockouts()

    # -- what the window does on a refusal -------------------------------------------------------------
    def refused(self, decision: Decision) -> None:
        if self.service.actor is None and self.service.has_directory:
            self.login(decision.reason)
            return
        self.window.statusBar().showMessage(decision.reason, 8000)
        box = QMessageBox(QMessageBox.Icon.Warning, "Not allowed", decision.reason, parent=self.window)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.dialogs["refused"] = box

    # -- dialogs (opened, never exec'd: the window keeps painting and sounding) -------------------------
    def login(self, reason: str = "") -> LoginDialog | None:
        if not self.service.has_directory:
            return None
        dialog = LoginDialog(self.service, reason, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.enrolmentNeeded.connect(lambda name, password: self.enrol(name, password))
        dialog.open()
        self.dialogs["login"] = dialog
        return dialog

    def enrol(self, name: str = "", password: str = "") -> EnrolDialog | None:
        actor = self.service.actor
        name = name or (actor.name if actor is not None else "")
        if not name:
            return None
        dialog = EnrolDialog(self.service, name, password, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.dialogs["enrol"] = dialog
        return dialog

    def set_pin(self) -> None:
        actor = self.service.actor
        if actor is None:
            return
        password, ok = QInputDialog.getText(
            self.window, "Set PIN", f"Password of {actor.name}:", QLineEdit.EchoMode.Password
        )
        if not ok:
            return
        pin, ok = QInputDialog.getText(
            self.window, "Set PIN", "New PIN (4-8 digits):", QLineEdit.EchoMode.Password
        )
        if not ok:
            return
        answer = _Answer(self)
        answer.done.connect(self._pin_set)
        answer.watch(self.service.call(lambda d: d.set_pin(actor.name, password, pin)))
        self.dialogs["pin_answer"] = answer

    def _pin_set(self, future: Future[None]) -> None:
        try:
            future.result()
            self.window.statusBar().showMessage("PIN set: use it with Log in / switch user.", 8000)
        except Exception as exc:
            self.window.statusBar().showMessage(f"PIN not set: {exc}", 8000)

    def first_run(self) -> FirstAdminDialog:
        dialog = FirstAdminDialog(self.service, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.dialogs["first_run"] = dialog
        return dialog

    def users(self) -> UsersDialog | None:
        if not self.window.permitted(Action.USER_MANAGE, "users screen"):
            return None
        dialog = UsersDialog(self.service, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.refresh()
        dialog.open()
        self.dialogs["users"] = dialog
        return dialog

    def audit(self) -> AuditViewer | None:
        if self.window.authorized(Action.AUDIT_VIEW, "audit trail") is None:
            return None
        dialog = AuditViewer(self.service, self.window.authorized, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.refresh()
        dialog.open()
        self.dialogs["audit"] = dialog
        return dialog

    # -- idle lock and the administrator's lockout report ---------------------------------------------------
    def check_idle(self) -> None:
        limit = self.service.settings.idle_lock_s
        if limit > 0 and self.service.actor is not None and time.monotonic() - self.input.last_input >= limit:
            self.service.lock(f"no input for {limit:.0f} s")

    def _report_lockouts(self) -> None:
        answer = _Answer(self)
        answer.done.connect(self._show_lockouts)
        answer.watch(
            self.service.call(
                lambda d: [(u.name, user_state(u, d.policy.max_failures, time.time())) for u in d.users()]
            )
        )
        self.dialogs["lockout_answer"] = answer

    def _show_lockouts(self, future: Future[list[tuple[str, str]]]) -> None:
        try:
            locked = [f"{name}: {state}" for name, state in future.result() if state.startswith("LOCKED")]
        except Exception:
            return
        if locked:
            box = QMessageBox(
                QMessageBox.Icon.Warning,
                "Accounts locked out",
                "These accounts were locked out after repeated failed logins:\n\n"
                + "\n".join(locked)
                + "\n\nUsers… → Enable / unlock lifts a lockout; the audit trail shows the attempts.",
                parent=self.window,
            )
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
            self.dialogs["lockouts"] = box


class _Answer(QObject):
    done = Signal(object)

    def watch(self, future: Future[Any]) -> None:
        future.add_done_callback(self.done.emit)


def extend_window(window: MainWindow) -> None:
    if window.security is None:
        return  # a window without the composition root acts as the station; nothing to log in to
    window.security_ui = SecurityUi(window, window.security)  # type: ignore[attr-defined]
