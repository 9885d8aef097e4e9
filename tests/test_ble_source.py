"""Bluetooth patches through WardWatch's own BLE code, over bumble's virtual controllers under bleak.

No radio exists here, so the narrowest seam is faked: bleak's backend. Everything above it (finding,
connecting, GATT discovery, subscriptions, the Polar ECG start, decoding, reconnecting) is the real code.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import numpy as np
import pytest
import wfdb
from bleak.exc import BleakError
from scipy.signal import resample_poly
from wardwatch.app.clock import ScaledClock
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import LinkState, TechnicalKind
from wardwatch.app.hub import StreamHub
from wardwatch.app.presentation import link_text
from wardwatch.app.sources import SourceContext, make_source
from wardwatch.devices.base import SharedResources, SourceError
from wardwatch.devices.bluetooth import RUNTIME, parse_address
from wardwatch.devices.bluetooth.runtime import BleRuntime
from wardwatch.devices.bluetooth.scan import scan
from wardwatch.devices.bluetooth.source import BleSource
from wardwatch.devices.bluetooth.virtual import NoAdapterScanner, VirtualAir, VirtualPatch

STRAP, OXIMETER, ABSENT = "C1:00:00:00:00:01", "C1:00:00:00:00:02", "C1:00:00:00:00:09"
BED = "bed01"


def wait_for(condition: Callable[[], object], seconds: float = 10.0) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


@dataclass
class Radio:
    runtime: BleRuntime
    air: VirtualAir

    def patch(self, address: str, name: str, kind: str) -> VirtualPatch:
        return self.runtime.call(VirtualPatch.create(self.air, address, name, kind))

    def run(self, coro: object) -> object:
        return self.runtime.call(coro)  # type: ignore[arg-type]


@pytest.fixture
def radio() -> Iterator[Radio]:
    runtime = BleRuntime()
    air = runtime.call(VirtualAir.create())
    runtime.backends = air.backends()
    yield Radio(runtime, air)
    runtime.close()


@pytest.fixture
def mitdb_ecg_uv(shared_data) -> np.ndarray:
    """Ten seconds of MIT-BIH record 100 (lead MLII), as a Polar strap would send it: 130 Hz, µV."""
    record = wfdb.rdrecord(str(shared_data / "mitdb" / "100"), sampto=3600, channels=[0])
    return resample_poly(record.p_signal[:, 0], 13, 36) * 1000.0


@pytest.fixture
def bed(radio: Radio) -> Iterator[Callable[[str], tuple[StreamHub, BleSource]]]:
    started: list[BleSource] = []

    def start(address: str) -> tuple[StreamHub, BleSource]:
        hub = StreamHub()
        hub.add_bed(BED)
        source = BleSource(address, BED, ScaledClock(1.0), radio.runtime)
        source.find_timeout_s = 0.5
        source.start(hub)
        started.append(source)
        return hub, source

    yield start
    for source in started:
        source.stop()


def connected(source: BleSource) -> bool:
    return source.status.state is LinkState.CONNECTED


def active(hub: StreamHub, kind: TechnicalKind) -> bool:
    return kind in hub.streams(BED).conditions


def test_scan_lists_nearby_patches_with_name_address_signal_and_services(radio: Radio) -> None:
    radio.patch(STRAP, "Polar H10 A1B2", "chest-ecg")
    radio.patch(OXIMETER, "Oximeter 7", "oximeter")
    found = radio.run(scan(1.0, radio.runtime.backends))
    assert {(d.name, d.address, d.services) for d in found} == {
        ("Polar H10 A1B2", STRAP, ("Heart rate",)),
        ("Oximeter 7", OXIMETER, ("Pulse oximeter",)),
    }
    assert all(d.rssi is not None and d.rssi < 0 for d in found)


def test_chest_patch_heart_rate_ecg_and_battery_reach_the_bed(radio: Radio, bed, mitdb_ecg_uv) -> None:
    patch = radio.patch(STRAP, "Polar H10 A1B2", "chest-ecg")
    patch.ecg_uv = mitdb_ecg_uv
    hub, source = bed(STRAP)
    wait_for(lambda: connected(source))
    radio.run(patch.heart_rate(74, rr_s=[0.81]))
    wait_for(lambda: MdcCode.ECG_HEART_RATE in hub.streams(BED).numerics)
    assert hub.streams(BED).numerics[MdcCode.ECG_HEART_RATE].value == 74
    # the strap was asked for its ECG stream, which now arrives as the bed's ECG channel
    assert patch.ecg_started == 1
    wait_for(lambda: MdcCode.ECG_ELEC_POTL in hub.streams(BED).waves)
    channel = hub.streams(BED).waves[MdcCode.ECG_ELEC_POTL]
    assert channel.rate == pytest.approx(130.0)
    wait_for(lambda: channel.ring.count >= 146)
    first = channel.ring.read_since(0).values
    # the same samples as the recording, in mV (the strap sends whole µV)
    np.testing.assert_allclose(first[:73], np.round(mitdb_ecg_uv[:73]) / 1000.0, atol=1e-6)
    assert source.status.battery_percent == 80
    assert source.status.rssi_dbm is not None
    assert source.status.detail == "Polar H10 A1B2"


def test_oximeter_values_and_a_battery_that_must_be_polled(radio: Radio, bed) -> None:
    patch = radio.patch(OXIMETER, "Oximeter 7", "oximeter")
    hub, source = bed(OXIMETER)
    source.battery_poll_s = 0.2
    wait_for(lambda: connected(source))
    radio.run(patch.spo2(97, 68))
    wait_for(lambda: MdcCode.PULS_OXIM_SAT_O2 in hub.streams(BED).numerics)
    numerics = hub.streams(BED).numerics
    assert numerics[MdcCode.PULS_OXIM_SAT_O2].value == 97
    assert numerics[MdcCode.PULS_OXIM_PULS_RATE].value == 68
    radio.run(patch.set_battery(12))  # the oximeter cannot notify: the station has to read it
    wait_for(lambda: source.status.battery_percent == 12)
    assert active(hub, TechnicalKind.LOW_BATTERY)
    radio.run(patch.set_battery(100))  # a fresh battery clears the condition
    wait_for(lambda: not active(hub, TechnicalKind.LOW_BATTERY))


def test_patch_out_of_range_shows_link_lost_and_is_reconnected_when_it_returns(radio: Radio, bed) -> None:
    patch = radio.patch(STRAP, "Polar H10 A1B2", "chest-ecg")
    hub, source = bed(STRAP)
    wait_for(lambda: connected(source))
    radio.run(patch.leave())
    wait_for(lambda: source.status.state is LinkState.DISCONNECTED)
    assert "link lost" in link_text(hub.streams(BED), time.time())[0]
    radio.run(patch.come_back())
    wait_for(lambda: connected(source))
    # after a reconnect the ECG stream is asked for again, and arrives again
    assert patch.ecg_started == 2
    waves = hub.streams(BED).waves
    count = waves[MdcCode.ECG_ELEC_POTL].ring.count if MdcCode.ECG_ELEC_POTL in waves else 0
    wait_for(lambda: hub.streams(BED).waves[MdcCode.ECG_ELEC_POTL].ring.count > count)


def test_an_absent_patch_is_listened_for_and_taken_as_soon_as_it_advertises(radio: Radio, bed) -> None:
    _hub, source = bed(ABSENT)
    wait_for(lambda: "not in range" in source.status.detail)
    assert source.status.state is LinkState.DISCONNECTED
    radio.patch(ABSENT, "Late patch", "oximeter")
    wait_for(lambda: connected(source), seconds=5)


def test_failed_connections_are_retried_with_a_growing_pause_reset_by_success(radio: Radio, bed) -> None:
    working = radio.runtime.backends

    class Refusing(working.client):  # type: ignore[misc,name-defined]
        async def connect(self, pair: bool, **kwargs: object) -> None:
            raise BleakError("le-connection-abort-by-local")

    radio.runtime.backends = replace(working, client=Refusing)
    radio.patch(STRAP, "Polar H10 A1B2", "chest-ecg")
    _hub, source = bed(STRAP)
    wait_for(lambda: source.retry_s >= 2.0)
    assert "connection failed, retry in" in source.status.detail
    radio.runtime.backends = working
    wait_for(lambda: connected(source), seconds=10)
    assert source.retry_s == 0.5


def test_an_unforeseen_error_shows_on_the_bed_and_the_patch_is_tried_again(radio: Radio, bed) -> None:
    working = radio.runtime.backends

    class Broken(working.client):  # type: ignore[misc,name-defined]
        async def connect(self, pair: bool, **kwargs: object) -> None:
            raise RuntimeError("a stack doing something new")

    radio.runtime.backends = replace(working, client=Broken)
    radio.patch(STRAP, "Polar H10 A1B2", "chest-ecg")
    hub, source = bed(STRAP)
    source.failure_retry_s = 0.3
    wait_for(lambda: source.status.state is LinkState.FAILED)
    assert active(hub, TechnicalKind.SOURCE_FAILED)
    assert "internal error (RuntimeError)" in source.status.detail
    radio.runtime.backends = working
    wait_for(lambda: connected(source))
    wait_for(lambda: not active(hub, TechnicalKind.SOURCE_FAILED))


def test_a_station_without_a_usable_radio_says_so_and_does_not_spin(radio: Radio, bed) -> None:
    radio.runtime.backends = replace(radio.runtime.backends, scanner=NoAdapterScanner)
    _hub, source = bed(STRAP)
    wait_for(lambda: source.retry_s >= 2.0)  # failing scans back off instead of retrying at once
    assert source.status.state is LinkState.DISCONNECTED
    assert "no Bluetooth (No Bluetooth adapters found.)" in source.status.detail


def test_lost_ecg_frames_show_as_link_loss(radio: Radio, bed) -> None:
    patch = radio.patch(STRAP, "Polar H10 A1B2", "chest-ecg")
    patch.drop_every = 3
    hub, source = bed(STRAP)
    wait_for(lambda: (source.status.loss_percent or 0) > 0, seconds=15)
    assert source.decode_errors == 0
    assert "loss" in link_text(hub.streams(BED), time.time())[0]


def test_a_malformed_notification_is_counted_and_the_patch_keeps_going(radio: Radio, bed) -> None:
    patch = radio.patch(STRAP, "Polar H10 A1B2", "chest-ecg")
    hub, source = bed(STRAP)
    wait_for(lambda: connected(source))
    radio.run(patch.notify("hr", b"\x11\x48"))  # says 16-bit heart rate and RR, gives one byte
    wait_for(lambda: source.decode_errors == 1)
    radio.run(patch.heart_rate(66))
    wait_for(lambda: MdcCode.ECG_HEART_RATE in hub.streams(BED).numerics)
    assert connected(source)


def test_a_strap_without_skin_contact_raises_lead_off_until_contact_returns(radio: Radio, bed) -> None:
    patch = radio.patch(STRAP, "Polar H10 A1B2", "chest-ecg")
    hub, source = bed(STRAP)
    wait_for(lambda: connected(source))
    radio.run(patch.heart_rate(70, contact=False))
    wait_for(lambda: active(hub, TechnicalKind.LEAD_OFF))
    radio.run(patch.heart_rate(71))
    wait_for(lambda: not active(hub, TechnicalKind.LEAD_OFF))


def test_stopping_the_source_releases_the_patch(radio: Radio, bed) -> None:
    patch = radio.patch(STRAP, "Polar H10 A1B2", "chest-ecg")
    _hub, source = bed(STRAP)
    wait_for(lambda: connected(source))
    assert patch.connected
    source.stop()  # returns at once: the GUI thread may be the caller
    assert source.status.state is LinkState.STOPPED
    wait_for(lambda: not patch.connected)
    # the link going down on the way out is no news for the bed, which may have a new source by now
    assert source.status.state is LinkState.STOPPED


def test_a_ble_spec_binds_a_patch_through_the_station_s_shared_loop(radio: Radio) -> None:
    radio.patch(STRAP, "Polar H10 A1B2", "chest-ecg")
    shared = SharedResources()
    shared.put(RUNTIME, radio.runtime)
    hub = StreamHub()
    hub.add_bed(BED)
    source = make_source(f"ble:{STRAP.lower()}", BED, SourceContext(ScaledClock(1.0), shared=shared))
    assert isinstance(source, BleSource) and source.runtime is radio.runtime
    source.start(hub)
    try:
        wait_for(lambda: connected(source))
    finally:
        source.stop()


@pytest.mark.parametrize("bad", ["", "C1:00:00:00:00", "C1-00-00-00-00-01", "ZZ:00:00:00:00:01"])
def test_a_malformed_address_is_refused_with_the_expected_form(bad: str) -> None:
    with pytest.raises(SourceError, match="AA:BB:CC:DD:EE:FF"):
        parse_address(bad)


def test_ble_link_bench_times_loss_alarm_and_return() -> None:
    from wardwatch.devices.bluetooth.link_bench import bench_ble_link

    result = bench_ble_link((0.5,))
    (run,) = result["runs"]  # type: ignore[misc]
    # the supervisor raises "device disconnected" within 5 s of the last data, and clears it on return
    assert 0 < run["technical_alarm_s"] <= 5.0
    assert run["reconnected_s"] > 0 and run["data_again_s"] > 0 and run["alarm_cleared_s"] > 0
