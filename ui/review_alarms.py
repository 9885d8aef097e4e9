"""Alarm review: the alarms of a bed (or the ward) over a period — type, priority, raised, who
acknowledged and after how long, held back with the verification's reasoning — and, for the alarm
chosen, full disclosure from 10 s before to 10 s after it. The full disclosure can then be browsed
freely, 10 s at a time or from any moment. Queries run on the review service's worker."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import Future

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateTimeEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from wardwatch.app.codes import MdcCode, channel_table
from wardwatch.app.review.episodes import AlarmEpisode
from wardwatch.app.review.service import ReviewService, Wave
from wardwatch.ui.bed_view import bed_view_waves
from wardwatch.ui.review_common import (
    MIN_TOUCH_PX,
    SpanButtons,
    connect_answer,
    failure_text,
    priority_colour,
    priority_text_colour,
)
from wardwatch.ui.theme import theme

SNIPPET_BEFORE_S = 10.0
SNIPPET_AFTER_S = 10.0
STEP_S = 10.0
COLUMNS = ("Raised", "Bed", "Alarm", "Priority", "State", "Acknowledged by", "After", "Lasted")


def _known_codes() -> set[int]:
    return {int(c) for c in channel_table()}


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f} s" if value < 120 else f"{value / 60:.1f} min"


def state_text(a: AlarmEpisode) -> str:
    if a.held_back and a.released_at is None:
        return "held back"
    if a.released_at is not None:
        return "released"
    return "escalated" if a.escalated_at is not None else "sounded"


def describe(a: AlarmEpisode, label: str) -> str:
    """The alarm and its reasoning in words, shown above its full disclosure."""
    when = dt.datetime.fromtimestamp
    came = "held back" if a.held_back else "raised"
    parts = [f"{label}: {a.message} ({a.priority}) {came} {when(a.raised_at):%H:%M:%S}"]
    if a.released_at is not None:
        parts.append(f"released {when(a.released_at):%H:%M:%S}")
    if a.escalated_at is not None:
        parts.append(f"escalated {when(a.escalated_at):%H:%M:%S}")
    if a.acknowledged_at is not None:
        parts.append(f"acknowledged by {a.acknowledged_by} after {_seconds(a.ack_after_s)}")
    elif a.audible:
        parts.append("not acknowledged")
    if a.duration_s is not None:
        parts.append(f"lasted {_seconds(a.duration_s)}")
    text = ", ".join(parts)
    if a.reason:
        text += f"\nReasoning: {a.reason}"
    return text


class AlarmReview(QWidget):
    def __init__(
        self,
        service: ReviewService,
        now: Callable[[], float],
        bed: str | None = None,
        hours: int = 12,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle("Alarm review — WardWatch")
        self._service = service
        self._now = now
        self.episodes: list[AlarmEpisode] = []
        self.waves: dict[int, Wave] = {}
        self.wave_curves: dict[int, pg.PlotDataItem] = {}
        self.snippet: tuple[str, float, float, float] | None = None  # bed, start, end, anchor
        self._pending = False
        self._labels = dict(service.beds())

        self.bed_choice = QComboBox()
        self.bed_choice.addItem("All beds", None)
        for b, label in service.beds():
            self.bed_choice.addItem(label, b)
        self.bed_choice.setCurrentIndex(max(0, self.bed_choice.findData(bed)))
        self.bed_choice.currentIndexChanged.connect(lambda _i: self.request())
        self.spans = SpanButtons(hours)
        self.spans.changed.connect(lambda _h: self.request())
        top = QHBoxLayout()
        top.addWidget(QLabel("Bed:"))
        top.addWidget(self.bed_choice)
        top.addWidget(self.spans)
        top.addStretch(1)
        self.status = QLabel("Reading the record…")

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selected)

        self.reason_label = QLabel("Choose an alarm to see its full disclosure.")
        self.reason_label.setWordWrap(True)
        self.reason_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        earlier = QPushButton(f"◀ {STEP_S:.0f} s")
        later = QPushButton(f"{STEP_S:.0f} s ▶")
        earlier.clicked.connect(lambda: self.step(-STEP_S))
        later.clicked.connect(lambda: self.step(STEP_S))
        self.when = QDateTimeEdit()
        self.when.setDisplayFormat("dd MMM yyyy HH:mm:ss")
        self.when.setDateTime(QDateTime.fromSecsSinceEpoch(int(now())))
        go = QPushButton("Show from this time")
        go.clicked.connect(self._go_to_time)
        for button in (earlier, later, go):
            button.setMinimumHeight(MIN_TOUCH_PX)
        browse = QHBoxLayout()
        browse.addWidget(earlier)
        browse.addWidget(later)
        browse.addStretch(1)
        browse.addWidget(self.when)
        browse.addWidget(go)
        self.disclosure = pg.GraphicsLayoutWidget()
        self.disclosure.setBackground(theme().colour("background", "tile"))
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.reason_label)
        lower_layout.addLayout(browse)
        lower_layout.addWidget(self.disclosure, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(lower)
        split.setSizes([350, 550])

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        self._answer = connect_answer(self, self._show_alarms)
        self._wave_answer = connect_answer(self, self._show_waves)
        self.resize(1400, 950)
        self.request()

    # -- the list ------------------------------------------------------------------------------------------
    def request(self) -> None:
        if self._pending:
            return
        self._pending = True
        end = self._now()
        self.status.setText("Reading the record…")
        self._answer.watch(
            self._service.alarms(self.bed_choice.currentData(), end - self.spans.hours * 3600.0, end)
        )

    def _show_alarms(self, future: Future[list[AlarmEpisode]]) -> None:
        self._pending = False
        try:
            episodes = future.result()
        except Exception as exc:
            self.status.setText(failure_text(exc))
            return
        self.episodes = sorted(episodes, key=lambda a: -a.raised_at)
        self.table.setRowCount(len(self.episodes))
        for row, a in enumerate(self.episodes):
            cells = (
                f"{dt.datetime.fromtimestamp(a.raised_at):%d %b %H:%M:%S}",
                self._labels.get(a.bed, a.bed),
                a.message,
                a.priority,
                state_text(a),
                a.acknowledged_by or "—",
                _seconds(a.ack_after_s),
                _seconds(a.duration_s),
            )
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == 3:
                    held = a.held_back and a.released_at is None
                    item.setBackground(priority_colour(a.priority, held))
                    item.setForeground(priority_text_colour(a.priority, held))
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        held = sum(1 for a in self.episodes if a.held_back)
        self.status.setText(
            f"{len(self.episodes)} alarms in the last {self.spans.hours} h ({held} held back), newest first;"
            " choose one to see its full disclosure"
        )

    def _selected(self) -> None:
        rows = {i.row() for i in self.table.selectedItems()}
        if rows:
            self.select_alarm(min(rows))

    def select_alarm(self, row: int) -> None:
        """Show alarm `row` of the list: its reasoning and full disclosure 10 s either side."""
        a = self.episodes[row]
        if self.table.currentRow() != row:
            self.table.selectRow(row)
        self.reason_label.setText(describe(a, self._labels.get(a.bed, a.bed)))
        self.show_disclosure(
            a.bed, a.raised_at - SNIPPET_BEFORE_S, a.raised_at + SNIPPET_AFTER_S, a.raised_at
        )

    # -- full disclosure -----------------------------------------------------------------------------------
    def show_disclosure(self, bed: str, start: float, end: float, anchor: float) -> None:
        self.snippet = (bed, start, end, anchor)
        self.when.setDateTime(QDateTime.fromSecsSinceEpoch(int(start)))
        self._wave_answer.watch(self._service.waves(bed, start, end))

    def step(self, seconds: float) -> None:
        if self.snippet is None:
            return
        bed, start, end, anchor = self.snippet
        self.show_disclosure(bed, start + seconds, end + seconds, anchor)

    def _go_to_time(self) -> None:
        bed = self.bed_choice.currentData() or (self.snippet[0] if self.snippet else None)
        if bed is None:
            self.reason_label.setText("Choose a bed (or an alarm) first.")
            return
        start = float(self.when.dateTime().toSecsSinceEpoch())
        self.show_disclosure(bed, start, start + SNIPPET_BEFORE_S + SNIPPET_AFTER_S, start)

    def _show_waves(self, future: Future[dict[int, Wave]]) -> None:
        try:
            waves = future.result()
        except Exception as exc:
            self.reason_label.setText(failure_text(exc))
            return
        self.waves = waves
        self.disclosure.clear()
        self.wave_curves = {}
        if self.snippet is None:
            return
        bed, start, end, anchor = self.snippet
        if not waves:
            self.disclosure.addLabel(
                f"No full disclosure recorded for {self._labels.get(bed, bed)} at this time", row=0, col=0
            )
            return
        dim = theme().colour("text", "dim").name()
        known = [MdcCode(c) for c in waves if c in _known_codes()]
        codes = [int(c) for c in bed_view_waves(known)] + [c for c in waves if c not in _known_codes()]
        first = None
        for row, code in enumerate(codes):
            wave = waves[code]
            plot = self.disclosure.addPlot(row=row, col=0)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setMouseEnabled(x=True, y=False)
            info = channel_table()[MdcCode(code)] if code in _known_codes() else None
            name = info.label if info else f"channel {code}"
            colour = theme().parameter(info.colour if info else "other")
            plot.setTitle(f"{name} {wave.unit}  ({wave.rate:g} Hz)", size="9pt", color=dim, justify="left")
            curve = pg.PlotDataItem(
                wave.times - anchor,
                wave.values.astype(np.float64),
                pen=pg.mkPen(colour, width=1.2),
                connect="finite",
            )
            plot.addItem(curve)
            plot.addItem(pg.InfiniteLine(0.0, angle=90, pen=pg.mkPen("w", style=Qt.PenStyle.DashLine)))
            plot.setXRange(start - anchor, end - anchor, padding=0.0)
            if row != len(codes) - 1:
                plot.hideAxis("bottom")
            else:
                plot.setLabel("bottom", f"seconds from {dt.datetime.fromtimestamp(anchor):%H:%M:%S}")
            if first is None:
                first = plot
            else:
                plot.setXLink(first)
            self.wave_curves[code] = curve
