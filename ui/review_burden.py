"""Alarm-burden dashboard for the charge nurse: per bed and for the ward over a period — alarms per
bed-day by type and priority, sounded vs held back, time to acknowledge (median, 90th percentile) —
the alarms that fire most and last shortest, and advice where the evidence supports it. Advice is
shown, never applied: changing a limit stays a person's decision, made in the limits dialog."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from wardwatch.app.review.burden import DAY_S, SHORT_S, Burden, BurdenRow
from wardwatch.app.review.service import ReviewService
from wardwatch.ui.review_common import SpanButtons, connect_answer, failure_text

BED_COLUMNS = (
    "Bed",
    "Alarms",
    "Per bed-day",
    "High",
    "Medium",
    "Low",
    "Physiological",
    "Arrhythmia",
    "Technical",
    "NEWS2",
    "Sounded",
    "Held back",
    "Ack median",
    "Ack 90th pct",
    f"Over in < {SHORT_S:.0f} s",
)
TOP_COLUMNS = ("Bed", "Alarm", "Count", f"Over in < {SHORT_S:.0f} s", "Median length")


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} s"


def row_cells(row: BurdenRow, per_bed_day: bool = False) -> list[str]:
    """A table row; with `per_bed_day` the counts by priority and type are rates per bed-day."""
    bed_days = row.beds * row.period_s / DAY_S

    def n(count: int) -> str:
        return f"{count / bed_days:.1f}" if per_bed_day and bed_days > 0 else str(count)

    return [
        row.name,
        str(row.total),
        f"{row.per_bed_day:.1f}",
        *(n(row.by_priority.get(p, 0)) for p in ("high", "medium", "low")),
        *(n(row.by_type.get(t, 0)) for t in ("physiological", "arrhythmia", "technical", "news2")),
        n(row.audible),
        n(row.held_back),
        _s(row.ack_median_s),
        _s(row.ack_p90_s),
        n(row.short),
    ]


class BurdenDashboard(QWidget):
    def __init__(
        self, service: ReviewService, now: Callable[[], float], hours: int = 12, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle("Alarm burden — WardWatch")
        self._service = service
        self._now = now
        self._pending = False
        self.burden: Burden | None = None
        self.spans = SpanButtons(hours, (4, 8, 12, 24, 72))
        self.spans.changed.connect(lambda _h: self.request())
        self.per_day = QCheckBox("Counts per bed-day")
        self.per_day.toggled.connect(lambda _on: self._fill())
        self.status = QLabel("Reading the record…")
        self.beds = self._table(BED_COLUMNS)
        self.top = self._table(TOP_COLUMNS)
        self.top.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.advice = QListWidget()
        self.advice.setWordWrap(True)
        advice_title = QLabel(
            "Advice for the charge nurse — shown only, never applied; weigh it against each patient"
        )
        bold = QFont(self.font())
        bold.setBold(True)
        advice_title.setFont(bold)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(QLabel("The alarms that fire most (and last shortest)"))
        lower_layout.addWidget(self.top, 1)
        lower_layout.addWidget(advice_title)
        lower_layout.addWidget(self.advice, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.beds)
        split.addWidget(lower)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(self.spans, 1)
        top.addWidget(self.per_day)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        self._answer = connect_answer(self, self._show)
        self.resize(1500, 900)
        self.request()

    @staticmethod
    def _table(columns: tuple[str, ...]) -> QTableWidget:
        table = QTableWidget(0, len(columns))
        table.setHorizontalHeaderLabels(columns)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().setVisible(False)
        return table

    def request(self) -> None:
        if self._pending:
            return
        self._pending = True
        end = self._now()
        self._answer.watch(self._service.burden(end - self.spans.hours * 3600.0, end))

    def _show(self, future: Future[Burden]) -> None:
        self._pending = False
        try:
            burden = future.result()
        except Exception as exc:
            self.status.setText(failure_text(exc))
            return
        self.burden = burden
        self._fill()

    def _fill(self) -> None:
        """The tables from the last answer (memory only: switching counts and rates asks nothing)."""
        burden = self.burden
        if burden is None:
            return
        rows = [*burden.beds, burden.ward]
        self.beds.setRowCount(len(rows))
        bold = QFont(self.font())
        bold.setBold(True)
        for r, row in enumerate(rows):
            for c, text in enumerate(row_cells(row, self.per_day.isChecked())):
                item = QTableWidgetItem(text)
                if row is burden.ward:
                    item.setFont(bold)
                self.beds.setItem(r, c, item)
        self.top.setRowCount(len(burden.frequent))
        for r, f in enumerate(burden.frequent):
            for c, text in enumerate((f.bed, f.text, str(f.count), str(f.short), _s(f.median_s))):
                self.top.setItem(r, c, QTableWidgetItem(text))
        self.advice.clear()
        self.advice.addItems(
            list(burden.suggestions) or ["No advice: no alarm is frequent and short enough."]
        )
        self.status.setText(
            f"Last {self.spans.hours} h: {burden.ward.total} alarms on {len(burden.beds)} beds,"
            f" {burden.ward.per_bed_day:.1f} per bed-day"
        )
