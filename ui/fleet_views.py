"""The asset list and the maintenance view: tables read from the fleet service's in-memory snapshot
(`station.services["fleet"]`) every two seconds; the service does the surveying and the record work."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from wardwatch.app.fleet.assets import Asset
from wardwatch.app.fleet.maintenance import Flag, Urgency
from wardwatch.app.fleet.service import SERVICE_NAME, FleetService
from wardwatch.app.station import Station
from wardwatch.ui.theme import theme

REFRESH_MS = 2000
ASSET_COLUMNS = (
    "Device", "Type", "Maker", "Model", "Serial", "Firmware", "Address", "Bed", "Station", "Last seen",
    "Battery", "Link", "Hours in use", "Decode errors", "Disconnections", "Sensor off", "State",
)  # fmt: skip
FLAG_COLUMNS = ("Urgency", "Device", "Type", "Bed", "Issue", "Evidence")
URGENCY_TEXT = {
    Urgency.NOW: "!!! now",
    Urgency.SHIFT: "!! this shift",
    Urgency.SOON: "! soon",
    Urgency.INFO: "info",
}


def _clock(t: float | None) -> str:
    return "" if t is None else dt.datetime.fromtimestamp(t).strftime("%d %b %H:%M:%S")


def asset_cells(a: Asset, bed_label: str) -> list[str]:
    return [
        a.id, a.type, a.maker, a.model, a.serial, a.firmware, a.address, bed_label, a.station,
        _clock(a.last_seen) + ("  NOT SEEN" if a.missing else ""),
        "" if a.battery is None else f"{a.battery:.0f} %",
        "" if a.link_quality is None else f"{a.link_quality:.0f} %",
        f"{a.hours_in_use:.1f}", str(a.decode_errors), str(a.disconnects), str(a.sensor_off), a.state,
    ]  # fmt: skip


class _FleetTable(QDialog):
    def __init__(self, station: Station, title: str, columns: Sequence[str], parent: QWidget | None) -> None:
        super().__init__(parent)
        self.station = station
        self.setWindowTitle(title)
        self.note = QLabel()
        self.table = QTableWidget(0, len(columns))
        self.table.setHorizontalHeaderLabels(list(columns))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        self.resize(1400, 600)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)

    @property
    def service(self) -> FleetService | None:
        service = self.station.services.get(SERVICE_NAME)
        return service if isinstance(service, FleetService) else None

    def bed_label(self, bed_id: str) -> str:
        return next((b.label for b in self.station.beds if b.bed_id == bed_id), bed_id)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()
        self._timer.start()

    def fill(self, rows: list[list[str]], colours: list[QColor | None]) -> None:
        if self.table.rowCount() != len(rows):
            self.table.setRowCount(len(rows))
        for r, (cells, colour) in enumerate(zip(rows, colours, strict=True)):
            for c, text in enumerate(cells):
                item = self.table.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(r, c, item)
                if item.text() != text:
                    item.setText(text)
                if colour is not None:
                    item.setForeground(colour)

    def refresh(self) -> None:
        raise NotImplementedError


class AssetsDialog(_FleetTable):
    def __init__(self, station: Station, parent: QWidget | None = None) -> None:
        super().__init__(station, "Devices — asset list", ASSET_COLUMNS, parent)

    def refresh(self) -> None:
        service = self.service
        if service is None:
            self.note.setText("The device fleet service is not running.")
            return
        assets = sorted(service.assets, key=lambda a: (a.bed, a.type, a.id))
        seen = sum(not a.missing for a in assets)
        self.note.setText(
            f"{len(assets)} devices, {seen} seen recently. Record: {service.recording}. "
            "Also on the command line: wardwatch devices --json"
        )
        warn = theme().colour("state", "link_warn")
        rows = [asset_cells(a, self.bed_label(a.bed)) for a in assets]
        self.fill(rows, [warn if a.missing else None for a in assets])


class MaintenanceDialog(_FleetTable):
    def __init__(self, station: Station, parent: QWidget | None = None) -> None:
        super().__init__(station, "Devices — maintenance, most urgent first", FLAG_COLUMNS, parent)

    def refresh(self) -> None:
        service = self.service
        if service is None:
            self.note.setText("The device fleet service is not running.")
            return
        flags: tuple[Flag, ...] = service.flags
        self.note.setText(
            f"{len(flags)} flags. Batteries that will not last the shift, error rates rising against the "
            "device's own history or the fleet's, devices not seen, maintenance due."
        )
        t = theme()
        colours = {Urgency.NOW: t.colour("alarm", "high_bg"), Urgency.SHIFT: t.colour("state", "link_warn")}
        self.fill(
            [
                [URGENCY_TEXT[f.urgency], f.device_id, f.device_type, self.bed_label(f.bed), f.title,
                 f.evidence]
                for f in flags
            ],
            [colours.get(f.urgency) for f in flags],
        )
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
