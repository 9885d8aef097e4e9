"""What a nurse tells the station for NEWS2: consciousness (ACVPU), air or oxygen, SpO₂ scale."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QWidget
from wardwatch.app.alarms.early_warning import Consciousness
from wardwatch.app.alarms.news2_watch import ClinicalEntries

LEVELS = {
    Consciousness.A: "A — alert",
    Consciousness.C: "C — new confusion",
    Consciousness.V: "V — responds to voice",
    Consciousness.P: "P — responds to pain",
    Consciousness.U: "U — unresponsive",
}


class EntriesDialog(QDialog):
    def __init__(self, bed_label: str, current: ClinicalEntries, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Observations for NEWS2 — {bed_label}")
        self.consciousness = QComboBox()
        self.consciousness.addItem("not entered", None)
        for level, text in LEVELS.items():
            self.consciousness.addItem(text, level)
        self.consciousness.setCurrentIndex(max(0, self.consciousness.findData(current.consciousness)))
        self.oxygen = QComboBox()
        for text, value in (("not entered", None), ("air", False), ("oxygen", True)):
            self.oxygen.addItem(text, value)
        self.oxygen.setCurrentIndex(max(0, self.oxygen.findData(current.on_oxygen)))
        self.scale = QComboBox()
        self.scale.addItem("Scale 1 (usual)", 1)
        self.scale.addItem("Scale 2 (hypercapnic failure, target 88–92 %, confirmed by a clinician)", 2)
        self.scale.setCurrentIndex(max(0, self.scale.findData(current.spo2_scale)))
        form = QFormLayout(self)
        form.addRow("Consciousness", self.consciousness)
        form.addRow("Air or oxygen", self.oxygen)
        form.addRow("SpO₂ scale", self.scale)
        if current.entered_at is not None:
            form.addRow(QLabel(f"Last entered by {current.entered_by}"))
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def entries(self, user: str, now: float) -> ClinicalEntries:
        level = self.consciousness.currentData()  # Qt hands enum members back as plain strings
        return ClinicalEntries(
            consciousness=None if level is None else Consciousness(level),
            on_oxygen=self.oxygen.currentData(),
            spo2_scale=int(self.scale.currentData()),
            entered_by=user,
            entered_at=now,
        )

    def summary(self) -> str:
        """For the journal: the entered values only, nothing that names the patient."""
        level = self.consciousness.currentData()
        oxygen = self.oxygen.currentData()
        return (
            f"consciousness {level if level else 'not entered'}, "
            f"{'not entered' if oxygen is None else ('oxygen' if oxygen else 'air')}, "
            f"SpO2 scale {self.scale.currentData()}"
        )
