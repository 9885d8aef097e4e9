"""Decoded device values turned into what the station charts: observations, waveform blocks, sensor and
battery conditions. Shared by every live device source (serial monitors, Bluetooth patches).

A decoder reports what the device said, in the device's own code and unit; the station keeps one code
and one unit per channel so that limits, NEWS2 and trends apply whatever the device. So a generic body
temperature (MDC_TEMP) is charted as MDC_TEMP_BODY in Celsius, and ECG in µV as mV.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import Observation, TechnicalEvent, TechnicalKind, Validity, WaveformBlock
from wardwatch.devices.base import Sink
from wardwatch.devices.decoded import Decoded, State

_VALIDITY = {
    State.VALID: Validity.VALID,
    State.QUESTIONABLE: Validity.QUESTIONABLE,
    State.DEMO: Validity.DEMO,
    State.CALIBRATING: Validity.CALIBRATION,
}
_KNOWN = {int(c) for c in MdcCode}
MDC_TEMP = 150344  # generic temperature: a patch thermometer or a monitor's "Temp" is the body's
BATTERY = 67996  # MDC_ATTR_VAL_BATT_CHARGE
MICRO_VOLT = 4 * 65536 + 0x10B3  # MDC_DIM_MICRO_VOLT
LOW_BATTERY_PERCENT = 20.0
BATTERY_OK_PERCENT = 25.0  # hysteresis, so a level wobbling at 20 % does not flap the alarm


def station_code(code: int) -> MdcCode | None:
    if code == MDC_TEMP:
        return MdcCode.TEMP_BODY
    return MdcCode(code) if code in _KNOWN else None


def station_value(value: float, unit: str) -> tuple[float, str]:
    """The value in the unit the station charts the channel in."""
    if unit == "[degF]":
        return round((value - 32.0) * 5.0 / 9.0, 2), "Cel"
    if unit == "kPa":
        return round(value * 7.50062, 1), "mm[Hg]"
    return value, unit


@dataclass(slots=True)
class Delivery:
    """Per-source state: where each wave's last block ended, whether the sensor is off, the battery."""

    bed: str
    source_label: str  # on every observation
    event_label: str = ""  # the detail of its technical events ("nonin sensor"); default source_label
    wave_end: dict[MdcCode, float] = field(default_factory=dict)
    conditions: dict[TechnicalKind, bool] = field(default_factory=dict)
    battery_percent: float | None = None
    battery_low: bool = False

    def push(self, sink: Sink, values: list[Decoded], now: float) -> None:
        for v in values:
            if v.code == BATTERY:
                self._battery(sink, v, now)
                continue
            code = station_code(v.code)
            if code is None:
                continue
            if v.samples is not None and v.rate_hz:
                self._wave(sink, code, v, now)
                continue
            if code is MdcCode.PULS_OXIM_SAT_O2:
                self.condition(sink, TechnicalKind.SENSOR_OFF, v.state is State.INVALID, now, code)
            contact = v.details.get("contact")
            if contact in ("contact", "no contact"):  # a chest strap or patch that reports skin contact
                self.condition(sink, TechnicalKind.LEAD_OFF, contact == "no contact", now, code)
            validity = _VALIDITY.get(v.state)
            if v.value is None or validity is None or not math.isfinite(v.value):
                continue  # no value the device stands by: its technical state says why
            value, unit = station_value(v.value, v.unit)
            sink.push_observation(Observation(self.bed, code, value, unit, now, validity, self.source_label))

    def _wave(self, sink: Sink, code: MdcCode, v: Decoded, now: float) -> None:
        assert v.samples is not None and v.rate_hz is not None
        samples = np.asarray(v.samples, np.float32)
        unit = v.unit
        if unit == "uV" or v.unit_code == MICRO_VOLT:
            samples, unit = samples / np.float32(1000.0), "mV"
        elif unit == "kPa":
            samples, unit = samples * np.float32(7.50062), "mm[Hg]"
        span = len(samples) / v.rate_hz
        # back to back with the previous block unless that would put samples in the future or far in the past
        t0 = self.wave_end.get(code, -math.inf)
        if not now - span - 0.5 <= t0 <= now - span + 0.05:
            t0 = now - span
        self.wave_end[code] = t0 + span
        if v.state is State.INVALID:
            samples = np.full_like(samples, np.nan)  # a wave from no sensor is drawn as a gap
        sink.push_block(WaveformBlock(self.bed, code, samples, v.rate_hz, t0, unit, v.label))

    def condition(
        self, sink: Sink, kind: TechnicalKind, active: bool, now: float, code: MdcCode | None = None
    ) -> None:
        """Raise or clear a technical condition when the device's say changes (not on every message)."""
        was = self.conditions.get(kind)
        if active == was:
            return
        if active or was is not None:
            sink.push_event(
                TechnicalEvent(self.bed, kind, active, now, self.event_label or self.source_label, code)
            )
        self.conditions[kind] = active

    def _battery(self, sink: Sink, v: Decoded, now: float) -> None:
        if v.value is None or v.state is not State.VALID:
            return
        self.battery_percent = v.value
        low = v.value <= LOW_BATTERY_PERCENT or (self.battery_low and v.value < BATTERY_OK_PERCENT)
        if low != self.battery_low:
            self.battery_low = low
            detail = f"{self.event_label or self.source_label} battery {v.value:.0f} %"
            sink.push_event(TechnicalEvent(self.bed, TechnicalKind.LOW_BATTERY, low, now, detail))
