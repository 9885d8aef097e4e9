"""What a protocol decoder gives back: plain values with their codes, or a typed error.

Decoders are pure functions (bytes in, `Decoded` values or a `DecodeError` out) so that they can be
tested against the specifications' vectors and fuzzed; the device sources turn `Decoded` values into
the station's observations, waveform blocks and technical events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal


class State(StrEnum):
    """Why a value is or is not usable, as the `state` of `wardwatch decode` lines."""

    VALID = "valid"
    UNAVAILABLE = "unavailable"  # the device says it has no value (NaN, NRes)
    INVALID = "invalid"  # the device flags the value as wrong, or the encoding is reserved
    QUESTIONABLE = "questionable"
    OUT_OF_RANGE = "out-of-range"  # ±INF: beyond what the device can measure
    DEMO = "demo"  # demonstration or test data: never charted
    CALIBRATING = "calibrating"


class DecodeError(ValueError):
    """Bytes that are not a valid message of the protocol; the text says what and where."""

    def __init__(self, protocol: str, message: str, offset: int | None = None) -> None:
        where = f" at byte {offset}" if offset is not None else ""
        super().__init__(f"{protocol}: {message}{where}")
        self.protocol = protocol
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Decoded:
    """One measured quantity (or a block of waveform samples) from a message."""

    code: int  # 32-bit MDC code
    label: str
    value: float | None
    unit: str  # UCUM
    unit_code: int  # 32-bit MDC unit code
    state: State = State.VALID
    samples: tuple[float, ...] | None = None
    rate_hz: float | None = None
    details: dict[str, Any] = field(default_factory=dict)  # flags, time stamps, status bits
    decimals: int | None = None  # the resolution the device gave (37.50 °C has 2): show it so

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "label": self.label,
            "value": self.value,
            "unit": self.unit,
            "unit_code": self.unit_code,
            "state": str(self.state),
        }
        if self.decimals is not None:
            out["decimals"] = self.decimals
        if self.samples is not None:
            out["samples"] = list(self.samples)
            out["rate_hz"] = self.rate_hz
        out.update(self.details)
        return out


class Fields:
    """Walks a message field by field, checking the length before each one.

    BLE profiles are little-endian, IntelliVue big-endian. A nested length (IntelliVue's lists and
    attributes) opens a `sub` walker bounded by it, so no field can read past what its parent holds."""

    def __init__(
        self, protocol: str, data: bytes, order: Literal["little", "big"] = "little", end: int | None = None
    ) -> None:
        self.protocol = protocol
        self.data = bytes(data)
        self.order: Literal["little", "big"] = order
        self.pos = 0
        self.stop = len(self.data) if end is None else end

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > self.stop:
            raise DecodeError(self.protocol, f"message ends before {what} ({n} bytes)", self.pos)
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u8(self, what: str) -> int:
        return self.take(1, what)[0]

    def u16(self, what: str) -> int:
        return int.from_bytes(self.take(2, what), self.order)

    def u24(self, what: str) -> int:
        return int.from_bytes(self.take(3, what), self.order)

    def u32(self, what: str) -> int:
        return int.from_bytes(self.take(4, what), self.order)

    def sub(self, length: int, what: str) -> Fields:
        """The next `length` bytes as a walker of their own (this one moves past them)."""
        if self.pos + length > self.stop:
            raise DecodeError(
                self.protocol, f"{what} says {length} bytes but only {self.stop - self.pos} remain", self.pos
            )
        inner = Fields(self.protocol, self.data, self.order, end=self.pos + length)
        inner.pos = self.pos
        self.pos += length
        return inner

    @property
    def left(self) -> int:
        return self.stop - self.pos

    def end(self) -> None:
        if self.left:
            raise DecodeError(self.protocol, f"{self.left} unexpected trailing bytes", self.pos)
