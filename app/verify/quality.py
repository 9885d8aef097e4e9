"""How much of an ECG lead is slow baseline movement rather than the heart's activity (pure functions).

A QRS complex puts its power at 5-25 Hz, and a run of ventricular beats at 100/min or faster adds its
own rate (1.7 Hz and up) and harmonics: neither lives below 0.8 Hz. Power down there is the baseline
moving: a patient turning or shivering, a tugged cable, a drying or loose electrode, deep breathing.
When such movement carries a large share of every lead's power over the seconds before an alarm, the
monitor's "broad complexes" are most likely that movement. A true VT added to a wandering lead lowers
the share (its beats add power above 1.7 Hz), so a high share is evidence against one, not a missed one.
The spectrum is `scipy.signal.welch`; only the band shares are computed here (no library offers this
"baseline power" quality index by name: NeuroKit2's `ecg_quality` scores templates, not wander).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.signal import welch
from wardwatch.app.verify.waves import fill_gaps

# The ECG band the recordings keep (0.05-40 Hz) and the slow part of it: below 0.8 Hz (48/min) lies no
# rhythm that matters to a VT alarm, and it stays clear of a 60/min rhythm's 1 Hz.
ECG_BAND_HZ = (0.05, 40.0)
SLOW_BELOW_HZ = 0.8
# Four-second segments resolve 0.25 Hz, so neither a 60/min rhythm nor a 100/min (1.7 Hz) run leaks
# into the slow band.
SEGMENT_S = 4.0


def slow_share(x: npt.ArrayLike, fs: float, recent_s: float) -> float | None:
    """The share of the lead's 0.05-40 Hz power below SLOW_BELOW_HZ over the last `recent_s` seconds, or None
    when the window is too short or the lead carries no power there."""
    y, _ = fill_gaps(x)
    n = int(recent_s * fs)
    segment = int(SEGMENT_S * fs)
    if n < 2 * segment or len(y) < n:
        return None
    tail = y[-n:]
    freqs, power = welch(tail - tail.mean(), fs, nperseg=segment)
    band = (freqs >= ECG_BAND_HZ[0]) & (freqs <= ECG_BAND_HZ[1])
    total = float(power[band].sum())
    if total <= 0 or not np.isfinite(total):
        return None
    return float(power[band & (freqs < SLOW_BELOW_HZ)].sum()) / total
