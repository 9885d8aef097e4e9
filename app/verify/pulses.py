"""Whether a pulse wave (arterial pressure, pleth) still shows the patient's own pulse (pure functions).

A heart at standstill or fibrillating ejects nothing, so the pulse wave loses its pulses: where the
patient's usual pulse, learned from the half-minute before, keeps recurring, the ventricles keep
ejecting. The shape is compared rather than beats counted because a pleth's dicrotic notch, a flush of
the arterial line or a little movement make a peak detector count too many or too few pulses, while
motion and noise rarely repeat the usual pulse's shape at its usual size beat after beat.
Written here on the same template matching as the usual QRS (`waves.usual_shape_gap`): no library
offers it (wfdb has no pulse detector; NeuroKit2's `ppg_quality` scores a whole window, not where
pulses are missing).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.signal import sosfiltfilt
from wardwatch.app.verify.waves import Beats, FloatArray, Stretch, band_sos, fill_gaps, usual_shape_gap

# A pulse wave with its upstroke, peak and the start of its fall, matched no closer than a heart at
# 200/min beats.
PULSE_HALF_S = 0.3
PULSE_SPACING_S = 0.3
# A wave spanning fewer converter steps than this is the converter's last digits toggling, not a pulse
# whose shape can be told apart from noise (one true asystole here shows such a "pleth", 17 steps).
MIN_STEPS = 32.0


def converter_steps(y: FloatArray) -> float:
    """How many of its converter's steps the wave spans (5th to 95th percentile)."""
    values = np.unique(y)
    steps = np.diff(values)
    steps = steps[steps > 0]
    if not len(steps):
        return 0.0
    return float(np.percentile(y, 95) - np.percentile(y, 5)) / float(steps.min())


def usual_pulse_gap(
    beats: Beats, x: npt.ArrayLike, fs: float, recent_s: float, baseline_end_s: float
) -> Stretch | None:
    """The longest stretch of the last `recent_s` seconds without the channel's usual pulse, or None when
    the channel gives no trustworthy template (flat, gaps, too coarse, or pulses unlike each other)."""
    if beats.flat or beats.missing > 0.05:
        return None
    y, _ = fill_gaps(x)
    if converter_steps(y) < MIN_STEPS:
        return None
    wave = sosfiltfilt(band_sos(0.5, 8.0, fs), y)
    return usual_shape_gap(beats.times, wave, fs, PULSE_HALF_S, PULSE_SPACING_S, recent_s, baseline_end_s)
