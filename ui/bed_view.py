"""The bed view: every wave of one bed at standard paper speeds, large numerics and the last hour of trends.

Opened by double-clicking a sector. Unlike the central grid (hand-painted for 64 beds), this window shows
one bed, so pyqtgraph draws it: one `PlotCurveItem` per wave, fed by a single ~30 Hz timer that copies
only the samples that arrived since the previous frame out of the hub's rings. Speeds and gains are
physical (mm/s, mm/mV) and derived from the screen's real pixel density, as on a bedside monitor.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QRect, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QFont, QKeySequence, QScreen, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)
from wardwatch.app.alarms.display import clock_text, state_text
from wardwatch.app.alarms.model import State
from wardwatch.app.codes import ECG_LEADS, MdcCode, info, is_ecg
from wardwatch.app.domain import Bed, TechnicalKind
from wardwatch.app.hub import BedStreams, WaveChannel
from wardwatch.app.presentation import (
    SECONDARY_WAVES,
    Freshness,
    NumericView,
    choose_numerics,
    link_text,
    no_patient_text,
    top_condition,
)
from wardwatch.app.station import Station
from wardwatch.ui.deterioration_widgets import DeteriorationPanel
from wardwatch.ui.fleet_panel import FleetPanel
from wardwatch.ui.review_notes import NotesPanel
from wardwatch.ui.theme import Theme, theme

FRAME_MS = 33  # ~30 Hz, the display rate of the central station
SUMMARY_PERIOD_S = 0.25  # header, numerics and messages change at most a few times a second
TREND_PERIOD_S = 5.0
TREND_WINDOW_S = 3600.0

FALLBACK_DPI = 96.0
# Outside this range the platform is reporting nonsense (virtual displays, projectors): use the fallback.
PLAUSIBLE_DPI = (50.0, 400.0)

ECG_SPEED_MM_S = 25.0
PLETH_SPEED_MM_S = 25.0
RESP_SPEED_MM_S = 6.25
ECG_MM_PER_MV = 10.0  # gain x1
# Left of every sweep, where the ECG calibration pulse sits; the same for all waves so their pens align.
MARGIN_MM = 10.0
ERASE_MM = 4.0  # width of the blank bar ahead of the pen
CAL_WIDTH_S = 0.2  # the standard 1 mV pulse lasts 200 ms
ECG_BASELINE_FRACTION = 0.4  # baseline 40 % up the band: QRS complexes are mostly positive
ECG_BASELINE_STEP_MV = 0.5
ABP_RANGE_MMHG = (0.0, 200.0)
# A gap of one sample between blocks is clock jitter, not a dropout; hold the previous value over it.
HOLD_SLOTS = 1
# No samples for this long and the pen keeps moving with the clock, erasing: a frozen trace would look live.
STALL_S = 2.0
FALLBACK_PLOT_PX = (800.0, 160.0)  # used before the layout has given a plot its size

MIN_TOUCH_PX = 36


@dataclass(frozen=True, slots=True)
class TrendSpec:
    title: str
    # Each series lists alternatives; the first that has history is drawn (pulse rate stands in for HR).
    series: tuple[tuple[MdcCode, ...], ...]
    symbols: bool = False  # intermittent measurements read better as points


TRENDS: tuple[TrendSpec, ...] = (
    TrendSpec("HR", ((MdcCode.ECG_HEART_RATE, MdcCode.PULS_OXIM_PULS_RATE, MdcCode.PULS_RATE),)),
    TrendSpec("SpO₂", ((MdcCode.PULS_OXIM_SAT_O2,),)),
    TrendSpec("RR", ((MdcCode.RESP_RATE,),)),
    TrendSpec("NIBP", ((MdcCode.PRESS_BLD_NONINV_SYS,), (MdcCode.PRESS_BLD_NONINV_DIA,)), symbols=True),
    TrendSpec("Temp", ((MdcCode.TEMP_BODY,),), symbols=True),
)


def pixels_per_mm(screen: QScreen | None) -> float:
    """Logical pixels per millimetre of `screen`, so that 25 mm/s really is 25 mm/s on the glass."""
    dpi = screen.physicalDotsPerInch() if screen is not None else 0.0
    if not (PLAUSIBLE_DPI[0] <= dpi <= PLAUSIBLE_DPI[1]):
        dpi = FALLBACK_DPI
    return dpi / 25.4


def sweep_speed_mm_s(code: MdcCode) -> float:
    if code is MdcCode.RESP:
        return RESP_SPEED_MM_S
    if code is MdcCode.PULS_OXIM_PLETH:
        return PLETH_SPEED_MM_S
    return ECG_SPEED_MM_S


def bed_view_waves(available: Iterable[MdcCode]) -> tuple[MdcCode, ...]:
    """Every wave of the bed: ECG leads first (monitor lead order), then ABP, pleth, resp, then the rest."""
    codes = set(available)
    ordered = [c for c in ECG_LEADS if c in codes]
    ordered += [c for c in SECONDARY_WAVES if c in codes]
    ordered += sorted(codes.difference(ordered))
    return tuple(ordered)


def trend_tick_step(span: float) -> float:
    """A 1-2-5 step that puts two or three labels on a small trend's value axis."""
    raw = max(span, 1e-9) / 2.0
    decade = 10.0 ** math.floor(math.log10(raw))
    return next(m * decade for m in (1.0, 2.0, 5.0, 10.0) if m * decade >= raw)


