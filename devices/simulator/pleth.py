"""Photoplethysmogram as a pure function of time: one pulse per perfusing beat.

A pulse (in its own time τ, seconds for a 75 bpm beat) rises steeply to the systolic peak about 0.14 s
after its foot, falls to a dicrotic notch near 0.32 s, shows the small dicrotic wave, then runs off
through diastole. Its time axis stretches gently with the cycle length, because systole changes
little with rate while diastole takes up the rest.
"""

from __future__ import annotations

import numpy as np
from wardwatch.devices.simulator.smooth import FloatArray

_SYS_PEAK = 0.14
_SYS_RISE = 0.05  # a steep upstroke ...
_SYS_FALL = 0.10  # ... and a slower fall
_DICROTIC = (0.37, 0.05, 0.20)  # centre, σ, height
_RUNOFF = (0.52, 0.15, 0.10)

# Where a pulse is still visible, in its own time: used to choose the beats that touch a window.
PULSE_REACH = (-0.3, 1.1)

# The display baseline and the span a normal pulse fills (a monitor auto-scales the pleth like this).
BASE_LEVEL = 0.08
SPAN = 0.82


def pulse_scale(cycle_s: float) -> float:
    """Time stretch of a pulse for a given mean cycle length (1.0 at 0.8 s, i.e. 75 bpm)."""
    return float(min(max(cycle_s / 0.8, 0.5), 1.5) ** 0.5)


def pulse_shape(tau: FloatArray) -> FloatArray:
    """One pulse of height ≈ 1 at its own time `tau` (0 = foot)."""
    sigma = np.where(tau < _SYS_PEAK, _SYS_RISE, _SYS_FALL)
    out = np.exp(-0.5 * ((tau - _SYS_PEAK) / sigma) ** 2)
    for centre, width, height in (_DICROTIC, _RUNOFF):
        out += height * np.exp(-0.5 * ((tau - centre) / width) ** 2)
    return out


# The pulse tabulated every 0.5 ms of its own time over its reach, plus one zero at each end: drawing a
# pulse is then a lookup instead of three exponentials per sample.
_TABLE_STEP = 0.0005
_TABLE_TAU: FloatArray = PULSE_REACH[0] + _TABLE_STEP * np.arange(
    round((PULSE_REACH[1] - PULSE_REACH[0]) / _TABLE_STEP), dtype=np.float64
)
_TABLE = np.concatenate((np.zeros(1), pulse_shape(_TABLE_TAU), np.zeros(1)))
_TABLE.setflags(write=False)


def render_pulses(times: FloatArray, feet: FloatArray, heights: FloatArray, scales: FloatArray) -> FloatArray:
    """Sum of pulses with their feet at `feet`, sampled at `times` (0 where no pulse reaches)."""
    if len(feet) == 0 or len(times) == 0:
        return np.zeros(len(times))
    tau = (times[None, :] - feet[:, None]) / scales[:, None]
    index = np.rint((tau - PULSE_REACH[0]) / _TABLE_STEP).astype(np.intp) + 1
    np.clip(index, 0, len(_TABLE) - 1, out=index)  # outside its reach a pulse reads the zeros at the ends
    return np.asarray((heights[:, None] * _TABLE[index]).sum(axis=0), dtype=np.float64)
