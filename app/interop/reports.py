"""What the interfaces report, as plain values taken from the station (no HL7 or FHIR here)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from wardwatch.app.alarms.model import Action, Category, Priority
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import Patient


@dataclass(frozen=True, slots=True)
class Identity:
    """Who sends: the station's application name, its EUI-64 and the ward (point of care)."""

    application: str
    eui64: str  # 16 hex digits
    facility: str


def station_eui64(station_name: str) -> str:
    """A stable EUI-64 for a station without one of its own hardware: from its name, with the
    locally-administered bit set so it can never collide with a manufacturer's."""
    raw = bytearray(hashlib.sha256(station_name.encode("utf-8")).digest()[:8])
    raw[0] = (raw[0] | 0x02) & 0xFE
    return raw.hex().upper()


@dataclass(frozen=True, slots=True)
class Numeric:
    code: MdcCode
    value: float
    unit: str  # UCUM
    time: float
    low: float | None = None  # the active alarm limits, for OBX-7
    high: float | None = None


@dataclass(frozen=True, slots=True)
class BedReport:
    """One bed's numerics at one moment, with its patient (PCD-01, FHIR Observations)."""

    bed_id: str
    bed_label: str
    patient: Patient | None
    time: float
    numerics: tuple[Numeric, ...]


@dataclass(frozen=True, slots=True)
class AlarmReport:
    """One change of one alarm (PCD-04)."""

    bed_id: str
    bed_label: str
    patient: Patient | None
    time: float
    alarm_ref: str  # the same through all changes of one alarm, unique across restarts
    key: str
    text: str
    category: Category
    priority: Priority
    action: Action
    source: MdcCode | None = None  # the numeric the alarm is about, if one


# Alarm actions sent to the alarm manager; audio pause, limits and nurse entries are not alarms.
SENT_ACTIONS = frozenset(
    {
        Action.RAISED,
        Action.RELEASED,
        Action.ESCALATED,
        Action.ACKNOWLEDGED,
        Action.CONDITION_ENDED,
        Action.CLEARED,
    }
)


def hl7_time(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y%m%d%H%M%S+0000")


def iso_time(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="seconds")
