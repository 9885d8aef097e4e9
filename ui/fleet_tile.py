"""A strip along the bottom of a bed sector's wave area: the bed's pumps and its glucose.

Placed over each tile by the fleet's window hook (the tile itself is not edited) and refreshed from
memory once a second by one timer for all sectors; it repaints only when its text changes. Hidden on
beds without pumps or glucose, so a plain monitored bed looks as it always did.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget
from wardwatch.app.station import Station
from wardwatch.ui.fleet_text import FleetLine, bed_lines
from wardwatch.ui.theme import theme
from wardwatch.ui.tile import BedTile, tile_layout

STRIP_SHARE = 0.13  # of the sector's height
STRIP_MIN_PX, STRIP_MAX_PX = 14, 22


def fitted_text(line: FleetLine, fm: QFontMetrics, room: int) -> str:
    """The line in `room` pixels: the drug's name gives way first, so the rate and the time left
    ("8 min") are never what is cut."""
    if fm.horizontalAdvance(line.text) <= room or not line.name:
        return line.text
    tail = line.text[len(line.name) :]
    name_room = max(0, room - fm.horizontalAdvance(tail))
    return fm.elidedText(line.name, Qt.TextElideMode.ElideRight, name_room) + tail


class FleetStrip(QWidget):
    def __init__(self, tile: BedTile, station: Station) -> None:
        super().__init__(tile)
        self.tile = tile
        self.station = station
        self.lines: tuple[FleetLine, ...] = ()
        self._theme = theme()
        # opaque: the tile's sweeping waves beneath never force this strip to repaint
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        tile.installEventFilter(self)
        self._place()
        self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.tile and event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        waves = tile_layout(self.tile.size()).waves
        h = max(STRIP_MIN_PX, min(STRIP_MAX_PX, int(self.tile.height() * STRIP_SHARE)))
        self.setGeometry(QRect(waves.left(), waves.bottom() - h + 1, waves.width(), h))

    def refresh(self, now: float) -> None:
        lines = tuple(bed_lines(self.station, self.tile.bed.bed_id, now))
        if lines == self.lines:
            return
        self.lines = lines
        self.setVisible(bool(lines))
        self.setToolTip("\n".join(line.text for line in lines))
        self.update()

    @property
    def text(self) -> str:
        return "  │  ".join(line.text for line in self.lines)

    def paintEvent(self, event: QPaintEvent) -> None:
        t = self._theme
        p = QPainter(self)
        r = self.rect()
        p.fillRect(r, t.colour("background", "header"))
        font = QFont(self.font())
        font.setPixelSize(max(9, r.height() - 5))
        p.setFont(font)
        fm = QFontMetrics(font)
        x = 4
        for i, line in enumerate(self.lines):
            text = ("│ " if i else "") + line.text
            colour: QColor = t.colour("text", "stale") if line.stale else t.parameter("other")
            if line.alert:
                colour = t.colour("state", "link_warn")
            width = fm.horizontalAdvance(text) + 10
            if x + width > r.width() and not i:
                text = fitted_text(line, fm, r.width() - x - 10)
                width = fm.horizontalAdvance(text) + 10
            if x + width > r.width() and i:  # no room: say how many more rather than cut a number
                p.setPen(t.colour("text", "dim"))
                p.drawText(QRect(x, 0, r.width() - x, r.height()), Qt.AlignmentFlag.AlignVCenter, "…")
                break
            p.setPen(colour)
            p.drawText(QRect(x, 0, width, r.height()), Qt.AlignmentFlag.AlignVCenter, text)
            x += width
        p.end()
