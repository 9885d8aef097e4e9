"""The rapid-response overview: one table across every viewed ward, most urgent first, refreshed every
second from the viewer's house snapshot (memory only). Double-click a line to open that bed."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from wardwatch.app.alarms.display import clock_text
from wardwatch.app.hospital.house import HouseSnapshot
from wardwatch.app.hospital.rapid_response import RapidItem, Urgency, rapid_response
from wardwatch.ui.theme import theme

COLUMNS = ("Urgency", "Ward · bed", "Patient", "What", "Details", "Since", "Waited", "Station")
REFRESH_MS = 1000

# background, text: by the urgency class, in the alarm colours a nurse already reads
URGENCY_COLOURS: dict[Urgency, tuple[str, str]] = {
    Urgency.HIGH_ALARM: ("high_bg", "high_fg"),
    Urgency.NEWS2_HIGH: ("high_bg", "high_fg"),
    Urgency.NEWS2_MEDIUM: ("medium_bg", "medium_fg"),
    Urgency.RISK: ("low_bg", "low_fg"),
}


def row_colours(item: RapidItem) -> tuple[QColor, QColor]:
    t = theme()
    if item.acknowledged:  # seen by someone: kept in the list, no longer shouting
        return t.colour("alarm", "off_bg"), t.colour("alarm", "high_bg")
    bg, fg = URGENCY_COLOURS[item.urgency]
    return t.colour("alarm", bg), t.colour("alarm", fg)


def row_texts(item: RapidItem, now: float) -> tuple[str, ...]:
    lost = "  (NO DATA — last known)" if item.station_lost else ""
    return (
        item.urgency.word,
        f"{item.ward} · {item.bed_label}",
        item.patient,
        item.what,
        item.detail + lost,
        clock_text(item.since),
        item.waited(now),
        item.station,
    )


class RapidResponseView(QDialog):
    """The overview as a window of its own (non-modal): the team keeps it open beside the hospital page."""

    def __init__(
        self,
        snapshot: Callable[[], HouseSnapshot],
        open_bed: Callable[[str], object] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Rapid response — every ward")
        self.setModal(False)
        self.resize(1200, 520)
        self._snapshot = snapshot
        self._open_bed = open_bed
        self.items: tuple[RapidItem, ...] = ()
        self.summary = QLabel()
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.cellDoubleClicked.connect(self._activated)
        self.table.setStyleSheet("QTableWidget { font-size: 15px; }")
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(REFRESH_MS)
        self.refresh()

    def refresh(self) -> None:
        now = time.time()
        items = rapid_response(self._snapshot())
        self.items = items
        self.table.setRowCount(len(items))
        for row, item in enumerate(items):
            bg, fg = row_colours(item)
            for col, text in enumerate(row_texts(item, now)):
                cell = self.table.item(row, col)
                if cell is None:
                    cell = QTableWidgetItem()
                    self.table.setItem(row, col, cell)
                if cell.text() != text:
                    cell.setText(text)
                cell.setBackground(bg)
                cell.setForeground(fg)
        high = sum(1 for i in items if i.urgency is Urgency.HIGH_ALARM and not i.acknowledged)
        text = (
            f"{len(items)} to see · {high} high alarm{'s' if high != 1 else ''} not acknowledged"
            if items
            else "Nothing for the rapid-response team: no high alarm, no NEWS2 ≥ 5, no risk over threshold."
        )
        if text != self.summary.text():
            self.summary.setText(text)

    def _activated(self, row: int, _column: int) -> None:
        if self._open_bed is not None and 0 <= row < len(self.items):
            self._open_bed(self.items[row].bed)

    def showEvent(self, event: object) -> None:
        self.refresh()
        super().showEvent(event)  # type: ignore[arg-type]


def rows_in_order(view: RapidResponseView) -> list[tuple[str, str]]:
    """(urgency word, ward · bed) of each row as shown (for tests and the screenshot check)."""
    return [
        (view.table.item(r, 0).text(), view.table.item(r, 1).text())  # type: ignore[union-attr]
        for r in range(view.table.rowCount())
    ]
