"""`wardwatch export fhir`: a bed's recorded observations of a period as a FHIR R4 transaction Bundle.

The record keeps one value per second; the export takes the last valid value of each minute per
channel (the cadence of the live PCD-01 reports), for the patient admitted to the bed at that minute.
Minutes without an admitted patient are left out: vital signs are filed against a patient.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from wardwatch.app.codes import MdcCode
from wardwatch.app.interop import fhir_build
from wardwatch.app.interop.reports import BedReport, Identity, Numeric, station_eui64
from wardwatch.app.interop.vocabulary import reported, ucum
from wardwatch.storage.export import ExportError
from wardwatch.storage.interop_patients import Stay, stays


def _stay_at(all_stays: list[Stay], t: float) -> Stay | None:
    for stay in all_stays:
        if stay.admitted_at <= t and (stay.discharged_at is None or t < stay.discharged_at):
            return stay
    return None


def minute_reports(reader: Any, bed_id: str, start: float, end: float, engine: Any) -> list[BedReport]:
    """One report per recorded minute of the bed with a patient in it."""
    all_stays = stays(engine, bed_id, start, end)
    by_minute: dict[int, list[Numeric]] = defaultdict(list)
    for code, series in reader.trends(bed_id, start, end).items():
        try:
            mdc = MdcCode(code)
        except ValueError:
            continue
        if not reported(mdc) or len(series.times) == 0:
            continue
        minutes = (series.times // 60).astype(np.int64)
        finite = np.isfinite(series.values)
        for minute in np.unique(minutes[finite]):
            idx = np.flatnonzero((minutes == minute) & finite)[-1]
            by_minute[int(minute)].append(
                Numeric(mdc, float(series.values[idx]), ucum(mdc), float(series.times[idx]))
            )
    reports = []
    for minute in sorted(by_minute):
        t = minute * 60.0 + 59.0
        stay = _stay_at(all_stays, min(t, max(n.time for n in by_minute[minute])))
        if stay is None:
            continue
        reports.append(BedReport(bed_id, bed_id, stay.patient, t, tuple(by_minute[minute])))
    return reports


def export_bundle(reader: Any, bed_id: str, start: float, end: float, identity: Identity) -> str:
    engine = getattr(reader, "_engine")  # noqa: B009 - the reader's engine also holds the admissions
    reports = minute_reports(reader, bed_id, start, end, engine)
    if not reports:
        raise ExportError(f"no recorded numerics of an admitted patient in {bed_id} in that period")
    return fhir_build.bundle_json(reports, identity, f"ww-export-{bed_id}-{int(start)}-{int(end)}")


def write_bundle(reader: Any, bed_id: str, start: float, end: float, out: Path) -> int:
    """Write the Bundle to `out`; returns the number of Observations. Raises ExportError when the
    period holds nothing to export."""
    from wardwatch.app.config import load_config

    config = load_config().config
    identity = Identity("WARDWATCH", station_eui64(config.station_name), config.interop_facility)
    text = export_bundle(reader, bed_id, start, end, identity)
    out.write_text(text, encoding="utf-8")
    return text.count('"resourceType":"Observation"')
