"""Inbound ADT (A01 admit, A02 transfer, A03 discharge, A08 update): parsing and applying to the ward.

Parsing is pure; every refusal is an `AdtRefused` whose text names what was wrong without any patient
data, since it goes into the ACK's ERR segment and into the log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message
from wardwatch.app.domain import Patient
from wardwatch.app.station import Station, WardError

EVENTS = ("A01", "A02", "A03", "A08")

_UNESCAPES = (("\\F\\", "|"), ("\\S\\", "^"), ("\\T\\", "&"), ("\\R\\", "~"), ("\\E\\", "\\"))


def unescape(text: str) -> str:
    for escaped, raw in _UNESCAPES:
        text = text.replace(escaped, raw)
    return text


class AdtRefused(Exception):
    """The message cannot be applied: `code` AE (an error, e.g. unknown bed) or AR (not a message we
    take, e.g. unsupported event or unparsable)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Location:
    point_of_care: str
    room: str
    bed: str


@dataclass(frozen=True, slots=True)
class AdtMessage:
    control_id: str
    event: str
    patient: Patient | None
    location: Location | None  # PV1-3, where the patient is (after a transfer: the new bed)
    prior: Location | None  # PV1-6, where they were (A02)


@dataclass(frozen=True, slots=True)
class Header:
    """What an answer needs even when the rest of the message is unusable."""

    control_id: str
    event: str


def header(text: str) -> Header:
    """MSH-10 and the trigger event, read from the raw text (works on messages hl7apy refuses)."""
    first = text.split("\r", 1)[0]
    if not first.startswith("MSH") or len(first) < 8:
        return Header("", "")
    fields = first.split(first[3])
    control = fields[9] if len(fields) > 9 else ""
    kind = fields[8].split(first[4]) if len(fields) > 8 and len(first) > 4 else []
    return Header(control[:199], kind[1][:3] if len(kind) > 1 else "")


def _value(element: Any) -> str:
    try:
        return unescape(element.to_er7()).strip()
    except Exception:  # hl7apy raises its own kinds for absent children; absent is empty here
        return ""


def _location(field: Any) -> Location | None:
    if not _value(field):
        return None
    return Location(_value(field.pl_1), _value(field.pl_2), _value(field.pl_3))


def _patient(msg: Any) -> Patient:
    pid = msg.pid
    ids = pid.pid_3
    mrn = _value(ids[0].cx_1 if len(ids) else ids.cx_1)
    names = pid.pid_5
    name = names[0] if len(names) else names
    family, given = _value(name.xpn_1), _value(name.xpn_2)
    if not mrn:
        raise AdtRefused("AE", "PID-3 has no patient identifier")
    if not family:
        raise AdtRefused("AE", "PID-5 has no family name")
    birth: dt.date | None = None
    born = _value(pid.pid_7)[:8]
    if born:
        try:
            birth = dt.datetime.strptime(born, "%Y%m%d").date()
        except ValueError:
            raise AdtRefused("AE", "PID-7 is not a date (YYYYMMDD)") from None
    return Patient(mrn[:64], family[:128], given[:128], birth)


def parse_adt(text: str) -> AdtMessage:
    """Read an ADT message; raises AdtRefused (never anything else) when it cannot be used."""
    head = header(text)
    if not head.control_id:
        raise AdtRefused("AR", "no MSH segment with a control id (MSH-10)")
    if head.event not in EVENTS:
        raise AdtRefused("AR", f"event {head.event or '(none)'} not supported: A01, A02, A03, A08 are")
    try:
        msg = parse_message(text, validation_level=VALIDATION_LEVEL.TOLERANT, find_groups=False)
        names = {segment.name for segment in msg.children}
    except Exception as exc:  # hl7apy's parser raises many kinds; the sender learns it is unreadable
        raise AdtRefused("AR", f"message could not be parsed ({type(exc).__name__})") from None
    if "PID" not in names:
        raise AdtRefused("AE", "no PID segment")
    if "PV1" not in names and head.event != "A08":
        raise AdtRefused("AE", "no PV1 segment")
    try:
        patient = _patient(msg)
        location = _location(msg.pv1.pv1_3) if "PV1" in names else None
        prior = _location(msg.pv1.pv1_6) if "PV1" in names else None
    except AdtRefused:
        raise
    except Exception as exc:
        raise AdtRefused("AE", f"PID or PV1 could not be read ({type(exc).__name__})") from None
    return AdtMessage(head.control_id, head.event, patient, location, prior)


def find_bed(station: Station, location: Location | None) -> str:
    """The station bed a PV1 location names: its bed component (or, failing that, its point of care)
    matched against bed labels ("Bed 3") and bed ids ("bed03"), case and spaces ignored."""
    if location is None:
        raise AdtRefused("AE", "PV1-3 gives no location")

    def norm(text: str) -> str:
        return "".join(text.lower().split())

    for wanted in (location.bed, location.room, location.point_of_care):
        if not wanted:
            continue
        for bed in station.beds:
            if norm(wanted) in (norm(bed.label), norm(bed.bed_id)):
                return bed.bed_id
    raise AdtRefused("AE", "the location in PV1-3 is not a bed of this station")


def _bed_of_patient(station: Station, mrn: str) -> str | None:
    for bed in station.beds:
        if bed.patient is not None and bed.patient.mrn == mrn:
            return bed.bed_id
    return None


def apply_adt(station: Station, msg: AdtMessage) -> str:
    """Carry the message out on the station (any thread: ward actions are serialised by the station).
    Returns what was done, in words without patient data; raises AdtRefused."""
    patient = msg.patient
    assert patient is not None  # parse_adt always reads one
    try:
        with station.ward_lock:  # the checks and the change must see the same ward
            current = _bed_of_patient(station, patient.mrn)
            if msg.event == "A01":
                bed = find_bed(station, msg.location)
                if current == bed:
                    station.update_patient(bed, patient)  # an admit sent again: same patient, same bed
                    return f"already admitted to {bed}"
                station.admit(bed, patient)
                return f"admitted to {bed}"
            if msg.event == "A02":
                to_bed = find_bed(station, msg.location)
                from_bed = current or (find_bed(station, msg.prior) if msg.prior else None)
                if from_bed is None:
                    raise AdtRefused("AE", "the patient is not in a bed of this station")
                if from_bed == to_bed:
                    return f"already in {to_bed}"
                station.move(from_bed, to_bed)
                return f"moved from {from_bed} to {to_bed}"
            if msg.event == "A03":
                if current is None:
                    raise AdtRefused("AE", "the patient is not in a bed of this station")
                station.discharge(current)
                return f"discharged from {current}"
            if current is None:
                raise AdtRefused("AE", "the patient is not in a bed of this station")
            station.update_patient(current, patient)
            return f"details updated in {current}"
    except WardError as exc:
        # WardError texts name beds, never patients (see Station)
        raise AdtRefused("AE", str(exc)) from None
