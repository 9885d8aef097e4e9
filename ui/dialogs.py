"""Ward dialogs: admit, move, discharge, assign a source.

They only collect and check what the nurse enters; the main window performs the action on the
`Station` and shows any `WardError`. Nothing here logs: what a nurse types is patient information.
Every control is at least 9 mm tall for touch, works from the keyboard (Tab, Enter = OK, Esc = cancel),
and takes its dark colours from the application palette.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)
from wardwatch.app.domain import Bed, Patient
from wardwatch.app.sources import serial_ports, serial_protocols, simulator_scenarios
from wardwatch.app.station import Station
from wardwatch.ui.bluetooth_dialog import BluetoothScanDialog, signal_text
from wardwatch.ui.theme import theme

MIN_TOUCH_PX = 36  # ≈ 9 mm at 100 dpi
# QDateEdit cannot be empty: its minimum date stands for "unknown" and is shown as such.
UNKNOWN_BIRTH_DATE = QDate(1900, 1, 1)
HEADER_SUFFIX = ".hea"

SIM, REPLAY, SERIAL, BLE, NO_DEVICE = "sim", "replay", "serial", "ble", "none"
MONITOR_NAMES = {
    "nonin": "Nonin (OEM III, format 2)",
    "masimo": "Masimo (ASCII 1)",
    "intellivue": "Philips IntelliVue (MIB/RS-232)",
}
BLE_ADDRESS = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")


W = TypeVar("W", bound=QWidget)


def _touch(widget: W) -> W:
    widget.setMinimumHeight(MIN_TOUCH_PX)
    return widget


def _tab_chain(widgets: Sequence[QWidget]) -> None:
    """Tab walks the fields in reading order, ending on OK."""
    for first, second in pairwise(widgets):
        QWidget.setTabOrder(first, second)


def _station_today(station: Station) -> dt.date:
    return dt.datetime.fromtimestamp(station.clock.now()).date()


def strip_header_suffix(path: str) -> str:
    """A record path as WFDB names it: without the `.hea` the file dialog returns."""
    path = path.strip()
    if path.lower().endswith(HEADER_SUFFIX):
        path = path[: -len(HEADER_SUFFIX)]
    return path


def _occupied_text(bed: Bed) -> str:
    # The name is shown so the nurse can check she picked the right patient; it is never logged.
    return f"{bed.label} — {bed.patient.display_name}" if bed.patient is not None else bed.label


class _WardDialog(QDialog):
    """Form, inline message and OK/Cancel; OK stays disabled while `problem()` has something to say."""

    def __init__(self, station: Station, title: str, ok_text: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.station = station
        self.setWindowTitle(title)
        self.setModal(True)
        self.setMinimumWidth(460)
        root = QVBoxLayout(self)
        root.setSpacing(10)
        self.form = QFormLayout()
        self.form.setVerticalSpacing(8)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        root.addLayout(self.form)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {theme().colours['state']['link_warn']};")
        self.message.setAccessibleName("Problem")
        root.addWidget(self.message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        self.ok_button.setDefault(True)
        for button in self.buttons.buttons():
            _touch(button)
            button.setMinimumWidth(120)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        root.addWidget(self.buttons)

    def _add_row(self, text: str, field: QWidget | QLayout, buddy: QWidget | None = None) -> None:
        label = QLabel(text)
        label.setMinimumHeight(MIN_TOUCH_PX)  # same height as its field, so the text centres on it
        target = buddy if buddy is not None else field if isinstance(field, QWidget) else None
        if target is not None:
            label.setBuddy(target)  # the underlined letter (Alt+key) jumps to the field
        self.form.addRow(label, field)

    def _bed_combo(self, beds: list[Bed], preselect: str | None, occupied: bool) -> QComboBox:
        combo = _touch(QComboBox())
        for bed in beds:
            combo.addItem(_occupied_text(bed) if occupied else bed.label, bed.bed_id)
        index = combo.findData(preselect) if preselect is not None else -1
        combo.setCurrentIndex(index if index >= 0 else 0 if beds else -1)
        combo.currentIndexChanged.connect(self.revalidate)
        return combo

    def problem(self) -> str:
        """Why the entry cannot be accepted yet, in words for the nurse; "" when it can."""
        raise NotImplementedError

    def revalidate(self) -> None:
        problem = self.problem()
        self.message.setText(problem)
        self.message.setVisible(bool(problem))
        self.ok_button.setEnabled(not problem)

    def accept(self) -> None:
        # Enter reaches here even when OK is disabled (e.g. from a shortcut); never accept a bad entry.
        if self.problem():
            self.revalidate()
            return
        super().accept()


class AdmitDialog(_WardDialog):
    def __init__(self, station: Station, bed_id: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(station, "Admit patient", "Admit", parent)
        empty = [b for b in station.beds if b.patient is None]
        self.bed_combo = self._bed_combo(empty, bed_id, occupied=False)
        self.mrn_edit = self._line("MRN (hospital number)")
        self.family_edit = self._line("Family name")
        self.given_edit = self._line("Given name")
        self.birth_edit = _touch(QDateEdit())
        self.birth_edit.setDisplayFormat("yyyy-MM-dd")  # unambiguous whatever the locale
        self.birth_edit.setCalendarPopup(True)
        self.birth_edit.setMinimumDate(UNKNOWN_BIRTH_DATE)
        self.birth_edit.setSpecialValueText("unknown")
        self.birth_edit.setDate(UNKNOWN_BIRTH_DATE)
        self.birth_edit.setAccessibleName("Birth date")
        self.birth_edit.dateChanged.connect(self.revalidate)
        self.unknown_button = _touch(QPushButton("Unknown"))
        self.unknown_button.setAutoDefault(False)  # Enter must mean OK, not "forget the date"
        self.unknown_button.clicked.connect(lambda: self.birth_edit.setDate(UNKNOWN_BIRTH_DATE))
        birth_row = QHBoxLayout()
        birth_row.addWidget(self.birth_edit, 1)
        birth_row.addWidget(self.unknown_button)
        self._add_row("&Bed", self.bed_combo)
        self._add_row("&MRN *", self.mrn_edit)
        self._add_row("&Family name *", self.family_edit)
        self._add_row("&Given name", self.given_edit)
        self._add_row("Birth &date", birth_row, buddy=self.birth_edit)
        chain: list[QWidget] = [
            self.bed_combo,
            self.mrn_edit,
            self.family_edit,
            self.given_edit,
            self.birth_edit,
            self.unknown_button,
            self.ok_button,
        ]
        _tab_chain(chain)
        (self.mrn_edit if empty else self.bed_combo).setFocus()
        self.revalidate()

    def _line(self, name: str) -> QLineEdit:
        edit = _touch(QLineEdit())
        edit.setMaxLength(64)
        edit.setAccessibleName(name)
        edit.textChanged.connect(self.revalidate)
        return edit

    def birth_date(self) -> dt.date | None:
        date = self.birth_edit.date()
        if date == UNKNOWN_BIRTH_DATE:
            return None
        return dt.date(date.year(), date.month(), date.day())

    def problem(self) -> str:
        if self.bed_combo.count() == 0:
            return "There is no empty bed: discharge or move a patient first."
        mrn = self.mrn_edit.text().strip()
        if not mrn:
            return "Enter the patient's MRN."
        if not self.family_edit.text().strip():
            return "Enter the family name."
        birth = self.birth_date()
        if birth is not None and birth > _station_today(self.station):
            return "The birth date is in the future."
        holder = next((b for b in self.station.beds if b.patient is not None and b.patient.mrn == mrn), None)
        if holder is not None:
            return f"A patient with this MRN is already admitted to {holder.label}."
        return ""

    def bed_id(self) -> str:
        return str(self.bed_combo.currentData())

    def patient(self) -> Patient:
        return Patient(
            mrn=self.mrn_edit.text().strip(),
            family_name=self.family_edit.text().strip(),
            given_name=self.given_edit.text().strip(),
            birth_date=self.birth_date(),
        )


class MoveDialog(_WardDialog):
    def __init__(self, station: Station, bed_id: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(station, "Move patient", "Move", parent)
        occupied = [b for b in station.beds if b.patient is not None]
        empty = [b for b in station.beds if b.patient is None]
        # Opened from a bed: an occupied bed is where the patient leaves, an empty one where they arrive.
        self.from_combo = self._bed_combo(occupied, bed_id, occupied=True)
        self.to_combo = self._bed_combo(empty, bed_id, occupied=False)
        self._add_row("&From", self.from_combo)
        self._add_row("&To", self.to_combo)
        _tab_chain([self.from_combo, self.to_combo, self.ok_button])
        self.from_combo.setFocus()
        self.revalidate()

    def problem(self) -> str:
        if self.from_combo.count() == 0:
            return "No bed has a patient to move."
        if self.to_combo.count() == 0:
            return "There is no empty bed to move the patient to."
        return ""

    def from_bed(self) -> str:
        return str(self.from_combo.currentData())

    def to_bed(self) -> str:
        return str(self.to_combo.currentData())


class DischargeDialog(_WardDialog):
    def __init__(self, station: Station, bed_id: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(station, "Discharge patient", "Discharge", parent)
        occupied = [b for b in station.beds if b.patient is not None]
        self.bed_combo = self._bed_combo(occupied, bed_id, occupied=True)
        self._add_row("&Bed", self.bed_combo)
        self.confirmation = QLabel()
        self.confirmation.setWordWrap(True)
        font = self.confirmation.font()
        font.setBold(True)
        self.confirmation.setFont(font)
        self.form.addRow(self.confirmation)
        self.bed_combo.currentIndexChanged.connect(self._confirm_text)
        _tab_chain([self.bed_combo, self.ok_button])
        self.bed_combo.setFocus()
        self._confirm_text()
        self.revalidate()

    def _confirm_text(self) -> None:
        bed = self.station.bed(self.bed_id()) if self.bed_combo.count() else None
        if bed is None:
            self.confirmation.clear()
            return
        self.confirmation.setText(
            f"Discharge the patient from {bed.label}? The bed's notes are cleared; "
            "its monitoring source keeps running until you change it."
        )

    def problem(self) -> str:
        return "" if self.bed_combo.count() else "No bed has a patient to discharge."

    def bed_id(self) -> str:
        return str(self.bed_combo.currentData())


class SourceDialog(_WardDialog):
    def __init__(
        self,
        station: Station,
        bed_id: str | None = None,
        parent: QWidget | None = None,
        ports: Sequence[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(station, "Assign source", "Assign", parent)
        self.scenarios = simulator_scenarios()
        self.protocols = serial_protocols()
        self.bed_combo = _touch(QComboBox())
        for bed in station.beds:
            self.bed_combo.addItem(bed.label, bed.bed_id)
        index = self.bed_combo.findData(bed_id) if bed_id is not None else -1
        self.bed_combo.setCurrentIndex(max(0, index))
        self.current_label = QLabel()
        self.current_label.setStyleSheet(f"color: {theme().colours['text']['dim']};")

        self.sim_radio = _touch(QRadioButton("&Simulated patient"))
        self.replay_radio = _touch(QRadioButton("&Recorded WFDB record"))
        self.serial_radio = _touch(QRadioButton("Serial &monitor"))
        self.ble_radio = _touch(QRadioButton("Bluetooth &patch"))
        self.none_radio = _touch(QRadioButton("&No device"))
        self.kind_group = QButtonGroup(self)
        for radio in self._radios():
            self.kind_group.addButton(radio)
        self.protocol_combo = _touch(QComboBox())
        for name in self.protocols:
            self.protocol_combo.addItem(MONITOR_NAMES.get(name, name), name)
        self.protocol_combo.setAccessibleName("Monitor protocol")
        # the ports are listed once, as the dialog opens (it reads the OS's device list)
        self.port_combo = _touch(QComboBox())
        self.port_combo.setEditable(True)  # a port that is not plugged in yet can still be typed
        for path, description in serial_ports() if ports is None else ports:
            self.port_combo.addItem(f"{path}  —  {description}" if description else path, path)
        self.port_combo.setCurrentIndex(-1)
        line = self.port_combo.lineEdit()
        if line is not None:
            line.setPlaceholderText("choose, or type /dev/ttyUSB0")
        self.port_combo.setAccessibleName("Serial port")
        self.scenario_combo = _touch(QComboBox())
        for name in self.scenarios:
            self.scenario_combo.addItem(name.replace("_", " "), name)
        self.scenario_combo.setAccessibleName("Scenario")
        self.path_edit = _touch(QLineEdit())
        self.path_edit.setPlaceholderText("/path/to/record (without .hea)")
        self.path_edit.setAccessibleName("Record path")
        self.browse_button = _touch(QPushButton("&Browse…"))
        self.browse_button.setAutoDefault(False)  # Enter in the path field means OK, not another file dialog
        self.browse_button.clicked.connect(self.browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)
        self.patch_edit = _touch(QLineEdit())
        self.patch_edit.setPlaceholderText("AA:BB:CC:DD:EE:FF, or scan")
        self.patch_edit.setAccessibleName("Patch address")
        self.scan_button = _touch(QPushButton("Sc&an…"))
        self.scan_button.setAutoDefault(False)
        self.scan_button.clicked.connect(self.scan_patches)
        self.patch_name = QLabel()
        self.patch_name.setStyleSheet(f"color: {theme().colours['text']['dim']};")
        patch_row = QHBoxLayout()
        patch_row.addWidget(self.patch_edit, 1)
        patch_row.addWidget(self.scan_button)

        self._add_row("&Bed", self.bed_combo)
        self.form.addRow("", self.current_label)
        self.form.addRow(self.sim_radio)
        self._add_row("Scenario", self.scenario_combo)
        self.form.addRow(self.replay_radio)
        self._add_row("Record", path_row, buddy=self.path_edit)
        self.form.addRow(self.serial_radio)
        self._add_row("Protocol", self.protocol_combo)
        self._add_row("Port", self.port_combo)
        self.form.addRow(self.ble_radio)
        self._add_row("Patch", patch_row, buddy=self.patch_edit)
        self.form.addRow("", self.patch_name)
        self.form.addRow(self.none_radio)

        chain: list[QWidget] = [
            self.bed_combo,
            self.sim_radio,
            self.scenario_combo,
            self.replay_radio,
            self.path_edit,
            self.browse_button,
            self.serial_radio,
            self.protocol_combo,
            self.port_combo,
            self.ble_radio,
            self.patch_edit,
            self.scan_button,
            self.none_radio,
            self.ok_button,
        ]
        _tab_chain(chain)

        self.bed_combo.currentIndexChanged.connect(self._show_current)
        self.kind_group.buttonToggled.connect(self._kind_changed)
        self.scenario_combo.currentIndexChanged.connect(self.revalidate)
        self.path_edit.textChanged.connect(self.revalidate)
        self.protocol_combo.currentIndexChanged.connect(self.revalidate)
        self.port_combo.editTextChanged.connect(self.revalidate)
        self.patch_edit.textChanged.connect(self.revalidate)
        self._show_current()
        self.bed_combo.setFocus()

    def _show_current(self) -> None:
        """Start from what the chosen bed has now, so OK without changes changes nothing."""
        spec = self.station.bed(self.bed_id()).source_spec
        kind, _, arg = (spec or "").partition(":")
        self.current_label.setText(f"Now: {spec}" if spec else "Now: no device")
        if kind == SIM:
            self.sim_radio.setChecked(True)
            index = self.scenario_combo.findData(arg)
            if index >= 0:
                self.scenario_combo.setCurrentIndex(index)
        elif kind == REPLAY:
            self.replay_radio.setChecked(True)
            self.path_edit.setText(arg)
        elif kind == SERIAL and arg.partition(":")[0] in self.protocols:
            self.serial_radio.setChecked(True)
            protocol, _, port = arg.partition(":")
            self.protocol_combo.setCurrentIndex(self.protocol_combo.findData(protocol))
            self._set_port(port)
        elif kind == BLE:
            self.ble_radio.setChecked(True)
            self.patch_edit.setText(arg)
        elif spec:
            # A kind this dialog does not edit: keep it visible, choose nothing for the nurse.
            self.kind_group.setExclusive(False)
            for radio in self._radios():
                radio.setChecked(False)
            self.kind_group.setExclusive(True)
        else:
            self.none_radio.setChecked(True)
        self._kind_changed()

    def _radios(self) -> tuple[QRadioButton, ...]:
        return (self.sim_radio, self.replay_radio, self.serial_radio, self.ble_radio, self.none_radio)

    def scan_patches(self) -> None:
        """List the Bluetooth devices nearby; the one chosen fills the patch address."""
        dialog = BluetoothScanDialog(self.station, self)
        if dialog.exec() == QDialog.DialogCode.Accepted and (device := dialog.chosen()) is not None:
            self.ble_radio.setChecked(True)
            self.patch_edit.setText(device.address)
            self.patch_name.setText(f"{device.name} — {signal_text(device.rssi)}")

    def _set_port(self, port: str) -> None:
        index = self.port_combo.findData(port)
        if index >= 0:
            self.port_combo.setCurrentIndex(index)
        else:
            self.port_combo.setEditText(port)

    def port(self) -> str:
        """The chosen port's path (a listed one shows its description too, which is not part of it)."""
        index = self.port_combo.currentIndex()
        text = self.port_combo.currentText().strip()
        if index >= 0 and text == self.port_combo.itemText(index):
            return str(self.port_combo.itemData(index))
        return text

    def _kind_changed(self) -> None:
        self.scenario_combo.setEnabled(self.sim_radio.isChecked())
        self.path_edit.setEnabled(self.replay_radio.isChecked())
        self.browse_button.setEnabled(self.replay_radio.isChecked())
        self.protocol_combo.setEnabled(self.serial_radio.isChecked())
        self.port_combo.setEnabled(self.serial_radio.isChecked())
        self.patch_edit.setEnabled(self.ble_radio.isChecked())
        self.revalidate()

    def kind(self) -> str | None:
        if self.sim_radio.isChecked():
            return SIM
        if self.replay_radio.isChecked():
            return REPLAY
        if self.serial_radio.isChecked():
            return SERIAL
        if self.ble_radio.isChecked():
            return BLE
        if self.none_radio.isChecked():
            return NO_DEVICE
        return None

    def record_path(self) -> str:
        text = strip_header_suffix(self.path_edit.text())
        return str(Path(text).expanduser().absolute()) if text else ""

    def browse(self) -> None:
        current = self.record_path()
        start = str(Path(current).parent) if current else str(Path.home())
        chosen, _filter = QFileDialog.getOpenFileName(
            self, "Choose a WFDB record", start, "WFDB header (*.hea);;All files (*)"
        )
        if chosen:
            self.path_edit.setText(strip_header_suffix(chosen))
            self.replay_radio.setChecked(True)

    def problem(self) -> str:
        kind = self.kind()
        if kind is None:
            return "Choose a simulated patient, a recorded record, a serial monitor, a patch or no device."
        if kind == SIM:
            if not self.scenarios:
                return "The simulator is not installed."
            if self.scenario_combo.currentIndex() < 0:
                return "Choose a scenario."
        if kind == REPLAY:
            path = self.record_path()
            if not path:
                return "Choose a WFDB record (its .hea file)."
            if not Path(path + HEADER_SUFFIX).is_file():
                return f"There is no WFDB header {Path(path).name}{HEADER_SUFFIX} in {Path(path).parent}."
        if kind == SERIAL:
            if not self.protocols:
                return "Serial monitors are not installed."
            if self.protocol_combo.currentIndex() < 0:
                return "Choose the monitor's protocol."
            if not self.port().startswith("/dev/") and not self.port().upper().startswith("COM"):
                return "Choose the serial port the monitor is plugged into (/dev/…)."
        if kind == BLE and not BLE_ADDRESS.match(self.patch_edit.text().strip()):
            return "Scan for the patch, or type its address (AA:BB:CC:DD:EE:FF)."
        return ""

    def bed_id(self) -> str:
        return str(self.bed_combo.currentData())

    def spec(self) -> str | None:
        """`sim:<scenario>`, `replay:<record path without .hea>`, `serial:<protocol>:<port>`,
        `ble:<address>`, or None."""
        kind = self.kind()
        if kind == SIM:
            return f"{SIM}:{self.scenario_combo.currentData()}"
        if kind == REPLAY:
            return f"{REPLAY}:{self.record_path()}"
        if kind == SERIAL:
            return f"{SERIAL}:{self.protocol_combo.currentData()}:{self.port()}"
        if kind == BLE:
            return f"{BLE}:{self.patch_edit.text().strip().upper()}"
        return None


__all__ = ["AdmitDialog", "DischargeDialog", "MoveDialog", "SourceDialog", "strip_header_suffix"]
