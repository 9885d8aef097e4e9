"""Vital signs of a period hour by hour: minimum, median and maximum of each recorded numeric."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from wardwatch.app.codes import MdcCode, channel_table

Samples = tuple[npt.NDArray[np.float64], npt.NDArray[np.float32]]  # times (UTC s), values
HOUR_S = 3600.0

# The handover order a nurse reads them in; any other recorded numeric follows (a risk score, say).
PREFERRED: tuple[MdcCode, ...] = (
    MdcCode.ECG_HEART_RATE,
    MdcCode.PULS_OXIM_PULS_RATE,
    MdcCode.PULS_OXIM_SAT_O2,
    MdcCode.RESP_RATE,
    MdcCode.PRESS_BLD_ART_SYS,
    MdcCode.PRESS_BLD_ART_DIA,
    MdcCode.PRESS_BLD_NONINV_SYS,
    MdcCode.PRESS_BLD_NONINV_DIA,
    MdcCode.PRESS_BLD_NONINV_MEAN,
    MdcCode.TEMP_BODY,
)


def channel_name(code: int) -> tuple[str, str]:
    """(label, unit) of a numeric channel; a code the table does not know is named by its number."""
    try:
        row = channel_table()[MdcCode(code)]
    except (ValueError, KeyError):
        return f"channel {code}", ""
    return row.label, row.unit_label


def channel_order(codes: Mapping[int, object] | list[int]) -> list[int]:
    have = list(codes)
    ordered = [int(c) for c in PREFERRED if int(c) in have]
    return ordered + sorted(c for c in have if c not in ordered)


@dataclass(frozen=True, slots=True)
class HourStats:
    low: float
    median: float
    high: float

    def text(self, decimals: int = 0) -> str:
        f = f"{{:.{decimals}f}}"
        return f"{f.format(self.low)}/{f.format(self.median)}/{f.format(self.high)}"


@dataclass(frozen=True, slots=True)
class VitalsRow:
    code: int
    label: str
    unit: str
    hours: tuple[HourStats | None, ...]  # None: nothing recorded that hour

    @property
    def decimals(self) -> int:
        return 1 if self.code == MdcCode.TEMP_BODY else 0


@dataclass(frozen=True, slots=True)
class VitalsTable:
    hour_starts: tuple[float, ...]
    rows: tuple[VitalsRow, ...]


def hour_edges(start: float, end: float) -> npt.NDArray[np.float64]:
    """Clock hours, as a ward reads a chart: `start`, each whole hour after it, then `end`."""
    first = np.ceil(start / HOUR_S) * HOUR_S
    inner = np.arange(first, end, HOUR_S, dtype=np.float64)
    inner = inner[inner > start]
    return np.concatenate(([start], inner, [end])) if end > start else np.array([start, start + HOUR_S])


def hourly_vitals(trends: Mapping[int, Samples], start: float, end: float) -> VitalsTable:
    """Each recorded numeric's clock hours from `start` to `end` (the first and last may be partial)."""
    edges = hour_edges(start, end)
    n = len(edges) - 1
    rows = []
    for code in channel_order(trends):
        times, values = trends[code]
        cut = np.searchsorted(times, edges, side="left")
        hours: list[HourStats | None] = []
        for h in range(n):
            chunk = values[cut[h] : cut[h + 1]]
            chunk = chunk[np.isfinite(chunk)]
            hours.append(
                HourStats(float(chunk.min()), float(np.median(chunk)), float(chunk.max()))
                if len(chunk)
                else None
            )
        if any(h is not None for h in hours):
            label, unit = channel_name(code)
            rows.append(VitalsRow(code, label, unit, tuple(hours)))
    return VitalsTable(tuple(float(e) for e in edges[:-1]), tuple(rows))


def value_at(
    times: npt.NDArray[np.float64], values: npt.ArrayLike, when: float, max_gap_s: float
) -> float | None:
    """The newest value at or before `when`, if it is no older than `max_gap_s` (a cursor read-out)."""
    i = int(np.searchsorted(times, when, side="right")) - 1
    if i < 0 or when - times[i] > max_gap_s:
        return None
    v = float(np.asarray(values)[i])
    return v if np.isfinite(v) else None


def with_gaps(
    times: npt.NDArray[np.float64], values: npt.NDArray[np.float32], max_gap_s: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The record keeps recorded values only; a plot must break its line where nothing was recorded
    for longer than `max_gap_s` (lead off, a sensor off, no device) instead of bridging the gap."""
    v = values.astype(np.float64)
    if len(times) < 2:
        return times, v
    cut = np.flatnonzero(np.diff(times) > max_gap_s) + 1
    if not len(cut):
        return times, v
    return np.insert(times, cut, times[cut - 1] + 1.0), np.insert(v, cut, np.nan)
