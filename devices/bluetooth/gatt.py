"""Which GATT services and characteristics WardWatch knows, and which decoder reads each one.

UUIDs are bleak's normalised form: lower-case 128-bit strings (16-bit SIG numbers on the Bluetooth base).
"""

from __future__ import annotations

from dataclasses import dataclass

from wardwatch.devices import polar_pmd
from wardwatch.devices.ble import battery, blood_pressure, cgm, heart_rate, plx, thermometer
from wardwatch.devices.decoders import MESSAGE_DECODERS, Decoder


def sig(number: int) -> str:
    """A 16-bit SIG-assigned number as a full UUID."""
    return f"0000{number:04x}-0000-1000-8000-00805f9b34fb"


@dataclass(frozen=True, slots=True)
class Feed:
    """A characteristic the station subscribes to (or reads), and the decoder of its values."""

    uuid: str
    protocol: str
    what: str

    @property
    def decode(self) -> Decoder:
        return MESSAGE_DECODERS[self.protocol]


PMD_SERVICE = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
PMD_CONTROL = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
PMD_DATA = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"
BATTERY_LEVEL = sig(0x2A19)

FEEDS: dict[str, Feed] = {
    f.uuid: f
    for f in (
        Feed(sig(0x2A37), heart_rate.PROTOCOL, "heart rate"),
        Feed(sig(0x2A5E), plx.SPOT, "SpO2 spot check"),
        Feed(sig(0x2A5F), plx.CONTINUOUS, "SpO2 continuous"),
        Feed(sig(0x2A1C), thermometer.PROTOCOL, "temperature"),
        Feed(sig(0x2A35), blood_pressure.MEASUREMENT, "blood pressure"),
        Feed(sig(0x2A36), blood_pressure.INTERMEDIATE, "cuff pressure"),
        Feed(sig(0x2AA7), cgm.PROTOCOL, "glucose"),
        Feed(BATTERY_LEVEL, battery.PROTOCOL, "battery"),
        Feed(PMD_DATA, polar_pmd.PROTOCOL, "ECG"),
    )
}

# what the scan dialog shows for an advertised service
SERVICE_NAMES: dict[str, str] = {
    sig(0x180D): "Heart rate",
    sig(0x1822): "Pulse oximeter",
    sig(0x1809): "Thermometer",
    sig(0x1810): "Blood pressure",
    sig(0x181F): "Glucose (CGM)",
    sig(0x180F): "Battery",
    sig(0x180A): "Device information",
    PMD_SERVICE: "Polar ECG",
}


def service_names(uuids: list[str]) -> list[str]:
    """Known services by name, in a stable order; unknown ones are left out."""
    return [name for uuid, name in SERVICE_NAMES.items() if uuid in {u.lower() for u in uuids}]
