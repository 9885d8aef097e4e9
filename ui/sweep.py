"""Incremental sweep traces: each frame draws only the new samples into a backing image.

A central station's waves move left to right with an erase bar. Redrawing whole curves every frame
costs ~0.85 ms per bed (../shared/ARCHITECTURE.md) and caps a 2-core PC at ~25 beds; a sweep only
changes a thin strip per frame, so each trace paints just its new segment into the tile's QImage and
reports the strip it touched. The widget then repaints only those strips.

x is derived from the sample's station time (`t mod sweep`), so every trace of a bed with the same
sweep shares one erase bar, gaps in time stay gaps, and NaN samples break the line (lead off, dropout).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np
import numpy.typing as npt
import pyqtgraph.functions as fn
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QPainter, QPen
from wardwatch.app.ring import SampleRing

ERASE_PX = 6  # width of the blank bar ahead of the pen
BLACK = QColor(0, 0, 0)


class ScaleMode(Enum):
    ECG = "ecg"  # fixed gain in mV, baseline tracked per sweep
    FIXED = "fixed"  # fixed physical range (arterial pressure)
    AUTO = "auto"  # range follows the last sweep (pleth, respiration: normalised units)


@dataclass(slots=True)
class TraceScale:
    mode: ScaleMode
    lo: float
    hi: float
    gain: float = 1.0  # ECG: display gain (x1 = the band holds 2.5 mV)


def ecg_scale(gain: float = 1.0) -> TraceScale:
    return TraceScale(ScaleMode.ECG, -0.9, 1.6, gain)


def sweep_x(
    times: npt.NDArray[np.float64], sweep_s: float, left: float, width: float, phase_s: float = 0.0
) -> npt.NDArray[np.float64]:
    """Pixel x of each sample time on a sweep of `sweep_s` seconds across `width` pixels.

    `phase_s` shifts where the sweep wraps; beds get different phases so that not every trace of the
    ward wraps (and re-scales) in the same frame.
    """
    return left + np.mod(times + phase_s, sweep_s) * (width / sweep_s)


def scale_moved(old: tuple[float, float], new: tuple[float, float], tolerance: float = 0.2) -> bool:
    """Whether a trace's range (lo, hi) changed by more than `tolerance` of its span, in size or place."""
    span = max(old[1] - old[0], 1e-12)
    return abs((new[1] - new[0]) - span) > tolerance * span or abs(new[0] - old[0]) > tolerance * span


def segment_breaks(
    times: npt.NDArray[np.float64], xs: npt.NDArray[np.float64], ys: npt.NDArray[np.float64], max_gap_s: float
) -> npt.NDArray[np.intp]:
    """Indices i where the line must not join sample i-1 to sample i (wrap, time gap or NaN)."""
    if len(times) < 2:
        return np.empty(0, np.intp)
    wrap = np.diff(xs) < 0
    gap = np.diff(times) > max_gap_s
    nan = np.isnan(ys)
    bad = wrap | gap | nan[1:] | nan[:-1]
    return np.flatnonzero(bad) + 1


