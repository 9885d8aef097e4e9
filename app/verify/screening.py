"""The bedside screening for arrhythmias on the ECG: sensitive, as a monitor's is.

Each candidate it finds is then verified against every other signal (`decide.verify_alarm`). A VF is a
dominant 3.5-9 Hz rhythm without regular beats; an asystole is every lead silent for 4 s and little
electrical activity left (not broad complexes a QRS detector missed); a bradycardia or a tachycardia is
the rate of the last 5 or 17 beats; a VT is five or more wide beats faster than 100/min.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
from wardwatch.app.verify.alarm_types import ArrhythmiaType
from wardwatch.app.verify.usual_beats import VT_WIDE_S
from wardwatch.app.verify.waves import Beats, dominant_frequency, fill_gaps, run_rates
from wardwatch.app.verify.witnesses import channels


def screen(signals: Mapping[str, npt.ArrayLike], fs: float) -> list[ArrhythmiaType]:
    ecg, _ = channels(signals, fs)
    usable = [b for b in ecg if not b.flat and b.missing < 0.2]
    if not usable:
        return []  # no ECG: leads off is a technical alarm, not asystole
    lead = max(usable, key=lambda b: (len(b.times) > 1, -b.missing))
    name = lead.name
    duration = lead.duration
    found: list[ArrhythmiaType] = []
    x = np.asarray(signals[name], np.float64)[-int(4 * fs) :]
    f0, concentration = dominant_frequency(x, fs)
    recent = lead.after(duration - 4.0)
    if 3.5 <= f0 <= 9.0 and concentration >= 0.45 and (len(recent.times) < 2 or recent.regularity() > 0.2):
        found.append(ArrhythmiaType.VENTRICULAR_FLUTTER_FIB)
    silent = all(b.longest_gap(max(0.0, duration - 6.0)) >= 4.0 for b in usable)
    if silent and not found and _quiet(np.asarray(signals[name], np.float64), fs):
        found.append(ArrhythmiaType.ASYSTOLE)
    if len(lead.times) >= 5:
        slow = run_rates(lead, 5)
        if float(slow[-1]) < 40.0:
            found.append(ArrhythmiaType.BRADYCARDIA)
    if len(lead.times) >= 17 and float(run_rates(lead, 17)[-1]) > 140.0:
        found.append(ArrhythmiaType.TACHYCARDIA)
    if _ventricular_run(lead):
        found.append(ArrhythmiaType.VENTRICULAR_TACHYCARDIA)
    return found


def _quiet(x: npt.NDArray[np.float64], fs: float) -> bool:
    """The last 4 s carry little electrical activity compared with the window: a standstill, not
    broad complexes the QRS detector failed to pick (a VT it missed must not read as asystole)."""
    y, _ = fill_gaps(x)
    tail = y[-int(4 * fs) :]
    whole = float(np.percentile(y, 99) - np.percentile(y, 1))
    recent = float(np.percentile(tail, 99) - np.percentile(tail, 1))
    return whole <= 0 or recent < 0.5 * whole


def _ventricular_run(lead: Beats, since: float | None = None) -> bool:
    """Five or more consecutive wide beats faster than 100/min (in the last 8 s by default)."""
    since = lead.duration - 8.0 if since is None else since
    t, w = lead.times, lead.widths
    if len(t) < 6:
        return False
    fast = np.diff(t) < 0.6  # the interval before each beat from the second one
    wide = w[1:] >= VT_WIDE_S
    start = 0
    for i in range(len(fast) + 1):
        if i == len(fast) or not fast[i]:  # a run of fast beats ends here: beats start+1 … i
            run = wide[start:i]
            if len(run) >= 5 and run.mean() >= 0.7 and t[i] >= since:
                return True
            start = i + 1
    return False
