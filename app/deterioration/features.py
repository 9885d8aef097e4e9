"""Features of each patient-hour from that patient's rows up to and including it (pure, vectorised).

Rows arrive sorted by patient, then by hour, one row per hour; `starts[i]` is the index of the first row
of row i's patient. Every operation below only ever looks backwards from a row to its patient's first
row (last value carried forward, shifts by k hours, running counts), so a feature never sees a later
hour or another patient: removing later rows cannot change it (tests pin this down).

The features are chosen to mean the same in any hospital: the patient's own trends and deltas, how far
a value has moved from the patient's own running average, how long since each value was measured and
how often it was. Ward and unit flags and the time from hospital admission are left out on purpose: they
encode one hospital's organisation, not the patient.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.ndimage import maximum_filter1d, minimum_filter1d
from wardwatch.app.deterioration.columns import LABS
from wardwatch.app.deterioration.news2_vector import news2_vitals

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

TREND_VITALS: tuple[str, ...] = ("HR", "O2Sat", "Temp", "SBP", "MAP", "DBP", "Resp")
WINDOW_H = 6
LONG_WINDOW_H = 24
LONG_TREND_VITALS: tuple[str, ...] = ("HR", "Temp", "SBP", "MAP", "Resp")
# How long a stay the features can tell apart. In set A, 64 % of the patients who never become septic
# have records ending between 36 and 59 h and only 8 of 18,546 go past 60 h, while septic patients'
# records run on to their onset: there, "still here after 36 h" says "will become septic" (the
# record's length is chosen by the future label), and a model that reads the stay's length learns
# that instead of the patient. On a ward, where stays last days, it raised stable patients' risk
# fivefold from day 2 to day 3. So no feature reaches back further than 36 h: the time on the unit,
# the hours since a measurement, counts, own means, lowest and highest values all stop there.
STAY_HORIZON_H = 36


@dataclass(frozen=True, slots=True)
class Features:
    names: tuple[str, ...]
    matrix: npt.NDArray[np.float32]  # rows × names


class _Grouped:
    """Backward-looking operations on rows grouped by patient (contiguous, in hour order)."""

    def __init__(self, starts: Ints) -> None:
        self.starts = starts
        self.index = np.arange(len(starts), dtype=np.int64)
        self.pos = self.index - starts  # hours since the patient's first row
        self.group = np.cumsum(starts == self.index)

    def last_index(self, present: npt.NDArray[np.bool_]) -> Ints:
        """Index of the latest row ≤ i of the same patient where `present`, else -1."""
        idx = np.where(present, self.index, -1)
        last = np.maximum.accumulate(idx) if len(idx) else idx
        return np.where(last >= self.starts, last, -1)

    def carried(self, x: Floats, last: Ints) -> Floats:
        return np.where(last >= 0, x[np.maximum(last, 0)], np.nan)

    def shift(self, x: Floats, k: int) -> Floats:
        out = np.full_like(x, np.nan)
        if k < len(x):
            out[k:] = x[: len(x) - k]
        out[self.pos < k] = np.nan
        return out

    def running_count(self, present: npt.NDArray[np.bool_]) -> Floats:
        c = np.cumsum(present, dtype=np.int64)
        before = c[self.starts] - present[self.starts]
        return (c - before).astype(np.float64)

    def count_within(self, present: npt.NDArray[np.bool_], hours: int) -> Floats:
        c = self.running_count(present)
        earlier = self.shift(c, hours)
        return c - np.nan_to_num(earlier, nan=0.0)

    def window(self, x: Floats, hours: int) -> Floats:
        """rows × hours: the raw values of the last `hours` hours (NaN where absent or before admission)."""
        return np.stack([self.shift(x, k) for k in range(hours)], axis=1)

    def recent_extremes(self, x: Floats, hours: int) -> tuple[Floats, Floats]:
        """The lowest and highest value of the patient's last `hours` hours (NaN if none measured)."""
        lowest = self._recent(x, hours, minimum_filter1d, np.inf)
        return lowest, self._recent(x, hours, maximum_filter1d, -np.inf)

    def _recent(self, x: Floats, hours: int, sliding: Callable[..., Floats], blank: float) -> Floats:
        filled = np.where(np.isnan(x), blank, x)
        # one sliding window over all rows ending at each row (scipy, an order faster than pandas'
        # grouped rolling); a window still reaching into the patient before is the patient's own
        # cumulative extreme instead
        out = sliding(filled, size=hours, mode="nearest", origin=(hours - 1) // 2)
        grouped = pd.Series(filled).groupby(self.group)
        so_far = (grouped.cummin() if blank > 0 else grouped.cummax()).to_numpy(np.float64)
        out = np.where(self.pos < hours - 1, so_far, out)
        return np.where(np.isinf(out), np.nan, out)

    def recent_mean(self, x: Floats, hours: int) -> Floats:
        present = ~np.isnan(x)
        # summed within each patient (not one long sum minus an offset), so that rounding never
        # depends on the patients before
        total = pd.Series(np.where(present, x, 0.0)).groupby(self.group).cumsum().to_numpy(np.float64)
        total = total - np.nan_to_num(self.shift(total, hours), nan=0.0)
        n = self.count_within(present, hours)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, total / n, np.nan)


