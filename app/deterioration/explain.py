"""A risk in words: the factors that raised it most, and what such a risk has meant (pure functions).

The model's per-feature contributions (TreeSHAP) are summed per measured value (the heart rate's level,
trend, spread and age all count for "heart rate"), and the largest positive ones are written as a nurse
would say them: "HR rising 88→112 over 6 h", "temperature 38.6 °C", "lactate 3.1 mmol/L".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from wardwatch.app.deterioration.columns import WORDS
from wardwatch.app.deterioration.features import STAY_HORIZON_H, TREND_VITALS, WINDOW_H
from wardwatch.app.deterioration.model import CalibrationBand

TOP_FACTORS = 3
# A 6-hour change at least this large reads as a trend ("rising 88→112"), a smaller one as a level.
TREND_STEP: Mapping[str, float] = {
    "HR": 10.0,
    "O2Sat": 2.0,
    "Temp": 0.5,
    "SBP": 10.0,
    "MAP": 8.0,
    "DBP": 8.0,
    "Resp": 3.0,
}
SHORT_NAMES: Mapping[str, str] = {"HR": "HR", "O2Sat": "SpO₂", "Resp": "RR", "SBP": "systolic BP"}
_OTHER: Mapping[str, str] = {
    "ICULOS": "time on the unit",
    "Age": "age",
    "Gender": "sex",
    "labs": "number of laboratory tests",
    "shock": "shock index (HR / systolic BP)",
    "pulse": "pulse pressure",
    "bun": "urea / creatinine ratio",
    "news2": "NEWS2 of the vitals",
    "sofa": "SOFA (partial)",
    "qsofa": "qSOFA signs",
}


@dataclass(frozen=True, slots=True)
class Factor:
    source: str  # the measured column (e.g. "HR") or feature family (e.g. "ICULOS")
    weight: float  # its share of the log-odds
    text: str


def source_of(feature: str) -> str:
    head = feature.split("_")[0]
    if feature.startswith("Bilirubin_"):
        return "_".join(feature.split("_")[:2])
    return head


def _number(value: float, name: str) -> str:
    if name == "Temp":
        return f"{value:.1f}"
    if name in TREND_VITALS or abs(value) >= 20:
        return f"{value:.0f}"
    return f"{value:.3g}"


def _describe(source: str, row: Mapping[str, float]) -> str:
    value = row.get(source, math.nan)
    if source in WORDS and not math.isnan(value):
        word, unit = WORDS[source]
        label = SHORT_NAMES.get(source, word)
        unit_text = f" {unit}" if unit else ""
        change = row.get(f"{source}_delta{WINDOW_H}", math.nan)
        step = TREND_STEP.get(source)
        if step is not None and not math.isnan(change) and abs(change) >= step:
            past = value - change
            way = "rising" if change > 0 else "falling"
            return f"{label} {way} {_number(past, source)}→{_number(value, source)} over {WINDOW_H} h"
        return f"{label} {_number(value, source)}{unit_text}"
    if source == "ICULOS" and not math.isnan(value):
        # the model reads no further than STAY_HORIZON_H (see features.py)
        more = " or more" if value >= STAY_HORIZON_H else ""
        return f"{value:.0f} h{more} on the unit"
    if source == "Age" and not math.isnan(value):
        return f"age {value:.0f}"
    if source == "news2":
        news = row.get("news2_vitals", math.nan)
        return f"NEWS2 of the vitals {news:.0f}" if not math.isnan(news) else _OTHER[source]
    if source == "labs":
        count = row.get("labs_count24", math.nan)
        return f"{count:.0f} laboratory results in 24 h" if not math.isnan(count) else _OTHER[source]
    if source == "sofa":
        sofa, rise = row.get("sofa_partial", math.nan), row.get("sofa_rise", math.nan)
        if math.isnan(sofa):
            return _OTHER[source]
        return f"SOFA (partial) {sofa:.0f}" + (f", up {rise:.0f} from its lowest" if rise >= 1 else "")
    if source == "qsofa":
        q = row.get("qsofa_partial", math.nan)
        return f"qSOFA signs {q:.0f} of 2 (RR ≥ 22, systolic ≤ 100)" if not math.isnan(q) else _OTHER[source]
    if source == "pulse":
        pp = row.get("pulse_pressure", math.nan)
        return f"pulse pressure {pp:.0f} mmHg" if not math.isnan(pp) else _OTHER[source]
    if source == "bun":
        ratio = row.get("bun_creatinine", math.nan)
        return f"urea / creatinine ratio {ratio:.0f}" if not math.isnan(ratio) else _OTHER[source]
    if source == "shock":
        si = row.get("shock_index", math.nan)
        return f"shock index {si:.2f}" if not math.isnan(si) else _OTHER[source]
    return _OTHER.get(source, source)


# The feature a derived factor is described by: without a value (or with none counted) it is not named.
_DERIVED_VALUE: Mapping[str, str] = {
    "labs": "labs_count24",
    "shock": "shock_index",
    "pulse": "pulse_pressure",
    "bun": "bun_creatinine",
    "sofa": "sofa_partial",
    "qsofa": "qsofa_partial",
    "news2": "news2_vitals",
}


def _measured(source: str, row: Mapping[str, float]) -> bool:
    value = row.get(_DERIVED_VALUE.get(source, source), math.nan)
    if source in WORDS or source in _DERIVED_VALUE:
        return not math.isnan(value) and (value != 0 or source in WORDS)
    return True


def top_factors(
    names: Sequence[str], values: Sequence[float], contributions: Sequence[float], top: int = TOP_FACTORS
) -> list[Factor]:
    """The measured values that raised the risk most, in words, largest first (none if none raised it)."""
    row = dict(zip(names, (float(v) for v in values), strict=True))
    weights: dict[str, float] = {}
    for name, c in zip(names, contributions, strict=False):  # the last contribution is the average
        weights[source_of(name)] = weights.get(source_of(name), 0.0) + float(c)
    # a value never measured is no reason a nurse can act on ("no glucose yet"): only what was measured
    # or derived from measurements is named
    named = {s: w for s, w in weights.items() if w > 0.0 and _measured(s, row)}
    ranked = sorted(((w, s) for s, w in named.items()), reverse=True)[:top]
    return [Factor(s, w, _describe(s, row)) for w, s in ranked]


def calibration_note(risk: float, band: CalibrationBand | None) -> str:
    """What a risk like this has meant, as observed frequency in the data the model was validated on."""
    if band is None or band.hours == 0:
        return f"risk {risk:.0%}: no calibration data for this range"
    return (
        f"Of {band.hours:,} patient-hours with a risk of {band.low:.0%}–{band.high:.0%} in cross-validation "
        f"(PhysioNet 2019 set A), {band.observed:.1%} were within 6 h of sepsis onset or after it."
    )
