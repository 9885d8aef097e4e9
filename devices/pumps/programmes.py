"""Realistic infusion programmes and fault scenarios for the simulated pump.

Concentrations and rates are common adult ward/ICU standard concentrations (e.g. heparin 25,000 IU in
50 mL, noradrenaline 4 mg in 50 mL); they are examples for a simulator, not dosing advice.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from wardwatch.app.fleet.model import PumpProgramme

PROGRAMMES = MappingProxyType(
    {
        "heparin": PumpProgramme("Heparin", 500.0, "IU/mL", 2.0, 50.0),
        "noradrenaline": PumpProgramme("Noradrenaline", 80.0, "µg/mL", 5.0, 50.0),
        "insulin": PumpProgramme("Insulin", 1.0, "IU/mL", 3.0, 50.0),
        "morphine": PumpProgramme("Morphine", 1.0, "mg/mL", 2.0, 50.0),
        "saline": PumpProgramme("Sodium chloride 0.9 %", 0.0, "", 125.0, 1000.0),
        "antibiotic": PumpProgramme("Piperacillin/tazobactam", 45.0, "mg/mL", 200.0, 100.0),
    }
)


@dataclass(frozen=True, slots=True)
class PumpScenario:
    """When the simulated pump's faults happen, in station seconds after it starts (inf = never)."""

    name: str
    occlusion_at: float = float("inf")
    occlusion_for: float = 120.0  # then the simulated nurse clears it
    door_at: float = float("inf")
    door_for: float = 30.0
    pause_at: float = float("inf")
    pause_for: float = 180.0
    # the programme starts this close to its end (seconds of infusion left); None = from the start
    left_s: float | None = None
    on_battery: bool = False
    battery_start: float = 100.0
    battery_drain_per_h: float = 0.0  # on battery; on mains it charges


SCENARIOS = MappingProxyType(
    {
        "normal": PumpScenario("normal"),
        "occlusion": PumpScenario("occlusion", occlusion_at=60.0),
        "near-end": PumpScenario("near-end", left_s=480.0),
        "door": PumpScenario("door", door_at=45.0),
        "paused": PumpScenario("paused", pause_at=20.0),
        "battery": PumpScenario("battery", on_battery=True, battery_start=22.0, battery_drain_per_h=9.0),
        "transport": PumpScenario("transport", on_battery=True, battery_start=85.0, battery_drain_per_h=7.0),
    }
)
