"""Battery Level `0x2A19` (Battery service `0x180F`): one uint8, 0-100 %."""

from __future__ import annotations

from wardwatch.devices.ble.common import BATTERY, PERCENT, reading, whole
from wardwatch.devices.decoded import Decoded, DecodeError, Fields

PROTOCOL = "ble-battery"


def decode(data: bytes) -> list[Decoded]:
    f = Fields(PROTOCOL, data)
    level = f.u8("battery level")
    f.end()
    if level > 100:
        raise DecodeError(PROTOCOL, f"battery level {level} % is above 100", 0)
    return [reading(BATTERY, PERCENT, whole(level))]
