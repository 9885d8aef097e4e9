"""Enrolling an authenticator app: a QR code (segno) of the otpauth:// URI, the key in text for typing
by hand, and a first code from the app to prove it was read. Nothing is stored until that code and the
user's password check out (on the security service's worker)."""

from __future__ import annotations

import io
from concurrent.futures import Future

import segno
from PySide6.QtCore import Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from wardwatch.app.security import totp
from wardwatch.app.security.directory import LoginResult, LoginStatus
from wardwatch.app.security.service import SecurityService
from wardwatch.ui.security_login import MIN_TOUCH_PX, Answer

QR_SCALE = 6  # pixels per module: a version-7 code is ~270 px, easy for a phone at arm's length


def qr_pixmap(uri: str) -> QPixmap:
    """The QR code as a pixmap (PNG made in memory; dark modules on white, with the quiet zone)."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="png", scale=QR_SCALE, border=4)
    pixmap = QPixmap()
    pixmap.loadFromData(buffer.getvalue(), "PNG")
    return pixmap


class EnrolDialog(QDialog):
    enrolled = Signal(object)  # Actor

    def __init__(
        self, service: SecurityService, name: str, password: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.user_name = name
        self.secret = totp.new_secret()
        self.uri = totp.enrolment_uri(self.secret, name, service.settings.station)
        self.setWindowTitle(f"Authenticator app — {name}")
        intro = QLabel(
            "Scan this code with an authenticator app (FreeOTP, Google or Microsoft Authenticator…), "
            "then type the 6-digit code it shows."
        )
        intro.setWordWrap(True)
        self.qr = QLabel()
        self.qr.setPixmap(qr_pixmap(self.uri))
        key = QLabel(
            f"Key, to type by hand: <b>{' '.join(self.secret[i : i + 4] for i in range(0, 32, 4))}</b>"
        )
        self.password = QLineEdit(password)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setMinimumHeight(MIN_TOUCH_PX)
        self.code = QLineEdit()
        self.code.setMaxLength(7)
        self.code.setMinimumHeight(MIN_TOUCH_PX)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #ffb020; font-weight: bold;")
        form = QFormLayout()
        if not password:
            form.addRow("Your password", self.password)
        form.addRow("Code from the app", self.code)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = QPushButton("Enrol")
        self.ok_button.setMinimumHeight(MIN_TOUCH_PX)
        buttons.addButton(self.ok_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.qr)
        layout.addWidget(key)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self._answer = Answer(self)
        self._answer.done.connect(self._answered)

    def submit(self) -> None:
        self.ok_button.setEnabled(False)
        self.message.setText("Checking…")
        self._answer.watch(
            self.service.enrol_totp(self.user_name, self.secret, self.password.text(), self.code.text())
        )

    def _answered(self, future: Future[LoginResult]) -> None:
        self.ok_button.setEnabled(True)
        try:
            result = future.result()
        except Exception as exc:
            self.message.setText(f"Not enrolled: {exc}")
            return
        if result.ok:
            self.password.clear()
            self.enrolled.emit(result.actor)
            self.accept()
            return
        self.code.clear()
        self.message.setText(
            "That code does not match; wait for the next one and try again."
            if result.status is LoginStatus.NEED_CODE
            else result.message
        )