class SweepTrace:
    """One channel's sweep inside a band (a rectangle of the tile's backing image).

    `advance` runs for every trace of every bed each frame, so its common case (a few contiguous
    finite samples) is one short polyline built straight into a QPolygonF's memory.
    """

    def __init__(
        self,
        band: QRect,
        sweep_s: float,
        colour: QColor,
        scale: TraceScale,
        line_width: float = 1.0,
        phase_s: float = 0.0,
    ) -> None:
        self.sweep_s = sweep_s
        self.phase_s = phase_s
        self.pen = QPen(colour)
        self.pen.setWidthF(line_width)
        self.pen.setCosmetic(True)
        self.scale = scale
        self.cursor = 0
        self._last: tuple[float, float, float] | None = None  # (t, x, y) of the last point drawn
        self._pen_x: float | None = None
        self.newest_time: float | None = None
        self.has_data = False
        self._settled = False
        self._scaled_at = 0
        self._set_band(band)

    def _set_band(self, band: QRect) -> None:
        self.band = QRect(band)
        self._left = float(band.left())
        self._width = max(1, band.width())
        self._kx = self._width / self.sweep_s
        self._top = float(band.top())
        self._bottom = float(band.top() + band.height() - 1)
        self._update_y_map()

    def _update_y_map(self) -> None:
        s = self.scale
        self._ky = (self._bottom - self._top) / (s.hi - s.lo)

    # -- scale -------------------------------------------------------------------------------------
    def _rescale(self, ring: SampleRing, rate_hint: int) -> None:
        self._scaled_at = ring.count
        recent = ring.latest(max(16, rate_hint)).values
        # Until a whole sweep has been seen, the range is a guess from what there is: keep refining it.
        self._settled = recent.size >= 0.9 * rate_hint
        if recent.size > 512:  # the scale needs the range, not every sample: keep it cheap per sweep
            recent = recent[:: recent.size // 256]
        finite = recent[np.isfinite(recent)]
        if finite.size < 4:
            return
        s = self.scale
        if s.mode is ScaleMode.ECG:
            base = float(np.median(finite))
            span = 2.5 / max(s.gain, 1e-3)
            s.lo, s.hi = base - 0.36 * span, base + 0.64 * span
        elif s.mode is ScaleMode.AUTO:
            lo, hi = (float(v) for v in np.percentile(finite, (1.0, 99.0)))
            span = hi - lo
            if span <= 1e-9 * max(1.0, abs(hi)):  # flat signal: centre it rather than divide by ~0
                lo, hi, span = lo - 0.5, hi + 0.5, 1.0
            s.lo, s.hi = lo - 0.1 * span, hi + 0.1 * span
        self._update_y_map()

    def y_of(
        self, values: npt.NDArray[np.floating], out: npt.NDArray[np.float64] | None = None
    ) -> npt.NDArray[np.float64]:
        """Pixel y of each value, clipped to the band so an artefact stays inside its own trace."""
        ys = np.subtract(values, self.scale.lo, out=out, dtype=np.float64)
        ys *= -self._ky
        ys += self._bottom
        # maximum/minimum rather than np.clip: the same result with a fraction of the call overhead on
        # the few samples a frame brings
        np.maximum(ys, self._top, out=ys)
        return np.minimum(ys, self._bottom, out=ys)

    # -- drawing -----------------------------------------------------------------------------------
    def reset(self, band: QRect, ring: SampleRing | None, rate: float) -> None:
        """Start over in a new band, re-drawing the last sweep's worth of samples from the ring."""
        self._set_band(band)
        self.has_data = False
        self._rewind(ring, rate)
        if ring is not None:
            self._rescale(ring, int(rate * self.sweep_s))

    def _rewind(self, ring: SampleRing | None, rate: float) -> None:
        """Forget the pen and go back far enough in the ring to draw the last sweep again."""
        self._last = None
        self._pen_x = None
        self.cursor = max(0, ring.count - int(rate * self.sweep_s * 0.98)) if ring is not None else 0

    def advance(
        self, painter: QPainter, ring: SampleRing, rate: float, until: float = math.inf
    ) -> list[tuple[int, int]]:
        """Draw the samples up to time `until` not drawn yet; return the changed column spans (x, width).

        Samples newer than `until` stay in the ring for a later frame: devices deliver in bursts,
        and playing the wave out a burst behind makes it sweep evenly instead of in jumps.
        """
        chunk = ring.read_since(self.cursor)
        values = chunk.values
        times = chunk.times
        n = values.size
        if n and times[-1] > until:
            k = int(np.searchsorted(times, until, side="right"))
            values, times = values[:k], times[:k]
            self.cursor = chunk.cursor - (n - k)
            n = k
        else:
            self.cursor = chunk.cursor
        if n == 0:
            return []
        prev = self._last
        t_first, t_last = float(times[0]), float(times[-1])
        x_first = self._left + ((t_first + self.phase_s) % self.sweep_s) * self._kx
        unsettled = not self._settled and self.cursor - self._scaled_at >= rate * 0.5
        if (
            not self.has_data
            or unsettled
            or (prev is not None and (x_first < prev[1] or t_first - prev[0] >= self.sweep_s))
        ):
            # A new sweep begins: follow the signal's baseline and range, as a monitor does per sweep.
            before = (self.scale.lo, self.scale.hi)
            self._rescale(ring, int(rate * self.sweep_s))
            if unsettled and self.has_data and scale_moved(before, (self.scale.lo, self.scale.hi)):
                # What is on screen was drawn at a scale guessed from the first few samples (a pleth's
                # first half-beat), clipped flat at the band's edges: draw it again at the better one.
                return self._redraw(painter, ring, rate, until)
            self.has_data = True
        self.newest_time = t_last
        max_gap = max(3.0 / rate, 0.15)
        x_last = self._left + ((t_last + self.phase_s) % self.sweep_s) * self._kx
        spans = self._erase(painter, x_first, x_last, t_first, t_last)
        painter.setPen(self.pen)
        simple = (
            x_last >= x_first
            and t_last - t_first <= (n - 1) / rate + 0.5 * max_gap
            and not math.isnan(float(values.sum()))  # one reduction instead of a boolean array
        )
        if simple:
            joined = prev is not None and t_first - prev[0] <= max_gap and x_first >= prev[1]
            k = 1 if joined else 0
            if n + k >= 2:
                poly = fn.create_qpolygonf(n + k)
                arr = fn.ndarray_from_qpolygonf(poly)
                if joined:
                    arr[0, 0], arr[0, 1] = prev[1], prev[2]  # type: ignore[index]
                xs = arr[k:, 0]
                np.add(times, self.phase_s, out=xs)
                np.mod(xs, self.sweep_s, out=xs)
                xs *= self._kx
                xs += self._left
                self.y_of(values, out=arr[k:, 1])
                painter.drawPolyline(poly)
                self._last = (t_last, float(arr[-1, 0]), float(arr[-1, 1]))
            else:
                y = float(self.y_of(values)[0])
                painter.drawPoint(int(x_first), int(y))
                self._last = (t_last, x_first, y)
        else:
            xs = sweep_x(times, self.sweep_s, self._left, float(self._width), self.phase_s)
            self._draw_segments(painter, times, xs, self.y_of(values), max_gap)
        return spans

    def _redraw(
        self, painter: QPainter, ring: SampleRing, rate: float, until: float
    ) -> list[tuple[int, int]]:
        painter.fillRect(self.band, BLACK)
        self._rewind(ring, rate)
        return [(self.band.left(), self._width), *self.advance(painter, ring, rate, until)]

    def _erase(
        self, painter: QPainter, x_first: float, x_last: float, t_first: float, t_last: float
    ) -> list[tuple[int, int]]:
        """Blank the columns from the last pen position to just ahead of the newest sample (erase bar)."""
        w = self._width
        left = self.band.left()
        start = self._pen_x if self._pen_x is not None else x_first
        t_prev = self._last[0] if self._last is not None else t_first
        distance = float(w) if t_last - t_prev >= self.sweep_s else (x_last - start) % w
        self._pen_x = x_last
        x0 = math.floor(start) + 1 - left
        if x0 >= w:
            x0 = 0
        length = min(math.ceil(distance) + ERASE_PX, w)
        first = min(length, w - x0)
        spans = [(left + x0, first)]
        if length > first:
            spans.append((left, length - first))
        top, height = self.band.top(), self.band.height()
        for x, width in spans:
            painter.fillRect(x, top, width, height, BLACK)
        return spans

    def _draw_segments(
        self,
        painter: QPainter,
        times: npt.NDArray[np.float64],
        xs: npt.NDArray[np.float64],
        ys: npt.NDArray[np.float64],
        max_gap: float,
    ) -> None:
        """General case: the chunk wraps, has a time gap or NaN samples, so it is drawn in pieces."""
        prev = self._last
        if prev is not None and not np.isnan(ys[0]) and times[0] - prev[0] <= max_gap and xs[0] >= prev[1]:
            times = np.concatenate(([prev[0]], times))
            xs = np.concatenate(([prev[1]], xs))
            ys = np.concatenate(([prev[2]], ys))
        breaks = segment_breaks(times, xs, ys, max_gap)
        bounds = np.concatenate(([0], breaks, [len(xs)]))
        for a, z in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            if np.isnan(ys[a]):  # segments are either all NaN (a single sample) or all finite
                continue
            if z - a == 1:
                painter.drawPoint(int(xs[a]), int(ys[a]))
                continue
            poly = fn.create_qpolygonf(z - a)
            arr = fn.ndarray_from_qpolygonf(poly)
            arr[:, 0] = xs[a:z]
            arr[:, 1] = ys[a:z]
            painter.drawPolyline(poly)
        last_i = len(xs) - 1
        self._last = (
            None if np.isnan(ys[last_i]) else (float(times[last_i]), float(xs[last_i]), float(ys[last_i]))
        )