def _hours_since(g: _Grouped, last: Ints) -> Floats:
    hours = np.where(last >= 0, g.index - last, np.nan).astype(np.float64)
    return np.minimum(hours, STAY_HORIZON_H)


def _nan_stats(w: Floats) -> tuple[Floats, Floats, Floats, Floats]:
    n = np.sum(~np.isnan(w), axis=1)
    safe = np.where(np.isnan(w), 0.0, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, safe.sum(axis=1) / n, np.nan)
        sq = np.where(np.isnan(w), 0.0, (w - mean[:, None]) ** 2).sum(axis=1)
        std = np.where(n > 1, np.sqrt(sq / np.maximum(n - 1, 1)), np.nan)
    lo = np.where(n > 0, np.where(np.isnan(w), np.inf, w).min(axis=1), np.nan)
    hi = np.where(n > 0, np.where(np.isnan(w), -np.inf, w).max(axis=1), np.nan)
    return mean, std, lo, hi


def patient_starts(patients: npt.NDArray[np.object_] | npt.NDArray[np.str_]) -> Ints:
    """`starts[i]` for rows already grouped by patient (a patient's rows contiguous)."""
    n = len(patients)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    new = np.ones(n, dtype=bool)
    new[1:] = patients[1:] != patients[:-1]
    first = np.where(new, np.arange(n, dtype=np.int64), 0)
    return np.maximum.accumulate(first)


def _bands(x: Floats, edges: tuple[float, ...], points: tuple[float, ...], rising: bool) -> Floats:
    """Points by the first edge passed (rising: x >= edge scores more; falling: x < edge); NaN → 0."""
    out = np.zeros_like(x)
    for edge, p in zip(edges, points, strict=True):
        out = np.where((x >= edge) if rising else (x < edge), p, out)
    return np.where(np.isnan(x), 0.0, out)


def partial_sofa(carried: Mapping[str, Floats]) -> Floats:
    """SOFA from what the table holds: platelets, bilirubin, creatinine, mean pressure < 70 (no drugs
    known), and the SpO₂/FiO₂ ratio for the lungs (Rice et al., Chest 2007: S/F 512, 357, 214, 89 as
    P/F 400, 300, 200, 100). A part not measured scores 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        fio2 = carried["FiO2"]
        fio2 = np.where(fio2 > 1.0, fio2 / 100.0, fio2)  # a few rows give per cent
        sf = carried["O2Sat"] / fio2
    return (
        _bands(carried["Platelets"], (150.0, 100.0, 50.0, 20.0), (1, 2, 3, 4), rising=False)
        + _bands(carried["Bilirubin_total"], (1.2, 2.0, 6.0, 12.0), (1, 2, 3, 4), rising=True)
        + _bands(carried["Creatinine"], (1.2, 2.0, 3.5, 5.0), (1, 2, 3, 4), rising=True)
        + _bands(carried["MAP"], (70.0,), (1,), rising=False)
        + _bands(sf, (512.0, 357.0, 214.0, 89.0), (1, 2, 3, 4), rising=False)
    )


def news2_carried(columns: Mapping[str, Floats], starts: Ints) -> npt.NDArray[np.int64]:
    """Vitals-only NEWS2 (air, alert) of each row from the patient's latest values up to it."""
    g = _Grouped(starts)
    carried = {}
    for name in ("HR", "O2Sat", "Temp", "SBP", "Resp"):
        x = np.asarray(columns.get(name, np.full(len(starts), np.nan)), dtype=np.float64)
        carried[name] = g.carried(x, g.last_index(~np.isnan(x)))
    return news2_vitals(
        hr=carried["HR"],
        spo2=carried["O2Sat"],
        temp=carried["Temp"],
        sbp=carried["SBP"],
        resp=carried["Resp"],
    )


