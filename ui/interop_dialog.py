"""The interfaces' admin dialog: where the links go, how often, TLS files, and how each link is doing.

Everything shown comes from the service's in-memory status (no I/O here); Apply hands the settings to
the service, which restarts its links on its own thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from wardwatch.app.interop.actions import apply_interop_settings, requeue_refused
from wardwatch.app.interop.service import InteropService, InteropStatus
from wardwatch.app.interop.settings import InteropSettings, describe

# (before, after) -> the user to act as, or None when the station's authorisation check says no
Authorize = Callable[[str, str], str | None]

COLUMNS = ("Link", "Destination", "State", "Backlog", "Refused", "Sent", "Last error")


def _age(when: float | None, now: float) -> str:
    if when is None:
        return ""
    seconds = max(0.0, now - when)
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def status_rows(status: InteropStatus) -> list[tuple[str, ...]]:
    """The table's rows, for the links then the ADT listener (pure, so tests can check the words)."""
    now = status.updated
    rows = []
    for s in status.links:
        state = s.state if s.down_since is None else f"down {_age(s.down_since, now)}"
        rows.append((s.name, s.target, state, str(s.pending), str(s.refused), str(s.sent), s.last_error))
    if status.inbound is not None:
        i = status.inbound
        rows.append(
            (
                "ADT in",
                f"port {i.port}",
                i.state,
                "",
                str(i.refused),
                f"{i.accepted} accepted",
                i.last_error,
            )
        )
    return rows


class InteropDialog(QDialog):
    def __init__(self, service: InteropService, authorize: Authorize, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Interfaces — HL7 v2 and FHIR")
        self.setMinimumWidth(900)
        self._service = service
        self._authorize = authorize
        s = service.settings
        self.hl7_out = QLineEdit(s.hl7_out or "")
        self.hl7_out.setPlaceholderText("host:port of the interface engine (empty: off)")
        self.alarm_out = QLineEdit(s.alarm_out or "")
        self.alarm_out.setPlaceholderText("host:port of the alarm manager (empty: the engine above)")
        self.hl7_in = QSpinBox()
        self.hl7_in.setRange(0, 65535)
        self.hl7_in.setSpecialValueText("off")
        self.hl7_in.setValue(s.hl7_in_port or 0)
        self.fhir_out = QLineEdit(s.fhir_out or "")
        self.fhir_out.setPlaceholderText("https://fhir.example/r4 (empty: off)")
        self.interval = QDoubleSpinBox()
        self.interval.setRange(5, 3600)
        self.interval.setSuffix(" s")
        self.interval.setValue(s.numerics_interval_s)
        self.ack_timeout = QDoubleSpinBox()
        self.ack_timeout.setRange(0.5, 300)
        self.ack_timeout.setSuffix(" s")
        self.ack_timeout.setValue(s.ack_timeout_s)
        self.down_alarm = QDoubleSpinBox()
        self.down_alarm.setRange(5, 86_400)
        self.down_alarm.setSuffix(" s")
        self.down_alarm.setValue(s.link_down_alarm_s)
        self.ca_file = QLineEdit(str(s.tls_ca_file or ""))
        self.ca_file.setPlaceholderText("CA file: TLS on the MLLP links (empty: plain TCP)")
        self.save = QCheckBox("Also save to the configuration file")
        self.save.setChecked(True)

        form = QFormLayout()
        form.addRow("Numerics to (PCD-01)", self.hl7_out)
        form.addRow("Alarms to (PCD-04)", self.alarm_out)
        form.addRow("ADT listener port", self.hl7_in)
        form.addRow("FHIR base URL", self.fhir_out)
        form.addRow("Numerics every", self.interval)
        form.addRow("ACK timeout", self.ack_timeout)
        form.addRow("Alarm when a link is down for", self.down_alarm)
        form.addRow("TLS CA file", self.ca_file)
        form.addRow("", self.save)
        settings_box = QGroupBox("Settings")
        settings_box.setLayout(form)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.result = QLabel()
        requeue = QPushButton("Send refused messages again")
        requeue.clicked.connect(self._requeue)
        status_box = QGroupBox("Links")
        status_layout = QVBoxLayout(status_box)
        status_layout.addWidget(self.table)
        status_layout.addWidget(self.problem)
        row = QHBoxLayout()
        row.addWidget(self.result, 1)
        row.addWidget(requeue)
        status_layout.addLayout(row)

        self.error = QLabel()
        self.error.setStyleSheet("color: #ff6060;")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Apply | QDialogButtonBox.StandardButton.Close
        )
        buttons.button(QDialogButtonBox.StandardButton.Apply).clicked.connect(self.apply)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(settings_box)
        layout.addWidget(status_box, 1)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(1000)
        self.refresh()

    def settings(self) -> InteropSettings:
        def text(edit: QLineEdit) -> str | None:
            return edit.text().strip() or None

        ca = text(self.ca_file)
        return replace(
            self._service.settings,
            hl7_out=text(self.hl7_out),
            alarm_out=text(self.alarm_out),
            hl7_in_port=self.hl7_in.value() or None,
            fhir_out=text(self.fhir_out),
            numerics_interval_s=self.interval.value(),
            ack_timeout_s=self.ack_timeout.value(),
            link_down_alarm_s=self.down_alarm.value(),
            tls_ca_file=Path(ca) if ca else None,
        )

    def apply(self) -> bool:
        settings = self.settings()
        try:
            checked = settings.checked()
        except ValueError as exc:
            self.error.setText(str(exc))
            return False
        user = self._authorize(describe(self._service.settings), describe(checked))
        if user is None:
            self.error.setText("Not applied: this user may not change the interfaces.")
            return False
        apply_interop_settings(self._service, checked, self.save.isChecked(), user)
        self.error.setText("")
        self.result.setText("Applying…")
        return True

    def _requeue(self) -> None:
        user = self._authorize("refused messages kept", "refused messages sent again")
        if user is None:
            return
        requeue_refused(self._service, user)
        self.result.setText("Queued again…")

    def refresh(self) -> None:
        status = self._service.status()
        rows = status_rows(replace(status, updated=time.time()))
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(value))
        self.table.resizeColumnsToContents()
        self.problem.setText(f"⚠ {status.problem}" if status.problem else "")
        if self._service.last_result:
            self.result.setText(self._service.last_result)
