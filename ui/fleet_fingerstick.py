"""The fingerstick glucose entry: a value in mg/dL or mmol/L; the action itself is
wardwatch.app.fleet.fingerstick.enter_fingerstick."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QWidget,
)
from wardwatch.app.fleet.fingerstick import RANGE_MG_DL, mmol_to_mg_dl


class FingerstickDialog(QDialog):
    def __init__(self, bed_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Fingerstick glucose — {bed_label}")
        self.value = QDoubleSpinBox()
        self.value.setDecimals(1)
        self.unit = QComboBox()
        self.unit.addItems(["mg/dL", "mmol/L"])
        self.unit.currentIndexChanged.connect(self._unit_changed)
        self._unit_changed()
        self.value.setValue(100.0)
        row = QHBoxLayout()
        row.addWidget(self.value, 1)
        row.addWidget(self.unit)
        form = QFormLayout(self)
        form.addRow("Capillary glucose", row)
        form.addRow(QLabel("Meters show LO / HI outside 10–600 mg/dL (0.6–33.3 mmol/L): ask the lab."))
        ok_cancel = QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        buttons = QDialogButtonBox(ok_cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _unit_changed(self) -> None:
        low, high = RANGE_MG_DL
        if self.unit.currentText() == "mmol/L":
            self.value.setRange(round(low / 18.016, 1), round(high / 18.016, 1))
            self.value.setSingleStep(0.1)
        else:
            self.value.setRange(low, high)
            self.value.setSingleStep(1.0)

    def mg_dl(self) -> float:
        v = self.value.value()
        return mmol_to_mg_dl(v) if self.unit.currentText() == "mmol/L" else v
