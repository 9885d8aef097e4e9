"""Domain model: beds, patients, observations, waveform blocks, technical events, device status.

Patient fields are personal health information: `Patient.__repr__` masks them so that an accidental
log line or traceback never carries them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from wardwatch.app.codes import MdcCode


class Validity(StrEnum):
    """Measurement validity, after IEEE 11073 MeasurementValidity."""

    VALID = "valid"
    QUESTIONABLE = "questionable"
    INVALID = "invalid"
    CALIBRATION = "calibration"
    DEMO = "demo"


@dataclass(frozen=True, slots=True)
class Observation:
    """One numeric value of one bed (a source fills `bed` with the bed it feeds)."""

    bed: str
    code: MdcCode
    value: float
    unit: str  # UCUM
    time: float  # station clock, seconds since the epoch (UTC)
    validity: Validity = Validity.VALID
    source_label: str = ""


@dataclass(frozen=True, slots=True, eq=False)
class WaveformBlock:
    """Consecutive samples of one channel; sample k is at `t0 + k / rate`."""

    bed: str
    code: MdcCode
    samples: npt.NDArray[np.float32]
    rate: float
    t0: float
    unit: str = "mV"
    label: str = ""

    @property
    def t_end(self) -> float:
        """Time of the last sample."""
        return self.t0 + (len(self.samples) - 1) / self.rate


# Conditions of the station itself (not of a bed) are kept under this id in the hub and the alarm engine.
STATION_BED = "station"


class TechnicalKind(StrEnum):
    LEAD_OFF = "lead_off"
    SENSOR_OFF = "sensor_off"
    NO_SIGNAL = "no_signal"
    POOR_SIGNAL = "poor_signal"
    DISCONNECTED = "disconnected"
    LOW_BATTERY = "low_battery"
    SOURCE_FAILED = "source_failed"
    DATA_ERROR = "data_error"
    RECORDING_STOPPED = "recording_stopped"  # station-wide: the encrypted record cannot be written
    STATION_RESTARTED = "station_restarted"  # station-wide: the last run ended without a clean stop
    INTERFACE_DOWN = "interface_down"  # station-wide: an HL7/FHIR link cannot deliver (interop)
    BROKER_DOWN = "broker_down"  # station-wide: the hospital's MQTT broker cannot be reached (app/hospital)
    STATION_LOST = "station_lost"  # a remote bed on a viewer: its station stopped sending (app/hospital)


TECHNICAL_TEXT: dict[TechnicalKind, str] = {
    TechnicalKind.LEAD_OFF: "Leads off",
    TechnicalKind.SENSOR_OFF: "SpO₂ sensor off",
    TechnicalKind.NO_SIGNAL: "No signal",
    TechnicalKind.POOR_SIGNAL: "Poor signal",
    TechnicalKind.DISCONNECTED: "Device disconnected",
    TechnicalKind.LOW_BATTERY: "Low battery",
    TechnicalKind.SOURCE_FAILED: "Source failed",
    TechnicalKind.DATA_ERROR: "Data error",
    TechnicalKind.RECORDING_STOPPED: "Recording stopped",
    TechnicalKind.STATION_RESTARTED: "Station restarted",
    TechnicalKind.INTERFACE_DOWN: "Interface down",
    TechnicalKind.BROKER_DOWN: "Hospital network down",
    TechnicalKind.STATION_LOST: "No data from station",
}


@dataclass(frozen=True, slots=True)
class TechnicalEvent:
    """A technical condition that starts (`active=True`) or ends on a bed."""

    bed: str
    kind: TechnicalKind
    active: bool
    time: float
    detail: str = ""
    code: MdcCode | None = None  # the channel concerned, if one


class LinkState(StrEnum):
    STARTING = "starting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """What a source says about itself; shown as the tile's link badge."""

    source_id: str
    kind: str  # "sim", "replay", "ble", "serial"
    state: LinkState
    detail: str = ""
    battery_percent: float | None = None
    decode_errors: int = 0
    loss_percent: float | None = None  # share of the last minute's packets or lines that came in bad
    rssi_dbm: int | None = None  # radio signal strength last heard (Bluetooth)


@dataclass(frozen=True, slots=True)
class Patient:
    mrn: str
    family_name: str
    given_name: str
    birth_date: dt.date | None = None

    def __repr__(self) -> str:  # never leak PHI into logs or tracebacks
        return "Patient(<masked>)"

    __str__ = __repr__

    @property
    def display_name(self) -> str:
        return f"{self.family_name.upper()}, {self.given_name}"

    def age_years(self, today: dt.date) -> int | None:
        if self.birth_date is None:
            return None
        b = self.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))


@dataclass(slots=True)
class Bed:
    """A bed position of the ward; `label` is what nurses call it ("Bed 4")."""

    bed_id: str
    label: str
    patient: Patient | None = None
    source_spec: str | None = None  # e.g. "sim:stable" or "replay:/path/record"
    # further devices at the bed beside its monitor (infusion pumps, glucose sensors), as source specs
    devices: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
