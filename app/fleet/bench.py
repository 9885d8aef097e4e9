"""`wardwatch bench fleet`: the maintenance predictions on simulated fleets.

1. Time to empty: 100 batteries, each discharging at its own rate (3-15 %/h) under a load that wanders
   (sd 10 %, half-hour memory), read once a minute as whole percent with reading noise (σ 0.7 %).
   At the moments each has spent 30 %, 50 % and 70 % of its charge the forecast is compared with the
   time it really ran out.
2. Degrading links: 100 devices for 10 days with their own usual rates of decode errors (0.2-2/h) and
   disconnections (0.02-0.2/h); 30 of them start to degrade at a random time (day 3-7), their rates
   growing exponentially (doubling every 4-12 h) until the link fails at 120 errors/h. The detector
   runs every 30 min on 5-minute history; it counts how long before the failure a device was first
   flagged, and how many healthy devices were ever flagged.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from wardwatch.app.fleet.maintenance import RATE_WINDOW_S, battery_forecast, rate_check

Floats = npt.NDArray[np.float64]
BATTERY_SAMPLE_S = 60.0
LINK_SAMPLE_S = 300.0
LINK_EVAL_S = 1800.0
LINK_DAYS = 10.0
FAIL_ERRORS_PER_H = 120.0
LOAD_SD = 0.1  # the load's wander around its mean (a patch or pump draws a steady current)


@dataclass(frozen=True, slots=True)
class SimulatedBattery:
    times: Floats
    readings: Floats  # whole percent, as a device reports
    true_levels: Floats
    empty_at: float


def simulate_battery(rng: np.random.Generator, load_sd: float = LOAD_SD) -> SimulatedBattery:
    rate_h = rng.uniform(3.0, 15.0)
    start = rng.uniform(60.0, 100.0)
    n = int(start / rate_h * 3600.0 / BATTERY_SAMPLE_S * 3) + 10
    phi = math.exp(-BATTERY_SAMPLE_S / 1800.0)
    shocks = rng.normal(0.0, load_sd * math.sqrt(1 - phi * phi), n)
    load = np.empty(n)
    x = rng.normal(0.0, load_sd)
    for i in range(n):
        x = phi * x + shocks[i]
        load[i] = x
    per_step = rate_h * np.clip(1.0 + load, 0.2, None) * BATTERY_SAMPLE_S / 3600.0
    levels = start - np.concatenate(([0.0], np.cumsum(per_step)[:-1]))
    times = np.arange(n) * BATTERY_SAMPLE_S
    empty = int(np.argmax(levels <= 0.0)) if (levels <= 0.0).any() else n - 1
    # the exact crossing within the step it falls in
    empty_at = times[empty - 1] + levels[empty - 1] / per_step[empty - 1] * BATTERY_SAMPLE_S
    keep = slice(0, empty)
    readings = np.clip(np.round(levels[keep] + rng.normal(0.0, 0.7, empty)), 0, 100)
    return SimulatedBattery(times[keep], readings, levels[keep], float(empty_at))


def battery_errors(
    batteries: int, seed: int, load_sd: float = LOAD_SD, spent: tuple[float, ...] = (0.3, 0.5, 0.7)
) -> list[float]:
    """Relative errors (predicted − true) / true of the time to empty, per battery and checkpoint."""
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(batteries):
        b = simulate_battery(rng, load_sd)
        start = b.true_levels[0]
        for share in spent:
            k = int(np.argmax(b.true_levels <= start * (1.0 - share)))
            now = float(b.times[k])
            forecast = battery_forecast(b.times[: k + 1], b.readings[: k + 1], now)
            if forecast is None:
                errors.append(math.inf)
                continue
            true_left = b.empty_at - now
            errors.append((forecast.time_to_empty_s - true_left) / true_left)
    return errors


@dataclass(frozen=True, slots=True)
class SimulatedLink:
    times: Floats
    errors: Floats  # cumulative decode errors
    disconnects: Floats  # cumulative
    fails_at: float | None  # None: a healthy device


def simulate_links(devices: int, degrading: int, seed: int) -> list[SimulatedLink]:
    rng = np.random.default_rng(seed)
    times = np.arange(0.0, LINK_DAYS * 86400.0, LINK_SAMPLE_S)
    dt_h = LINK_SAMPLE_S / 3600.0
    out = []
    for i in range(devices):
        base_err, base_disc = rng.uniform(0.2, 2.0), rng.uniform(0.02, 0.2)
        growth = np.ones_like(times)
        fails_at = None
        if i < degrading:
            onset = rng.uniform(3.0, 7.0) * 86400.0
            doubling_h = rng.uniform(4.0, 12.0)
            growth = np.where(times > onset, 2.0 ** ((times - onset) / 3600.0 / doubling_h), 1.0)
            fails_at = onset + doubling_h * 3600.0 * math.log2(FAIL_ERRORS_PER_H / base_err)
        errors = np.cumsum(rng.poisson(base_err * growth * dt_h)).astype(float)
        disconnects = np.cumsum(rng.poisson(base_disc * growth * dt_h)).astype(float)
        end = len(times) if fails_at is None else int(np.searchsorted(times, fails_at))
        out.append(SimulatedLink(times[:end], errors[:end], disconnects[:end], fails_at))
    return out


def _fleet_rate(links: list[SimulatedLink], column: str, now: float) -> float | None:
    """The median recent rate per hour of the devices still working (as maintenance.fleet_rates)."""
    rates = []
    for link in links:
        if link.times[-1] < now:
            continue  # failed already: gone from the fleet
        k, j = int(np.searchsorted(link.times, now - RATE_WINDOW_S)), int(np.searchsorted(link.times, now))
        series = getattr(link, column)
        if j - k >= 2:
            rates.append((series[j] - series[k]) / ((link.times[j] - link.times[k]) / 3600.0))
    return float(np.median(rates)) if len(rates) >= 3 else None


def link_flagged(link: SimulatedLink, now: float, fleet: dict[str, float | None]) -> bool:
    k = int(np.searchsorted(link.times, now, side="right"))
    t = link.times[:k]
    for column in ("errors", "disconnects"):
        c = getattr(link, column)[:k]
        usual = fleet[column]
        checks = (rate_check(column, t, c, now), rate_check(column, t, c, now, usual) if usual else None)
        if any(check is not None and check.raised for check in checks):
            return True
    return False


@dataclass(frozen=True, slots=True)
class LinkResult:
    leads_h: list[float | None]  # per degrading device: hours flagged before failing (None: not before)
    healthy_flagged: int  # healthy devices flagged at least once
    healthy_flagged_share: float  # of the healthy devices' evaluations


def link_leads(devices: int, degrading: int, seed: int) -> LinkResult:
    links = simulate_links(devices, degrading, seed)
    first: dict[int, float] = {}
    healthy_evals = healthy_flags = 0
    for now in np.arange(86400.0, LINK_DAYS * 86400.0, LINK_EVAL_S):
        fleet = {c: _fleet_rate(links, c, float(now)) for c in ("errors", "disconnects")}
        for i, link in enumerate(links):
            if link.times[-1] < now:
                continue
            flagged = link_flagged(link, float(now), fleet)
            if flagged:
                first.setdefault(i, float(now))
            if link.fails_at is None:
                healthy_evals += 1
                healthy_flags += flagged
    leads: list[float | None] = []
    for i, link in enumerate(links):
        if link.fails_at is not None:
            flagged_at = first.get(i)
            early = flagged_at is not None and flagged_at < link.fails_at
            leads.append((link.fails_at - flagged_at) / 3600.0 if early and flagged_at is not None else None)
    healthy = sum(1 for i, link in enumerate(links) if link.fails_at is None and i in first)
    return LinkResult(leads, healthy, healthy_flags / max(1, healthy_evals))


def _error_figures(errors: list[float], prefix: str) -> dict[str, Any]:
    e = np.abs(np.array(errors))
    finite = e[np.isfinite(e)]
    return {
        f"{prefix}_no_forecast": int(len(e) - len(finite)),
        f"{prefix}_abs_error_median_pct": round(float(np.median(finite)) * 100, 2),
        f"{prefix}_abs_error_p90_pct": round(float(np.percentile(finite, 90)) * 100, 2),
        f"{prefix}_abs_error_max_pct": round(float(finite.max()) * 100, 2),
        f"{prefix}_within_10pct_share": round(float((e <= 0.10).mean()), 3),
    }


def bench_fleet(
    batteries: int = 100, devices: int = 100, degrading: int = 30, seed: int = 0
) -> dict[str, Any]:
    started = time.perf_counter()
    steady = battery_errors(batteries, seed, load_sd=0.0)
    wandering = battery_errors(batteries, seed, load_sd=LOAD_SD)
    links = link_leads(devices, degrading, seed + 1)
    caught = np.array([x for x in links.leads_h if x is not None])
    return {
        "batteries": batteries,
        "battery_checkpoints": len(steady),
        **_error_figures(steady, "tte_steady_load"),
        **_error_figures(wandering, "tte_wandering_load"),
        "link_devices": devices,
        "link_degrading": degrading,
        "link_flagged_before_failure": len(caught),
        "link_lead_hours_median": round(float(np.median(caught)), 1) if len(caught) else None,
        "link_lead_hours_p10": round(float(np.percentile(caught, 10)), 1) if len(caught) else None,
        "link_lead_hours_min": round(float(caught.min()), 1) if len(caught) else None,
        "link_healthy_ever_flagged": links.healthy_flagged,
        "link_healthy_flagged_share_of_checks": round(links.healthy_flagged_share, 5),
        "seed": seed,
        "seconds": round(time.perf_counter() - started, 1),
    }
