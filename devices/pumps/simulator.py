"""A simulated infusion pump channel, behind the same Source protocol as every device.

It reports its programme and state about once a second (to a sink that takes pump reports, see
`PumpReportSink`) and its link state and battery as any device does. A real pump interface (an IEEE
11073 SDC provider, a vendor's serial protocol) would be another Source that sends the same reports.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

from wardwatch.app.clock import Clock
from wardwatch.app.domain import DeviceStatus, LinkState
from wardwatch.app.fleet.model import (
    DeviceIdentity,
    DeviceType,
    PumpProgramme,
    PumpReport,
    PumpReportSink,
    PumpState,
)
from wardwatch.devices.base import SharedRunner, Sink, SteppedSource
from wardwatch.devices.pumps.programmes import PumpScenario

REPORT_EVERY_S = 1.0
NEAR_END_S = 300.0  # "near end" five minutes before the volume runs out, as pumps commonly warn
BATTERY_LOW_PERCENT = 15.0
CHARGE_PER_H = 20.0


@dataclass(slots=True)
class PumpModel:
    """The pump's physics, advanced in steps of station time (pure apart from its own fields)."""

    programme: PumpProgramme
    scenario: PumpScenario
    infused_ml: float = 0.0
    battery: float = 100.0
    elapsed: float = 0.0
    state: PumpState = PumpState.RUNNING

    @classmethod
    def start(cls, programme: PumpProgramme, scenario: PumpScenario) -> PumpModel:
        infused = 0.0
        if scenario.left_s is not None:
            infused = max(0.0, programme.vtbi_ml - programme.rate_ml_h * scenario.left_s / 3600.0)
        return cls(programme, scenario, infused, scenario.battery_start)

    def _fault(self, t: float) -> PumpState | None:
        s = self.scenario
        if s.occlusion_at <= t < s.occlusion_at + s.occlusion_for:
            return PumpState.OCCLUSION
        if s.door_at <= t < s.door_at + s.door_for:
            return PumpState.DOOR_OPEN
        if s.pause_at <= t < s.pause_at + s.pause_for:
            return PumpState.PAUSED
        return None

    def advance(self, dt: float) -> PumpState:
        """Move on by `dt` station seconds; the state at the end."""
        s = self.scenario
        self.elapsed += dt
        if s.on_battery:
            self.battery = max(0.0, self.battery - s.battery_drain_per_h * dt / 3600.0)
        else:
            self.battery = min(100.0, self.battery + CHARGE_PER_H * dt / 3600.0)
        if self.battery <= 0.0:
            self.state = PumpState.BATTERY
            return self.state
        fault = self._fault(self.elapsed)
        if fault is not None:
            self.state = fault
            return self.state
        if self.state is PumpState.END:
            return self.state
        p = self.programme
        self.infused_ml = min(p.vtbi_ml, self.infused_ml + p.rate_ml_h * dt / 3600.0)
        left_s = (p.vtbi_ml - self.infused_ml) / p.rate_ml_h * 3600.0 if p.rate_ml_h > 0 else math.inf
        if left_s <= 1e-6:
            self.state = PumpState.END
        elif left_s <= NEAR_END_S:
            self.state = PumpState.NEAR_END
        else:
            self.state = PumpState.RUNNING
        return self.state


def serial_number(prefix: str, *parts: object) -> str:
    """A stable made-up serial number for a simulated device (same seed and bed, same serial)."""
    digest = zlib.crc32("/".join(str(p) for p in parts).encode())
    return f"{prefix}-{digest % 1_000_000:06d}"


class SimulatedPump(SteppedSource):
    kind = "pump"

    def __init__(
        self,
        programme_name: str,
        programme: PumpProgramme,
        scenario: PumpScenario,
        bed: str,
        clock: Clock,
        seed: int = 0,
        channel: int = 1,
        runner: SharedRunner | None = None,
    ) -> None:
        super().__init__(f"pump:{programme_name}{channel}@{bed}", bed, clock, runner)
        self.model = PumpModel.start(programme, scenario)
        self.identity = DeviceIdentity(
            DeviceType.INFUSION_PUMP,
            maker="WardWatch (simulated)",
            model="SimPump LVP-1",
            serial=serial_number("SP", seed, bed, channel),
            firmware="2.3.1",
            address=f"sim://{bed}/pump{channel}",
        )
        self._last = 0.0
        self._next = 0.0

    def begin(self) -> None:
        self._last = self.clock.now()
        self._next = self._last

    def step(self, sink: Sink) -> float:
        now = self.clock.now()
        if now < self._next:  # the shared runner passes far more often than a pump reports
            return self._next - now
        self.model.advance(max(0.0, now - self._last))
        self._last = now
        self._next = now + REPORT_EVERY_S
        report = self.report(now)
        if isinstance(sink, PumpReportSink):
            sink.report_pump(report)
        detail = f"{self.model.programme.drug} {self.model.state.value}"
        self._status = DeviceStatus(
            self.source_id, self.kind, LinkState.CONNECTED, detail, battery_percent=round(self.model.battery)
        )
        sink.set_status(self.bed, self._status)
        return REPORT_EVERY_S

    def report(self, now: float) -> PumpReport:
        m = self.model
        return PumpReport(
            source_id=self.source_id,
            bed=self.bed,
            time=now,
            programme=m.programme,
            state=m.state,
            volume_infused_ml=round(m.infused_ml, 2),
            battery_percent=round(m.battery, 1),
            on_battery=m.scenario.on_battery,
            battery_low=m.battery <= BATTERY_LOW_PERCENT,
        )
