"""A Bluetooth CGM as a further device at a bed, through WardWatch's own BLE source over bumble's
virtual controllers (the narrowest seam, bleak's backend, is the only fake): its CGM Measurement
notifications are decoded by the CGM profile decoder, reach the bed's numerics without standing in
for the monitor, and the asset list calls it a CGM."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from bumble.core import AdvertisingData
from bumble.gatt import Characteristic, CharacteristicValue, Service
from wardwatch.app.clock import ScaledClock
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import Bed, LinkState
from wardwatch.app.fleet.bed_devices import BedDevices
from wardwatch.app.fleet.survey import monitor_identity
from wardwatch.app.hub import StreamHub
from wardwatch.app.sources import SourceContext, make_source
from wardwatch.devices.base import SharedResources
from wardwatch.devices.bluetooth import RUNTIME
from wardwatch.devices.bluetooth.runtime import BleRuntime
from wardwatch.devices.bluetooth.virtual import VirtualAir, VirtualPatch
from wardwatch.devices.glucose.encode import measurement

SENSOR = "C1:00:00:00:00:0C"


class VirtualCgm(VirtualPatch):
    """A CGM on the virtual link: Continuous Glucose Monitoring service (0x181F) and a battery."""

    def _services(self) -> list[Service]:
        notify, read = Characteristic.Properties.NOTIFY, Characteristic.Properties.READ
        battery = Characteristic(
            "2A19", read, Characteristic.READABLE, CharacteristicValue(read=lambda _c: bytes([self.battery]))
        )
        glucose = Characteristic("2AA7", notify, Characteristic.READABLE, b"")
        self.characteristics.update(battery=battery, glucose=glucose)
        return [Service("180F", [battery]), Service("181F", [glucose])]

    def _advertising_data(self) -> bytes:
        return bytes(
            AdvertisingData(
                [
                    (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
                    (AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS, bytes.fromhex("1f18")),
                ]
            )
        )


def wait_for(condition: Callable[[], object], seconds: float = 15.0) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def radio() -> Iterator[tuple[BleRuntime, VirtualAir]]:
    ble = BleRuntime()
    air = ble.call(VirtualAir.create())
    ble.backends = air.backends()
    yield ble, air
    ble.close()


def test_a_bluetooth_cgm_beside_the_monitor_feeds_the_bed_glucose_and_is_listed_as_a_cgm(radio):
    runtime, air = radio
    shared = SharedResources()
    shared.put(RUNTIME, runtime)
    hub = StreamHub()
    clock = ScaledClock(1.0)
    devices = BedDevices(hub, clock, make_source)
    sensor = runtime.call(VirtualCgm.create(air, SENSOR, "CGM 4711", "cgm"))
    beds = [Bed("bed01", "Bed 1", devices=(f"ble:{SENSOR}",))]
    devices.start(beds, lambda bed: SourceContext(clock, shared=shared))
    try:
        (device,) = devices.devices()
        wait_for(lambda: device.status is not None and device.status.state is LinkState.CONNECTED)
        record = measurement(97.0, 12, trend_mg_dl_min=-0.6, quality_percent=90.0)
        runtime.call(sensor.notify("glucose", record))
        wait_for(lambda: hub.latest("bed01", MdcCode.CONC_GLU_ISF) is not None)
        obs = hub.latest("bed01", MdcCode.CONC_GLU_ISF)
        assert obs is not None and obs.value == 97.0 and obs.unit == "mg/dL"
        assert hub.streams("bed01").last_data is None  # the sensor does not stand in for a monitor
        assert device.status is not None and device.status.battery_percent == 80
        device_id, ident = monitor_identity(device.status, "bed01", set(device.codes))
        assert device_id == f"ble:{SENSOR}" and str(ident.device_type) == "cgm" and ident.address == SENSOR
    finally:
        devices.stop()
        shared.close()
