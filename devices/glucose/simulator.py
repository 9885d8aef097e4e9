"""A simulated continuous glucose sensor on the station's shared runner.

Its glucose follows a scenario (steady, falling towards a hypo, rising to a hyper); each reading is
sent as a CGM Measurement record and decoded by the Bluetooth CGM decoder, as a real sensor's would be.
A "noisy-link" sensor corrupts some records on the way, which the decoder's CRC check rejects: the
decode errors the asset list and the maintenance view count.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np
from wardwatch.app.clock import Clock
from wardwatch.app.domain import DeviceStatus, LinkState
from wardwatch.app.fleet.model import DeviceIdentity, DeviceType
from wardwatch.devices.base import SharedRunner, Sink, SteppedSource
from wardwatch.devices.ble import battery, cgm
from wardwatch.devices.decoded import DecodeError
from wardwatch.devices.delivery import Delivery
from wardwatch.devices.glucose.encode import measurement
from wardwatch.devices.link_health import LinkHealth
from wardwatch.devices.pumps.simulator import serial_number

READING_EVERY_S = 60.0  # one reading a minute, as current sensors send
BATTERY_DRAIN_PER_H = 0.25  # a 14-day sensor's battery
BATTERY_LOW_PERCENT = 10.0


@dataclass(frozen=True, slots=True)
class GlucoseScenario:
    """Glucose over time: `start` mg/dL, changing at `rate` mg/dL/min until `floor`/`ceiling`, then
    recovering at `recover` mg/dL/min towards `settle`; a slow swing and sensor noise on top."""

    name: str
    start: float
    rate: float = 0.0
    floor: float = 40.0
    ceiling: float = 400.0
    recover: float = 0.0
    settle: float = 110.0
    swing: float = 8.0  # mg/dL, period 3 h
    noise: float = 2.0  # mg/dL
    corrupt_share: float = 0.0  # share of records damaged on the link
    battery_start: float = 100.0

    def glucose(self, t_min: float) -> float:
        """The true glucose `t_min` minutes after the sensor started (no noise)."""
        base = self.start + self.rate * t_min
        if self.rate < 0 and base < self.floor:
            t_floor = (self.floor - self.start) / self.rate
            # ten minutes at the bottom (the hypo is treated), then back up towards `settle`
            recovering = max(0.0, t_min - t_floor - 10.0)
            base = min(self.floor + self.recover * recovering, self.settle)
        elif self.rate > 0 and base > self.ceiling:
            base = self.ceiling
        return base + self.swing * math.sin(2 * math.pi * t_min / 180.0)


SCENARIOS = {
    s.name: s
    for s in (
        GlucoseScenario("stable", 115.0),
        GlucoseScenario("falling", 125.0, rate=-2.0, floor=52.0, recover=2.5, swing=0.0),
        GlucoseScenario("rising", 180.0, rate=1.5, ceiling=320.0, swing=0.0),
        GlucoseScenario("hypo", 62.0, swing=2.0),
        GlucoseScenario("noisy-link", 130.0, corrupt_share=0.15),
        GlucoseScenario("old-sensor", 120.0, battery_start=14.0),
    )
}


class SimulatedCgm(SteppedSource):
    kind = "cgm"

    def __init__(
        self,
        scenario: GlucoseScenario,
        bed: str,
        clock: Clock,
        seed: int = 0,
        runner: SharedRunner | None = None,
        every_s: float = READING_EVERY_S,
    ) -> None:
        super().__init__(f"cgm:{scenario.name}@{bed}", bed, clock, runner)
        self.scenario = scenario
        self.every_s = every_s
        self.identity = DeviceIdentity(
            DeviceType.CGM,
            maker="WardWatch (simulated)",
            model="SimCGM G1",
            serial=serial_number("SG", seed, bed),
            firmware="1.0.7",
            address=f"sim://{bed}/cgm",
        )
        self._rng = np.random.default_rng(zlib.crc32(f"{seed}/{bed}/cgm".encode()))
        self._delivery = Delivery(bed, self.source_id, "glucose sensor")
        self._health = LinkHealth()
        self.decode_errors = 0
        self._t0 = 0.0
        self._next = 0.0
        self._battery = scenario.battery_start

    def begin(self) -> None:
        self._t0 = self.clock.now()
        self._next = self._t0

    def step(self, sink: Sink) -> float:
        now = self.clock.now()
        if now < self._next:
            return self._next - now
        self._next += self.every_s
        if self._next < now:  # a suspended machine: no burst of missed readings
            self._next = now + self.every_s
        t_min = (now - self._t0) / 60.0
        s = self.scenario
        self._battery = max(0.0, s.battery_start - BATTERY_DRAIN_PER_H * t_min / 60.0)
        value = s.glucose(t_min) + float(self._rng.normal(0.0, s.noise))
        trend = (s.glucose(t_min) - s.glucose(t_min - 5.0)) / 5.0
        record = measurement(
            max(20.0, min(500.0, value)),
            int(t_min),
            trend_mg_dl_min=trend,
            quality_percent=95.0,
            battery_low=self._battery <= BATTERY_LOW_PERCENT,
        )
        if s.corrupt_share and self._rng.random() < s.corrupt_share:
            record = record[:-1] + bytes([record[-1] ^ 0x5A])  # a bit error the CRC catches
        self.receive(sink, record, now)
        self.receive_battery(sink, round(self._battery), now)
        return self.every_s

    def receive(self, sink: Sink, record: bytes, now: float) -> None:
        """What a Bluetooth link would do with a notification: decode it, count it, deliver it."""
        try:
            values = cgm.decode(record)
        except DecodeError:
            self.decode_errors += 1
            self._health.add(now, 0, 1)
        else:
            self._health.add(now, 1, 0)
            self._delivery.push(sink, values, now)
        self._report(sink, now)

    def receive_battery(self, sink: Sink, level: int, now: float) -> None:
        self._delivery.push(sink, battery.decode(bytes([level])), now)
        self._report(sink, now)

    def _report(self, sink: Sink, now: float) -> None:
        self._status = DeviceStatus(
            self.source_id,
            self.kind,
            LinkState.CONNECTED,
            self.identity.model,
            battery_percent=self._delivery.battery_percent,
            decode_errors=self.decode_errors,
            loss_percent=self._health.loss_percent(now),
        )
        sink.set_status(self.bed, self._status)
