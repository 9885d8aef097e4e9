"""FHIR R4 vital-sign Observations and transaction Bundles, built and validated with fhir.resources
(its R4B models, which read and write R4 vital-sign resources unchanged). Pure functions.

Each Observation has an id made from the station, bed, channel and time, and is sent as a `PUT`: a
Bundle sent again after a lost answer overwrites the same resources instead of adding copies. Patient
and Device are conditional updates on their identifiers (created the first time, found afterwards).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import Patient
from wardwatch.app.interop.reports import BedReport, Identity, iso_time
from wardwatch.app.interop.vocabulary import (
    ART_PARTS,
    BP_PANEL,
    LOINC_CODES,
    LOINC_URI,
    MDC_SYSTEM_URI,
    NIBP_PARTS,
    UCUM_URI,
    ref_id,
    reported,
    ucum,
)

VITAL_SIGNS = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "vital-signs",
            "display": "Vital Signs",
        }
    ]
}
EUI64_SYSTEM = "urn:ieee:eui-64"
PROFILE = "http://hl7.org/fhir/StructureDefinition/vitalsigns"


def mrn_system(identity: Identity) -> str:
    """The identifier system of the hospital's medical record numbers, as this station names it."""
    return f"urn:wardwatch:{identity.facility.lower().replace(' ', '-')}:mrn"


def _id(*parts: object) -> str:
    return "ww-" + hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:40]


def _uuid(*parts: object) -> str:
    h = hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()
    return f"urn:uuid:{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


def _code(code: MdcCode) -> dict[str, Any]:
    codings = [{"system": LOINC_URI, "code": c, "display": d} for c, d in LOINC_CODES[code]]
    codings.append({"system": MDC_SYSTEM_URI, "code": str(int(code)), "display": ref_id(code)})
    return {"coding": codings, "text": ref_id(code)}


def _quantity(code: MdcCode, value: float) -> dict[str, Any]:
    unit = ucum(code)
    return {"value": round(float(value), 3), "unit": unit, "system": UCUM_URI, "code": unit}


def _absent(value: float) -> dict[str, Any]:
    reason = (
        "not-a-number" if math.isnan(value) else "positive-infinity" if value > 0 else "negative-infinity"
    )
    return {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": reason}]
    }


def _value(code: MdcCode, value: float) -> dict[str, Any]:
    if math.isfinite(value):
        return {"valueQuantity": _quantity(code, value)}
    return {"dataAbsentReason": _absent(value)}


def _observation(
    identity: Identity, bed_id: str, time: float, key: object, subject: str, device: str
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": _id(identity.eui64, bed_id, key, round(time, 3)),
        "meta": {"profile": [PROFILE]},
        "status": "final",
        "category": [VITAL_SIGNS],
        "subject": {"reference": subject},
        "effectiveDateTime": iso_time(time),
        "device": {"reference": device},
    }


def observations(report: BedReport, identity: Identity, subject: str, device: str) -> list[dict[str, Any]]:
    """The bed's numerics as vital-sign Observations; blood pressures as one panel with components."""
    by_code = {n.code: n for n in report.numerics if reported(n.code)}
    out: list[dict[str, Any]] = []
    for parts in (NIBP_PARTS, ART_PARTS):
        sys_, dia = by_code.get(parts[0]), by_code.get(parts[1])
        if parts is NIBP_PARTS and sys_ is not None and dia is not None:
            obs = _observation(identity, report.bed_id, sys_.time, "bp-panel", subject, device)
            obs["code"] = {
                "coding": [
                    {"system": LOINC_URI, "code": BP_PANEL[0], "display": BP_PANEL[1]},
                    {"system": MDC_SYSTEM_URI, "code": "150020", "display": "MDC_PRESS_BLD_NONINV"},
                ],
                "text": "Blood pressure (non-invasive)",
            }
            obs["component"] = [
                {"code": _code(p), **_value(p, by_code[p].value)} for p in parts if p in by_code
            ]
            out.append(obs)
            for p in parts:
                by_code.pop(p, None)
    for code, n in sorted(by_code.items()):
        obs = _observation(identity, report.bed_id, n.time, int(code), subject, device)
        obs["code"] = _code(code)
        obs.update(_value(code, n.value))
        out.append(obs)
    return out


def _patient_resource(patient: Patient, identity: Identity) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [{"system": mrn_system(identity), "value": patient.mrn}],
        "name": [
            {"family": patient.family_name, "given": [patient.given_name] if patient.given_name else []}
        ],
    }
    if patient.birth_date is not None:
        resource["birthDate"] = patient.birth_date.isoformat()
    if not resource["name"][0]["given"]:
        del resource["name"][0]["given"]
    return resource


def _device_resource(identity: Identity) -> dict[str, Any]:
    return {
        "resourceType": "Device",
        "identifier": [{"system": EUI64_SYSTEM, "value": identity.eui64}],
        "deviceName": [{"name": identity.application, "type": "user-friendly-name"}],
    }


def bundle(reports: Sequence[BedReport], identity: Identity, bundle_id: str) -> Bundle:
    """A transaction Bundle of the reports' Observations with their Patient and Device (validated:
    fhir.resources raises pydantic's ValidationError on anything FHIR does not allow)."""
    entries: list[dict[str, Any]] = []
    device_url = _uuid("device", identity.eui64)
    entries.append(
        {
            "fullUrl": device_url,
            "resource": _device_resource(identity),
            "request": {"method": "PUT", "url": f"Device?identifier={EUI64_SYSTEM}|{identity.eui64}"},
        }
    )
    patients: dict[str, str] = {}
    for report in reports:
        if report.patient is None:
            continue  # vital signs need a subject: an empty bed's numerics are not filed
        mrn = report.patient.mrn
        if mrn not in patients:
            patients[mrn] = _uuid("patient", identity.eui64, mrn)
            entries.append(
                {
                    "fullUrl": patients[mrn],
                    "resource": _patient_resource(report.patient, identity),
                    "request": {
                        "method": "PUT",
                        "url": f"Patient?identifier={mrn_system(identity)}|{mrn}",
                    },
                }
            )
        for obs in observations(report, identity, patients[mrn], device_url):
            entries.append(
                {
                    "fullUrl": f"urn:uuid:{_uuid(obs['id'])[9:]}",
                    "resource": obs,
                    "request": {"method": "PUT", "url": f"Observation/{obs['id']}"},
                }
            )
    return Bundle.model_validate(
        {"resourceType": "Bundle", "id": bundle_id, "type": "transaction", "entry": entries}
    )


def bundle_json(reports: Sequence[BedReport], identity: Identity, bundle_id: str) -> str:
    return bundle(reports, identity, bundle_id).model_dump_json(exclude_none=True)


def observation_count(reports: Iterable[BedReport]) -> int:
    return sum(len([n for n in r.numerics if reported(n.code)]) for r in reports)
