"""NEWS2 over a period, worked out again from what the record holds (pure functions).

The station scores NEWS2 live from the newest numerics and keeps the scores in memory only; the record
keeps the numerics themselves (one value a second) and every entry a nurse made (consciousness, air or
oxygen, SpO₂ scale) in the alarm journal. Scoring those again, a point a minute, gives the trajectory
for any period of any record — one recorded before this feature, a replayed one, or the benchmark's —
with the same scoring functions the live score uses, and no second copy of the truth to disagree with.

At each minute a parameter counts with its newest recorded value, as long as that value is no older
than the live score would accept (the channel's validity, an hour for a cuff pressure). A minute with
no monitored parameter at all has no score (NaN); a score missing some parameters is a lower bound
("5+"), as on the live station.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from wardwatch.app.alarms.early_warning import Band, Consciousness, News2Inputs, News2Score, score_news2
from wardwatch.app.alarms.news2_watch import SBP_VALID_S, ClinicalEntries
from wardwatch.app.codes import MdcCode, info

STEP_S = 60.0

Samples = tuple[npt.NDArray[np.float64], npt.NDArray[np.float32]]  # times (UTC s), values

# Each NEWS2 parameter from the first channel that has a current value, as the live score reads them.
_SOURCES: dict[str, tuple[tuple[MdcCode, float], ...]] = {
    "rr": ((MdcCode.RESP_RATE, 0.0),),
    "spo2": ((MdcCode.PULS_OXIM_SAT_O2, 0.0),),
    "sbp": ((MdcCode.PRESS_BLD_ART_SYS, 0.0), (MdcCode.PRESS_BLD_NONINV_SYS, SBP_VALID_S)),
    "pulse": ((MdcCode.ECG_HEART_RATE, 0.0), (MdcCode.PULS_OXIM_PULS_RATE, 0.0), (MdcCode.PULS_RATE, 0.0)),
    "temp": ((MdcCode.TEMP_BODY, 0.0),),
}
BAND_ORDER = (Band.LOW, Band.LOW_MEDIUM, Band.MEDIUM, Band.HIGH)


@dataclass(frozen=True, slots=True)
class News2History:
    times: npt.NDArray[np.float64]  # one a minute
    totals: npt.NDArray[np.float64]  # NaN: nothing to score
    bands: npt.NDArray[np.int8]  # index into BAND_ORDER, -1 where there is no score
    complete: npt.NDArray[np.bool_]  # every parameter scored (else the total is a lower bound)

    def __len__(self) -> int:
        return len(self.times)

    def scored(self) -> npt.NDArray[np.bool_]:
        return np.isfinite(self.totals)

    def at(self, i: int) -> str:
        """The score at point `i` as the station writes it: "5", "5+", or "" when there is none."""
        if not np.isfinite(self.totals[i]):
            return ""
        return f"{int(self.totals[i])}{'' if self.complete[i] else '+'}"

    def band_at(self, i: int) -> Band | None:
        return BAND_ORDER[self.bands[i]] if self.bands[i] >= 0 else None


def entries_from_detail(detail: str) -> ClinicalEntries:
    """A journal line of entered observations ("consciousness C, oxygen, SpO2 scale 2", as the entries
    dialog writes it) back as entries; anything it does not say stays "not entered"."""
    consciousness: Consciousness | None = None
    on_oxygen: bool | None = None
    scale = 1
    for part in (p.strip() for p in detail.split(",")):
        if part.startswith("consciousness "):
            value = part.removeprefix("consciousness ").strip()
            consciousness = Consciousness(value) if value in Consciousness.__members__ else None
        elif part == "oxygen":
            on_oxygen = True
        elif part == "air":
            on_oxygen = False
        elif part.startswith("SpO2 scale "):
            scale = 2 if part.endswith("2") else 1
    return ClinicalEntries(consciousness, on_oxygen, scale)


def _value_at(
    samples: Samples | None, grid: npt.NDArray[np.float64], max_age: float
) -> npt.NDArray[np.float64]:
    """The newest value at or before each grid time, NaN where there is none that recent."""
    out = np.full(len(grid), np.nan)
    if samples is None or len(samples[0]) == 0:
        return out
    times, values = samples
    i = np.searchsorted(times, grid, side="right") - 1
    have = i >= 0
    j = np.where(have, i, 0)
    fresh = have & (grid - times[j] <= max_age)
    out[fresh] = values[j[fresh]]
    return out


def _parameter(
    trends: Mapping[int, Samples], name: str, grid: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    out = np.full(len(grid), np.nan)
    for code, age in _SOURCES[name]:
        max_age = age or float(info(code).max_age_s or STEP_S)
        values = _value_at(trends.get(int(code)), grid, max_age)
        fill = np.isnan(out) & np.isfinite(values)
        out[fill] = values[fill]
    return out


def news2_history(
    trends: Mapping[int, Samples],
    entries: Sequence[tuple[float, ClinicalEntries]],
    start: float,
    end: float,
    step_s: float = STEP_S,
) -> News2History:
    """NEWS2 at every whole `step_s` from `start` to `end`; `entries` (oldest first) hold from their
    time until the next one (the first may lie before `start`)."""
    first = np.ceil(start / step_s) * step_s
    count = max(0, int(np.floor((end - first) / step_s + 1e-6)) + 1)  # both ends included
    grid = first + step_s * np.arange(count, dtype=np.float64)
    params = {name: _parameter(trends, name, grid) for name in _SOURCES}
    entry_times = np.array([t for t, _ in entries], np.float64)
    entry_index = np.searchsorted(entry_times, grid, side="right") - 1
    totals = np.full(len(grid), np.nan)
    bands = np.full(len(grid), -1, np.int8)
    complete = np.zeros(len(grid), np.bool_)
    monitored = np.zeros(len(grid), np.bool_)
    for values in params.values():
        monitored |= np.isfinite(values)
    cache: dict[tuple[object, ...], News2Score] = {}
    for i in np.flatnonzero(monitored):
        e = entries[entry_index[i]][1] if entry_index[i] >= 0 else ClinicalEntries()
        row = tuple(None if np.isnan(params[n][i]) else float(params[n][i]) for n in _SOURCES)
        k = (*row, e.consciousness, e.on_oxygen, e.spo2_scale)
        score = cache.get(k)
        if score is None:  # recorded values repeat a great deal: each distinct set is scored once
            rr, spo2, sbp, pulse, temp = row
            score = score_news2(
                News2Inputs(rr, spo2, e.spo2_scale, e.on_oxygen, sbp, pulse, e.consciousness, temp)
            )
            cache[k] = score
        totals[i] = score.total
        bands[i] = BAND_ORDER.index(score.band)
        complete[i] = score.complete
    return News2History(grid, totals, bands, complete)


def hourly_highest(news2: News2History, hour_starts: Sequence[float], end: float) -> list[str]:
    """The highest score of each hour as the station writes it ("6", "5+"), "—" for an hour without."""
    out = []
    edges = [*hour_starts[1:], end + 1e-6]
    for lo, hi in zip(hour_starts, edges, strict=True):
        inside = np.flatnonzero((news2.times >= lo) & (news2.times < hi) & news2.scored())
        out.append(news2.at(int(inside[np.argmax(news2.totals[inside])])) if len(inside) else "—")
    return out
