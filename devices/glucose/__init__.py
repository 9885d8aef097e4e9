"""Continuous glucose: a simulated sensor (`cgm:<scenario>`). A real Bluetooth CGM is bound with the
`ble:` source, whose CGM Measurement decoder (devices/ble/cgm.py) this simulator also goes through."""

from __future__ import annotations

from wardwatch.app.sources import SourceContext
from wardwatch.devices.base import Source, SourceError
from wardwatch.devices.glucose.simulator import SCENARIOS, SimulatedCgm


def make_source(arg: str, bed: str, ctx: SourceContext) -> Source:
    """Entry point of the `cgm` source kind."""
    name = arg.strip().lower() or "stable"
    scenario = SCENARIOS.get(name)
    if scenario is None:
        raise SourceError(f"unknown glucose scenario {name!r}; known: {', '.join(SCENARIOS)}")
    return SimulatedCgm(scenario, bed, ctx.clock, seed=ctx.seed, runner=ctx.runner)


__all__ = ["SCENARIOS", "SimulatedCgm", "make_source"]
