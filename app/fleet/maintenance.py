"""Predictive maintenance from each device's recorded history (pure functions).

- Battery: the slope of the current discharge (a straight-line fit of the last hours since the last
  charge) gives the time to empty; a battery that would run out within the shift is flagged.
- Link and sensor: disconnections, decode (CRC) errors and sensor-off episodes of the last hours are
  compared with the device's own earlier rate and with the fleet's (same device type) by a Poisson
  test: flagged when so many events would be very unlikely at the usual rate and clearly above it.
- Maintenance: due dates per device type from the last service (or the first sighting).
The flags carry their evidence in words, and sort by urgency.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt
from scipy.stats import poisson
from wardwatch.app.fleet.assets import Asset

Floats = npt.NDArray[np.float64]

BATTERY_WINDOW_S = 6 * 3600.0  # fit at most the last 6 h of the discharge
BATTERY_MIN_SPAN_S = 1800.0  # and at least 30 min of it
BATTERY_MIN_POINTS = 5
CHARGE_JUMP_PERCENT = 4.0  # a rise well beyond reading noise: the battery was charged
RATE_WINDOW_S = 6 * 3600.0  # "recent" for event rates
RATE_MIN_BASELINE_S = 12 * 3600.0  # a device's own baseline needs half a day of history
RATE_P_VALUE = 1e-5  # ~1 false flag in 100,000 windows of a steady device
RATE_MIN_RATIO = 3.0  # and clearly above the usual rate, not only significantly
# against the fleet, further above: a device may be a little worse than its peers all its life
RATE_MIN_RATIO_FLEET = 5.0
RATE_MIN_EVENTS = 4
PRIOR_EVENTS_PER_H = 0.05  # a device with no event yet is not expected to have none for ever
DUE_SOON_DAYS = 14.0


class Urgency(IntEnum):
    INFO = 0
    SOON = 1
    SHIFT = 2  # needs doing this shift
    NOW = 3


@dataclass(frozen=True, slots=True)
class BatteryForecast:
    level_percent: float  # the fitted level now
    rate_percent_per_h: float  # discharge rate (positive)
    time_to_empty_s: float
    span_s: float  # of history the fit used
    points: int


@dataclass(frozen=True, slots=True)
class RateCheck:
    what: str
    recent: int  # events in the recent window
    window_h: float
    expected: float  # events the usual rate gives in that window
    p_value: float
    min_ratio: float = RATE_MIN_RATIO

    @property
    def raised(self) -> bool:
        return (
            self.recent >= RATE_MIN_EVENTS
            and self.p_value < RATE_P_VALUE
            and self.recent >= self.min_ratio * self.expected
        )


@dataclass(frozen=True, slots=True)
class Flag:
    device_id: str
    device_type: str
    bed: str
    kind: str  # "battery", "link", "errors", "sensor-off", "maintenance", "missing"
    urgency: Urgency
    title: str
    evidence: str
    when: float | None = None  # the predicted or due time it is about, if any

    def sort_key(self) -> tuple[int, float, str]:
        return (-int(self.urgency), self.when if self.when is not None else math.inf, self.device_id)


def battery_forecast(times: Floats, levels: Floats, now: float) -> BatteryForecast | None:
    """The time to empty of the current discharge, or None when the battery is not discharging
    (charging, on mains, or too little history)."""
    ok = np.isfinite(times) & np.isfinite(levels)
    t, v = times[ok], levels[ok]
    if len(t) < BATTERY_MIN_POINTS:
        return None
    # A charge shows going back in time as readings well below every later one (a single noisy reading
    # a few percent up is not a charge): the discharge starts after the last of them.
    later_min = np.minimum.accumulate(v[::-1])[::-1]
    charged = np.nonzero(v[:-1] < later_min[1:] - CHARGE_JUMP_PERCENT)[0]
    start = int(charged[-1]) + 1 if len(charged) else 0
    keep = (np.arange(len(t)) >= start) & (t >= t[-1] - BATTERY_WINDOW_S)
    t, v = t[keep], v[keep]
    span = float(t[-1] - t[0]) if len(t) else 0.0
    if len(t) < BATTERY_MIN_POINTS or span < BATTERY_MIN_SPAN_S:
        return None
    slope, intercept = np.polyfit(t - t[-1], v, 1)  # percent per second
    rate_h = -float(slope) * 3600.0
    if rate_h <= 0.05:  # less than 1 % a day: not discharging
        return None
    level = max(0.0, float(intercept) + float(slope) * (now - t[-1]))
    return BatteryForecast(round(level, 1), rate_h, level / rate_h * 3600.0, span, len(t))


def _events_between(times: Floats, cumulative: Floats, start: float, end: float) -> tuple[float, float]:
    """Events counted between `start` and `end`, and the hours of history that covers."""
    ok = np.isfinite(times) & np.isfinite(cumulative)
    t, c = times[ok], cumulative[ok]
    inside = (t >= start) & (t <= end)
    if inside.sum() < 2:
        return 0.0, 0.0
    ti, ci = t[inside], c[inside]
    return float(ci[-1] - ci[0]), float(ti[-1] - ti[0]) / 3600.0


def rate_check(
    what: str, times: Floats, cumulative: Floats, now: float, usual_per_h: float | None = None
) -> RateCheck | None:
    """The recent window's events against the device's own earlier rate (or `usual_per_h`, the fleet's).
    None when there is not enough history to say."""
    recent, recent_h = _events_between(times, cumulative, now - RATE_WINDOW_S, now)
    if recent_h < RATE_WINDOW_S / 3600.0 * 0.5:
        return None
    min_ratio = RATE_MIN_RATIO if usual_per_h is None else RATE_MIN_RATIO_FLEET
    if usual_per_h is None:
        first = float(np.nanmin(times)) if len(times) else now
        before, before_h = _events_between(times, cumulative, first, now - RATE_WINDOW_S)
        if before_h * 3600.0 < RATE_MIN_BASELINE_S:
            return None
        usual_per_h = before / before_h
    rate = max(usual_per_h, PRIOR_EVENTS_PER_H)
    expected = rate * recent_h
    k = round(recent)
    p = float(poisson.sf(k - 1, expected)) if k > 0 else 1.0
    return RateCheck(what, k, recent_h, expected, p, min_ratio)


def recent_rate_per_h(times: Floats, cumulative: Floats, now: float) -> float | None:
    events, hours = _events_between(times, cumulative, now - RATE_WINDOW_S, now)
    return events / hours if hours > 0 else None


RATE_COUNTERS: tuple[tuple[str, str, str], ...] = (
    ("disconnects", "link", "disconnections"),
    ("decode_errors", "errors", "decode (CRC) errors"),
    ("sensor_off", "sensor-off", "sensor-off episodes"),
)


def fleet_rates(
    assets: Sequence[Asset], histories: Mapping[str, Mapping[str, Floats]], now: float
) -> dict[tuple[str, str], float]:
    """(device type, counter) → the fleet's median recent rate per hour."""
    rates: dict[tuple[str, str], list[float]] = {}
    for a in assets:
        h = histories.get(a.id)
        if h is None:
            continue
        for column, _, _ in RATE_COUNTERS:
            r = recent_rate_per_h(h["time"], h[column], now)
            if r is not None:
                rates.setdefault((a.type, column), []).append(r)
    return {k: float(np.median(v)) for k, v in rates.items() if len(v) >= 3}


def _rate_flags(
    a: Asset, h: Mapping[str, Floats], now: float, fleet: Mapping[tuple[str, str], float]
) -> list[Flag]:
    out = []
    for column, kind, words in RATE_COUNTERS:
        own = rate_check(column, h["time"], h[column], now)
        usual = fleet.get((a.type, column))
        vs_fleet = rate_check(column, h["time"], h[column], now, usual) if usual is not None else None
        raised = [c for c in (own, vs_fleet) if c is not None and c.raised]
        if not raised:
            continue
        check = raised[0]
        parts = [f"{check.recent} {words} in the last {check.window_h:.0f} h"]
        if own is not None:
            parts.append(f"its own usual rate gives {own.expected:.1f}")
        if vs_fleet is not None:
            parts.append(f"the fleet's ({a.type}) {vs_fleet.expected:.1f}")
        against = " and ".join(x for x, c in (("own history", own), ("fleet", vs_fleet)) if c in raised)
        out.append(
            Flag(
                a.id, a.type, a.bed, kind, Urgency.SHIFT,
                f"{words[0].upper()}{words[1:]} rising (vs {against})",
                "; ".join(parts) + f" (p = {check.p_value:.0e})",
            )
        )
    return out


def maintenance_flags(
    assets: Sequence[Asset],
    histories: Mapping[str, Mapping[str, Floats]],
    now: float,
    shift_hours: float,
    maintenance_days: Mapping[str, float],
    missing_after_s: float,
) -> list[Flag]:
    """Every flag of the fleet, most urgent first."""
    fleet = fleet_rates(assets, histories, now)
    flags: list[Flag] = []
    for a in assets:
        h = histories.get(a.id)
        if now - a.last_seen > missing_after_s:
            flags.append(
                Flag(
                    a.id, a.type, a.bed, "missing", Urgency.SHIFT, "Not seen",
                    f"last seen {(now - a.last_seen) / 3600.0:.1f} h ago on {a.bed} at {a.station}",
                    a.last_seen,
                )
            )
        if h is not None:
            forecast = battery_forecast(h["time"], h["battery"], now)
            if forecast is not None and forecast.time_to_empty_s < shift_hours * 3600.0:
                hours = forecast.time_to_empty_s / 3600.0
                urgency = Urgency.NOW if hours < 2.0 else Urgency.SHIFT
                flags.append(
                    Flag(
                        a.id, a.type, a.bed, "battery", urgency, f"Battery empty in {hours:.1f} h",
                        f"{forecast.level_percent:.0f} % falling {forecast.rate_percent_per_h:.1f} %/h "
                        f"(fit of {forecast.points} readings over {forecast.span_s / 3600.0:.1f} h); "
                        f"the shift is {shift_hours:g} h",
                        now + forecast.time_to_empty_s,
                    )
                )
            flags += _rate_flags(a, h, now, fleet)
        days = maintenance_days.get(a.type)
        if days is not None:
            since = a.last_service if a.last_service is not None else a.first_seen
            due = since + days * 86400.0
            left_days = (due - now) / 86400.0
            soon = min(DUE_SOON_DAYS, days * 0.1)
            if left_days <= soon:
                overdue = left_days < 0
                what = "last service" if a.last_service is not None else "first seen"
                flags.append(
                    Flag(
                        a.id, a.type, a.bed, "maintenance", Urgency.SHIFT if overdue else Urgency.SOON,
                        f"Maintenance {'overdue' if overdue else 'due'}"
                        f" ({abs(left_days):.0f} d {'ago' if overdue else 'left'})",
                        f"every {days:g} d for {a.type}; {what} {(now - since) / 86400.0:.0f} d ago",
                        due,
                    )
                )
    return sorted(flags, key=Flag.sort_key)
