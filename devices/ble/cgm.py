"""CGM Measurement `0x2AA7` (Continuous Glucose Monitoring service `0x181F`).

A notification carries one or more records, each starting with its own size. The E2E-CRC is present
only when the sensor's CGM Feature says so; a record's size tells the same thing (it counts the CRC's
two bytes), so the decoder reads it from there and checks it when present.
"""

from __future__ import annotations

from fastcrc import crc16
from wardwatch.devices.ble.common import GLUCOSE_ISF, MG_PER_DL, bit_names, reading
from wardwatch.devices.decoded import Decoded, DecodeError, Fields, State
from wardwatch.devices.mder import sfloat

PROTOCOL = "ble-cgm"

# CRC-16/MCRF4XX: the reflected CCITT polynomial, initial 0xFFFF, no final XOR (check "123456789" = 0x6F91)
_CRC = crc16.mcrf4xx


def seal(record: bytes) -> bytes:
    """A record with its E2E-CRC appended, low byte first (for the emulated sensor, the bench, tests)."""
    return record + _CRC(record).to_bytes(2, "little")


STATUS = {
    0: "session stopped",
    1: "device battery low",
    2: "sensor type incorrect for device",
    3: "sensor malfunction",
    4: "device specific alert",
    5: "general device fault",
}
CAL_TEMP = {
    0: "time synchronization required",
    1: "calibration not allowed",
    2: "calibration recommended",
    3: "calibration required",
    4: "sensor temperature too high",
    5: "sensor temperature too low",
}
WARNING = {
    0: "below patient low level",
    1: "above patient high level",
    2: "below hypo level",
    3: "above hyper level",
    4: "rate of decrease exceeded",
    5: "rate of increase exceeded",
    6: "below device range",
    7: "above device range",
}


def _record(data: bytes, start: int) -> Decoded:
    """The record from `start` to the end of `data` (error offsets count from the notification's start)."""
    f = Fields(PROTOCOL, data)
    f.pos = start + 1  # the size, already read
    flags = f.u8("flags")
    glucose = sfloat(f.u16("glucose concentration"))
    offset_min = f.u16("time offset")
    details: dict[str, object] = {"time_offset_min": offset_min}
    annunciation: list[str] = []
    for bit, table, what in ((7, STATUS, "status"), (6, CAL_TEMP, "cal/temp"), (5, WARNING, "warning")):
        if flags & (1 << bit):
            annunciation += bit_names(f.u8(f"{what} annunciation"), table)
    if annunciation:
        details["annunciation"] = annunciation
    if flags & 0x01:
        details["trend_mg_dl_per_min"] = sfloat(f.u16("trend")).value
    if flags & 0x02:
        details["quality_percent"] = sfloat(f.u16("quality")).value
    if f.left == 2:
        body_end = f.pos
        sent = f.u16("E2E-CRC")
        if _CRC(data[start:body_end]) != sent:
            raise DecodeError(PROTOCOL, "E2E-CRC does not match the record", body_end)
    f.end()
    state = glucose.state
    if state is State.VALID and any(
        a in annunciation for a in ("sensor malfunction", "general device fault")
    ):
        state = State.INVALID
    return reading(GLUCOSE_ISF, MG_PER_DL, glucose, state, **details)


def decode(data: bytes) -> list[Decoded]:
    out = []
    pos = 0
    if not data:
        raise DecodeError(PROTOCOL, "empty notification", 0)
    while pos < len(data):
        size = data[pos]
        if size < 6 or pos + size > len(data):
            raise DecodeError(PROTOCOL, f"record size {size} does not fit the notification", pos)
        out.append(_record(data[: pos + size], pos))
        pos += size
    return out
