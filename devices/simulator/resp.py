"""Impedance respiration: a breath schedule drawn breath by breath, and the waveform as a pure function of it.

Each breath is an active inspiration (raised-cosine rise over ~40 % of the cycle) and a passive,
longer expiration that ends in a short pause; both ends of each are rounded, as the trace of a
real chest is. Breath length and depth vary a little
from breath to breath, and now and then the patient sighs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from wardwatch.devices.simulator.smooth import FloatArray
from wardwatch.devices.simulator.table import RowTable

_EXP_END = 0.85  # fraction of the expiratory time it takes; the rest is the end-expiratory pause
_EXP_SKEW = 0.8  # < 1: the lungs empty faster at first than at the end
_SIGH_PER_BREATH = 0.008
# Breaths held: 90 s behind what is asked (RR looks 60 s back), 10 s ahead, room at 60/min before growth.
_BREATH_CAPACITY = 160
_KEEP_BEHIND_S = 90.0
_TRIM_ABOVE_ROWS = 60


@dataclass(frozen=True, slots=True, eq=False)
class BreathArrays:
    start: FloatArray
    duration: FloatArray
    depth: FloatArray
    ti: FloatArray  # inspiratory fraction of the cycle


def breath_shape(x: FloatArray, ti: FloatArray) -> FloatArray:
    """Lung volume (0 at rest, 1 at the end of inspiration) at cycle fraction `x` in [0, 1)."""
    insp = 0.5 - 0.5 * np.cos(np.pi * np.clip(x / ti, 0.0, 1.0))
    y = np.clip((x - ti) / ((1.0 - ti) * _EXP_END), 0.0, 1.0) ** _EXP_SKEW
    expi = 0.5 + 0.5 * np.cos(np.pi * y)
    return np.where(x < ti, insp, expi)


def render_breaths(times: FloatArray, breaths: BreathArrays) -> FloatArray:
    """Lung volume scaled by each breath's depth, sampled at `times` (0 before the first breath)."""
    if len(breaths.start) == 0:
        return np.zeros(len(times))
    i = np.searchsorted(breaths.start, times, side="right") - 1
    before = i < 0
    i = np.maximum(i, 0)
    x = np.clip((times - breaths.start[i]) / breaths.duration[i], 0.0, 1.0)
    out = breaths.depth[i] * breath_shape(x, breaths.ti[i])
    out[before] = 0.0
    return out


class BreathTrain:
    """The breath schedule, drawn sequentially from its own seeded generator (so it is the same however
    and in whatever order it is asked for)."""

    def __init__(self, rate_at: Callable[[float], float], seed: list[int], start: float = -30.0) -> None:
        self._rate_at = rate_at
        self._seed = seed
        self._start = start
        self._reset()

    def _reset(self) -> None:
        self._rng = np.random.default_rng(self._seed)
        self._cursor = self._start
        self._table = RowTable(4, _BREATH_CAPACITY)  # columns: start, cycle, depth, ti
        self._complete_from = -math.inf

    def _extend_to(self, t: float, keep_from: float) -> None:
        if self._cursor > t:
            return
        target = t + 10.0  # draw ahead in batches, so trimming is rare
        rng = self._rng
        while self._cursor <= target:
            rate = max(self._rate_at(self._cursor), 2.0)
            z = rng.standard_normal(3)
            sigh = rng.random() < _SIGH_PER_BREATH
            cycle = 60.0 / rate * min(max(1.0 + 0.07 * float(z[0]), 0.75), 1.3)
            # fast breathing is shallow breathing
            depth = min(max(1.0 + 0.08 * float(z[1]), 0.7), 1.3) * math.sqrt(min(max(15.0 / rate, 0.5), 1.2))
            if sigh:
                depth *= 1.7
                cycle *= 1.4
            ti = min(max(0.40 + 0.03 * float(z[2]), 0.33), 0.47)
            self._table.append(self._cursor, cycle, depth, ti)
            self._cursor += cycle
        table = self._table
        if len(table) > _TRIM_ABOVE_ROWS and table.forget_before(keep_from - _KEEP_BEHIND_S):
            self._complete_from = float(table.times[0])

    def _ensure(self, t0: float, t1: float) -> None:
        if t0 < self._complete_from:  # asked for the forgotten past: draw again from the start
            self._reset()
        self._extend_to(t1, t0)

    def arrays(self, t0: float, t1: float) -> BreathArrays:
        """Breaths that start in [t0 - one breath, t1]: everything that shapes the signal over [t0, t1]."""
        self._ensure(t0 - 20.0, t1)
        starts = self._table.times
        i = max(0, int(np.searchsorted(starts, t0, side="right")) - 1)
        j = int(np.searchsorted(starts, t1, side="right"))
        a = self._table.rows(i, j)
        return BreathArrays(a[:, 0].copy(), a[:, 1].copy(), a[:, 2].copy(), a[:, 3].copy())

    def level(self, t: float) -> float:
        """Lung volume at one instant (0..~1), for coupling heart rate and baseline to breathing."""
        self._ensure(t - 20.0, t)
        k = int(np.searchsorted(self._table.times, t, side="right")) - 1
        if k < 0:
            return 0.0
        start, cycle, depth, ti = self._table.row(k)
        x = min((t - start) / cycle, 1.0)
        if x < ti:
            return depth * (0.5 - 0.5 * math.cos(math.pi * x / ti))
        y = min((x - ti) / ((1.0 - ti) * _EXP_END), 1.0) ** _EXP_SKEW
        return depth * (0.5 + 0.5 * math.cos(math.pi * y))

    def starts(self, t0: float, t1: float) -> FloatArray:
        """Start times of the breaths that began in [t0, t1]."""
        s = self.arrays(t0, t1).start
        return s[s >= t0]
