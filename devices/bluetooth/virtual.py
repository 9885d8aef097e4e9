"""A Bluetooth radio without hardware: bleak backends over bumble's in-process controllers.

This machine (and CI) has no Bluetooth controller, so tests and the link bench put a virtual one under
bleak, at the narrowest seam bleak offers (`BleakClient(..., backend=...)`,
`BleakScanner(..., backend=...)`). The station's controller and each emulated patch are bumble
controllers on one `LocalLink`; between them runs real link-layer, ATT and GATT traffic, so WardWatch's
own Bluetooth code (find, connect, discover, subscribe, write, read, reconnect) runs unchanged.

Needs the `bumble` package (a test dependency). Everything here runs on the station's Bluetooth loop.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError
from bumble.controller import Controller
from bumble.core import UUID, AdvertisingData
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink
from wardwatch.devices import polar_pmd
from wardwatch.devices.bluetooth.gatt import PMD_CONTROL, PMD_DATA, PMD_SERVICE
from wardwatch.devices.bluetooth.runtime import Backends

STATION_ADDRESS = "F0:57:A7:10:00:01"
ADVERTISING_INTERVAL_MS = 100.0
MTU = 247
ECG_FRAME_MTU = 232  # a 73-sample ECG frame (229 bytes) plus the notification's 3
_PROPERTY_NAMES = {
    Characteristic.Properties.BROADCAST: "broadcast",
    Characteristic.Properties.READ: "read",
    Characteristic.Properties.WRITE_WITHOUT_RESPONSE: "write-without-response",
    Characteristic.Properties.WRITE: "write",
    Characteristic.Properties.NOTIFY: "notify",
    Characteristic.Properties.INDICATE: "indicate",
}


def _uuid(uuid: UUID) -> str:
    """bumble's UUID in bleak's form (lower-case, 128 bit)."""
    raw = bytes(reversed(uuid.to_bytes(force_128=True))).hex()
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


def _device(link: LocalLink, name: str, address: str) -> Device:
    controller = Controller(name, link=link, public_address=address)
    return Device(name=name, address=Address(address), host=Host(controller, AsyncPipeSink(controller)))


class VirtualAir:
    """The link, the station's controller, and the bleak backend classes bound to them."""

    def __init__(self) -> None:
        self.link = LocalLink()
        self.central = _device(self.link, "station", STATION_ADDRESS)
        self._listeners: list[Callable[[Advertisement], None]] = []
        self._scanning = False
        self._connect_lock = asyncio.Lock()
        self.names: dict[str, str] = {}
        self.central.on("advertisement", self._on_advertisement)

    @classmethod
    async def create(cls) -> VirtualAir:
        air = cls()
        await air.central.power_on()
        return air

    def backends(self) -> Backends:
        air = self

        class Client(BumbleClient):
            _air = air

        class Scanner(BumbleScanner):
            _air = air

        return Backends(client=Client, scanner=Scanner)

    # -- shared scanning: several scanners (patches looking, the dialog) on one controller ----------------
    def _on_advertisement(self, advertisement: Advertisement) -> None:
        for listener in list(self._listeners):
            listener(advertisement)

    async def listen(self, listener: Callable[[Advertisement], None]) -> None:
        self._listeners.append(listener)
        if not self._scanning:
            self._scanning = True
            await self.central.start_scanning(filter_duplicates=False)

    async def unlisten(self, listener: Callable[[Advertisement], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)
        if not self._listeners and self._scanning:
            self._scanning = False
            await self.central.stop_scanning()

    async def connect(self, address: str, timeout_s: float) -> Connection:
        async with self._connect_lock:  # one connection attempt at a time, as a real controller
            return await self.central.connect(Address(address), timeout=timeout_s)


class BumbleScanner(BaseBleakScanner):
    _air: VirtualAir

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)

    async def start(self) -> None:
        self.seen_devices = {}
        await self._air.listen(self._on_advertisement)

    async def stop(self) -> None:
        await self._air.unlisten(self._on_advertisement)

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        address = advertisement.address.to_string(with_type_qualifier=False)
        data = advertisement.data
        listed_name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME)
        name = listed_name if isinstance(listed_name, str) and listed_name else None
        uuids: list[str] = []
        for kind in (
            AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
            AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
        ):
            listed = data.get(kind)
            if isinstance(listed, list):
                uuids += [_uuid(u) for u in listed]
        if not self.is_allowed_uuid(uuids):
            return
        if name:
            self._air.names[address] = name
        adv = AdvertisementData(name, {}, {}, uuids, None, advertisement.rssi, (advertisement,))
        device = self.create_or_update_device(
            address, address, name or self._air.names.get(address), None, adv
        )
        self.call_detection_callbacks(device, adv)


