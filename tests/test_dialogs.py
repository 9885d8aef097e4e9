"""Ward dialogs hand back exactly what the nurse chose, and refuse entries the ward cannot take."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import datetime as dt
import time

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QWidget,
)
from wardwatch.app.clock import FixedClock
from wardwatch.app.domain import Patient
from wardwatch.app.sources import simulator_scenarios
from wardwatch.app.station import BedSetup, Station, StationSetup
from wardwatch.ui.dialogs import (
    MIN_TOUCH_PX,
    AdmitDialog,
    DischargeDialog,
    MoveDialog,
    SourceDialog,
    strip_header_suffix,
)


@pytest.fixture
def station() -> Station:
    """Four beds: 2 occupied (on a simulator), 1, 3 and 4 empty."""
    beds = [
        BedSetup("Bed 1", None),
        BedSetup("Bed 2", "sim:stable"),
        BedSetup("Bed 3", None),
        BedSetup("Bed 4", None),
    ]
    ward = Station(StationSetup("Test ward", beds), FixedClock(time.time()))
    ward.admit("bed02", Patient("A100", "Smith", "Ann", dt.date(1950, 3, 4)))
    return ward


def today(station: Station) -> dt.date:
    return dt.datetime.fromtimestamp(station.clock.now()).date()


def combo_beds(combo: QComboBox) -> list[str]:
    return [combo.itemData(i) for i in range(combo.count())]


def show(qtbot, dialog: QDialog) -> QDialog:
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


# -- admit -------------------------------------------------------------------------------------------


def test_admit_offers_only_empty_beds_with_the_given_one_preselected(qtbot, station):
    dialog = show(qtbot, AdmitDialog(station, "bed03"))
    assert combo_beds(dialog.bed_combo) == ["bed01", "bed03", "bed04"]
    assert dialog.bed_id() == "bed03"


def test_admit_keeps_ok_disabled_until_mrn_and_family_name_are_given(qtbot, station):
    dialog = show(qtbot, AdmitDialog(station, None))
    assert not dialog.ok_button.isEnabled()
    assert "MRN" in dialog.message.text()
    dialog.mrn_edit.setText("   ")  # blanks are not an MRN
    assert not dialog.ok_button.isEnabled()
    dialog.mrn_edit.setText("B200")
    assert not dialog.ok_button.isEnabled()
    assert "family name" in dialog.message.text()
    dialog.family_edit.setText("Doe")
    assert dialog.ok_button.isEnabled()
    assert dialog.message.text() == ""


def test_admit_rejects_a_birth_date_in_the_future(qtbot, station):
    dialog = show(qtbot, AdmitDialog(station, None))
    dialog.mrn_edit.setText("B200")
    dialog.family_edit.setText("Doe")
    tomorrow = today(station) + dt.timedelta(days=1)
    dialog.birth_edit.setDate(QDate(tomorrow.year, tomorrow.month, tomorrow.day))
    assert not dialog.ok_button.isEnabled()
    assert "future" in dialog.message.text()
    dialog.accept()  # even forced, a bad entry is not accepted
    assert dialog.result() != QDialog.DialogCode.Accepted


def test_admit_rejects_an_mrn_already_on_the_ward(qtbot, station):
    dialog = show(qtbot, AdmitDialog(station, None))
    dialog.mrn_edit.setText("A100")
    dialog.family_edit.setText("Other")
    assert not dialog.ok_button.isEnabled()
    assert "Bed 2" in dialog.message.text()


def test_admit_returns_the_patient_and_chosen_bed(qtbot, station):
    dialog = show(qtbot, AdmitDialog(station, "bed04"))
    dialog.mrn_edit.setText("  B200 ")
    dialog.family_edit.setText("Doe")
    dialog.given_edit.setText("John")
    dialog.birth_edit.setDate(QDate(1961, 7, 30))
    dialog.mrn_edit.setFocus()
    qtbot.keyClick(dialog.mrn_edit, Qt.Key.Key_Return)  # Enter = OK
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.bed_id() == "bed04"
    assert dialog.patient() == Patient("B200", "Doe", "John", dt.date(1961, 7, 30))


def test_admit_birth_date_left_unknown_is_none(qtbot, station):
    dialog = show(qtbot, AdmitDialog(station, None))
    dialog.birth_edit.setDate(QDate(1980, 1, 1))
    dialog.unknown_button.click()
    assert dialog.birth_edit.text() == "unknown"
    assert dialog.patient().birth_date is None


def test_admit_with_no_empty_bed_cannot_be_accepted(qtbot):
    ward = Station(StationSetup("Full", [BedSetup("Bed 1", None)]), FixedClock(time.time()))
    ward.admit("bed01", Patient("X1", "Full", "Bed"))
    dialog = show(qtbot, AdmitDialog(ward, None))
    dialog.mrn_edit.setText("X2")
    dialog.family_edit.setText("Late")
    assert not dialog.ok_button.isEnabled()
    assert "no empty bed" in dialog.message.text()


def test_escape_cancels(qtbot, station):
    dialog = show(qtbot, AdmitDialog(station, None))
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.result() == QDialog.DialogCode.Rejected


# -- move and discharge --------------------------------------------------------------------------------


def test_move_lists_occupied_beds_as_origin_and_empty_beds_as_destination(qtbot, station):
    dialog = show(qtbot, MoveDialog(station, "bed02"))
    assert combo_beds(dialog.from_combo) == ["bed02"]
    assert combo_beds(dialog.to_combo) == ["bed01", "bed03", "bed04"]
    dialog.to_combo.setCurrentIndex(2)
    assert (dialog.from_bed(), dialog.to_bed()) == ("bed02", "bed04")
    assert dialog.ok_button.isEnabled()


def test_move_opened_on_an_empty_bed_proposes_it_as_destination(qtbot, station):
    dialog = show(qtbot, MoveDialog(station, "bed03"))
    assert dialog.to_bed() == "bed03"


def test_move_without_any_patient_cannot_be_accepted(qtbot):
    ward = Station(
        StationSetup("Empty", [BedSetup("Bed 1", None), BedSetup("Bed 2", None)]), FixedClock(time.time())
    )
    dialog = show(qtbot, MoveDialog(ward, None))
    assert not dialog.ok_button.isEnabled()


def test_discharge_names_the_bed_in_its_confirmation(qtbot, station):
    dialog = show(qtbot, DischargeDialog(station, "bed02"))
    assert combo_beds(dialog.bed_combo) == ["bed02"]
    assert "Bed 2" in dialog.confirmation.text()
    assert "1950" not in dialog.confirmation.text() and "A100" not in dialog.confirmation.text()
    dialog.ok_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.bed_id() == "bed02"


# -- source ------------------------------------------------------------------------------------------


def test_source_dialog_starts_from_the_beds_current_source(qtbot, station):
    dialog = show(qtbot, SourceDialog(station, "bed02"))
    assert dialog.sim_radio.isChecked()
    assert dialog.spec() == "sim:stable"
    dialog.bed_combo.setCurrentIndex(0)  # Bed 1 has no device
    assert dialog.none_radio.isChecked()
    assert dialog.spec() is None


def test_source_dialog_returns_the_chosen_scenario(qtbot, station):
    scenarios = simulator_scenarios()
    if not scenarios:
        pytest.skip("simulator not installed")
    choice = "vt" if "vt" in scenarios else scenarios[-1]
    dialog = show(qtbot, SourceDialog(station, "bed01"))
    dialog.sim_radio.setChecked(True)
    dialog.scenario_combo.setCurrentIndex(dialog.scenario_combo.findData(choice))
    assert dialog.ok_button.isEnabled()
    assert (dialog.bed_id(), dialog.spec()) == ("bed01", f"sim:{choice}")


def test_source_dialog_browse_returns_the_record_without_hea(qtbot, station, tmp_path, monkeypatch):
    header = tmp_path / "100.hea"
    header.write_text("100 2 360 650000\n")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(header), "WFDB header (*.hea)"))
    dialog = show(qtbot, SourceDialog(station, "bed03"))
    dialog.replay_radio.setChecked(True)
    assert not dialog.ok_button.isEnabled()  # no record chosen yet
    dialog.browse_button.click()
    assert dialog.path_edit.text() == str(tmp_path / "100")
    assert dialog.ok_button.isEnabled()
    assert dialog.spec() == f"replay:{tmp_path / '100'}"


def test_source_dialog_refuses_a_record_whose_header_is_missing(qtbot, station, tmp_path):
    dialog = show(qtbot, SourceDialog(station, "bed03"))
    dialog.replay_radio.setChecked(True)
    dialog.path_edit.setText(str(tmp_path / "missing.hea"))
    assert not dialog.ok_button.isEnabled()
    assert "missing.hea" in dialog.message.text()


def test_source_dialog_no_device_returns_none(qtbot, station):
    dialog = show(qtbot, SourceDialog(station, "bed02"))
    dialog.none_radio.setChecked(True)
    assert dialog.ok_button.isEnabled()
    assert dialog.spec() is None


def test_source_dialog_assigns_a_serial_monitor_on_a_listed_or_typed_port(qtbot, station):
    ports = [("/dev/serial/by-id/usb-FTDI_Nonin-if00-port0", "FT232R USB UART"), ("/dev/ttyS0", "")]
    dialog = show(qtbot, SourceDialog(station, "bed01", ports=ports))
    dialog.serial_radio.setChecked(True)
    dialog.protocol_combo.setCurrentIndex(dialog.protocol_combo.findData("nonin"))
    assert not dialog.ok_button.isEnabled() and "serial port" in dialog.message.text()
    dialog.port_combo.setCurrentIndex(0)  # shown with its description, which is not part of the spec
    assert dialog.ok_button.isEnabled()
    assert dialog.spec() == "serial:nonin:/dev/serial/by-id/usb-FTDI_Nonin-if00-port0"
    dialog.port_combo.setEditText("/dev/ttyUSB3")  # not plugged in yet
    assert dialog.spec() == "serial:nonin:/dev/ttyUSB3"


def test_source_dialog_starts_from_a_beds_serial_monitor(qtbot, station):
    station.assign_source("bed03", "serial:masimo:/dev/ttyUSB1")
    dialog = show(qtbot, SourceDialog(station, "bed03", ports=[]))
    assert dialog.serial_radio.isChecked()
    assert dialog.spec() == "serial:masimo:/dev/ttyUSB1"


def test_header_suffix_is_stripped_whatever_its_case():
    assert strip_header_suffix(" /data/mitdb/100.HEA ") == "/data/mitdb/100"
    assert strip_header_suffix("/data/mitdb/100") == "/data/mitdb/100"


# -- touch ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [AdmitDialog, MoveDialog, DischargeDialog, SourceDialog])
def test_every_control_is_a_touch_sized_target(qtbot, station, kind):
    dialog = show(qtbot, kind(station, "bed02"))
    targets = (QLineEdit, QComboBox, QDateEdit, QPushButton, QRadioButton)
    controls = [
        w
        for w in dialog.findChildren(QWidget)
        # a date edit's or an editable combo box's inner line edit is part of it, measured as a whole
        if isinstance(w, targets)
        and w.isVisible()
        and not isinstance(w.parent(), QAbstractSpinBox | QComboBox)
    ]
    assert controls
    short = [(type(w).__name__, w.height()) for w in controls if w.height() < MIN_TOUCH_PX]
    assert short == []