def compute_features(columns: Mapping[str, Floats], starts: Ints) -> Features:
    """The feature matrix; `columns` holds the challenge's measured columns plus Age, Gender and ICULOS
    (float, NaN = not measured); a column absent from the mapping counts as never measured."""
    n = len(starts)
    g = _Grouped(starts)
    nan = np.full(n, np.nan)

    def col(name: str) -> Floats:
        x = columns.get(name)
        return nan if x is None else np.asarray(x, dtype=np.float64)

    names: list[str] = []
    cols: list[Floats] = []

    def add(name: str, values: Floats) -> None:
        names.append(name)
        cols.append(values)

    add("ICULOS", np.minimum(col("ICULOS"), STAY_HORIZON_H))
    add("Age", col("Age"))
    add("Gender", col("Gender"))
    carried: dict[str, Floats] = {}
    for name in (*TREND_VITALS, "EtCO2"):
        x = col(name)
        present = ~np.isnan(x)
        last = g.last_index(present)
        ff = g.carried(x, last)
        carried[name] = ff
        add(name, ff)
        add(f"{name}_hours_since", _hours_since(g, last))
        if name == "EtCO2":
            continue
        add(f"{name}_delta1", ff - g.shift(ff, 1))
        add(f"{name}_delta{WINDOW_H}", ff - g.shift(ff, WINDOW_H))
        mean, std, lo, hi = _nan_stats(g.window(x, WINDOW_H))
        add(f"{name}_mean{WINDOW_H}", mean)
        add(f"{name}_std{WINDOW_H}", std)
        add(f"{name}_min{WINDOW_H}", lo)
        add(f"{name}_max{WINDOW_H}", hi)
        add(f"{name}_from_own_mean", ff - g.recent_mean(x, STAY_HORIZON_H))
        lo, hi = g.recent_extremes(x, STAY_HORIZON_H)
        add(f"{name}_above_lowest", ff - lo)
        add(f"{name}_below_highest", hi - ff)
        if name in LONG_TREND_VITALS:
            mean, _, lo, hi = _nan_stats(g.window(x, LONG_WINDOW_H))
            add(f"{name}_mean{LONG_WINDOW_H}", mean)
            add(f"{name}_min{LONG_WINDOW_H}", lo)
            add(f"{name}_max{LONG_WINDOW_H}", hi)
        add(f"{name}_count{LONG_WINDOW_H}", g.count_within(present, LONG_WINDOW_H))
    # laboratory results of all tests together, in the last 6 h, 24 h and 36 h
    lab_counts = {hours: np.zeros(n) for hours in (WINDOW_H, LONG_WINDOW_H, STAY_HORIZON_H)}
    for name in LABS:
        x = col(name)
        present = ~np.isnan(x)
        last = g.last_index(present)
        ff = g.carried(x, last)
        carried[name] = ff
        before = np.where(last > starts, last - 1, -1)
        prev = np.where(before >= 0, ff[np.maximum(before, 0)], np.nan)  # the value measured before
        add(name, ff)
        add(f"{name}_hours_since", _hours_since(g, last))
        counts = {hours: g.count_within(present, hours) for hours in lab_counts}
        for hours, total in lab_counts.items():
            total += counts[hours]
        add(f"{name}_count{STAY_HORIZON_H}", counts[STAY_HORIZON_H])
        add(f"{name}_change", ff - prev)
        lo, hi = g.recent_extremes(x, STAY_HORIZON_H)
        add(f"{name}_lowest", lo)
        add(f"{name}_highest", hi)
    add(f"labs_count{LONG_WINDOW_H}", lab_counts[LONG_WINDOW_H])
    with np.errstate(invalid="ignore", divide="ignore"):
        add("shock_index", carried["HR"] / carried["SBP"])
        add("pulse_pressure", carried["SBP"] - carried["DBP"])
        add("bun_creatinine", carried["BUN"] / carried["Creatinine"])
    news = news2_vitals(
        hr=carried["HR"],
        spo2=carried["O2Sat"],
        temp=carried["Temp"],
        sbp=carried["SBP"],
        resp=carried["Resp"],
    ).astype(np.float64)
    add("news2_vitals", news)
    add(f"news2_vitals_delta{WINDOW_H}", news - g.shift(news, WINDOW_H))
    # Sepsis-3 reads organ failure as a rise of SOFA by 2 or more: the part of SOFA the table allows
    sofa = partial_sofa(carried)
    lowest_sofa, _ = g.recent_extremes(sofa, STAY_HORIZON_H)
    add("sofa_partial", sofa)
    add("sofa_rise", sofa - lowest_sofa)
    add(f"sofa_delta{LONG_WINDOW_H}", sofa - g.shift(sofa, LONG_WINDOW_H))
    add(
        "qsofa_partial",
        (carried["Resp"] >= 22).astype(np.float64) + (carried["SBP"] <= 100).astype(np.float64),
    )
    hours = np.minimum(g.pos + 1, STAY_HORIZON_H).astype(np.float64)
    add("labs_per_hour", lab_counts[STAY_HORIZON_H] / hours)
    add(f"labs_count{WINDOW_H}", lab_counts[WINDOW_H])
    matrix = np.column_stack(cols).astype(np.float32) if cols else np.zeros((n, 0), np.float32)
    return Features(tuple(names), matrix)
