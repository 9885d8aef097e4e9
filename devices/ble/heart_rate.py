"""Heart Rate Measurement `0x2A37` (Heart Rate service `0x180D`)."""

from __future__ import annotations

from wardwatch.devices.ble.common import BPM, HEART_RATE, reading, whole
from wardwatch.devices.decoded import Decoded, DecodeError, Fields, State

PROTOCOL = "ble-hr"
_CONTACT = {0: "not supported", 1: "not supported", 2: "no contact", 3: "contact"}


def decode(data: bytes) -> list[Decoded]:
    f = Fields(PROTOCOL, data)
    flags = f.u8("flags")
    hr = f.u16("heart rate (uint16)") if flags & 0x01 else f.u8("heart rate (uint8)")
    contact = _CONTACT[(flags >> 1) & 0x03]
    details: dict[str, object] = {"contact": contact}
    if flags & 0x08:
        details["energy_kj"] = f.u16("energy expended")
    if flags & 0x10:
        if f.left == 0 or f.left % 2:
            raise DecodeError(PROTOCOL, "RR intervals need whole 2-byte values", f.pos)
        details["rr_s"] = [round(f.u16("RR interval") / 1024.0, 4) for _ in range(f.left // 2)]
    f.end()
    # a strap that says it has no skin contact is measuring nothing: the value is not to be trusted
    state = State.QUESTIONABLE if contact == "no contact" else State.VALID
    return [reading(HEART_RATE, BPM, whole(hr), state, **details)]
