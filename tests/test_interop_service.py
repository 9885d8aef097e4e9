"""The interfaces beside a station: numerics on admission, every alarm change to the alarm manager, the
link-down technical alarm, and `wardwatch interop status` from another process's point of view."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest
from wardwatch.app.cli import main
from wardwatch.app.clock import FixedClock
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import STATION_BED, Observation, Patient, TechnicalKind
from wardwatch.app.interop.peer import MllpPeer
from wardwatch.app.interop.reports import Identity
from wardwatch.app.interop.service import STATUS_FILE, InteropService
from wardwatch.app.interop.settings import InteropSettings
from wardwatch.app.station import BedSetup, Station, StationSetup
from wardwatch.storage.database import open_record
from wardwatch.storage.interop_queue import OutboxQueue
from wardwatch.storage.keys import DatabaseKey, write_key_file

T0 = time.time()
IDENTITY = Identity("WARDWATCH", "0200000000000002", "WARD")


def _wait(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def setup(tmp_path: Path):
    key = tmp_path / "k"
    write_key_file(key, DatabaseKey.new())
    record = open_record(tmp_path / "data", key_file=key)
    clock = FixedClock(T0)
    station = Station(
        StationSetup("Test ward", [BedSetup("Bed 1", "sim:stable"), BedSetup("Bed 2", None)]), clock
    )
    yield station, clock, record, tmp_path
    station.stop()
    record.close()


def _segments(text: str, name: str) -> list[list[str]]:
    return [s.split("|") for s in text.split("\r") if s.startswith(name + "|")]


def _kinds(peer: MllpPeer) -> list[str]:
    return [_segments(m, "MSH")[0][8] for m in peer.received.messages.values()]


def test_admission_sends_numerics_and_every_alarm_change_goes_to_the_alarm_manager(setup):
    station, clock, record, tmp_path = setup
    engine_peer, alarm_peer = MllpPeer(), MllpPeer()
    settings = InteropSettings(
        hl7_out=f"127.0.0.1:{engine_peer.port}",
        alarm_out=f"127.0.0.1:{alarm_peer.port}",
        numerics_interval_s=60,
    )
    service = InteropService(station, OutboxQueue(record.engine), settings, IDENTITY, tmp_path / STATUS_FILE)
    service.start()
    try:
        station.hub.push_observation(Observation("bed01", MdcCode.ECG_HEART_RATE, 72, "/min", T0))
        station.hub.push_observation(Observation("bed01", MdcCode.PULS_OXIM_SAT_O2, 84, "%", T0))
        station.admit("bed01", Patient("MRN9", "Roe", "Rita", dt.date(1970, 1, 1)))
        assert _wait(lambda: "ORU^R01^ORU_R01" in _kinds(engine_peer))

        station.alarms.tick()
        clock.t = T0 + 20  # past the SpO2 delay
        station.hub.push_observation(Observation("bed01", MdcCode.PULS_OXIM_SAT_O2, 84, "%", clock.t))
        station.alarms.tick()
        assert station.alarms.acknowledge_bed("bed01") >= 1
        clock.t = T0 + 30
        station.hub.push_observation(Observation("bed01", MdcCode.PULS_OXIM_SAT_O2, 97, "%", clock.t))
        station.alarms.tick()
        clock.t = T0 + 40
        station.alarms.tick()

        def phases() -> list[str]:
            rows = [
                {r[4]: r[5] for r in _segments(m, "OBX")}
                for m in alarm_peer.received.messages.values()
                if "spo2_very_low" in m
            ]
            return [r["1.0.0.0.3"] for r in rows]

        assert _wait(lambda: phases()[:1] == ["start"] and "end" in phases() and "update" in phases())
    finally:
        service.close()
        engine_peer.close()
        alarm_peer.close()
    r01 = next(m for m in engine_peer.received.messages.values() if "ORU^R01" in m)
    assert "MRN9^^^WARD^MR" in r01 and "150456^MDC_PULS_OXIM_SAT_O2^MDC" in r01
    assert engine_peer.received.invalid == {} and alarm_peer.received.invalid == {}
    assert all(k == "ORU^R40^ORU_R01" for k in _kinds(alarm_peer))
    r40 = next(m for m in alarm_peer.received.messages.values() if "spo2_very_low" in m)
    assert "PH~SP" in r40 and "MRN9" in r40


def test_a_link_down_past_its_limit_raises_the_interface_alarm_and_status_shows_it(setup, capsys):
    station, _clock, record, tmp_path = setup
    probe = MllpPeer(validate=False)
    port = probe.port
    probe.close()
    settings = InteropSettings(hl7_out=f"127.0.0.1:{port}", link_down_alarm_s=1.0, numerics_interval_s=5)
    service = InteropService(
        station, OutboxQueue(record.engine), settings, IDENTITY, tmp_path / "data" / STATUS_FILE
    )
    station.hub.push_observation(Observation("bed01", MdcCode.ECG_HEART_RATE, 70, "/min", T0))
    station.admit("bed01", Patient("MRN5", "Poe", "Ed"))
    service.start()

    def interface_down() -> bool:
        streams = station.hub.streams(STATION_BED)
        return streams is not None and TechnicalKind.INTERFACE_DOWN in streams.conditions

    peer = None
    try:
        assert _wait(interface_down)
        assert _wait(lambda: (tmp_path / "data" / STATUS_FILE).exists())
        time.sleep(2.1)  # a status file written after the first messages were queued
        data, key = str(tmp_path / "data"), str(tmp_path / "k")
        assert main(["interop", "status", "--data-dir", data, "--key-file", key, "--json"]) == 0
        shown = json.loads(capsys.readouterr().out)
        assert shown["running"] is True
        link = shown["links"][0]
        assert link["state"] == "down" and link["pending"] >= 1 and "refused" in link["last_error"]
        peer = MllpPeer(port=port)
        assert _wait(lambda: not interface_down())
        assert _wait(lambda: len(peer.received.messages) >= 1)
    finally:
        service.close()
        if peer is not None:
            peer.close()
    status = json.loads((tmp_path / "data" / STATUS_FILE).read_text())
    assert "MRN5" not in json.dumps(status) and "Poe" not in json.dumps(status)


def test_interop_status_without_a_running_station_reads_the_backlog_from_the_record(setup, capsys):
    _station, _clock, record, tmp_path = setup
    from wardwatch.storage.interop_queue import OutboxMessage

    OutboxQueue(record.engine).enqueue([OutboxMessage("hl7", "X1", "ORU^R01", "bed01", "MSH|...")])
    record.close()
    code = main(
        ["interop", "status", "--data-dir", str(tmp_path / "data"), "--key-file", str(tmp_path / "k")]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "not running" in out and "backlog      1" in out


def test_a_patient_admitted_before_the_monitor_sends_anything_gets_numerics_once_it_does(setup):
    station, _clock, record, _tmp_path = setup
    peer = MllpPeer()
    settings = InteropSettings(hl7_out=f"127.0.0.1:{peer.port}", numerics_interval_s=3600)
    service = InteropService(station, OutboxQueue(record.engine), settings, IDENTITY)
    service.start()
    try:
        station.admit("bed02", Patient("MRN3", "Early", "Eve"))
        time.sleep(1.0)
        assert peer.received.messages == {}
        station.hub.push_observation(Observation("bed02", MdcCode.ECG_HEART_RATE, 66, "/min", time.time()))
        assert _wait(lambda: len(peer.received.messages) == 1, 15.0)
    finally:
        service.close()
        peer.close()
    assert "MRN3" in next(iter(peer.received.messages.values()))
