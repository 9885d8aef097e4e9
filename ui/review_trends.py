"""Trend review: a bed's numerics over 1–72 h with NEWS2 and its bands, and the alarms on a time line.

Several beds side by side, one column each, every plot on one time axis (zoom and pan with the mouse
wheel and drag, linked across all plots); a cursor line follows the mouse and the read-out above the
plots gives every value at that moment. The record is read on the review service's worker; the view
paints only what comes back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import Future

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget
from wardwatch.app.codes import MdcCode, channel_table
from wardwatch.app.review.handover import BedShift
from wardwatch.app.review.service import ReviewService
from wardwatch.app.review.vitals import channel_name, channel_order, value_at, with_gaps
from wardwatch.ui.bed_view import trend_tick_step
from wardwatch.ui.review_common import (
    MIN_TOUCH_PX,
    SpanButtons,
    connect_answer,
    failure_text,
    priority_colour,
)
from wardwatch.ui.theme import theme

READOUT_GAP_S = 90.0  # a cursor further than this from the last recorded value reads "—"
NEWS2_READOUT_GAP_S = 60.0
_BANDS = ((0.0, 4.5, (46, 125, 50, 45)), (4.5, 6.5, (239, 108, 0, 55)), (6.5, 30.0, (198, 40, 40, 60)))
GAP_S = 30.0  # a channel silent for longer is drawn with a gap, never bridged
SYMBOLS_UP_TO = 2000  # an intermittent channel with more values than this is drawn as a line
SPARSE_S = 10.0  # a channel whose values come further apart than this is intermittent
_PRIORITY_ROW = {"low": 1.5, "medium": 2.5, "high": 3.5}
HELD_ROW = 0.5


def _colour(code: int) -> object:
    try:
        key = channel_table()[MdcCode(code)].colour
    except (ValueError, KeyError):
        key = "other"
    return theme().parameter(key)


class TrendReview(QWidget):
    """Top-level window; `beds` are the columns it opens with."""

    def __init__(
        self,
        service: ReviewService,
        now: Callable[[], float],
        beds: Sequence[str],
        hours: int = 24,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle("Trend review — WardWatch")
        self._service = service
        self._now = now
        self.beds: list[str] = list(beds)
        self.shifts: list[BedShift] = []
        self.curves: dict[tuple[str, int], pg.PlotDataItem] = {}
        self.news2_curves: dict[str, pg.PlotDataItem] = {}
        self.alarm_markers: dict[str, pg.ScatterPlotItem] = {}
        self._cursors: list[pg.InfiniteLine] = []
        self._every: dict[tuple[str, int], float] = {}  # median seconds between a channel's values
        self._plots: list[pg.PlotItem] = []
        self._pending = False
        self.period = (0.0, 0.0)

        self.spans = SpanButtons(hours)
        self.spans.changed.connect(lambda _h: self.request())
        self.bed_choice = QComboBox()
        for bed, label in service.beds():
            self.bed_choice.addItem(label, bed)
        add = QPushButton("Add bed beside")
        add.clicked.connect(self._add_bed)
        remove = QPushButton("Remove last bed")
        remove.clicked.connect(self._remove_bed)
        refresh = QPushButton("Up to now")
        refresh.clicked.connect(self.request)
        for button in (add, remove, refresh):
            button.setMinimumHeight(MIN_TOUCH_PX)
        top = QHBoxLayout()
        top.addWidget(self.spans)
        top.addStretch(1)
        top.addWidget(self.bed_choice)
        top.addWidget(add)
        top.addWidget(remove)
        top.addWidget(refresh)
        self.readout = QLabel(" ")
        mono = QFont("monospace")
        mono.setPixelSize(15)
        self.readout.setFont(mono)
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = QLabel("Reading the record…")
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(theme().colour("background", "tile"))
        self.view.scene().sigMouseMoved.connect(self._mouse_moved)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(self.readout)
        layout.addWidget(self.view, 1)
        self._answer = connect_answer(self, self._show)
        self.resize(1500, 900)
        self.request()

    # -- asking -------------------------------------------------------------------------------------------
    def request(self) -> None:
        if self._pending or not self.beds:
            return
        end = self._now()
        start = end - self.spans.hours * 3600.0
        self.period = (start, end)
        self._pending = True
        self.status.setText(f"Reading {self.spans.hours} h of {len(self.beds)} bed(s)…")
        self._answer.watch(self._service.shifts(self.beds, start, end))

    def _add_bed(self) -> None:
        bed = self.bed_choice.currentData()
        if bed is not None and bed not in self.beds:
            self.beds.append(bed)
            self.request()

    def _remove_bed(self) -> None:
        if len(self.beds) > 1:
            self.beds.pop()
            self.request()

    # -- painting what came back ----------------------------------------------------------------------
    def _show(self, future: Future[list[BedShift]]) -> None:
        self._pending = False
        try:
            shifts = future.result()
        except Exception as exc:  # the record may be gone; the window stays and says so
            self.status.setText(failure_text(exc))
            return
        self.shifts = shifts
        self._draw()
        start, end = self.period
        when = dt.datetime.fromtimestamp
        self.status.setText(
            f"{when(start):%d %b %H:%M} – {when(end):%H:%M}: wheel to zoom, drag to pan;"
            " the line under the mouse reads every value at that time"
        )

    def _draw(self) -> None:
        self.view.clear()
        self.curves, self.news2_curves, self.alarm_markers = {}, {}, {}
        self._cursors, self._plots = [], []
        codes = channel_order(sorted({c for s in self.shifts for c in s.trends}))
        dim = theme().colour("text", "dim").name()
        start, end = self.period
        rows = len(codes) + 2
        for col, shift in enumerate(self.shifts):
            name = shift.occupants[-1].display_name if shift.occupants else "no patient"
            self.view.addLabel(
                f"{shift.label} — {name}", row=0, col=col, color=theme().colour("text", "normal")
            )
            for r in range(rows):
                last = r == rows - 1
                axis = {"bottom": pg.DateAxisItem(orientation="bottom")} if last else {}
                plot = self.view.addPlot(row=r + 1, col=col, axisItems=axis)
                plot.setMenuEnabled(False)
                plot.hideButtons()
                plot.setMouseEnabled(x=True, y=False)
                plot.getAxis("left").setWidth(48)
                # ranges set by hand before any data: pyqtgraph's auto-range would rescan every
                # curve's ~86,000 points a day at each addition
                plot.vb.disableAutoRange()
                plot.setXRange(start, end, padding=0.0)
                if not last:
                    plot.hideAxis("bottom")
                cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen(dim, width=1), movable=False)
                cursor.setVisible(False)
                plot.addItem(cursor, ignoreBounds=True)
                self._cursors.append(cursor)
                self._plots.append(plot)
                if r < len(codes):
                    self._channel(plot, shift, codes[r], dim)
                elif r == len(codes):
                    self._news2(plot, shift, dim)
                else:
                    self._alarms(plot, shift, dim)
        for plot in self._plots[1:]:  # linked once all hold their data: one range change, not one per curve
            plot.setXLink(self._plots[0])

    def _channel(self, plot: pg.PlotItem, shift: BedShift, code: int, dim: str) -> None:
        label, unit = channel_name(code)
        plot.setTitle(f"{label} {unit}".strip(), size="9pt", color=dim, justify="left")
        times, values = shift.trends.get(code, (np.empty(0), np.empty(0, np.float32)))
        every = float(np.median(np.diff(times))) if len(times) > 1 else 0.0
        self._every[(shift.bed, code)] = every
        if every > SPARSE_S and len(times) <= SYMBOLS_UP_TO:  # a cuff, a thermometer, a CGM: points, joined
            curve = pg.PlotDataItem(
                times,
                values.astype(np.float64),
                pen=pg.mkPen(_colour(code), width=1.0),
                symbol="o",
                symbolSize=4,
                symbolBrush=_colour(code),
                symbolPen=None,
            )
            plot.addItem(curve)
        else:
            curve = pg.PlotDataItem(pen=pg.mkPen(_colour(code), width=1.2), connect="finite")
            plot.addItem(curve)  # in its view box before the view-dependent options, which look for it
            curve.setClipToView(True)
            curve.setDownsampling(auto=True, method="peak")
            curve.setData(*with_gaps(times, values, max(GAP_S, 3.0 * every)))
        finite = values[np.isfinite(values)]
        if len(finite):
            lo, hi = float(finite.min()), float(finite.max())
            step = trend_tick_step(max(hi - lo, 1.0))  # two or three labels: a small plot's own would crowd
            plot.setYRange(lo - step / 2, hi + step / 2, padding=0.0)
            plot.getAxis("left").setTickSpacing(step, step)
        self.curves[(shift.bed, code)] = curve

    def _news2(self, plot: pg.PlotItem, shift: BedShift, dim: str) -> None:
        plot.setTitle("NEWS2 (bands 0–4, 5–6, 7+)", size="9pt", color=dim, justify="left")
        for lo, hi, rgba in _BANDS:
            band = pg.LinearRegionItem(
                (lo, hi), orientation="horizontal", movable=False, brush=pg.mkBrush(*rgba), pen=pg.mkPen(None)
            )
            band.setZValue(-10)
            plot.addItem(band, ignoreBounds=True)
        news2 = shift.news2
        curve = pg.PlotDataItem(
            news2.times, news2.totals, pen=pg.mkPen("w", width=1.5), connect="finite", stepMode=None
        )
        plot.addItem(curve)
        top = float(np.nanmax(news2.totals)) if np.isfinite(news2.totals).any() else 0.0
        plot.setYRange(0.0, max(10.0, top + 1.0), padding=0.0)
        self.news2_curves[shift.bed] = curve

    def _alarms(self, plot: pg.PlotItem, shift: BedShift, dim: str) -> None:
        plot.setTitle(
            "Alarms (▲ high, ● medium, ▼ low; grey: held back)", size="9pt", color=dim, justify="left"
        )
        spots = []
        for a in shift.alarms:
            row = HELD_ROW if a.held_back and a.released_at is None else _PRIORITY_ROW.get(a.priority, 1.5)
            symbol = {"high": "t1", "medium": "o", "low": "t"}.get(a.priority, "o")
            spots.append(
                {
                    "pos": (a.raised_at, row),
                    "brush": pg.mkBrush(priority_colour(a.priority, a.held_back and a.released_at is None)),
                    "symbol": symbol,
                    "size": 10,
                    "data": a,
                }
            )
        markers = pg.ScatterPlotItem(spots=spots, pen=pg.mkPen(None))
        markers.setToolTip("Alarms: hover the read-out line to see them in words")
        plot.addItem(markers)
        plot.setYRange(0.0, 4.0, padding=0.0)
        plot.getAxis("left").setTicks(
            [[(HELD_ROW, "held"), *((v, {"medium": "med"}.get(k, k)) for k, v in _PRIORITY_ROW.items())]]
        )
        self.alarm_markers[shift.bed] = markers

    # -- the cursor --------------------------------------------------------------------------------------
    def _mouse_moved(self, pos: QPointF) -> None:
        for plot in self._plots:
            if plot.sceneBoundingRect().contains(pos):
                x = float(plot.vb.mapSceneToView(pos).x())
                self.show_cursor(x)
                return

    def show_cursor(self, when: float) -> None:
        for cursor in self._cursors:
            cursor.setPos(when)
            cursor.setVisible(True)
        self.readout.setText(self.readout_at(when))

    def readout_at(self, when: float) -> str:
        """Every bed's values at `when`, as the read-out line shows them."""
        lines = []
        for shift in self.shifts:
            parts = [f"{dt.datetime.fromtimestamp(when):%H:%M:%S}  {shift.label}:"]
            for code in channel_order(shift.trends):
                label, _unit = channel_name(code)
                times, values = shift.trends[code]
                # an intermittent value (a cuff every 15 min) holds until the next; a continuous one briefly
                every = self._every.get((shift.bed, code), 0.0)
                v = value_at(times, values, when, max(READOUT_GAP_S, 2.0 * every))
                digits = 1 if code == MdcCode.TEMP_BODY else 0
                parts.append(f"{label} {'—' if v is None else f'{v:.{digits}f}'}")
            i = int(np.searchsorted(shift.news2.times, when, side="right")) - 1
            score = shift.news2.at(i) if i >= 0 and when - shift.news2.times[i] <= NEWS2_READOUT_GAP_S else ""
            band = shift.news2.band_at(i) if score else None
            parts.append(f"NEWS2 {score or '—'}{f' ({band.value})' if band else ''}")
            near = [a for a in shift.alarms if abs(a.raised_at - when) <= self._near_s()]
            if near:
                parts.append(
                    "| " + ", ".join(f"{a.message}{' (held back)' if a.held_back else ''}" for a in near)
                )
            lines.append("  ".join(parts))
        return "\n".join(lines)

    def _near_s(self) -> float:
        """How close to an alarm the cursor must be to name it: a few pixels' worth of time."""
        if not self._plots:
            return 60.0
        lo, hi = self._plots[0].vb.viewRange()[0]
        return max(5.0, (hi - lo) / 150.0)


__all__ = ["TrendReview"]