def grid_lines(
    lo: float, hi: float, origin: float, step: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Millimetre lines in [lo, hi] counted from `origin`, and which of them are 5 mm (major) lines."""
    first = math.ceil((lo - origin) / step - 1e-9)
    last = math.floor((hi - origin) / step + 1e-9)
    index = np.arange(first, last + 1)
    return origin + index * step, index % 5 == 0


def _pairs(
    xs: npt.NDArray[np.float64],
    ys: npt.NDArray[np.float64],
    x_span: tuple[float, float],
    y_span: tuple[float, float],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Vertical lines at `xs` and horizontal lines at `ys` as point pairs for `connect="pairs"`."""
    vx = np.repeat(xs, 2)
    vy = np.tile(np.asarray(y_span, np.float64), len(xs))
    hx = np.tile(np.asarray(x_span, np.float64), len(ys))
    hy = np.repeat(ys, 2)
    return np.concatenate((vx, hx)), np.concatenate((vy, hy))


class SweepBuffer:
    """One sweep's worth of samples laid out by position on the screen, not by arrival.

    Slot `k mod n` holds the sample at time t, with `k = round(t * slot_rate)`, so x never moves once drawn
    (a sweep, not a scroll). The sweep keeps exactly the duration asked for and the slot rate absorbs the
    rounding of n: every wave of the same speed then shares one erase bar for good, whatever its sample
    rate, instead of drifting apart by a fraction of a sample per sweep. Slots the pen passed without a
    sample become NaN, which the curve draws as a gap.
    """

    def __init__(self, rate: float, sweep_s: float, erase_s: float) -> None:
        self.rate = rate
        self.n = max(4, round(sweep_s * rate))
        self.sweep_s = sweep_s
        self.slot_rate = self.n / sweep_s
        self.erase_n = max(1, min(self.n // 4, round(erase_s * rate)))
        self.xs = np.arange(self.n, dtype=np.float64) / self.slot_rate
        self.ys = np.full(self.n, np.nan, np.float32)
        self.k_last: int | None = None
        self._y_last = math.nan
        self._stalled = False

    @property
    def sweep_index(self) -> int:
        """How many sweeps the pen has completed; changes when it wraps to the left edge."""
        return -1 if self.k_last is None else self.k_last // self.n

    def write(self, values: npt.NDArray[np.float32], times: npt.NDArray[np.float64]) -> bool:
        if len(values) == 0:
            return False
        k = np.rint(times * self.slot_rate).astype(np.int64)
        if self.k_last is None:
            self.k_last = int(k[0]) - 1
        fresh = k > self.k_last  # late or repeated samples would scribble behind the pen
        if not fresh.any():
            return False
        k, v = k[fresh], values[fresh]
        k_end = int(k[-1])
        slots = np.arange(max(self.k_last + 1, k_end - self.n + 1), k_end + 1)
        # A slot without its own sample holds the one before it only when the hole is jitter-sized;
        # anything longer is a real gap and stays NaN.
        idx = np.searchsorted(k, slots, side="right") - 1
        safe = np.maximum(idx, 0)
        prev_k = np.where(idx >= 0, k[safe], self.k_last)
        next_k = k[np.minimum(idx + 1, len(k) - 1)]
        filled = np.where(idx >= 0, v[safe], self._y_last)
        bridged = (slots == prev_k) | (next_k - prev_k <= HOLD_SLOTS + 1)
        self.ys[slots % self.n] = np.where(bridged, filled, np.nan)
        self.k_last = k_end
        self._y_last = float(v[-1])
        self._stalled = False
        self._erase_ahead()
        return True

    def follow_clock(self, now: float) -> bool:
        """Keep the pen moving (erasing) when the data has stopped; True if anything changed."""
        if self.k_last is None:
            return False
        k_now = round(now * self.slot_rate)
        if not self._stalled and k_now - self.k_last < STALL_S * self.slot_rate:
            return False
        if k_now <= self.k_last:
            return False
        self._stalled = True
        slots = np.arange(max(self.k_last + 1, k_now - self.n + 1), k_now + 1)
        self.ys[slots % self.n] = np.nan
        self.k_last = k_now
        self._y_last = math.nan
        self._erase_ahead()
        return True

    def _erase_ahead(self) -> None:
        assert self.k_last is not None
        self.ys[np.arange(self.k_last + 1, self.k_last + 1 + self.erase_n) % self.n] = np.nan

    def finite_values(self) -> npt.NDArray[np.float32]:
        return self.ys[np.isfinite(self.ys)]


class WaveRow:
    """One wave of the bed view: its plot, curve, label, and for ECG the paper grid and calibration pulse."""

    def __init__(self, code: MdcCode, plot: pg.PlotItem, colours: Theme, ppmm: float) -> None:
        self.code = code
        self.plot = plot
        self.ppmm = ppmm
        self.ecg = is_ecg(code)
        self.ecg_gain = 1.0
        self.speed = sweep_speed_mm_s(code)
        self._colours = colours
        colour = colours.parameter(info(code).colour)
        self.label_text = info(code).label
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.hideAxis("left")
        plot.hideAxis("bottom")
        plot.setDefaultPadding(0.0)
        plot.vb.disableAutoRange()
        if self.ecg:
            self._grid_minor = pg.PlotCurveItem(
                pen=pg.mkPen(colours.colour("background", "grid_minor")),
                connect="pairs",
                antialias=False,
                skipFiniteCheck=True,
            )
            self._grid_major = pg.PlotCurveItem(
                pen=pg.mkPen(colours.colour("background", "grid_major")),
                connect="pairs",
                antialias=False,
                skipFiniteCheck=True,
            )
            self._calibration = pg.PlotCurveItem(
                pen=pg.mkPen(colours.colour("text", "dim"), width=1.5), antialias=False
            )
            for item, z in ((self._grid_minor, -20), (self._grid_major, -19), (self._calibration, 5)):
                item.setZValue(z)
                plot.addItem(item, ignoreBounds=True)
        # Sweep data always holds NaN (the erase bar at least), so the finite check stays on: pyqtgraph then
        # builds the gaps with numpy instead of a Python loop per segment.
        self.curve = pg.PlotCurveItem(
            pen=pg.mkPen(colour, width=2.0 if self.ecg else 1.5), antialias=False, connect="finite"
        )
        plot.addItem(self.curve)
        self.label = pg.TextItem(color=colour, anchor=(0, 0))
        self.label.setZValue(10)
        plot.addItem(self.label, ignoreBounds=True)
        self.channel: WaveChannel | None = None
        self.buffer: SweepBuffer | None = None
        self.cursor = 0
        self._range_sweep = -2  # sweep index whose data set the current y range
        self._y_range: tuple[float, float] | None = None
        self._baseline = 0.0
        self._dirty = False
        plot.vb.sigResized.connect(self._on_resized)

    # -- geometry ----------------------------------------------------------------------------------
    def _plot_px(self) -> tuple[float, float]:
        w, h = float(self.plot.vb.width()), float(self.plot.vb.height())
        if w < 20 or h < 10:
            return FALLBACK_PLOT_PX
        return w, h

    def margin_s(self) -> float:
        return MARGIN_MM / self.speed

    def width_mm(self) -> float:
        return self._plot_px()[0] / self.ppmm

    def sweep_seconds(self) -> float:
        """Seconds across the plot at the wave's paper speed, less the calibration margin.

        Whole millimetres only: at the usual rates (62.5–1000 Hz) a millimetre holds a whole number of
        samples, so every sample gets its own slot, and the sweep ends on a grid line.
        """
        sweep_mm = math.floor(self.width_mm() - MARGIN_MM + 1e-6)
        return max(1.0, sweep_mm / self.speed)

    def ecg_span_mv(self) -> float:
        height_mm = self._plot_px()[1] / self.ppmm
        return height_mm / (ECG_MM_PER_MV * self.ecg_gain)

    def _on_resized(self) -> None:
        self.relayout(self.ppmm)

    def relayout(self, ppmm: float) -> None:
        """Fit the sweep to the plot's width; rebuild the buffer from the ring if its length changed."""
        self.ppmm = ppmm
        if self.channel is not None:
            sweep = self.sweep_seconds()
            if self.buffer is None or self.buffer.sweep_s != sweep:
                self._refill(sweep)
        self._apply_ranges()

    def _refill(self, sweep_s: float) -> None:
        assert self.channel is not None
        self.buffer = SweepBuffer(self.channel.rate, sweep_s, ERASE_MM / self.speed)
        chunk = self.channel.ring.latest(self.buffer.n)
        self.buffer.write(chunk.values, chunk.times)
        self.cursor = chunk.cursor
        self._range_sweep = -2
        self._dirty = True

    def _apply_ranges(self) -> None:
        # The view spans the plot's exact width in mm, so the paper speed holds to the pixel.
        x_lo = -self.margin_s()
        x_hi = x_lo + self.width_mm() / self.speed
        self.plot.vb.setXRange(x_lo, x_hi, padding=0.0)
        if self.ecg:
            span = self.ecg_span_mv()
            y_lo = self._baseline - ECG_BASELINE_FRACTION * span
            y_hi = y_lo + span
        elif self.code is MdcCode.PRESS_BLD_ART_ABP:
            y_lo, y_hi = ABP_RANGE_MMHG
        else:
            y_lo, y_hi = self._y_range or (0.0, 1.0)
        self.plot.vb.setYRange(y_lo, y_hi, padding=0.0)
        self.label.setPos(x_lo, y_hi)
        self.label.setText(self.describe())
        if self.ecg:
            self._draw_paper(x_lo, x_hi, y_lo, y_hi)

    def describe(self) -> str:
        """The wave's label as written on the trace: lead, gain and speed, so the scale is never implied."""
        lead = (
            self.channel.label
            if self.ecg and self.channel is not None and self.channel.label
            else self.label_text
        )
        if self.ecg:
            return f"{lead}  x{self.ecg_gain:g}  {ECG_MM_PER_MV * self.ecg_gain:g} mm/mV  {self.speed:g} mm/s"
        if self.code is MdcCode.PRESS_BLD_ART_ABP:
            lo, hi = ABP_RANGE_MMHG
            return f"{lead}  {lo:.0f}–{hi:.0f} {info(self.code).unit_label}  {self.speed:g} mm/s"
        return f"{lead}  {self.speed:g} mm/s"

    def _draw_paper(self, x_lo: float, x_hi: float, y_lo: float, y_hi: float) -> None:
        mm_s = 1.0 / self.speed
        mm_mv = 1.0 / (ECG_MM_PER_MV * self.ecg_gain)
        xs, x_major = grid_lines(x_lo, x_hi, 0.0, mm_s)
        ys, y_major = grid_lines(y_lo, y_hi, self._baseline, mm_mv)
        self._grid_minor.setData(*_pairs(xs[~x_major], ys[~y_major], (x_lo, x_hi), (y_lo, y_hi)))
        self._grid_major.setData(*_pairs(xs[x_major], ys[y_major], (x_lo, x_hi), (y_lo, y_hi)))
        # 1 mV for 200 ms, standing on the baseline in the margin, so it states the gain actually drawn.
        start = x_lo + (self.margin_s() - CAL_WIDTH_S) / 2
        step = (self.margin_s() - CAL_WIDTH_S) / 4
        b = self._baseline
        cal_x = [
            start - step,
            start,
            start,
            start + CAL_WIDTH_S,
            start + CAL_WIDTH_S,
            start + CAL_WIDTH_S + step,
        ]
        cal_y = [b, b, b + 1.0, b + 1.0, b, b]
        self._calibration.setData(np.asarray(cal_x), np.asarray(cal_y))

    # -- data --------------------------------------------------------------------------------------
    def pull(self, channel: WaveChannel | None, now: float) -> bool:
        """Copy what arrived since the last frame into the sweep; one `setData` if anything changed."""
        if channel is not self.channel:  # first frame, or the hub replaced the channel (new rate)
            self.channel = channel
            self.buffer = None
            if channel is not None:
                self._refill(self.sweep_seconds())
                self._apply_ranges()
        if self.channel is None or self.buffer is None:
            return False
        if self.channel.ring.count != self.cursor:
            chunk = self.channel.ring.read_since(self.cursor, max_samples=self.buffer.n)
            self.cursor = chunk.cursor
            self._dirty |= self.buffer.write(chunk.values, chunk.times)
        self._dirty |= self.buffer.follow_clock(now)
        if self.buffer.sweep_index != self._range_sweep:
            self._rescale()
        if not self._dirty:
            return False
        self.curve.setData(self.buffer.xs, self.buffer.ys)
        self._dirty = False
        return True

    def _rescale(self) -> None:
        """At each new sweep: re-centre the ECG baseline, or fit pleth/resp to the sweep just finished."""
        assert self.buffer is not None
        values = self.buffer.finite_values()
        if len(values) == 0:
            return  # keep the previous scale; retried every frame until data arrives
        self._range_sweep = self.buffer.sweep_index
        if self.ecg:
            # Snapped to a 5 mm line: the paper and trace stay put unless the baseline has really wandered.
            self._baseline = round(float(np.median(values)) / ECG_BASELINE_STEP_MV) * ECG_BASELINE_STEP_MV
        elif self.code is not MdcCode.PRESS_BLD_ART_ABP:
            lo, hi = float(values.min()), float(values.max())
            pad = max((hi - lo) * 0.08, 1e-3 * max(1.0, abs(hi)))
            self._y_range = (lo - pad, hi + 3 * pad)  # headroom for the label written at the top
        self._apply_ranges()


class NumericBox(QFrame):
    """One numeric of the right column: label and unit small, the value large, time when not current."""

    def __init__(self, large: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view: NumericView | None = None
        self.setFrameShape(QFrame.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.setSpacing(0)
        top = QHBoxLayout()
        self.head_label = QLabel()
        self.time_label = QLabel()
        self.time_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        small = QFont(self.font())
        small.setPixelSize(15)
        for label in (self.head_label, self.time_label):
            label.setFont(small)
        top.addWidget(self.head_label)
        top.addStretch(1)
        top.addWidget(self.time_label)
        layout.addLayout(top)
        self.value_label = QLabel()
        self.value_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        big = QFont(self.font())
        big.setPixelSize(64 if large else 40)
        big.setBold(True)
        self.value_label.setFont(big)
        # Never truncate a number: the label keeps the width its text needs.
        self.value_label.setSizePolicy(QSizePolicy.Policy.MinimumExpanding, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.value_label)

    def show_view(self, view: NumericView, colours: Theme) -> None:
        if view == self.view:
            return
        self.view = view
        if view.freshness is Freshness.STALE:
            colour = colours.colour("text", "stale")
        else:
            colour = colours.parameter(view.colour)
        style = f"color: {colour.name()};"
        self.head_label.setText(f"{view.label}  {view.unit}")
        self.time_label.setText(view.time_text)
        self.value_label.setText(view.text)
        for label in (self.head_label, self.time_label, self.value_label):
            label.setStyleSheet(style)
        state = {Freshness.STALE: "not current", Freshness.INVALID: "invalid", Freshness.ABSENT: "no value"}
        suffix = f" ({state[view.freshness]})" if view.freshness in state else ""
        self.setAccessibleName(f"{view.label} {view.text} {view.unit}{suffix}")


class BedView(QWidget):
    """Top-level window of one bed. Ward actions are requested by signal; the main window performs them."""

    admitRequested = Signal(str)
    moveRequested = Signal(str)
    dischargeRequested = Signal(str)
    sourceRequested = Signal(str)
    acknowledgeRequested = Signal(str)
    limitsRequested = Signal(str)

    def __init__(self, station: Station, bed_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.station = station
        self.bed_id = bed_id
        self._theme = theme()
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setObjectName("BedView")
        bg = self._theme.colours["background"]["window"]
        self.setStyleSheet(f"QWidget#BedView {{ background: {bg}; }}")
        self.setAutoFillBackground(True)
        self._ppmm = pixels_per_mm(self.screen())
        self._rows: dict[MdcCode, WaveRow] = {}
        self._codes: tuple[MdcCode, ...] = ()
        self._generation: int | None = None
        self._bed: Bed | None = None
        self._last_summary = -math.inf
        self._last_trend = -math.inf
        self._message_kind: TechnicalKind | None = None
        self._screen_watched = False
        self.numeric_boxes: list[NumericBox] = []

        root = QVBoxLayout(self)
        root.setContentsMargins(6, 6, 6, 6)
        root.setSpacing(6)
        root.addLayout(self._build_header())
        body = QHBoxLayout()
        body.setSpacing(6)
        self._waves = pg.GraphicsLayoutWidget()
        self._waves.setBackground(self._theme.colour("background", "tile"))
        self._waves.ci.layout.setContentsMargins(0, 0, 0, 0)
        self._waves.ci.layout.setSpacing(4)
        self._waves.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.message_label = QLabel(self._waves.viewport())
        self.message_label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.message_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        big = QFont(self.font())
        big.setPixelSize(30)
        big.setBold(True)
        self.message_label.setFont(big)
        self.message_label.setStyleSheet(
            f"color: {self._theme.colours['state']['technical_fg']}; background: transparent;"
        )
        self.message_label.hide()
        body.addWidget(self._waves, 3)
        body.addLayout(self._build_right_column(), 1)
        root.addLayout(body, 1)
        root.addLayout(self._build_buttons())

        self.frame_timer = QTimer(self)
        self.frame_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.frame_timer.setInterval(FRAME_MS)
        self.frame_timer.timeout.connect(self.frame)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.close)
        self.resize(1600, 900)
        self.mask_names = False  # a locked station may hide names (users issue: set_mask_names)
        self._refresh_bed()

    def set_mask_names(self, mask: bool) -> None:
        self.mask_names = mask
        self.patient_label.setText(self.patient_text(self.station.bed(self.bed_id)))

    # -- construction ------------------------------------------------------------------------------
    def _build_header(self) -> QHBoxLayout:
        header = QHBoxLayout()
        header.setSpacing(16)
        self.bed_label = QLabel()
        font = QFont(self.font())
        font.setPixelSize(26)
        font.setBold(True)
        self.bed_label.setFont(font)
        self.patient_label = QLabel()
        pfont = QFont(self.font())
        pfont.setPixelSize(20)
        self.patient_label.setFont(pfont)
        self.condition_label = QLabel()
        self.condition_label.setFont(pfont)
        self.condition_label.setStyleSheet(
            f"color: {self._theme.colours['state']['technical_fg']};"
            f" background: {self._theme.colours['state']['technical_bg']}; padding: 2px 8px;"
        )
        self.condition_label.hide()
        self.link_label = QLabel()
        self.link_label.setStyleSheet(f"color: {self._theme.colours['text']['dim']};")
        header.addWidget(self.bed_label)
        header.addWidget(self.patient_label, 1)
        header.addWidget(self.condition_label)
        header.addWidget(self.link_label)
        return header

    def _build_right_column(self) -> QVBoxLayout:
        column = QVBoxLayout()
        column.setSpacing(4)
        self._numerics_box = QVBoxLayout()
        self._numerics_box.setSpacing(2)
        column.addLayout(self._numerics_box)
        column.addWidget(FleetPanel(self.station, self.bed_id))  # pumps and glucose (device-fleet issue)
        self.alarm_list = QListWidget()
        self.alarm_list.setMaximumHeight(150)
        self.alarm_list.setWordWrap(True)
        self.alarm_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.alarm_list.setStyleSheet(
            f"QListWidget {{ background: {self._theme.colours['background']['header']};"
            f" color: {self._theme.colours['text']['normal']}; }}"
        )
        self._alarm_version = -1
        column.addWidget(self.alarm_list)
        column.addWidget(NotesPanel(self.station, self.bed_id))  # nurses' notes (handover issue)
        column.addWidget(DeteriorationPanel(self.station.services, self.bed_id))  # deterioration issue
        self._trends = pg.GraphicsLayoutWidget()
        self._trends.setBackground(self._theme.colour("background", "tile"))
        self._trends.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._trends.setMinimumHeight(300)
        self._trend_curves: dict[MdcCode, pg.PlotDataItem] = {}
        self._trend_plots: list[pg.PlotItem] = []
        dim = self._theme.colour("text", "dim")
        for i, spec in enumerate(TRENDS):
            axis = pg.DateAxisItem(orientation="bottom")
            plot = self._trends.addPlot(row=i, col=0, axisItems={"bottom": axis})
            first = info(spec.series[0][0])
            plot.setTitle(f"{spec.title}  {first.unit_label}", size="9pt", color=dim.name(), justify="left")
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            left = plot.getAxis("left")
            left.setWidth(40)
            plot.vb.disableAutoRange()
            if i != len(TRENDS) - 1:
                plot.hideAxis("bottom")  # one time axis, under the last trend; the others are linked to it
            if self._trend_plots:
                plot.setXLink(self._trend_plots[0])
            for series in spec.series:
                colour = self._theme.parameter(info(series[0]).colour)
                style: dict[str, object] = {
                    "pen": pg.mkPen(colour, width=1.5),
                    "connect": "finite",
                    "antialias": False,
                }
                if spec.symbols:
                    style |= {"symbol": "o", "symbolSize": 5, "symbolBrush": colour, "symbolPen": None}
                curve = pg.PlotDataItem(**style)
                plot.addItem(curve)
                self._trend_curves[series[0]] = curve
            self._trend_plots.append(plot)
        column.addWidget(self._trends, 1)
        return column

    def _build_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(8)
        self.admit_button = QPushButton("&Admit…")
        self.move_button = QPushButton("&Move…")
        self.discharge_button = QPushButton("&Discharge…")
        self.source_button = QPushButton("Assign &source…")
        self.ack_button = QPushButton("Ac&knowledge alarms")
        self.limits_button = QPushButton("Alarm &limits…")
        close = QPushButton("&Close")
        for button, signal in (
            (self.ack_button, self.acknowledgeRequested),
            (self.limits_button, self.limitsRequested),
            (self.admit_button, self.admitRequested),
            (self.move_button, self.moveRequested),
            (self.discharge_button, self.dischargeRequested),
            (self.source_button, self.sourceRequested),
        ):
            button.setMinimumHeight(MIN_TOUCH_PX)
            button.clicked.connect(lambda _=False, s=signal: s.emit(self.bed_id))
            row.addWidget(button)
        row.addStretch(1)
        close.setMinimumHeight(MIN_TOUCH_PX)
        close.clicked.connect(self.close)
        row.addWidget(close)
        return row

    # -- running -----------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        handle = self.windowHandle()
        if handle is not None and not self._screen_watched:
            # Dragged to another monitor: 25 mm/s must stay 25 mm/s on that glass too.
            handle.screenChanged.connect(self._screen_changed)
            self._screen_watched = True
        self._screen_changed(self.screen())
        if not self.frame_timer.isActive():
            self.frame_timer.start()
            self.frame()

    def _screen_changed(self, screen: QScreen | None) -> None:
        ppmm = pixels_per_mm(screen)
        if ppmm != self._ppmm:
            self._ppmm = ppmm
            for row in self._rows.values():
                row.relayout(ppmm)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.frame_timer.stop()
        super().closeEvent(event)

    def frame(self) -> None:
        """One display frame: new samples into the sweeps; numerics and trends when their period is due."""
        now = self.station.clock.now()
        streams = self.station.hub.streams(self.bed_id)
        self._sync_rows(streams)
        waves = streams.waves if streams is not None else {}
        for code, row in self._rows.items():
            row.pull(waves.get(code), now)
        tick = time.monotonic()
        if tick - self._last_summary >= SUMMARY_PERIOD_S:
            self._last_summary = tick
            self._refresh_bed()
            self.refresh_summary(streams, now)
            self.refresh_alarms()
        if tick - self._last_trend >= TREND_PERIOD_S:
            self._last_trend = tick
            self.refresh_trends(streams, now)

    def _sync_rows(self, streams: BedStreams | None) -> None:
        generation = streams.generation if streams is not None else None
        codes = bed_view_waves(streams.waves) if streams is not None else ()
        if generation == self._generation and codes == self._codes:
            return
        reset = generation != self._generation
        self._generation = generation
        self._codes = codes
        self._waves.clear()
        self._rows = {}
        for i, code in enumerate(codes):
            plot = self._waves.addPlot(row=i, col=0)
            self._waves.ci.layout.setRowStretchFactor(i, 3 if is_ecg(code) else 2)
            self._rows[code] = WaveRow(code, plot, self._theme, self._ppmm)
        if reset:  # a new source: its numerics and trends must not wait for their next period
            self._last_summary = -math.inf
            self._last_trend = -math.inf
        self._place_message()

    def _refresh_bed(self) -> None:
        bed = self.station.bed(self.bed_id)
        if bed == self._bed:
            return
        self._bed = bed
        self.bed_label.setText(bed.label)
        self.setWindowTitle(f"{bed.label} — WardWatch")
        self.patient_label.setText(self.patient_text(bed))
        colour = self._theme.colours["text"]["normal" if bed.patient else "dim"]
        self.patient_label.setStyleSheet(f"color: {colour};")
        self.admit_button.setEnabled(bed.patient is None)
        self.move_button.setEnabled(bed.patient is not None)
        self.discharge_button.setEnabled(bed.patient is not None)

    def patient_text(self, bed: Bed) -> str:
        patient = bed.patient
        if patient is None:
            return no_patient_text(bed)
        if self.mask_names:
            return "•••"
        today = dt.datetime.fromtimestamp(self.station.clock.now()).date()
        age = patient.age_years(today)
        age_text = "age unknown" if age is None else f"{age} y"
        return f"{patient.display_name}   MRN {patient.mrn}   {age_text}"

    def refresh_summary(self, streams: BedStreams | None, now: float) -> None:
        """Numerics, the technical message and the link badge, from the same rules as the sector."""
        views = choose_numerics(dict(streams.numerics) if streams is not None else {}, now)
        if [b.view.label if b.view else None for b in self.numeric_boxes] != [v.label for v in views]:
            self._rebuild_numerics(len(views))
        for box, view in zip(self.numeric_boxes, views, strict=True):
            box.show_view(view, self._theme)
        message, kind = top_condition(streams)
        self.condition_label.setText(f"◆ {message}" if message else "")
        self.condition_label.setVisible(bool(message))
        link, _state = link_text(streams, now)
        self.link_label.setText(link)
        if not message and not self._rows:
            bed = self._bed
            message = "No signal" if bed is not None and bed.source_spec else "No device assigned"
            kind = None
        wave_message = "" if kind is TechnicalKind.LOW_BATTERY else message
        if wave_message != self.message_label.text() or kind != self._message_kind:
            self._message_kind = kind
            self.message_label.setText(wave_message)
        self._place_message()

    def refresh_alarms(self) -> None:
        """The bed's alarms (active, then held back with their reasoning) when the snapshot moved."""
        snap = self.station.alarms.snapshot
        if snap.version == self._alarm_version:
            return
        self._alarm_version = snap.version
        lines = [
            f"{a.banner()}   {clock_text(a.raised_at)}   {state_text(a)}".rstrip()
            for a in snap.for_bed(self.bed_id)
        ]
        lines += [
            f"{a.message} held back {clock_text(a.raised_at)}"
            f"{' (ended)' if a.state is State.CLEARED else ''}: {a.reason}"
            for a in snap.held_back_for_bed(self.bed_id)
        ]
        if not lines:
            lines = ["No alarms on this bed"]
        if [self.alarm_list.item(i).text() for i in range(self.alarm_list.count())] != lines:
            self.alarm_list.clear()
            self.alarm_list.addItems(lines)

    def _rebuild_numerics(self, count: int) -> None:
        for box in self.numeric_boxes:
            self._numerics_box.removeWidget(box)
            box.deleteLater()
        self.numeric_boxes = [NumericBox(large=i < 2) for i in range(count)]
        for box in self.numeric_boxes:
            self._numerics_box.addWidget(box)

    def _place_message(self) -> None:
        """Write the message across the waves it concerns: ECG for leads off, pleth for a sensor off."""
        text = self.message_label.text()
        if not text:
            self.message_label.hide()
            return
        if self._message_kind is TechnicalKind.LEAD_OFF:
            concerned = [row for code, row in self._rows.items() if is_ecg(code)]
        elif self._message_kind is TechnicalKind.SENSOR_OFF:
            concerned = [row for code, row in self._rows.items() if code is MdcCode.PULS_OXIM_PLETH]
        else:
            concerned = []
        area = self._waves.viewport().rect()
        if concerned:
            area = QRect()
            for row in concerned:
                area = area.united(self._waves.mapFromScene(row.plot.sceneBoundingRect()).boundingRect())
        self.message_label.setGeometry(area)
        self.message_label.show()
        self.message_label.raise_()

    def refresh_trends(self, streams: BedStreams | None = None, now: float | None = None) -> None:
        """The last hour of each trend, straight from the hub's numeric history."""
        if now is None:
            now = self.station.clock.now()
        if streams is None:
            streams = self.station.hub.streams(self.bed_id)
        history = streams.numeric_history if streams is not None else {}
        for spec, plot in zip(TRENDS, self._trend_plots, strict=True):
            shown: list[npt.NDArray[np.float64]] = []
            for series in spec.series:
                curve = self._trend_curves[series[0]]
                ring = next((history[c] for c in series if c in history), None)
                if ring is None:
                    curve.setData([], [])
                    continue
                chunk = ring.since_time(now - TREND_WINDOW_S)
                values = chunk.values.astype(np.float64)
                curve.setData(chunk.times, values)
                shown.append(values[np.isfinite(values)])
            self._fit_trend(plot, np.concatenate(shown) if shown else np.empty(0))
        self._trend_plots[0].setXRange(now - TREND_WINDOW_S, now, padding=0.0)

    @staticmethod
    def _fit_trend(plot: pg.PlotItem, values: npt.NDArray[np.float64]) -> None:
        """Y range and ticks chosen here: pyqtgraph's automatic ticks crowd a plot this small."""
        if len(values) == 0:
            return
        lo, hi = float(values.min()), float(values.max())
        # A flat trend still gets a readable scale around its value.
        step = trend_tick_step(max(hi - lo, 1.0, 0.1 * abs(hi)))
        lo, hi = math.floor(lo / step) * step, math.ceil(hi / step) * step
        if hi - lo < step:
            lo, hi = lo - step, hi + step
        plot.vb.setYRange(lo, hi, padding=0.08)
        plot.getAxis("left").setTickSpacing(step, step)

    # -- for tests and the main window ---------------------------------------------------------------
    @property
    def wave_rows(self) -> dict[MdcCode, WaveRow]:
        return dict(self._rows)

    def trend_curve(self, code: MdcCode) -> pg.PlotDataItem:
        """The trend curve whose first choice is `code` (e.g. HR, NIBP sys)."""
        return self._trend_curves[code]

    def numeric_texts(self) -> dict[str, str]:
        """Label → text as shown in the right column."""
        return {b.view.label: b.view.text for b in self.numeric_boxes if b.view is not None}


__all__ = ["BedView", "NumericBox", "SweepBuffer", "WaveRow", "bed_view_waves", "pixels_per_mm"]
