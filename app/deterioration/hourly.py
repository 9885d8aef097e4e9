"""A bed's hours in the challenge's shape: hourly means of the monitor's numerics, the laboratory values
a nurse entered (or an interface delivered) in the hour they were taken, and the admission's age and sex.

One `BedHours` per admitted patient (pure bookkeeping; the risk service owns it and feeds it from its own
thread). Hours are whole hours of the station clock; ICULOS counts them from the first hour of the stay.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from wardwatch.app.codes import MdcCode
from wardwatch.app.deterioration.columns import LABS

HOUR_S = 3600.0
MAX_HOURS = 24 * 14  # a fortnight of hours is plenty for every feature (the longest window is 24 h)

# Where each vital of the table comes from on a bed, the preferred source first (an arterial line reads
# the pressure continuously; the cuff is the fallback).
VITAL_SOURCES: Mapping[str, tuple[MdcCode, ...]] = {
    "HR": (MdcCode.ECG_HEART_RATE, MdcCode.PULS_OXIM_PULS_RATE, MdcCode.PULS_RATE),
    "O2Sat": (MdcCode.PULS_OXIM_SAT_O2,),
    "Temp": (MdcCode.TEMP_BODY,),
    "SBP": (MdcCode.PRESS_BLD_ART_SYS, MdcCode.PRESS_BLD_NONINV_SYS),
    "MAP": (MdcCode.PRESS_BLD_ART_MEAN, MdcCode.PRESS_BLD_NONINV_MEAN),
    "DBP": (MdcCode.PRESS_BLD_ART_DIA, MdcCode.PRESS_BLD_NONINV_DIA),
    "Resp": (MdcCode.RESP_RATE,),
}
# Sanity bounds: a value outside is a measurement error, not a patient (it is left out of the hour).
PLAUSIBLE: Mapping[str, tuple[float, float]] = {
    "HR": (20.0, 300.0),
    "O2Sat": (40.0, 100.0),
    "Temp": (25.0, 45.0),
    "SBP": (30.0, 300.0),
    "MAP": (20.0, 250.0),
    "DBP": (10.0, 200.0),
    "Resp": (1.0, 80.0),
}


def hour_of(t: float) -> int:
    return math.floor(t / HOUR_S)


@dataclass
class _Sum:
    total: float = 0.0
    count: int = 0

    def add(self, value: float) -> None:
        self.total += value
        self.count += 1

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else math.nan


@dataclass
class BedHours:
    first_hour: int
    age: float | None = None
    female: bool | None = None
    vitals: dict[int, dict[str, _Sum]] = field(default_factory=dict)
    labs: dict[int, dict[str, float]] = field(default_factory=dict)

    def add_vital(self, name: str, value: float, t: float) -> None:
        low, high = PLAUSIBLE.get(name, (-math.inf, math.inf))
        if not (low <= value <= high):
            return
        hour = hour_of(t)
        if hour < self.first_hour:
            return
        self.vitals.setdefault(hour, {}).setdefault(name, _Sum()).add(float(value))
        self._forget_before(hour - MAX_HOURS)

    def add_lab(self, name: str, value: float, t: float) -> None:
        if name not in LABS:
            raise ValueError(f"{name!r} is not a laboratory value the model knows")
        hour = max(hour_of(t), self.first_hour)  # a result taken before the stay counts in its first hour
        self.labs.setdefault(hour, {})[name] = float(value)

    def _forget_before(self, hour: int) -> None:
        if hour > self.first_hour and self.vitals and min(self.vitals) < hour:
            for h in [h for h in self.vitals if h < hour]:
                del self.vitals[h]
            for h in [h for h in self.labs if h < hour]:
                del self.labs[h]

    def columns(self, last_hour: int) -> dict[str, npt.NDArray[np.float64]]:
        """One row per hour from the first hour of the stay (or a fortnight back) to `last_hour`."""
        start = max(self.first_hour, last_hour - MAX_HOURS + 1)
        hours = np.arange(start, last_hour + 1)
        n = len(hours)
        out: dict[str, npt.NDArray[np.float64]] = {}
        for name in VITAL_SOURCES:
            out[name] = np.array([self.vitals.get(int(h), {}).get(name, _Sum()).mean for h in hours])
        for name in LABS:
            out[name] = np.array([self.labs.get(int(h), {}).get(name, math.nan) for h in hours])
        out["ICULOS"] = (hours - self.first_hour + 1).astype(np.float64)
        out["Age"] = np.full(n, math.nan if self.age is None else float(self.age))
        out["Gender"] = np.full(n, math.nan if self.female is None else (0.0 if self.female else 1.0))
        return out

    def hours_with_data(self) -> Iterable[int]:
        return sorted(set(self.vitals) | set(self.labs))
