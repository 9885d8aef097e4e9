"""NEWS2 of the monitored vitals over whole columns at once: the baseline `eval deterioration` reports
beside the model, and one of the model's features.

The chart's boundaries are those of `wardwatch.app.alarms.early_warning` (tests compare the two value by
value); here the patient is taken as on air and alert, as a monitor-only baseline must, and a parameter
not measured yet scores 0. Values are rounded half-up first, as the chart reads them.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Scores = npt.NDArray[np.int64]


def _half_up(x: Floats, step: float = 1.0) -> Floats:
    # the small epsilon keeps 36.05 (stored as 36.04999…) rounding up, as Decimal(repr(x)) does
    return np.floor(x / step + 0.5 + 1e-9) * step


def _bands(x: Floats, edges: tuple[float, ...], scores: tuple[int, ...]) -> Scores:
    """Score by the first upper edge x ≤ edge (last entry of `scores` above every edge); NaN scores 0."""
    out = np.full(x.shape, scores[-1], dtype=np.int64)
    for edge, score in reversed(list(zip(edges, scores, strict=False))):
        out = np.where(x <= edge, score, out)
    return np.where(np.isnan(x), 0, out)


def score_resp(rr: Floats) -> Scores:
    return _bands(_half_up(rr), (8, 11, 20, 24), (3, 1, 0, 2, 3))


def score_spo2_air(spo2: Floats) -> Scores:
    return _bands(_half_up(spo2), (91, 93, 95), (3, 2, 1, 0))


def score_sbp(sbp: Floats) -> Scores:
    return _bands(_half_up(sbp), (90, 100, 110, 219), (3, 2, 1, 0, 3))


def score_pulse(hr: Floats) -> Scores:
    return _bands(_half_up(hr), (40, 50, 90, 110, 130), (3, 1, 0, 1, 2, 3))


def score_temp(temp: Floats) -> Scores:
    return _bands(_half_up(temp, 0.1), (35.0 + 1e-6, 36.0 + 1e-6, 38.0 + 1e-6, 39.0 + 1e-6), (3, 1, 0, 1, 2))


def news2_vitals(*, hr: Floats, spo2: Floats, temp: Floats, sbp: Floats, resp: Floats) -> Scores:
    return score_pulse(hr) + score_spo2_air(spo2) + score_temp(temp) + score_sbp(sbp) + score_resp(resp)
