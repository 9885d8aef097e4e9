"""Binding a patch to a bed: the scan dialog lists what the (virtual) radio hears, without freezing."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from PySide6.QtWidgets import QDialog
from wardwatch.app.clock import FixedClock
from wardwatch.app.station import BedSetup, Station, StationSetup
from wardwatch.devices.bluetooth import RUNTIME
from wardwatch.devices.bluetooth.runtime import Backends, BleRuntime
from wardwatch.devices.bluetooth.virtual import NoAdapterScanner, VirtualAir, VirtualPatch
from wardwatch.ui.bluetooth_dialog import BluetoothScanDialog, signal_text
from wardwatch.ui.dialogs import SourceDialog

STRAP = "C1:00:00:00:00:01"


@pytest.fixture
def station() -> Iterator[Station]:
    ward = Station(
        StationSetup("Test ward", [BedSetup("Bed 1", None), BedSetup("Bed 2", None)]), FixedClock(time.time())
    )
    yield ward
    ward.shared.close()


@pytest.fixture
def radio(station: Station) -> BleRuntime:
    runtime = BleRuntime()
    air = runtime.call(VirtualAir.create())
    runtime.backends = air.backends()
    runtime.call(VirtualPatch.create(air, STRAP, "Polar H10 A1B2", "chest-ecg"))
    runtime.call(VirtualPatch.create(air, "C1:00:00:00:00:02", "Oximeter 7", "oximeter"))
    station.shared.put(RUNTIME, runtime, runtime.close)
    return runtime


def test_scan_dialog_lists_devices_with_name_address_signal_and_services(qtbot, station, radio) -> None:
    dialog = BluetoothScanDialog(station, seconds=1.0)
    qtbot.addWidget(dialog)
    assert "Listening" in dialog.status.text()
    assert not dialog.ok_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2, timeout=10_000)
    rows = {tuple(dialog.table.item(r, c).text() for c in range(4)) for r in range(dialog.table.rowCount())}
    assert ("Polar H10 A1B2", STRAP, "-50 dBm (strong)", "Heart rate") in rows
    assert ("Oximeter 7", "C1:00:00:00:00:02", "-50 dBm (strong)", "Pulse oximeter") in rows
    assert dialog.ok_button.isEnabled() and dialog.chosen() is not None


def test_a_failed_scan_says_why_and_can_be_tried_again(qtbot, station) -> None:
    runtime = BleRuntime(Backends(scanner=NoAdapterScanner))
    station.shared.put(RUNTIME, runtime, runtime.close)
    dialog = BluetoothScanDialog(station, seconds=0.2)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "failed" in dialog.status.text(), timeout=5_000)
    assert "No Bluetooth adapters found" in dialog.status.text()
    assert dialog.again_button.isEnabled() and not dialog.ok_button.isEnabled()


def test_source_dialog_binds_the_scanned_patch_to_the_bed(qtbot, station, radio, monkeypatch) -> None:
    def pick_first(self: BluetoothScanDialog) -> int:
        self.show()
        qtbot.waitUntil(lambda: self.table.rowCount() >= 1, timeout=10_000)
        self.table.selectRow(next(r for r, d in enumerate(self.devices) if d.address == STRAP))
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(BluetoothScanDialog, "exec", pick_first)
    dialog = SourceDialog(station, "bed01")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.scan_button.click()
    assert dialog.ble_radio.isChecked()
    assert dialog.spec() == f"ble:{STRAP}"
    assert "Polar H10 A1B2" in dialog.patch_name.text()
    assert dialog.ok_button.isEnabled()


def test_source_dialog_refuses_a_malformed_patch_address_and_reopens_on_a_ble_bed(qtbot, station) -> None:
    dialog = SourceDialog(station, "bed01")
    qtbot.addWidget(dialog)
    dialog.ble_radio.setChecked(True)
    dialog.patch_edit.setText("C1:00:00")
    assert not dialog.ok_button.isEnabled()
    assert "AA:BB:CC:DD:EE:FF" in dialog.message.text()
    dialog.patch_edit.setText("c1:00:00:00:00:01")
    assert dialog.ok_button.isEnabled() and dialog.spec() == f"ble:{STRAP}"
    station.beds[0] = replace(station.beds[0], source_spec=f"ble:{STRAP}")
    again = SourceDialog(station, "bed01")
    qtbot.addWidget(again)
    assert again.ble_radio.isChecked() and again.patch_edit.text() == STRAP


@pytest.mark.parametrize(
    ("rssi", "text"),
    [(None, "—"), (-50, "-50 dBm (strong)"), (-75, "-75 dBm (fair)"), (-90, "-90 dBm (weak)")],
)
def test_signal_is_shown_in_dbm_with_a_word(rssi: int | None, text: str) -> None:
    assert signal_text(rssi) == text
