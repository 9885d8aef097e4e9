"""Blood Pressure Measurement `0x2A35` and Intermediate Cuff Pressure `0x2A36` (service `0x1810`)."""

from __future__ import annotations

from wardwatch.devices.ble.common import (
    BPM,
    CUFF_PRESSURE,
    KPA,
    MMHG,
    NIBP_DIA,
    NIBP_MEAN,
    NIBP_SYS,
    PULSE_RATE,
    bit_names,
    date_time,
    reading,
    sfloat_field,
)
from wardwatch.devices.decoded import Decoded, Fields

MEASUREMENT = "ble-bpm"
INTERMEDIATE = "ble-icp"
STATUS = {0: "body movement", 1: "cuff too loose", 2: "irregular pulse", 5: "improper measurement position"}
_PULSE_RANGE = {0: "within range", 1: "above upper limit", 2: "below lower limit", 3: "reserved"}


def _decode(protocol: str, data: bytes) -> list[Decoded]:
    f = Fields(protocol, data)
    flags = f.u8("flags")  # bits 5-7 are reserved: ignored, as the specification asks
    unit = KPA if flags & 0x01 else MMHG
    pressures = [sfloat_field(f, name) for name in ("systolic", "diastolic", "mean arterial pressure")]
    details: dict[str, object] = {}
    if flags & 0x02:
        details["timestamp"] = date_time(f)
    pulse = sfloat_field(f, "pulse rate") if flags & 0x04 else None
    if flags & 0x08:
        user = f.u8("user id")
        details["user"] = None if user == 255 else user
    if flags & 0x10:
        status = f.u16("measurement status")
        details["status"] = bit_names(status, STATUS)
        details["pulse_rate_range"] = _PULSE_RANGE[(status >> 3) & 0x03]
    f.end()
    if protocol == INTERMEDIATE:  # only the current cuff pressure means anything here
        return [reading(CUFF_PRESSURE, unit, pressures[0], **details)]
    out = [
        reading(quantity, unit, number, **details)
        for quantity, number in zip((NIBP_SYS, NIBP_DIA, NIBP_MEAN), pressures, strict=True)
    ]
    if pulse is not None:
        out.append(reading(PULSE_RATE, BPM, pulse, **details))
    return out


def decode_measurement(data: bytes) -> list[Decoded]:
    return _decode(MEASUREMENT, data)


def decode_intermediate(data: bytes) -> list[Decoded]:
    return _decode(INTERMEDIATE, data)
