"""FHIR R4 vital-sign Bundles: validated with fhir.resources (R4B models), sent with retry to a real
loopback HTTP server, and written from the record by `wardwatch export fhir`."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation as FhirObservation
from wardwatch.app.cli import main
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import Patient
from wardwatch.app.interop import fhir_build
from wardwatch.app.interop.links import FhirTransport, Link
from wardwatch.app.interop.reports import BedReport, Identity, Numeric
from wardwatch.storage import schema
from wardwatch.storage.database import open_record
from wardwatch.storage.interop_queue import OutboxMessage, OutboxQueue
from wardwatch.storage.keys import DatabaseKey, write_key_file
from wardwatch.storage.recorder import trend_row
from wardwatch.storage.writer import RecordWriter, Row

T0 = 1_800_000_000.0
IDENTITY = Identity("WARDWATCH", "0200000000000003", "WARD")
PATIENT = Patient("MRN42", "Doe", "Jane", dt.date(1950, 1, 2))


def _report(t: float = T0, **extra: float) -> BedReport:
    values = {
        MdcCode.ECG_HEART_RATE: 72.0,
        MdcCode.PULS_OXIM_SAT_O2: 97.0,
        MdcCode.RESP_RATE: 16.0,
        MdcCode.TEMP_BODY: 36.8,
        MdcCode.PRESS_BLD_NONINV_SYS: 121.0,
        MdcCode.PRESS_BLD_NONINV_DIA: 79.0,
        MdcCode.PRESS_BLD_NONINV_MEAN: 93.0,
    }
    units = {"ECG_HEART_RATE": "/min", "RESP_RATE": "/min", "PULS_OXIM_SAT_O2": "%", "TEMP_BODY": "Cel"}
    numerics = tuple(Numeric(c, v, units.get(c.name, "mm[Hg]"), t) for c, v in values.items())
    return BedReport("bed01", "Bed 1", PATIENT, t, numerics)


def _observations(bundle: Bundle) -> list[FhirObservation]:
    return [e.resource for e in bundle.entry if e.resource.get_resource_type() == "Observation"]


def test_a_bundle_validates_as_an_r4_transaction_of_vital_sign_observations():
    text = fhir_build.bundle_json([_report()], IDENTITY, "b-1")
    bundle = Bundle.model_validate_json(text)  # raises if anything is not FHIR
    assert bundle.type == "transaction"
    kinds = [e.resource.get_resource_type() for e in bundle.entry]
    assert kinds[:2] == ["Device", "Patient"] and kinds.count("Observation") == 5
    for entry in bundle.entry:
        assert entry.request.method == "PUT"
    patient_url = bundle.entry[1].fullUrl
    for obs in _observations(bundle):
        assert obs.status == "final"
        assert obs.category[0].coding[0].code == "vital-signs"
        assert obs.subject.reference == patient_url
        assert obs.device.reference == bundle.entry[0].fullUrl
        assert obs.effectiveDateTime is not None
        systems = [c.system for c in obs.code.coding]
        assert systems[0] == "http://loinc.org" and "urn:iso:std:iso:11073:10101" in systems


def test_observations_carry_loinc_mdc_and_ucum_and_spo2_both_loinc_codes():
    bundle = Bundle.model_validate_json(fhir_build.bundle_json([_report()], IDENTITY, "b-2"))
    by_mdc = {
        next(c.code for c in o.code.coding if c.system == "urn:iso:std:iso:11073:10101"): o
        for o in _observations(bundle)
        if o.valueQuantity is not None
    }
    hr = by_mdc["147842"]
    assert hr.code.coding[0].code == "8867-4"
    assert (hr.valueQuantity.system, hr.valueQuantity.code, float(hr.valueQuantity.value)) == (
        "http://unitsofmeasure.org",
        "/min",
        72.0,
    )
    spo2 = by_mdc["150456"]
    assert [c.code for c in spo2.code.coding if c.system == "http://loinc.org"] == ["2708-6", "59408-5"]
    assert spo2.valueQuantity.code == "%"
    assert by_mdc["150364"].valueQuantity.code == "Cel"


def test_non_invasive_pressure_is_one_panel_with_systolic_diastolic_and_mean_components():
    bundle = Bundle.model_validate_json(fhir_build.bundle_json([_report()], IDENTITY, "b-3"))
    panel = next(o for o in _observations(bundle) if o.code.coding[0].code == "85354-9")
    assert panel.valueQuantity is None
    parts = {c.code.coding[0].code: float(c.valueQuantity.value) for c in panel.component}
    assert parts == {"8480-6": 121.0, "8462-4": 79.0, "8478-0": 93.0}


def test_a_value_that_is_not_a_number_becomes_a_data_absent_reason():
    report = BedReport(
        "bed01", "Bed 1", PATIENT, T0, (Numeric(MdcCode.ECG_HEART_RATE, float("nan"), "/min", T0),)
    )
    obs = _observations(Bundle.model_validate_json(fhir_build.bundle_json([report], IDENTITY, "b-4")))[0]
    assert obs.valueQuantity is None and obs.dataAbsentReason.coding[0].code == "not-a-number"


def test_the_same_report_gives_the_same_observation_ids_so_a_resend_overwrites_not_duplicates():
    a = Bundle.model_validate_json(fhir_build.bundle_json([_report()], IDENTITY, "x"))
    b = Bundle.model_validate_json(fhir_build.bundle_json([_report()], IDENTITY, "y"))
    assert [e.request.url for e in a.entry] == [e.request.url for e in b.entry]


class _Server:
    """A FHIR endpoint on loopback that answers 503 to the first `fail` requests."""

    def __init__(self, fail: int, status: int = 503) -> None:
        self.bodies: list[dict] = []
        self.requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                owner.requests += 1
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if owner.requests <= fail:
                    self.send_response(status)
                    self.end_headers()
                    return
                Bundle.model_validate_json(body)
                owner.bodies.append(json.loads(body))
                reply = b'{"resourceType":"Bundle","type":"transaction-response"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/fhir"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def record(tmp_path: Path):
    key = tmp_path / "k"
    write_key_file(key, DatabaseKey.new())
    rec = open_record(tmp_path / "data", key_file=key)
    yield rec
    rec.close()


def _wait(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_server_failing_the_first_requests_gets_every_bundle_once_it_recovers(record):
    server = _Server(fail=3)
    queue = OutboxQueue(record.engine)
    queue.enqueue(
        [
            OutboxMessage(
                "fhir",
                f"B{i}",
                "Bundle",
                "bed01",
                fhir_build.bundle_json([_report(T0 + 60 * i)], IDENTITY, f"B{i}"),
            )
            for i in range(4)
        ]
    )
    link = Link("fhir", FhirTransport(server.url), queue, 2.0, max_backoff=0.3)
    link.start()
    try:
        assert _wait(lambda: queue.backlog("fhir").pending == 0)
    finally:
        link.stop()
        server.close()
    assert server.requests == 3 + 4
    assert [b["id"] for b in server.bodies] == ["B0", "B1", "B2", "B3"]
    assert link.status.sent == 4


def test_a_bundle_the_server_refuses_is_kept_as_refused(record):
    server = _Server(fail=100, status=422)
    queue = OutboxQueue(record.engine)
    queue.enqueue(
        [OutboxMessage("fhir", "R1", "Bundle", "bed01", fhir_build.bundle_json([_report()], IDENTITY, "R1"))]
    )
    link = Link("fhir", FhirTransport(server.url), queue, 2.0, max_refusals=2, max_backoff=0.2)
    link.start()
    try:
        assert _wait(lambda: queue.backlog("fhir").refused == 1)
    finally:
        link.stop()
        server.close()
    assert "HTTP 422" in link.status.last_error


def test_export_fhir_writes_a_bundle_of_a_recorded_admitted_bed(tmp_path):
    key = tmp_path / "k"
    write_key_file(key, DatabaseKey.new())
    rec = open_record(tmp_path / "data", key_file=key)
    writer = RecordWriter(rec.engine)
    writer.start()
    start = time.time() - 7200.0
    start -= start % 60  # two hours ago, well inside the trend retention
    patient = {"mrn": "MRN77", "family_name": "Roe", "given_name": "Rita", "birth_date": "1970-01-01"}
    writer.put_critical(
        Row(schema.admissions, {"bed_id": "bed02", "admitted_at": start - 10, "patient": patient})
    )
    for m in range(3):
        hr = np.full(60, np.nan, np.float32)
        hr[:50] = 70 + m
        writer.put(trend_row("bed02", int(MdcCode.ECG_HEART_RATE), int(start // 60) + m, hr))
        spo2 = np.full(60, 96.0 + m, np.float32)
        writer.put(trend_row("bed02", int(MdcCode.PULS_OXIM_SAT_O2), int(start // 60) + m, spo2))
    assert writer.flush()
    writer.stop()
    rec.close()
    out = tmp_path / "out" / "bed02.json"
    when = dt.datetime.fromtimestamp(start, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    until = dt.datetime.fromtimestamp(start + 180, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    args = ["export", "fhir", "--bed", "bed02", "--from", when, "--to", until, "--out", str(out)]
    assert main([*args, "--data-dir", str(tmp_path / "data"), "--key-file", str(key)]) == 0
    bundle = Bundle.model_validate_json(out.read_text())
    observations = _observations(bundle)
    assert len(observations) == 6  # one value per channel per minute
    hr = sorted(float(o.valueQuantity.value) for o in observations if o.code.coding[0].code == "8867-4")
    assert hr == [70.0, 71.0, 72.0]
    patient = next(e.resource for e in bundle.entry if e.resource.get_resource_type() == "Patient")
    assert patient.identifier[0].value == "MRN77"


def test_the_station_sends_an_admitted_beds_numerics_to_the_fhir_server(record):
    from wardwatch.app.clock import FixedClock
    from wardwatch.app.domain import Observation
    from wardwatch.app.interop.service import InteropService
    from wardwatch.app.interop.settings import InteropSettings
    from wardwatch.app.station import BedSetup, Station, StationSetup

    server = _Server(fail=1)
    station = Station(StationSetup("FHIR ward", [BedSetup("Bed 1", None)]), FixedClock(time.time()))
    settings = InteropSettings(fhir_out=server.url, numerics_interval_s=3600)
    service = InteropService(station, OutboxQueue(record.engine), settings, IDENTITY)
    service.start()
    try:
        now = time.time()
        station.hub.push_observation(Observation("bed01", MdcCode.ECG_HEART_RATE, 64, "/min", now))
        station.hub.push_observation(Observation("bed01", MdcCode.PULS_OXIM_SAT_O2, 95, "%", now))
        station.admit("bed01", PATIENT)
        assert _wait(lambda: len(server.bodies) == 1)
    finally:
        service.close()
        station.stop()
        server.close()
    bundle = Bundle.model_validate(server.bodies[0])
    assert len(_observations(bundle)) == 2
    patient = next(e.resource for e in bundle.entry if e.resource.get_resource_type() == "Patient")
    assert patient.identifier[0].value == "MRN42" and patient.name[0].family == "Doe"