class NoAdapterScanner(BaseBleakScanner):
    """A station whose radio cannot scan (no adapter, BlueZ down), for the failure paths."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(None, None)

    async def start(self) -> None:
        raise BleakError("No Bluetooth adapters found.")

    async def stop(self) -> None:
        pass


class BumbleClient(BaseBleakClient):
    _air: VirtualAir

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None,
        timeout: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout)
        self._connection: Connection | None = None

    @property
    def name(self) -> str:
        return self._air.names.get(self.address, self.address)

    @property
    def mtu_size(self) -> int:
        return self._connection.att_mtu if self._connection is not None else 23

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        try:
            connection = await self._air.connect(self.address, self._timeout)
        except Exception as exc:  # bumble's own errors, in bleak's terms for the code above
            raise BleakError(f"connection to {self.address} failed: {exc}") from exc
        self._connection = connection
        connection.on("disconnection", self._on_disconnection)
        peer = Peer(connection)
        # BlueZ, CoreBluetooth and Windows exchange the ATT MTU on connection; so does this radio
        await peer.request_mtu(MTU)
        await peer.discover_services()
        services = BleakGATTServiceCollection()
        for proxy in peer.services:
            service = BleakGATTService(proxy, proxy.handle, _uuid(proxy.uuid))
            services.add_service(service)
            await proxy.discover_characteristics()
            for cp in proxy.characteristics:
                properties = [name for flag, name in _PROPERTY_NAMES.items() if cp.properties & flag]
                char = BleakGATTCharacteristic(
                    cp, cp.handle, _uuid(cp.uuid), properties, lambda: self.mtu_size - 3, service
                )
                services.add_characteristic(char)
                await cp.discover_descriptors()
                for dp in cp.descriptors:
                    services.add_descriptor(BleakGATTDescriptor(dp, dp.handle, _uuid(dp.type), char))
        self.services = services

    def _on_disconnection(self, reason: int) -> None:
        self._connection = None
        if self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        connection = self._connection
        if connection is not None:
            await connection.disconnect()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("the virtual radio does not pair")

    async def unpair(self) -> None:
        raise NotImplementedError("the virtual radio does not pair")

    def _require(self) -> None:
        if self._connection is None:
            raise BleakError("not connected")

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, **kwargs: Any) -> bytearray:
        self._require()
        return bytearray(await characteristic.obj.read_value())

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, **kwargs: Any) -> bytearray:
        self._require()
        return bytearray(await descriptor.obj.read_value())

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: Any, response: bool
    ) -> None:
        self._require()
        await characteristic.obj.write_value(bytes(data), with_response=response)

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        self._require()
        await descriptor.obj.write_value(bytes(data), with_response=True)

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        self._require()
        await characteristic.obj.subscribe(lambda value: callback(bytearray(value)))

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        self._require()
        await characteristic.obj.unsubscribe()


# -- emulated patches ------------------------------------------------------------------------------------
def _readable(value: bytes) -> CharacteristicValue:
    return CharacteristicValue(read=lambda _connection: value)


class VirtualPatch:
    """A patch on the virtual link: advertises, serves its GATT database, sends what a test tells it.

    `kind` "chest-ecg" is a Polar H10-like strap (heart rate, battery that notifies, PMD ECG stream);
    "oximeter" a pulse oximeter (PLX continuous, battery that can only be read)."""

    def __init__(self, air: VirtualAir, address: str, name: str, kind: str) -> None:
        self.air = air
        self.address = address
        self.name = name
        self.kind = kind
        self.device = _device(air.link, name, address)
        self.battery = 80
        self.ecg_uv: Sequence[float] = ()
        self.ecg_started = 0
        self._ecg_task: asyncio.Task[None] | None = None
        self._stamp_ns = 0
        self.drop_every = 0  # drop every n-th ECG frame (a lossy link); 0 = none
        self.characteristics: dict[str, Characteristic] = {}
        self.device.add_services(self._services())
        self._pending: asyncio.Task[None] | None = None  # the control point's answer on its way

    @classmethod
    async def create(cls, air: VirtualAir, address: str, name: str, kind: str) -> VirtualPatch:
        patch = cls(air, address, name, kind)
        await patch.device.power_on()
        await patch.come_back()
        return patch

    def _services(self) -> list[Service]:
        notify, read, write = (
            Characteristic.Properties.NOTIFY,
            Characteristic.Properties.READ,
            Characteristic.Properties.WRITE,
        )
        battery_props = read | notify if self.kind == "chest-ecg" else read
        battery = Characteristic(
            "2A19",
            battery_props,
            Characteristic.READABLE,
            CharacteristicValue(read=lambda _c: bytes([self.battery])),
        )
        self.characteristics["battery"] = battery
        services = [Service("180F", [battery])]
        if self.kind == "chest-ecg":
            hr = Characteristic("2A37", notify, Characteristic.READABLE, b"\x00\x00")
            control = Characteristic(
                PMD_CONTROL.upper(),
                read | write | Characteristic.Properties.INDICATE,
                Characteristic.READABLE | Characteristic.WRITEABLE,
                CharacteristicValue(read=lambda _c: b"\x0f\x01", write=self._on_control),
            )
            data = Characteristic(PMD_DATA.upper(), notify, Characteristic.READABLE, b"")
            self.characteristics.update(hr=hr, control=control, data=data)
            services += [Service("180D", [hr]), Service(PMD_SERVICE.upper(), [control, data])]
        else:
            plx = Characteristic("2A5F", notify, Characteristic.READABLE, b"")
            self.characteristics["plx"] = plx
            services.append(Service("1822", [plx]))
        return services

    def _advertising_data(self) -> bytes:
        uuids = bytes.fromhex("0d18") if self.kind == "chest-ecg" else bytes.fromhex("2218")
        return bytes(
            AdvertisingData(
                [
                    (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
                    (AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS, uuids),
                ]
            )
        )

    # -- what a test does to the patch --------------------------------------------------------------
    async def come_back(self) -> None:
        """In range again (or switched on): advertise, and again after every disconnection."""
        await self.device.start_advertising(
            advertising_data=self._advertising_data(),
            auto_restart=True,
            advertising_interval_min=ADVERTISING_INTERVAL_MS,
            advertising_interval_max=ADVERTISING_INTERVAL_MS,
        )

    async def leave(self) -> None:
        """Out of range: the link drops and nothing is heard from the patch any more."""
        if self.device.legacy_advertiser is not None:
            self.device.legacy_advertiser.auto_restart = False
        self._stop_ecg()
        for connection in list(self.device.connections.values()):
            await connection.disconnect()
        await self.device.stop_advertising()

    @property
    def connected(self) -> bool:
        return bool(self.device.connections)

    async def notify(self, which: str, value: bytes) -> None:
        await self.device.notify_subscribers(self.characteristics[which], value)

    async def heart_rate(self, bpm: int, contact: bool = True, rr_s: Sequence[float] = ()) -> None:
        flags = 0x04 | (0x02 if contact else 0) | (0x10 if rr_s else 0)
        body = bytes([flags, bpm]) + b"".join(round(r * 1024).to_bytes(2, "little") for r in rr_s)
        await self.notify("hr", body)

    async def spo2(self, spo2: int, pulse: int) -> None:
        # PLX continuous: flags 0 (normal SpO2 and PR only), each an SFLOAT with exponent 0
        await self.notify("plx", bytes([0]) + spo2.to_bytes(2, "little") + pulse.to_bytes(2, "little"))

    async def set_battery(self, level: int) -> None:
        self.battery = level
        if self.kind == "chest-ecg":
            await self.notify("battery", bytes([level]))

    # -- the PMD ECG stream -----------------------------------------------------------------------------
    def _on_control(self, connection: Connection, value: bytes) -> None:
        loop = asyncio.get_running_loop()
        if value[:1] == bytes([polar_pmd.OP_START]) and connection.att_mtu < ECG_FRAME_MTU:
            status = 10  # as the H10 answers: frames would not fit the link's MTU
        elif value[:1] == bytes([polar_pmd.OP_START]) and value[1:2] == b"\x00":
            status = 6 if self._ecg_task is not None else 0  # "already in state"
            self.ecg_started += 1
            if self._ecg_task is None:
                self._ecg_task = loop.create_task(self._stream_ecg())
        elif value[:1] == bytes([polar_pmd.OP_STOP]):
            self._stop_ecg()
            status = 0
        else:
            status = 1
        answer = bytes([polar_pmd.RESPONSE, value[0], value[1] if len(value) > 1 else 0, status, 0])
        self._pending = loop.create_task(
            self.device.indicate_subscribers(self.characteristics["control"], answer)
        )

    def _stop_ecg(self) -> None:
        task, self._ecg_task = self._ecg_task, None
        if task is not None:
            task.cancel()

    async def _stream_ecg(self) -> None:
        """73 samples per frame at 130 Hz, about one frame every 0.56 s, as the H10 sends them."""
        per_frame = 73
        frame_s = per_frame / polar_pmd.ECG_RATE_HZ
        source = np.asarray(self.ecg_uv if len(self.ecg_uv) else _sine_uv(), np.float64)
        position, count = 0, 0
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            chunk = np.take(source, range(position, position + per_frame), mode="wrap")
            position = (position + per_frame) % len(source)
            self._stamp_ns += round(frame_s * 1e9)
            count += 1
            if not (self.drop_every and count % self.drop_every == 0) and self.connected:
                samples = b"".join(int(s).to_bytes(3, "little", signed=True) for s in np.round(chunk))
                frame = bytes([0]) + self._stamp_ns.to_bytes(8, "little") + bytes([0]) + samples
                await self.notify("data", frame)
            next_at += frame_s
            await asyncio.sleep(max(0.0, next_at - loop.time()))


def _sine_uv() -> list[float]:
    return [800.0 * math.sin(2 * math.pi * k / 130.0) for k in range(130)]
