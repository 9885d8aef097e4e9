"""The list of Bluetooth devices nearby, to bind a patch to a bed.

The scan runs on the station's Bluetooth loop; this dialog only looks at its result on a timer, so the
display (and every other bed on it) keeps running while the station listens.
"""

from __future__ import annotations

import concurrent.futures

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from wardwatch.app.sources import NearbyDevice
from wardwatch.app.station import Station
from wardwatch.ui.theme import theme

SCAN_S = 5.0
POLL_MS = 100
COLUMNS = ("Name", "Address", "Signal", "Services")


def signal_text(rssi: int | None) -> str:
    """dBm with a word a nurse can act on (move the receiver, or the patch, before it drops)."""
    if rssi is None:
        return "—"
    word = "strong" if rssi >= -65 else "fair" if rssi >= -80 else "weak"
    return f"{rssi} dBm ({word})"


class BluetoothScanDialog(QDialog):
    def __init__(self, station: Station, parent: QWidget | None = None, seconds: float = SCAN_S) -> None:
        super().__init__(parent)
        self.station = station
        self.seconds = seconds
        self.devices: list[NearbyDevice] = []
        self._future: concurrent.futures.Future[list[NearbyDevice]] | None = None
        self._elapsed_ms = 0
        self.setWindowTitle("Bluetooth devices nearby")
        self.setModal(True)
        self.setMinimumSize(620, 360)
        root = QVBoxLayout(self)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Scan status")
        root.addWidget(self.status)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setAccessibleName("Devices heard")
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.cellDoubleClicked.connect(lambda _row, _col: self.accept())
        root.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.again_button = QPushButton("Scan &again")
        self.again_button.setMinimumHeight(36)
        self.again_button.clicked.connect(self.scan)
        row.addWidget(self.again_button)
        row.addStretch(1)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Use this device")
        for button in self.buttons.buttons():
            button.setMinimumHeight(36)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        row.addWidget(self.buttons)
        root.addLayout(row)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self._poll)
        self.scan()

    def scan(self) -> None:
        self._elapsed_ms = 0
        self.table.setRowCount(0)
        self.devices = []
        self.again_button.setEnabled(False)
        self._selection_changed()
        self._future = self.station.scan_bluetooth(self.seconds)
        self._show_progress()
        self.timer.start()

    def _show_progress(self) -> None:
        left = max(0.0, self.seconds - self._elapsed_ms / 1000.0)
        self.status.setStyleSheet("")
        self.status.setText(
            f"Listening for Bluetooth devices… {left:.0f} s. Switch the patch on and keep it near."
        )

    def _poll(self) -> None:
        self._elapsed_ms += POLL_MS
        future = self._future
        if future is None or not future.done():
            self._show_progress()
            return
        self.timer.stop()
        self.again_button.setEnabled(True)
        try:
            devices = future.result()
        except Exception as exc:  # no adapter, Bluetooth service down: say so, the station goes on
            self.status.setStyleSheet(f"color: {theme().colours['state']['link_warn']};")
            self.status.setText(
                f"Bluetooth scan failed: {exc or type(exc).__name__}. "
                "Check that the station's Bluetooth adapter is plugged in and switched on."
            )
            return
        self._fill(devices)

    def _fill(self, devices: list[NearbyDevice]) -> None:
        self.devices = devices
        self.table.setRowCount(len(devices))
        for r, d in enumerate(devices):
            cells = (d.name, d.address, signal_text(d.rssi), ", ".join(d.services) or "—")
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 1:
                    item.setData(Qt.ItemDataRole.UserRole, d.address)
                self.table.setItem(r, c, item)
        if devices:
            self.status.setText(f"{len(devices)} device(s) heard. Choose the patch to use for this bed.")
            self.table.selectRow(0)
        else:
            self.status.setText("No Bluetooth device heard. Is the patch switched on and close by?")

    def _selection_changed(self) -> None:
        self.ok_button.setEnabled(self.chosen() is not None)

    def chosen(self) -> NearbyDevice | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.devices):
            return None
        return self.devices[rows[0].row()]

    def done(self, result: int) -> None:
        self.timer.stop()
        super().done(result)
