"""Temperature Measurement `0x2A1C` (Health Thermometer service `0x1809`)."""

from __future__ import annotations

from wardwatch.devices.ble.common import DEGC, DEGF, TEMPERATURE, date_time, float_field, reading
from wardwatch.devices.decoded import Decoded, DecodeError, Fields

PROTOCOL = "ble-htm"
SITES = {
    1: "armpit",
    2: "body (general)",
    3: "ear (usually earlobe)",
    4: "finger",
    5: "gastro-intestinal tract",
    6: "mouth",
    7: "rectum",
    8: "toe",
    9: "tympanum (ear drum)",
}


def decode(data: bytes) -> list[Decoded]:
    f = Fields(PROTOCOL, data)
    flags = f.u8("flags")
    number = float_field(f, "temperature")
    details: dict[str, object] = {}
    if flags & 0x02:
        details["timestamp"] = date_time(f)
    if flags & 0x04:
        at = f.pos
        site = f.u8("temperature type")
        if site not in SITES:
            raise DecodeError(PROTOCOL, f"temperature type {site} is not defined", at)
        details["site"] = SITES[site]
    f.end()
    return [reading(TEMPERATURE, DEGF if flags & 0x01 else DEGC, number, **details)]
