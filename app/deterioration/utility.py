"""The PhysioNet/CinC Challenge 2019 utility score (Reyna et al., Crit Care Med 2020;48(2):210-217).

For a septic patient the onset t_sepsis is 6 h after the first hour labelled 1 (the label runs from 6 h
before onset). An alarm earns, per hour t relative to t_sepsis:
  - from 12 h before to 6 h before: rising linearly from 0 to the full reward 1;
  - from 6 h before to 3 h after: falling linearly from 1 to 0;
  - earlier than 12 h before: the false-alarm cost −0.05 (as for any alarm on a non-septic patient).
No alarm costs nothing until 6 h before onset, then falls linearly to −2 at 3 h after (a late miss).
Hours later than 3 h after onset count for nothing. The total over all patients is normalised between
"no alarm ever" (0) and the best possible alarms (1: alarms exactly from 12 h before to 3 h after).

Written from the paper's definition (the challenge's own scoring script is not copied here).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

EARLY_H = -12.0  # reward begins
OPTIMAL_H = -6.0  # full reward
LATE_H = 3.0  # reward ends; a miss costs most
MAX_TP = 1.0
MIN_FN = -2.0
FP = -0.05
TN = 0.0


@dataclass(frozen=True, slots=True)
class UtilityScore:
    observed: float
    best: float
    inaction: float

    @property
    def normalised(self) -> float:
        span = self.best - self.inaction
        return (self.observed - self.inaction) / span if span else 0.0


def patient_utility(labels: npt.ArrayLike, alarms: npt.ArrayLike) -> float:
    """Utility of one patient's hourly alarms (0/1) against its hourly SepsisLabel (0/1)."""
    y = np.asarray(labels, dtype=np.int64)
    p = np.asarray(alarms, dtype=np.int64)
    if y.shape != p.shape:
        raise ValueError(f"labels and alarms differ in length ({y.size} and {p.size})")
    t = np.arange(y.size, dtype=np.float64)
    if not y.any():
        return float(np.sum(np.where(p == 1, FP, TN)))
    onset = float(np.argmax(y)) - OPTIMAL_H
    rel = t - onset
    counted = rel <= LATE_H
    rise = np.maximum(MAX_TP * (rel - EARLY_H) / (OPTIMAL_H - EARLY_H), FP)
    fall = MAX_TP * (LATE_H - rel) / (LATE_H - OPTIMAL_H)
    alarm_u = np.where(rel <= OPTIMAL_H, rise, fall)
    miss_u = np.where(rel <= OPTIMAL_H, 0.0, MIN_FN * (rel - OPTIMAL_H) / (LATE_H - OPTIMAL_H))
    u = np.where(p == 1, alarm_u, miss_u)
    return float(np.sum(np.where(counted, u, 0.0)))


@dataclass(frozen=True, slots=True)
class RowUtilities:
    """What an alarm, and what no alarm, earns at each row: scoring any alarms is then one sum (the
    threshold search scores hundreds of candidates this way)."""

    if_alarm: npt.NDArray[np.float64]
    if_quiet: npt.NDArray[np.float64]
    best: npt.NDArray[np.bool_]  # the best possible alarms

    def score(self, alarms: npt.ArrayLike) -> UtilityScore:
        p = np.asarray(alarms).astype(bool)
        return UtilityScore(
            observed=float(np.sum(np.where(p, self.if_alarm, self.if_quiet))),
            best=float(np.sum(np.where(self.best, self.if_alarm, self.if_quiet))),
            inaction=float(np.sum(self.if_quiet)),
        )


def row_utilities(labels: npt.ArrayLike, starts: npt.ArrayLike | Sequence[int]) -> RowUtilities:
    """Rows grouped by patient in hour order, `starts[i]` the index of row i's patient's first row (as
    `features.patient_starts` gives); the hour of a row is its place in its patient's rows."""
    y = np.asarray(labels, dtype=np.int64)
    s = np.asarray(starts, dtype=np.int64)
    n = y.size
    if n == 0:
        empty = np.zeros(0)
        return RowUtilities(empty, empty, np.zeros(0, dtype=bool))
    pos = np.arange(n, dtype=np.int64) - s
    firsts = np.flatnonzero(s == np.arange(n))
    group = np.cumsum(s == np.arange(n)) - 1
    big = np.iinfo(np.int64).max // 4
    first_label = np.minimum.reduceat(np.where(y == 1, pos, big), firsts)[group]
    septic = first_label < big
    rel = (pos - (first_label - OPTIMAL_H)).astype(np.float64)
    counted = septic & (rel <= LATE_H)
    rise = np.maximum(MAX_TP * (rel - EARLY_H) / (OPTIMAL_H - EARLY_H), FP)
    fall = MAX_TP * (LATE_H - rel) / (LATE_H - OPTIMAL_H)
    early = rel <= OPTIMAL_H
    if_alarm = np.where(septic, np.where(counted, np.where(early, rise, fall), 0.0), FP)
    miss = MIN_FN * (rel - OPTIMAL_H) / (LATE_H - OPTIMAL_H)
    if_quiet = np.where(counted & ~early, miss, TN)
    best = septic & (rel >= EARLY_H) & (rel <= LATE_H)
    return RowUtilities(if_alarm, if_quiet, best)


def utility_score(
    labels: npt.ArrayLike, alarms: npt.ArrayLike, starts: npt.ArrayLike | Sequence[int]
) -> UtilityScore:
    """Normalised utility over many patients (rows as for `row_utilities`)."""
    return row_utilities(labels, starts).score(alarms)
