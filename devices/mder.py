"""IEEE 11073-20601 MDER numbers: SFLOAT (16 bit) and FLOAT (32 bit), special values first.

value = mantissa × 10^exponent, both two's complement. The reserved mantissas (NaN, NRes, ±INF,
reserved) are defined with exponent 0 and are decoded before any arithmetic: a device's "no value" must
never become 2047 or 0. The exponent is kept as the value's resolution (37.50 °C, not 37.5).
"""

from __future__ import annotations

from dataclasses import dataclass

from wardwatch.devices.decoded import State


@dataclass(frozen=True, slots=True)
class MderNumber:
    value: float | None
    state: State
    exponent: int = 0

    @property
    def decimals(self) -> int:
        return max(0, -self.exponent)


def _signed(raw: int, bits: int) -> int:
    return raw - (1 << bits) if raw & (1 << (bits - 1)) else raw


# mantissa → meaning, for exponent 0 (the table of ../shared/PROTOCOLS.md §1)
_SFLOAT_SPECIAL = {
    0x07FF: State.UNAVAILABLE,  # NaN
    0x0800: State.UNAVAILABLE,  # NRes
    0x07FE: State.OUT_OF_RANGE,  # +INF
    0x0802: State.OUT_OF_RANGE,  # -INF
    0x0801: State.INVALID,  # reserved
}
_FLOAT_SPECIAL = {
    0x7FFFFF: State.UNAVAILABLE,
    0x800000: State.UNAVAILABLE,
    0x7FFFFE: State.OUT_OF_RANGE,
    0x800002: State.OUT_OF_RANGE,
    0x800001: State.INVALID,
}


def _decode(raw: int, mantissa_bits: int, exponent_bits: int, special: dict[int, State]) -> MderNumber:
    mantissa_raw = raw & ((1 << mantissa_bits) - 1)
    exponent = _signed(raw >> mantissa_bits, exponent_bits)
    if mantissa_raw in special:
        # a special mantissa with a non-zero exponent is no defined encoding at all
        return MderNumber(None, special[mantissa_raw] if exponent == 0 else State.INVALID)
    mantissa = _signed(mantissa_raw, mantissa_bits)
    value = mantissa * 10.0**exponent
    return MderNumber(round(value, max(0, -exponent)), State.VALID, exponent)


def sfloat(raw: int) -> MderNumber:
    """A 16-bit SFLOAT, given as the unsigned integer the carrier's byte order gives."""
    return _decode(raw & 0xFFFF, 12, 4, _SFLOAT_SPECIAL)


def float32(raw: int) -> MderNumber:
    """A 32-bit FLOAT, given as the unsigned integer the carrier's byte order gives."""
    return _decode(raw & 0xFFFFFFFF, 24, 8, _FLOAT_SPECIAL)
