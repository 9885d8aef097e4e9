"""Logging in at the station: the login / quick user switch dialog and the first-run administrator.

A login is checked on the security service's worker (argon2 takes ~0.2 s, and reading the user is
database work); its answer comes back to the GUI thread as a Qt signal. The station keeps drawing and
sounding alarms the whole time: these dialogs are opened with `open()`, never a blocking `exec()`.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from wardwatch.app.security.access import Actor
from wardwatch.app.security.directory import LoginResult, LoginStatus
from wardwatch.app.security.passwords import password_problem
from wardwatch.app.security.service import SecurityService

MIN_TOUCH_PX = 36  # ≈ 9 mm at 100 dpi, as the ward dialogs


class Answer(QObject):
    """A Future completed on any thread, delivered as `done(future)` on the GUI thread."""

    done = Signal(object)

    def watch(self, future: Future[Any]) -> None:
        future.add_done_callback(self.done.emit)


def _field(echo: QLineEdit.EchoMode = QLineEdit.EchoMode.Normal) -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(echo)
    edit.setMinimumHeight(MIN_TOUCH_PX)
    return edit


class LoginDialog(QDialog):
    """Name, then password or PIN, then (when the user has one) the authenticator code."""

    enrolmentNeeded = Signal(str, str)  # name, password: the role needs a second factor not yet set up
    loggedIn = Signal(object)  # Actor

    def __init__(self, service: SecurityService, reason: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.setWindowTitle("Log in — WardWatch")
        self.setMinimumWidth(420)
        self.reason = QLabel(reason or "Log in to act at this station. Monitoring and alarms go on.")
        self.reason.setWordWrap(True)
        self.name = _field()
        self.name.setPlaceholderText("login name")
        current = service.actor
        if current is not None:
            self.setWindowTitle("Switch user — WardWatch")
            self.reason.setText(reason or f"{current.name} is logged in. Take over the station:")
        self.secret = _field(QLineEdit.EchoMode.Password)
        self.use_pin = QCheckBox("PIN instead of password")
        self.use_pin.setMinimumHeight(MIN_TOUCH_PX)
        self.code = _field()
        self.code.setPlaceholderText("6 digits from the authenticator app")
        self.code.setMaxLength(7)
        self.message = QLabel()
        self.message.setObjectName("loginMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #ffb020; font-weight: bold;")
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Password", self.secret)
        form.addRow("", self.use_pin)
        self._code_label = QLabel("Code")
        form.addRow(self._code_label, self.code)
        self._show_code(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = QPushButton("Log in")
        self.ok_button.setDefault(True)
        self.ok_button.setMinimumHeight(MIN_TOUCH_PX)
        buttons.addButton(self.ok_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.reason)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self._answer = Answer(self)
        self._answer.done.connect(self._answered)
        self.name.setFocus(Qt.FocusReason.OtherFocusReason)

    def _show_code(self, visible: bool) -> None:
        self.code.setVisible(visible)
        self._code_label.setVisible(visible)

    def submit(self) -> None:
        if not self.name.text().strip() or not self.secret.text():
            self.message.setText("Enter your name and your password or PIN.")
            return
        self.ok_button.setEnabled(False)
        self.message.setText("Checking…")
        future = self.service.login(
            self.name.text(), self.secret.text(), self.code.text(), pin=self.use_pin.isChecked()
        )
        self._answer.watch(future)

    def _answered(self, future: Future[LoginResult]) -> None:
        self.ok_button.setEnabled(True)
        try:
            result = future.result()
        except Exception as exc:
            self.message.setText(f"Cannot log in: {exc}")
            return
        if result.ok:
            self.secret.clear()
            self.loggedIn.emit(result.actor)
            self.accept()
            return
        if result.status is LoginStatus.NEED_CODE:
            self._show_code(True)
            self.code.setFocus()
            self.message.setText(result.message)
            return
        if result.status is LoginStatus.NEED_ENROLMENT:
            self.enrolmentNeeded.emit(self.name.text().strip().lower(), self.secret.text())
            self.secret.clear()
            self.accept()
            return
        self.secret.clear()
        self.code.clear()
        self.message.setText(result.message)


class FirstAdminDialog(QDialog):
    """First run: the station has no users; whoever installs it becomes its administrator."""

    created = Signal(object)  # Actor

    def __init__(self, service: SecurityService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.setWindowTitle("First run — administrator account")
        self.setMinimumWidth(460)
        intro = QLabel(
            "This station has no users yet. Create the administrator account (biomedical engineer or IT), "
            "who then adds the ward's nurses and clinicians. Until someone logs in, the station monitors "
            "and sounds alarms but takes no actions."
        )
        intro.setWordWrap(True)
        self.name = _field()
        self.display = _field()
        self.password = _field(QLineEdit.EchoMode.Password)
        self.again = _field(QLineEdit.EchoMode.Password)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #ffb020; font-weight: bold;")
        form = QFormLayout()
        form.addRow("Login name", self.name)
        form.addRow("Full name", self.display)
        form.addRow("Password", self.password)
        form.addRow("Password again", self.again)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = QPushButton("Create administrator")
        self.ok_button.setMinimumHeight(MIN_TOUCH_PX)
        buttons.addButton(self.ok_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self._answer = Answer(self)
        self._answer.done.connect(self._answered)

    def submit(self) -> None:
        if self.password.text() != self.again.text():
            self.message.setText("The two passwords differ.")
            return
        problem = password_problem(self.password.text())
        if problem:
            self.message.setText(problem[:1].upper() + problem[1:] + ".")
            return
        self.ok_button.setEnabled(False)
        self._answer.watch(
            self.service.create_first_admin(self.name.text(), self.display.text(), self.password.text())
        )

    def _answered(self, future: Future[Actor]) -> None:
        self.ok_button.setEnabled(True)
        try:
            actor = future.result()
        except Exception as exc:
            self.message.setText(str(exc))
            return
        self.password.clear()
        self.again.clear()
        self.created.emit(actor)
        self.accept()
