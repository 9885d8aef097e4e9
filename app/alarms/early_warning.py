"""NEWS2, the Royal College of Physicians' National Early Warning Score (2017), as pure functions.

Every boundary of the chart is an integer (0.1 °C for temperature), and the chart reads a value as
written on it, so values are rounded half-up first (36.05 °C scores as 36.1, SpO₂ 91.5 % as 92):
a monitor's 91.7 must not fall between "≤ 91" and "92–93".

A set with a parameter missing is not a complete score. Its total is still useful on a monitored
bed as a lower bound (a missing parameter can only add points): the station shows it as "5+" and a
lower bound in the medium or high band already raises its alarm.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from types import MappingProxyType


class Band(StrEnum):
    LOW = "low"  # 0-4
    LOW_MEDIUM = "low_medium"  # a single parameter scoring 3, total 0-4
    MEDIUM = "medium"  # 5-6
    HIGH = "high"  # 7 or more


class Consciousness(StrEnum):
    """ACVPU: alert, new confusion, voice, pain, unresponsive."""

    A = "A"
    C = "C"
    V = "V"
    P = "P"
    U = "U"


PARAMETERS = ("rr", "spo2", "air_or_oxygen", "sbp", "pulse", "consciousness", "temp")


@dataclass(frozen=True, slots=True)
class News2Inputs:
    rr: float | None = None
    spo2: float | None = None
    spo2_scale: int = 1  # 2 only for clinician-confirmed hypercapnic respiratory failure
    on_oxygen: bool | None = None
    sbp: float | None = None
    pulse: float | None = None
    consciousness: Consciousness | None = None
    temp: float | None = None


@dataclass(frozen=True, slots=True)
class News2Score:
    total: int  # the sum of the parameters scored (a lower bound when `missing` is not empty)
    band: Band
    parameter_scores: Mapping[str, int] = field(default_factory=dict)
    missing: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def any_single_three(self) -> bool:
        return any(v == 3 for v in self.parameter_scores.values())

    @property
    def text(self) -> str:
        """ "5", or "5+" for a lower bound."""
        return f"{self.total}" if self.complete else f"{self.total}+"


def round_half_up(value: float, step: str = "1") -> float:
    return float(Decimal(repr(value)).quantize(Decimal(step), rounding=ROUND_HALF_UP))


def score_rr(rr: float) -> int:
    r = round_half_up(rr)
    if r <= 8:
        return 3
    if r <= 11:
        return 1
    if r <= 20:
        return 0
    if r <= 24:
        return 2
    return 3


def score_spo2(spo2: float, scale: int = 1, on_oxygen: bool = False) -> int:
    s = round_half_up(spo2)
    if scale == 2:
        if s <= 83:
            return 3
        if s <= 85:
            return 2
        if s <= 87:
            return 1
        if s <= 92 or not on_oxygen:  # 88-92, or 93 and above on air
            return 0
        if s <= 94:
            return 1
        if s <= 96:
            return 2
        return 3
    if s <= 91:
        return 3
    if s <= 93:
        return 2
    if s <= 95:
        return 1
    return 0


def score_sbp(sbp: float) -> int:
    s = round_half_up(sbp)
    if s <= 90:
        return 3
    if s <= 100:
        return 2
    if s <= 110:
        return 1
    if s <= 219:
        return 0
    return 3


def score_pulse(pulse: float) -> int:
    p = round_half_up(pulse)
    if p <= 40:
        return 3
    if p <= 50:
        return 1
    if p <= 90:
        return 0
    if p <= 110:
        return 1
    if p <= 130:
        return 2
    return 3


def score_temp(temp: float) -> int:
    t = round_half_up(temp, "0.1")
    if t <= 35.0:
        return 3
    if t <= 36.0:
        return 1
    if t <= 38.0:
        return 0
    if t <= 39.0:
        return 1
    return 2


def band_of(total: int, any_three: bool) -> Band:
    if total >= 7:
        return Band.HIGH
    if total >= 5:
        return Band.MEDIUM
    return Band.LOW_MEDIUM if any_three else Band.LOW


def score_news2(inputs: News2Inputs) -> News2Score:
    if inputs.spo2_scale not in (1, 2):
        raise ValueError(f"SpO2 scale must be 1 or 2, not {inputs.spo2_scale!r}")
    scores: dict[str, int] = {}
    missing: list[str] = []
    if inputs.rr is not None:
        scores["rr"] = score_rr(inputs.rr)
    else:
        missing.append("rr")
    if inputs.spo2 is not None:
        scores["spo2"] = score_spo2(inputs.spo2, inputs.spo2_scale, bool(inputs.on_oxygen))
    else:
        missing.append("spo2")
    if inputs.on_oxygen is not None:
        scores["air_or_oxygen"] = 2 if inputs.on_oxygen else 0
    else:
        missing.append("air_or_oxygen")
    if inputs.sbp is not None:
        scores["sbp"] = score_sbp(inputs.sbp)
    else:
        missing.append("sbp")
    if inputs.pulse is not None:
        scores["pulse"] = score_pulse(inputs.pulse)
    else:
        missing.append("pulse")
    if inputs.consciousness is not None:
        scores["consciousness"] = 0 if inputs.consciousness is Consciousness.A else 3
    else:
        missing.append("consciousness")
    if inputs.temp is not None:
        scores["temp"] = score_temp(inputs.temp)
    else:
        missing.append("temp")
    total = sum(scores.values())
    any_three = any(v == 3 for v in scores.values())
    return News2Score(total, band_of(total, any_three), MappingProxyType(scores), tuple(missing))
