"""The administrator's audit viewer: the trail filtered by period, user, action and outcome, the chain
checked on demand, and the shown selection exported as CSV. Every read runs on the security service's
worker; the table is filled from the answer, on the GUI thread."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from wardwatch.app.security.actions import Action
from wardwatch.app.security.service import SecurityService
from wardwatch.ui.security_login import MIN_TOUCH_PX, Answer

COLUMNS = ("Time", "User", "Action", "Target", "Outcome", "Before", "After", "Detail")
PERIODS = (
    ("Last 24 hours", 86_400.0),
    ("Last 7 days", 7 * 86_400.0),
    ("Last 30 days", 30 * 86_400.0),
    ("All", 0.0),
)
ACTION_PRESETS = (
    ("Every action", ""),
    ("Logins, logouts, locks, lockouts", "session."),
    ("Alarms (acknowledge, audio pause)", "alarm."),
    ("Limits", "limits."),
    ("Admit / move / discharge", "patient."),
    ("Ward changes recorded", "ward "),
    ("Users", "user."),
    ("Exports and reports", "export."),
    ("Settings", "settings."),
    ("Audit trail", "audit."),
)
OUTCOMES = (
    ("Any outcome", ""),
    ("Done", "ok"),
    ("Refused", "denied"),
    ("Failed", "failed"),
    ("Lockouts", "lockout"),
)
ROW_LIMIT = 5000

Authorize = Callable[..., str | None]


class AuditViewer(QDialog):
    def __init__(self, service: SecurityService, authorize: Authorize, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self._authorize = authorize
        self.setWindowTitle("Audit trail — WardWatch")
        self.resize(1280, 720)
        self.period = QComboBox()
        for text, seconds in PERIODS:
            self.period.addItem(text, seconds)
        self.action = QComboBox()
        for text, prefix in ACTION_PRESETS:
            self.action.addItem(text, prefix)
        self.outcome = QComboBox()
        for text, value in OUTCOMES:
            self.outcome.addItem(text, value)
        self.user = QLineEdit()
        self.user.setPlaceholderText("user (all)")
        refresh = QPushButton("Show")
        refresh.clicked.connect(self.refresh)
        self.verify_button = QPushButton("Verify chain")
        self.verify_button.clicked.connect(self.verify)
        export = QPushButton("Export CSV…")
        export.clicked.connect(self.export)
        filters = QHBoxLayout()
        for w in (self.period, self.action, self.outcome, self.user, refresh, self.verify_button, export):
            w.setMinimumHeight(MIN_TOUCH_PX)
            filters.addWidget(w)
        self.status = QLabel("Reading the audit trail…")
        self.chain = QLabel("")
        self.chain.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.status)
        layout.addWidget(self.chain)
        layout.addWidget(self.table, 1)
        self._rows_answer = Answer(self)
        self._rows_answer.done.connect(self._show_rows)
        self._verify_answer = Answer(self)
        self._verify_answer.done.connect(self._show_verification)
        self._export_answer = Answer(self)
        self._export_answer.done.connect(self._exported)
        for combo in (self.period, self.action, self.outcome):
            combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.user.returnPressed.connect(self.refresh)
        self.rows: list[dict[str, Any]] = []

    def _filter(self) -> dict[str, Any]:
        seconds = float(self.period.currentData())
        return {
            "start": time.time() - seconds if seconds else None,
            "user": self.user.text().strip().lower(),
            "action": str(self.action.currentData()),
        }

    def refresh(self) -> None:
        self.status.setText("Reading the audit trail…")
        f = self._filter()
        self._rows_answer.watch(
            self.service.audit_rows(
                f["start"], None, f["user"], f["action"], str(self.outcome.currentData()), ROW_LIMIT
            )
        )

    def _show_rows(self, future: Future[list[dict[str, Any]]]) -> None:
        try:
            rows = future.result()
        except Exception as exc:
            self.status.setText(f"Cannot read the audit trail: {exc}")
            return
        self.rows = rows
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            when = dt.datetime.fromtimestamp(float(r["time"])).strftime("%Y-%m-%d %H:%M:%S")
            cells = (
                when,
                r["user"],
                r["action"],
                r["target"],
                r["outcome"],
                r["before"],
                r["after"],
                r["detail"],
            )
            for j, value in enumerate(cells):
                self.table.setItem(i, j, QTableWidgetItem(str(value)))
        more = (
            f" (the newest {ROW_LIMIT}; narrow the filter for older ones)" if len(rows) >= ROW_LIMIT else ""
        )
        self.status.setText(f"{len(rows)} entries{more}")

    def verify(self) -> None:
        if self._authorize(Action.AUDIT_VERIFY, "audit trail") is None:
            return
        self.verify_button.setEnabled(False)
        self.chain.setText("Checking every entry of the chain…")
        self._verify_answer.watch(self.service.verify())

    def _show_verification(self, future: Future[Any]) -> None:
        self.verify_button.setEnabled(True)
        try:
            result = future.result()
        except Exception as exc:
            self.chain.setText(f"Cannot verify: {exc}")
            return
        if result.ok:
            self.chain.setStyleSheet("color: #3ccf4e; font-weight: bold;")
            self.chain.setText(f"✔ Chain intact: {result.entries} entries. Head {result.head_hash[:16]}…")
        else:
            self.chain.setStyleSheet("color: #ff4040; font-weight: bold;")
            self.chain.setText("✖ TAMPERED: " + "; ".join(result.problems[:5]))

    def export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the audit trail", "audit.csv", "CSV (*.csv)")
        if not path:
            return
        f = self._filter()
        if (
            self._authorize(Action.AUDIT_EXPORT, Path(path).name, detail=f"filter {f['action'] or 'all'}")
            is None
        ):
            return
        self._export_answer.watch(
            self.service.export_csv(Path(path), f["start"], None, f["user"], f["action"])
        )

    def _exported(self, future: Future[int]) -> None:
        try:
            self.status.setText(f"{future.result()} entries exported.")
        except Exception as exc:
            self.status.setText(f"Export failed: {exc}")
