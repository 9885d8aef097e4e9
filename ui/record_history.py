"""The recorded alarm journal of the last day, read from the record on a worker thread.

The query runs in the station's reader pool; its Future's completion comes back to the GUI thread as
a Qt signal (a queued connection), so the table fills without the GUI ever waiting on the database.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import Future

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget
from wardwatch.app.record_queries import JournalLine

HISTORY_COLUMNS = ("Time", "Bed", "Event", "Alarm", "Priority", "By", "Detail")
HISTORY_S = 24 * 3600.0
REFRESH_MS = 10_000

JournalQuery = Callable[[float, float], Future[list[JournalLine]]]


class FutureSignal(QObject):
    """Turns a Future completed on any thread into `done(future)` on the thread this object lives in."""

    done = Signal(object)

    def watch(self, future: Future[list[JournalLine]]) -> None:
        future.add_done_callback(self.done.emit)


class RecordHistory(QWidget):
    def __init__(
        self, query: JournalQuery, labels: Callable[[], dict[str, str]], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._query = query
        self._labels = labels
        self._pending = False
        self.status = QLabel("Reading the record…")
        self.table = QTableWidget(0, len(HISTORY_COLUMNS))
        self.table.setHorizontalHeaderLabels(HISTORY_COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(6, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        self._bridge = FutureSignal(self)
        self._bridge.done.connect(self._show)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(REFRESH_MS)

    def refresh(self) -> None:
        """Ask for the last day again, unless an answer is still on its way."""
        if self._pending or not self.isVisible():
            return
        self._pending = True
        now = time.time()
        self._bridge.watch(self._query(now - HISTORY_S, now))

    def showEvent(self, event: object) -> None:
        super().showEvent(event)  # type: ignore[arg-type]
        self.refresh()

    def _show(self, future: Future[list[JournalLine]]) -> None:
        self._pending = False
        try:
            lines = future.result()
        except Exception as exc:  # the record may be gone or damaged; the station goes on
            self.status.setText(f"The record could not be read ({type(exc).__name__}).")
            return
        labels = self._labels()
        self.table.setRowCount(len(lines))
        for row, line in enumerate(lines):
            cells = (
                dt.datetime.fromtimestamp(line.time).strftime("%d %b %H:%M:%S"),
                labels.get(line.bed, line.bed),
                line.action.replace("_", " "),
                line.key,
                line.priority or "",
                line.user,
                line.detail,
            )
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self.status.setText(f"{len(lines)} recorded events in the last 24 h (newest first)")
