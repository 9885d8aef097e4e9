"""Synthetic patients as live sources: `sim:<scenario>` (e.g. `sim:stable`, `sim:vt`).

Each bed gets a deterministic patient (seeded by the station seed and the bed index) that streams
ECG lead II, pleth and impedance respiration and reports HR, SpO₂, pulse rate, respiratory rate,
temperature and NIBP the way a bedside monitor would, including its technical conditions.

Options read from `SourceContext.options`:
  `nibp_interval_s`  seconds between cuff measurements (default 300; the first is at the start)
  `block_interval_s` station seconds between pushed blocks at real time (default 0.1)
  `time_scale`       compresses slow clinical trends (the 2-hour deterioration) for demos (default 1)
"""

from __future__ import annotations

import math

from wardwatch.app.sources import SourceContext
from wardwatch.devices.base import Source, SourceError
from wardwatch.devices.simulator.patient import SimulatedPatient
from wardwatch.devices.simulator.scenarios import SCENARIO_BY_NAME, SCENARIOS, Scenario, default_mix
from wardwatch.devices.simulator.source import (
    DEFAULT_BLOCK_INTERVAL_S,
    DEFAULT_NIBP_INTERVAL_S,
    SimulatorSource,
)

__all__ = [
    "SCENARIOS",
    "Scenario",
    "SimulatedPatient",
    "SimulatorSource",
    "default_mix",
    "make_source",
]


def _positive_option(options: dict[str, object], key: str, default: float) -> float:
    raw = options.get(key, default)
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SourceError(f"simulator option {key} must be a number, not {raw!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise SourceError(f"simulator option {key} must be a positive number, not {raw!r}")
    return value


def make_source(arg: str, bed: str, ctx: SourceContext) -> Source:
    """Build the simulated patient source for `sim:<arg>`, where `arg` names a scenario."""
    name = arg.strip()
    scenario = SCENARIO_BY_NAME.get(name)
    if scenario is None:
        raise SourceError(f"unknown simulator scenario {name!r}; valid scenarios: {', '.join(SCENARIOS)}")
    options = ctx.options
    return SimulatorSource(
        scenario,
        bed,
        ctx.clock,
        seed=ctx.seed,
        bed_index=ctx.bed_index,
        nibp_interval_s=_positive_option(options, "nibp_interval_s", DEFAULT_NIBP_INTERVAL_S),
        block_interval_s=_positive_option(options, "block_interval_s", DEFAULT_BLOCK_INTERVAL_S),
        time_scale=_positive_option(options, "time_scale", 1.0),
        runner=ctx.runner,
    )
