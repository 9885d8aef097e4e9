"""CGM Measurement records (`0x2AA7`) built the way a sensor sends them, for the simulated sensor.

The simulated CGM speaks the Bluetooth profile's bytes so that its readings go through the very
decoder (devices/ble/cgm.py) a real sensor's notifications go through, CRC check included.
"""

from __future__ import annotations

from wardwatch.devices.ble import cgm

FLAG_TREND = 0x01
FLAG_QUALITY = 0x02
FLAG_STATUS = 0x80
STATUS_BATTERY_LOW = 0x02  # status annunciation bit 1


def sfloat_bytes(value: float, decimals: int = 0) -> bytes:
    """An IEEE 11073 SFLOAT (12-bit mantissa, 4-bit exponent), little-endian."""
    mantissa = round(value * 10**decimals)
    exponent = -decimals
    while not -2046 <= mantissa <= 2045 and exponent < 7:
        mantissa = round(mantissa / 10)
        exponent += 1
    raw = ((exponent & 0x0F) << 12) | (mantissa & 0x0FFF)
    return raw.to_bytes(2, "little")


def measurement(
    glucose_mg_dl: float,
    offset_min: int,
    trend_mg_dl_min: float | None = None,
    quality_percent: float | None = None,
    battery_low: bool = False,
) -> bytes:
    """One sealed record (size, flags, glucose, time offset, annunciation, trend, quality, E2E-CRC)."""
    flags = 0
    tail = b""
    if battery_low:
        flags |= FLAG_STATUS
        tail += bytes([STATUS_BATTERY_LOW])
    if trend_mg_dl_min is not None:
        flags |= FLAG_TREND
        tail += sfloat_bytes(trend_mg_dl_min, 1)
    if quality_percent is not None:
        flags |= FLAG_QUALITY
        tail += sfloat_bytes(quality_percent, 0)
    offset = (offset_min & 0xFFFF).to_bytes(2, "little")
    body = bytes([flags]) + sfloat_bytes(glucose_mg_dl, 0) + offset + tail
    size = 1 + len(body) + 2  # the size counts itself and the CRC
    return cgm.seal(bytes([size]) + body)
