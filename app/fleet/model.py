"""The device fleet's values: what an infusion pump reports, who a device is, and where it was seen.

Pure data (frozen dataclasses and enums), shared by the pump and glucose sources (devices/), the alarm
rules and the asset list (app/fleet) and the views (ui/). Nothing here names a patient.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable


class DeviceType(StrEnum):
    """What `wardwatch devices --json` says a device is."""

    BEDSIDE_MONITOR = "bedside-monitor"
    ECG_PATCH = "ecg-patch"
    PULSE_OXIMETER = "pulse-oximeter"
    INFUSION_PUMP = "infusion-pump"
    CGM = "cgm"
    BLOOD_PRESSURE = "blood-pressure-monitor"
    THERMOMETER = "thermometer"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    """Who a device is, as far as it tells (a simulated one makes itself up; a BLE patch may not say)."""

    device_type: DeviceType
    maker: str = ""
    model: str = ""
    serial: str = ""
    firmware: str = ""
    address: str = ""  # Bluetooth address, serial port, network address


class PumpState(StrEnum):
    """The states of an infusion pump channel, after the usual pump vocabulary."""

    RUNNING = "running"
    PAUSED = "paused"  # stopped by a nurse, programme kept
    NEAR_END = "near end"  # running, the volume to be infused runs out within minutes
    END = "end"  # volume to be infused delivered (keep-vein-open or stopped)
    OCCLUSION = "occlusion"  # pressure rose: the line is blocked, nothing is delivered
    DOOR_OPEN = "door open"  # the set's door or clamp is open: nothing is delivered
    BATTERY = "battery"  # the battery ran out: the pump stopped


# States in which the pump is delivering the drug.
DELIVERING = frozenset({PumpState.RUNNING, PumpState.NEAR_END})


@dataclass(frozen=True, slots=True)
class PumpProgramme:
    """What a nurse programmed: the drug and its concentration, the rate and the volume to be infused."""

    drug: str
    concentration: float  # amount per mL, in `concentration_unit`
    concentration_unit: str  # e.g. "IU/mL", "µg/mL", "mg/mL"; "" for a plain fluid
    rate_ml_h: float
    vtbi_ml: float  # volume to be infused

    @property
    def concentration_text(self) -> str:
        if not self.concentration_unit:
            return ""
        return f"{self.concentration:g} {self.concentration_unit}"

    @property
    def dose_text(self) -> str:
        """The dose rate the programme gives ("1000 IU/h"), or "" for a plain fluid."""
        if not self.concentration_unit:
            return ""
        amount_unit = self.concentration_unit.removesuffix("/mL")
        return f"{self.concentration * self.rate_ml_h:g} {amount_unit}/h"


@dataclass(frozen=True, slots=True)
class PumpReport:
    """One pump channel as it is now (a pump reports about once a second)."""

    source_id: str
    bed: str
    time: float
    programme: PumpProgramme
    state: PumpState
    volume_infused_ml: float
    battery_percent: float | None = None
    on_battery: bool = False
    battery_low: bool = False

    @property
    def remaining_ml(self) -> float:
        return max(0.0, self.programme.vtbi_ml - self.volume_infused_ml)

    @property
    def time_remaining_s(self) -> float | None:
        """Until the volume to be infused is delivered, at the programmed rate; None when not delivering."""
        if self.state not in DELIVERING or self.programme.rate_ml_h <= 0:
            return None
        return self.remaining_ml / self.programme.rate_ml_h * 3600.0


@runtime_checkable
class PumpReportSink(Protocol):
    """A sink that also takes pump reports (the station's per-device sink; a plain hub does not)."""

    def report_pump(self, report: PumpReport) -> None: ...


def duration_text(seconds: float | None) -> str:
    """'2 h 05 min', '12 min', '--' for none."""
    if seconds is None:
        return "--"
    minutes = max(0, round(seconds / 60.0))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
