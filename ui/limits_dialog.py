"""Alarm limits of one bed: each limit's low/high value, condition delay, priority and on/off."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QLabel,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)
from wardwatch.app.alarms.model import Priority
from wardwatch.app.alarms.settings import AlarmSettings, LimitRule
from wardwatch.app.codes import info

COLUMNS = ("Alarm", "Low", "High", "Delay (s)", "Priority", "On")


def _spin(value: float | None, decimals: int) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setDecimals(decimals)
    box.setRange(0.0, 400.0)
    box.setSingleStep(1.0 if decimals == 0 else 0.1)
    if value is None:
        box.setEnabled(False)
        box.setSpecialValueText("—")
        box.setValue(0.0)
    else:
        box.setValue(value)
    return box


class LimitsDialog(QDialog):
    """Edits a copy of the bed's rules; `changed_rules()` gives what the user altered."""

    def __init__(self, bed_label: str, settings: AlarmSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Alarm limits — {bed_label}")
        self.resize(720, 520)
        self._rules = list(settings.limits)
        self.table = QTableWidget(len(self._rules), len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self._widgets: list[tuple[QDoubleSpinBox, QDoubleSpinBox, QDoubleSpinBox, QComboBox, QCheckBox]] = []
        for row, rule in enumerate(self._rules):
            decimals = 1 if info(rule.code).key == "TEMP" else 0
            name = QLabel(f"{info(rule.code).label} — {rule.key.replace('_', ' ')}")
            low, high = _spin(rule.low, decimals), _spin(rule.high, decimals)
            delay = _spin(rule.delay_s, 0)
            delay.setRange(0.0, 120.0)
            priority = QComboBox()
            for p in (Priority.HIGH, Priority.MEDIUM, Priority.LOW):
                priority.addItem(f"{p.marker} {p.word}", p)
            priority.setCurrentIndex(priority.findData(rule.priority))
            on = QCheckBox()
            on.setChecked(rule.enabled)
            for col, widget in enumerate((name, low, high, delay, priority, on)):
                self.table.setCellWidget(row, col, widget)
            self._widgets.append((low, high, delay, priority, on))
        self.table.resizeColumnsToContents()
        note = QLabel(
            "Changes apply to this bed only and are recorded with your name. Switching an alarm off"
            " is shown on the bed; use it only where the ward's policy allows."
        )
        note.setWordWrap(True)
        ok_cancel = QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        buttons = QDialogButtonBox(ok_cancel)
        buttons.accepted.connect(self._check_and_accept)
        buttons.rejected.connect(self.reject)
        self.error = QLabel()
        self.error.setStyleSheet("color: #ff5252;")
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(note)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def edited_rules(self) -> list[LimitRule]:
        out: list[LimitRule] = []
        for rule, (low, high, delay, priority, on) in zip(self._rules, self._widgets, strict=True):
            out.append(
                replace(
                    rule,
                    low=low.value() if rule.low is not None else None,
                    high=high.value() if rule.high is not None else None,
                    delay_s=delay.value(),
                    priority=Priority(priority.currentData()),  # Qt returns the plain int
                    enabled=on.isChecked(),
                )
            )
        return out

    def changed_rules(self) -> list[LimitRule]:
        return [new for old, new in zip(self._rules, self.edited_rules(), strict=True) if new != old]

    def _check_and_accept(self) -> None:
        for rule in self.edited_rules():
            if rule.low is not None and rule.high is not None and rule.low >= rule.high:
                self.error.setText(f"{rule.key}: the low limit must be below the high limit")
                return
        self.accept()
