"""A short scan for advertising patches, for the dialog that binds a patch to a bed."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from wardwatch.devices.bluetooth.gatt import service_names
from wardwatch.devices.bluetooth.runtime import Backends


@dataclass(frozen=True, slots=True)
class FoundDevice:
    name: str
    address: str
    rssi: int | None  # dBm of the strongest advertisement heard
    services: tuple[str, ...]  # known services by name

    @property
    def is_medical(self) -> bool:
        """Advertises a health service WardWatch reads (not only a battery)."""
        return any(s not in ("Battery", "Device information") for s in self.services)


async def scan(seconds: float, backends: Backends) -> list[FoundDevice]:
    """Everything heard advertising within `seconds`, health devices first, then by signal strength."""
    heard: dict[str, FoundDevice] = {}

    def on_advert(device: BLEDevice, adv: AdvertisementData) -> None:
        # advertisement and scan response carry different parts (name, services): keep the union
        seen = heard.get(device.address)
        rssi = adv.rssi if seen is None or seen.rssi is None else max(seen.rssi, adv.rssi)
        services = set(service_names(list(adv.service_uuids))) | set(seen.services if seen else ())
        name = adv.local_name or device.name or (seen.name if seen else "")
        heard[device.address] = FoundDevice(name, device.address, rssi, tuple(sorted(services)))

    kwargs = {} if backends.scanner is None else {"backend": backends.scanner}
    scanner = BleakScanner(on_advert, **kwargs)
    await scanner.start()
    try:
        await asyncio.sleep(seconds)
    finally:
        await scanner.stop()
    found = [replace(d, name=d.name or "(no name)") for d in heard.values()]
    return sorted(found, key=lambda d: (not d.is_medical, -(d.rssi if d.rssi is not None else -999)))
