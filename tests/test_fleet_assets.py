"""The asset list: filled from simulated and decoded devices, counters kept across restarts, devices not
seen flagged, and `wardwatch devices --json` reading the record beside a running station."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from test_cli import run
from wardwatch.app.clock import FixedClock, ScaledClock
from wardwatch.app.config import StationConfig
from wardwatch.app.domain import DeviceStatus, LinkState
from wardwatch.app.fleet.assets import Ledger, Sighting, flag_missing
from wardwatch.app.fleet.model import DeviceIdentity, DeviceType
from wardwatch.app.fleet.service import FleetService
from wardwatch.app.sources import SourceContext, make_source
from wardwatch.app.station import BedSetup, Station, StationSetup
from wardwatch.devices.base import Sink, Source
from wardwatch.devices.ble import heart_rate
from wardwatch.devices.delivery import Delivery
from wardwatch.storage.fleet_store import FleetStore
from wardwatch.storage.keys import DatabaseKey, write_key_file
from wardwatch.storage.station_record import attach_record

T0 = 1_800_000_000.0
PATCH = "ble:AA:BB:CC:DD:EE:01"


class DecodedPatch:
    """A Bluetooth heart-rate patch without the radio: its real notification bytes go through the real
    decoder and delivery, and it reports itself as a `ble` source does."""

    def __init__(self, bed: str) -> None:
        self.source_id, self.bed = PATCH, bed
        self._status = DeviceStatus(PATCH, "ble", LinkState.STARTING)

    @property
    def status(self) -> DeviceStatus:
        return self._status

    def start(self, sink: Sink) -> None:
        Delivery(self.bed, PATCH).push(sink, heart_rate.decode(bytes.fromhex("1048f003")), time.time())
        self._status = DeviceStatus(PATCH, "ble", LinkState.CONNECTED, "Polar H10", battery_percent=64.0)
        sink.set_status(self.bed, self._status)

    def stop(self) -> None:
        pass


def maker(spec: str, bed: str, ctx: SourceContext) -> Source:
    return DecodedPatch(bed) if spec == PATCH else make_source(spec, bed, ctx)


def test_the_asset_list_is_filled_from_simulated_and_decoded_devices():
    beds = [BedSetup("Bed 1", "sim:stable", ("pump:heparin", "cgm:stable")), BedSetup("Bed 2", PATCH)]
    station = Station(StationSetup("Ward 7", beds), ScaledClock(1.0), source_maker=maker)
    station.start()
    try:
        deadline = time.monotonic() + 10.0
        service = FleetService(station, StationConfig())
        while time.monotonic() < deadline:
            service.tick()
            if len(service.assets) == 4 and all(a.state == "connected" for a in service.assets):
                break
            time.sleep(0.2)
    finally:
        station.stop()
    by_type = {a.type: a for a in service.assets}
    assert set(by_type) == {"bedside-monitor", "infusion-pump", "cgm", "ecg-patch"}
    patch = by_type["ecg-patch"]
    assert (patch.id, patch.bed, patch.station, patch.address, patch.battery) == (
        PATCH, "bed02", "Ward 7", "AA:BB:CC:DD:EE:01", 64.0,
    )  # fmt: skip
    pump = by_type["infusion-pump"]
    assert pump.bed == "bed01" and pump.serial.startswith("SP-")
    assert pump.maker and pump.model and pump.firmware
    assert by_type["cgm"].battery == 100.0 and by_type["cgm"].link_quality == 100.0


def sighting(state: LinkState, errors: int, sensor_off: bool = False) -> Sighting:
    ident = DeviceIdentity(DeviceType.PULSE_OXIMETER, "Nonin", "3150", "123", "1.2", "/dev/ttyUSB0")
    return Sighting("oxi", ident, "bed03", "ward", state, 80.0, 99.0, errors, sensor_off)


def test_the_ledger_counts_disconnections_errors_across_restarts_sensor_off_and_hours_in_use():
    ledger = Ledger()
    up, down = LinkState.CONNECTED, LinkState.DISCONNECTED
    steps = [(up, 0, False), (up, 3, True), (up, 5, False), (down, 5, False), (up, 1, True), (up, 2, True)]
    for i, (state, errors, off) in enumerate(steps):
        ledger.update([sighting(state, errors, off)], T0 + 1800.0 * i)
    (a,) = ledger.assets()
    assert (a.disconnects, a.decode_errors, a.sensor_off) == (1, 5 + 2, 2)
    assert a.hours_in_use == 2.0  # connected for 3 + 1 half-hour steps
    assert a.last_seen == T0 + 1800.0 * 5 and a.first_seen == T0


def test_a_device_not_seen_for_longer_than_configured_is_flagged_missing():
    ledger = Ledger()
    ledger.update([sighting(LinkState.CONNECTED, 0)], T0)
    ledger.update([sighting(LinkState.DISCONNECTED, 0)], T0 + 600.0)
    assert not flag_missing(ledger.assets(), T0 + 3000.0, 3600.0)[0].missing
    assert flag_missing(ledger.assets(), T0 + 3700.0, 3600.0)[0].missing


def test_devices_json_reads_the_asset_list_from_the_record_while_the_station_runs(tmp_path: Path):
    key = tmp_path / "k.key"
    write_key_file(key, DatabaseKey.new())
    data = tmp_path / "data"
    beds = [BedSetup("Bed 1", "sim:stable", ("pump:saline",))]
    station = Station(StationSetup("Ward 7", beds), ScaledClock(1.0))
    record = attach_record(station, data, key_file=key)
    station.start()
    service = FleetService(station, StationConfig(), FleetStore(record.record.engine))
    try:
        ready = threading.Event()
        for _ in range(50):
            service.tick()  # the first survey writes the list and a history row
            if len(service.assets) == 2 and service.recording == "recorded":
                ready.set()
                break
            time.sleep(0.2)
        assert ready.is_set()
        result = run("devices", "--json", "--data-dir", str(data), "--key-file", str(key))
    finally:
        service.close()
        station.stop()
        record.close()
    assert result.returncode == 0, result.stderr
    devices = json.loads(result.stdout)
    assert {d["type"] for d in devices} == {"bedside-monitor", "infusion-pump"}
    for d in devices:
        assert {"id", "type", "bed", "last_seen", "battery", "link_quality", "maker", "model", "serial",
                "firmware", "address", "station", "hours_in_use", "decode_errors", "disconnects"} <= set(d)
        assert d["bed"] == "bed01" and d["station"] == "Ward 7" and d["missing"] is False


def test_a_pump_that_fails_to_start_shows_as_a_failed_device_not_a_crash():
    clock = FixedClock(T0)
    station = Station(StationSetup("w", [BedSetup("Bed 1", None, ("pump:nonsense",))]), clock)
    station.bed_devices.start(station.beds, lambda bed: SourceContext(clock))
    (device,) = station.bed_devices.devices()
    assert device.status is not None and device.status.state is LinkState.FAILED
    assert "unknown pump programme" in device.failure
    findings = station.alarms._findings("bed01", T0)  # the bed alarms it: "Source failed"
    assert any("Source failed" in f.message for f in findings)


def test_recording_a_service_is_checked_as_a_device_setting_and_listing_as_viewing():
    from wardwatch.app.cli import build_parser
    from wardwatch.app.security.command_line import command_name

    parser = build_parser()
    assert command_name(parser.parse_args(["devices", "--json"])) == "devices"
    assert command_name(parser.parse_args(["devices", "--serviced", "pump-1"])) == "devices serviced"
