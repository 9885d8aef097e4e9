"""Whether the ECG leads see the same heart: agreement in time of their electrical activity (pure functions).

Every lead looks at the same depolarisation, so each beat — usual or ventricular — moves all leads at
the same instants; electrode movement or a loose contact moves one. The activity of a lead is the
envelope of its slope (1-30 Hz, absolute first difference, smoothed over 0.1 s), which peaks at every
complex whatever its shape or polarity on that lead; two leads agree when their envelopes correlate.
Written here rather than taken from a library: none offers a cross-lead agreement measure (bSQI in
BioSPPy/NeuroKit compares two detectors on *one* lead).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import numpy.typing as npt
from scipy.signal import sosfiltfilt
from wardwatch.app.verify.waves import Beats, FloatArray, band_sos, fill_gaps

ENVELOPE_S = 0.1


@dataclass(frozen=True, slots=True)
class LeadAgreement:
    leads: tuple[str, str]
    recent: float  # correlation of the two leads' activity over the recent seconds
    before: float  # the same over the baseline before them: what this patient's leads usually show


def activity(x: npt.ArrayLike, fs: float) -> FloatArray:
    """The lead's activity envelope: high during every complex, low between them."""
    y, _ = fill_gaps(x)
    slope = np.abs(np.diff(sosfiltfilt(band_sos(1.0, 30.0, fs), y), prepend=y[0]))
    width = max(1, int(ENVELOPE_S * fs))
    return np.convolve(slope, np.ones(width) / width, "same")


def _correlation(a: FloatArray, b: FloatArray) -> float:
    if len(a) < 2 or float(a.std()) <= 0 or float(b.std()) <= 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def agreements(
    ecg: Sequence[Beats],
    signals: Mapping[str, npt.ArrayLike],
    fs: float,
    recent_s: float,
    baseline_end_s: float,
) -> list[LeadAgreement]:
    """Every pair of usable leads: their agreement over the last `recent_s` and before the last
    `baseline_end_s` (empty with fewer than two usable leads or too short a window)."""
    usable = [b for b in ecg if not b.flat and b.missing <= 0.05]
    if len(usable) < 2:
        return []
    envelopes = {b.name: activity(signals[b.name], fs) for b in usable}
    n = min(len(e) for e in envelopes.values())
    recent, limit = int(recent_s * fs), n - int(baseline_end_s * fs)
    if n < recent or limit < recent:
        return []
    pairs = []
    for a, b in combinations(envelopes, 2):
        ea, eb = envelopes[a][:n], envelopes[b][:n]
        now = _correlation(ea[-recent:], eb[-recent:])
        if np.isfinite(now):
            pairs.append(LeadAgreement((a, b), now, _correlation(ea[:limit], eb[:limit])))
    return pairs


def best_agreement(pairs: Sequence[LeadAgreement]) -> LeadAgreement | None:
    """The pair of leads that agree best over the recent seconds."""
    return max(pairs, key=lambda p: p.recent, default=None)


def never_agreed(pairs: Sequence[LeadAgreement], lead: str, below: float) -> bool:
    """Whether `lead`'s activity matched no other lead's before the recent seconds: it has not been
    showing the heart's beats (a loose or misplaced electrode, a noisy cable), so it is no witness."""
    mine = [p.before for p in pairs if lead in p.leads and np.isfinite(p.before)]
    return bool(mine) and max(mine) < below
