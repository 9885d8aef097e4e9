"""The bed view's panel of pumps and glucose: each pump's programme and state, the CGM with its trend,
the last fingerstick. Refreshed from memory once a second while the bed view is shown."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFont, QShowEvent
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget
from wardwatch.app.fleet.model import duration_text
from wardwatch.app.station import Station
from wardwatch.ui.fleet_text import fingerstick_text, glucose_line
from wardwatch.ui.theme import theme

REFRESH_MS = 1000


class FleetPanel(QFrame):
    def __init__(self, station: Station, bed_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.station = station
        self.bed_id = bed_id
        t = theme()
        self.setStyleSheet(
            f"QFrame {{ background: {t.colours['background']['header']}; }}"
            f" QLabel {{ color: {t.colours['parameter']['other']}; }}"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(2)
        self.label = QLabel()
        self.label.setWordWrap(True)
        font = QFont(self.font())
        font.setPixelSize(14)
        self.label.setFont(font)
        layout.addWidget(self.label)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._timer.start()

    def text_lines(self, now: float) -> list[str]:
        lines: list[str] = []
        for device in self.station.bed_devices.on_bed(self.bed_id):
            r = device.pump
            if r is None:
                continue
            p = r.programme
            dose = f" = {p.dose_text}" if p.dose_text else ""
            conc = f" {p.concentration_text}" if p.concentration_text else ""
            battery = f", battery {r.battery_percent:.0f} %" if r.battery_percent is not None else ""
            lines.append(
                f"<b>{p.drug}</b>{conc} — {r.state.value.upper()}<br>"
                f"{p.rate_ml_h:g} mL/h{dose}; {r.volume_infused_ml:.1f} of {p.vtbi_ml:g} mL, "
                f"{duration_text(r.time_remaining_s)} left{battery}"
            )
        glucose = glucose_line(self.station, self.bed_id, now)
        if glucose is not None:
            lines.append(f"<b>{glucose.text}</b>")
        stick = fingerstick_text(self.station, self.bed_id)
        if stick:
            lines.append(stick)
        return lines

    def refresh(self) -> None:
        lines = self.text_lines(self.station.clock.now())
        self.setVisible(bool(lines))
        text = "<br>".join(lines)
        if text != self.label.text():
            self.label.setText(text)
