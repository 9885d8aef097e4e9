"""Glucose trend, its arrow and the predictive low alarm, from the bed's glucose history (pure functions).

The rate of change is the least-squares slope of the readings of the last 15 minutes, as CGM systems
compute their trend; the arrow follows the usual CGM bands (±1, ±2, ±3 mg/dL/min). A low is predicted
when the current trend carries the value below the bed's low limit within 20 minutes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
from wardwatch.app.alarms.findings import Finding, is_current
from wardwatch.app.alarms.model import Category, Priority
from wardwatch.app.alarms.settings import AlarmSettings
from wardwatch.app.codes import MdcCode
from wardwatch.app.hub import BedStreams

TREND_WINDOW_MIN = 15.0
MIN_READINGS = 3
MIN_SPAN_MIN = 8.0  # three 5-minute readings span 10 min; fewer minutes say too little about a trend
PREDICT_HORIZON_MIN = 20.0
PREDICTED_LOW_KEY = "glucose_predicted_low"
LOW_RULE = "glucose_low"
# (lowest rate in mg/dL/min, arrow), checked from the top
_ARROWS: tuple[tuple[float, str], ...] = (
    (3.0, "↑↑"),
    (2.0, "↑"),
    (1.0, "↗"),
    (-1.0, "→"),
    (-2.0, "↘"),
    (-3.0, "↓"),
)


@dataclass(frozen=True, slots=True)
class GlucoseTrend:
    value: float  # the newest reading, mg/dL
    time: float
    rate: float | None  # mg/dL per minute; None when the readings say too little

    @property
    def arrow(self) -> str:
        return arrow_for(self.rate)

    @property
    def rate_text(self) -> str:
        return "" if self.rate is None else f"{self.rate:+.1f}/min"

    def projected(self, minutes: float) -> float | None:
        return None if self.rate is None else self.value + self.rate * minutes


def arrow_for(rate: float | None) -> str:
    if rate is None or not math.isfinite(rate):
        return ""
    for lowest, arrow in _ARROWS:
        if rate >= lowest:
            return arrow
    return "↓↓"


def glucose_trend(
    times: npt.ArrayLike, values: npt.ArrayLike, window_min: float = TREND_WINDOW_MIN
) -> GlucoseTrend | None:
    """The newest reading and the slope of the readings within `window_min` before it."""
    t = np.asarray(times, np.float64)
    v = np.asarray(values, np.float64)
    ok = np.isfinite(t) & np.isfinite(v)
    t, v = t[ok], v[ok]
    if len(t) == 0:
        return None
    newest = float(t[-1])
    recent = t >= newest - window_min * 60.0
    tr, vr = t[recent], v[recent]
    rate: float | None = None
    if len(tr) >= MIN_READINGS and (tr[-1] - tr[0]) >= MIN_SPAN_MIN * 60.0:
        slope, _ = np.polyfit((tr - newest) / 60.0, vr, 1)
        rate = float(slope)
    return GlucoseTrend(float(v[-1]), newest, rate)


def bed_glucose(streams: BedStreams | None) -> GlucoseTrend | None:
    """The bed's continuous glucose and its trend, from the hub's numeric history (memory only)."""
    if streams is None:
        return None
    ring = streams.numeric_history.get(MdcCode.CONC_GLU_ISF)
    if ring is None or ring.count == 0:
        return None
    chunk = ring.latest(64)
    return glucose_trend(chunk.times, chunk.values)


def minutes_until_below(trend: GlucoseTrend, limit: float) -> float | None:
    """On the current trend, minutes until the value falls below `limit` (None: not falling)."""
    if trend.rate is None or trend.rate >= 0 or trend.value < limit:
        return None
    return (trend.value - limit) / -trend.rate


def predicted_low_finding(
    streams: BedStreams | None, settings: AlarmSettings, now: float, trend: GlucoseTrend | None = None
) -> Finding | None:
    """The predictive low alarm: a current glucose at or above the low limit whose trend takes it below
    within 20 min. Below the limit the limit alarm speaks, so this one stays quiet then. `trend`: the
    bed's glucose trend if the caller has it already (else it is computed)."""
    rule = settings.rule(LOW_RULE)
    if streams is None or rule is None or not rule.enabled or rule.low is None:
        return None
    obs = streams.numerics.get(MdcCode.CONC_GLU_ISF)
    if not is_current(obs, now):
        return None
    trend = trend or bed_glucose(streams)
    if trend is None:
        return None
    minutes = minutes_until_below(trend, rule.low)
    if minutes is None or minutes > PREDICT_HORIZON_MIN:
        return None
    assert trend.rate is not None
    eta = max(1, round(minutes))
    return Finding(
        key=PREDICTED_LOW_KEY,
        category=Category.PHYSIOLOGICAL,
        priority=Priority.MEDIUM,
        message=f"Glucose {trend.value:.0f} {trend.arrow} below {rule.low:g} in ~{eta} min",
        evidence=MappingProxyType(
            {
                "value": trend.value,
                "rate_mg_dl_min": round(trend.rate, 2),
                "minutes_to_low": round(minutes, 1),
            }
        ),
        reason=f"{trend.rate:+.1f} mg/dL/min over the last {TREND_WINDOW_MIN:.0f} min",
    )
