"""The administrator's users screen: who may use the station, their roles, second factors and
lockouts; add, disable / enable (which also lifts a lockout), reset a password or an authenticator, and
the roles that must use a second factor. Each change runs on the security service's worker, through
the user directory, which asks the one authorisation check and audits it."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from wardwatch.app.security.access import Actor
from wardwatch.app.security.actions import Role
from wardwatch.app.security.directory import UserDirectory
from wardwatch.app.security.service import SecurityService
from wardwatch.app.security.users import User
from wardwatch.ui.security_login import MIN_TOUCH_PX, Answer

COLUMNS = ("Name", "Full name", "Role", "State", "Second factor", "PIN", "Last login")


def user_state(user: User, max_failures: int, now: float) -> str:
    if user.disabled:
        return "disabled"
    if user.locked_until is not None and user.locked_until > now and user.failed_logins >= max_failures:
        return f"LOCKED OUT ({user.failed_logins} failed logins)"
    return f"active, {user.failed_logins} failed" if user.failed_logins else "active"


class NewUserDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add a user")
        self.name = QLineEdit()
        self.display = QLineEdit()
        self.role = QComboBox()
        for role in Role:
            self.role.addItem(role.value.replace("_", " "), role.value)
        self.role.setCurrentIndex(self.role.findData(Role.NURSE.value))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout(self)
        for label, w in (("Login name", self.name), ("Full name", self.display), ("Role", self.role)):
            w.setMinimumHeight(MIN_TOUCH_PX)
            form.addRow(label, w)
        self.password.setMinimumHeight(MIN_TOUCH_PX)
        form.addRow("First password", self.password)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class UsersDialog(QDialog):
    def __init__(self, service: SecurityService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.setWindowTitle("Users — WardWatch")
        self.resize(980, 520)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.message = QLabel()
        self.message.setWordWrap(True)
        buttons = QHBoxLayout()
        for text, slot in (
            ("Add…", self.add),
            ("Disable", lambda: self._selected_change(lambda d, by, n: d.set_disabled(by, n, True))),
            ("Enable / unlock", lambda: self._selected_change(lambda d, by, n: d.set_disabled(by, n, False))),
            ("Reset password…", self.reset_password),
            ("Reset authenticator", lambda: self._selected_change(lambda d, by, n: d.reset_totp(by, n))),
            ("Second factor for roles…", self.mfa_roles),
        ):
            b = QPushButton(text)
            b.setMinimumHeight(MIN_TOUCH_PX)
            b.clicked.connect(slot)
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        self._list_answer = Answer(self)
        self._list_answer.done.connect(self._show)
        self._change_answer = Answer(self)
        self._change_answer.done.connect(self._changed)
        self.users: list[User] = []

    def _by(self) -> Actor | None:
        return self.service.actor

    def refresh(self) -> None:
        self._list_answer.watch(
            self.service.call(lambda d: (d.users(), d.policy.max_failures, d.mfa_roles()))
        )

    def _show(self, future: Future[tuple[list[User], int, frozenset[str]]]) -> None:
        try:
            users, max_failures, mfa = future.result()
        except Exception as exc:
            self.message.setText(f"Cannot read the users: {exc}")
            return
        self.users = users
        now = time.time()
        self.table.setRowCount(len(users))
        for i, u in enumerate(users):
            last = (
                dt.datetime.fromtimestamp(u.last_login).strftime("%Y-%m-%d %H:%M")
                if u.last_login
                else "never"
            )
            factor = "TOTP" if u.totp_enabled else ("needed, not set up" if u.role in mfa else "—")
            cells = (
                u.name,
                u.display_name,
                u.role,
                user_state(u, max_failures, now),
                factor,
                "yes" if u.has_pin else "—",
                last,
            )
            for j, value in enumerate(cells):
                self.table.setItem(i, j, QTableWidgetItem(value))
        self.message.setText(f"Roles that must use an authenticator code: {', '.join(sorted(mfa)) or 'none'}")

    def _run(self, change: Callable[[UserDirectory, Actor], Any]) -> None:
        by = self._by()
        if by is None:
            self.message.setText("Log in as an administrator first.")
            return
        self._change_answer.watch(self.service.call(lambda d: change(d, by)))

    def _changed(self, future: Future[Any]) -> None:
        try:
            future.result()
            self.message.setText("Done.")
        except Exception as exc:
            self.message.setText(str(exc))
        self.refresh()

    def _selected(self) -> str | None:
        row = self.table.currentRow()
        return self.users[row].name if 0 <= row < len(self.users) else None

    def _selected_change(self, change: Callable[[UserDirectory, Actor, str], Any]) -> None:
        name = self._selected()
        if name is None:
            self.message.setText("Select a user first.")
            return
        self._run(lambda d, by: change(d, by, name))

    def add(self) -> None:
        dialog = NewUserDialog(self)
        if not dialog.exec():
            return
        name, display = dialog.name.text(), dialog.display.text()
        role, password = str(dialog.role.currentData()), dialog.password.text()
        self._run(lambda d, by: d.add(by, name, display, role, password))

    def reset_password(self) -> None:
        name = self._selected()
        if name is None:
            self.message.setText("Select a user first.")
            return
        password, ok = QInputDialog.getText(
            self, "Reset password", f"New password for {name}:", QLineEdit.EchoMode.Password
        )
        if ok:
            self._run(lambda d, by: d.reset_password(by, name, password))

    def mfa_roles(self) -> None:
        text, ok = QInputDialog.getText(
            self, "Second factor", "Roles that must use an authenticator code (comma separated):"
        )
        if ok:
            roles = frozenset(r.strip() for r in text.split(",") if r.strip())
            self._run(lambda d, by: d.set_mfa_roles(by, roles))
