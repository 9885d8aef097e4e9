"""Polar H10 ECG over the Polar Measurement Data (PMD) service: the data notification.

Byte 0 is the measurement type (0 = ECG), bytes 1-8 the sensor's time stamp of the **last** sample (u64
LE, ns), byte 9 the frame type (bit 7 = delta compressed); H10 ECG frames are type 0: 3-byte signed LE
samples in µV at 130 Hz. See ../shared/PROTOCOLS.md §4.
"""

from __future__ import annotations

from dataclasses import dataclass

from wardwatch.devices.decoded import Decoded, DecodeError, Fields

PROTOCOL = "polar-pmd"
ECG_RATE_HZ = 130.0
ECG = 131328  # MDC_ECG_ELEC_POTL: the H10 has one chest lead, closest to lead I; not claimed to be lead I
MICRO_VOLT = ("uV", 4 * 65536 + 4275)  # MDC_DIM_MICRO_VOLT (term 4275 as IntelliVue's NOM_DIM_MICRO_VOLT)
TYPES = {0: "ECG", 1: "PPG", 2: "ACC", 3: "PPI", 5: "gyroscope", 6: "magnetometer"}


def decode(data: bytes) -> list[Decoded]:
    f = Fields(PROTOCOL, data)
    kind = f.u8("measurement type")
    if kind == 0xF0:
        raise DecodeError(PROTOCOL, "a control point response, not a data notification", 0)
    if kind != 0:
        raise DecodeError(PROTOCOL, f"measurement type {TYPES.get(kind, kind)} is not ECG", 0)
    stamp_ns = int.from_bytes(f.take(8, "time stamp"), "little")
    at = f.pos
    frame = f.u8("frame type")
    if frame & 0x80:
        raise DecodeError(PROTOCOL, "delta-compressed ECG frames are not used by the H10", at)
    if frame != 0:
        raise DecodeError(PROTOCOL, f"ECG frame type {frame} is not the H10's type 0", at)
    if f.left == 0 or f.left % 3:
        raise DecodeError(PROTOCOL, "ECG samples need whole 3-byte values", f.pos)
    samples = tuple(
        float(int.from_bytes(f.take(3, "ECG sample"), "little", signed=True)) for _ in range(f.left // 3)
    )
    return [
        Decoded(
            ECG,
            "ECG (chest)",
            None,
            MICRO_VOLT[0],
            MICRO_VOLT[1],
            samples=samples,
            rate_hz=ECG_RATE_HZ,
            details={"last_sample_ns": stamp_ns},
        )
    ]


# Control point (FB005C81-…): op codes and the response's status codes (../shared/PROTOCOLS.md §4)
OP_GET_SETTINGS, OP_START, OP_STOP = 1, 2, 3
RESPONSE = 0xF0
STATUS = {
    0: "success",
    1: "invalid op code",
    2: "invalid measurement type",
    3: "not supported",
    4: "invalid length",
    5: "invalid parameter",
    6: "already in state",
    7: "invalid resolution",
    8: "invalid sample rate",
    9: "invalid range",
    10: "invalid MTU (negotiate a larger ATT MTU first)",
    11: "invalid channel count",
    12: "invalid state",
    13: "in charger",
}


def start_ecg_command(rate_hz: int = 130, resolution_bits: int = 14) -> bytes:
    """Start live ECG: op 2, type 0, then the settings as TLVs (0 sample rate, 1 resolution; u16 LE).
    With the defaults this is `02 00 00 01 82 00 01 01 0E 00`, the command the H10 takes."""
    settings = (
        bytes([0, 1]) + rate_hz.to_bytes(2, "little") + bytes([1, 1]) + resolution_bits.to_bytes(2, "little")
    )
    return bytes([OP_START, 0]) + settings


def stop_command(measurement_type: int = 0) -> bytes:
    return bytes([OP_STOP, measurement_type])


@dataclass(frozen=True, slots=True)
class ControlResponse:
    op_code: int
    measurement_type: int
    status: int
    more: bool
    parameters: bytes

    @property
    def ok(self) -> bool:
        return self.status == 0

    @property
    def text(self) -> str:
        return STATUS.get(self.status, f"status {self.status}")


def parse_control_response(data: bytes) -> ControlResponse:
    """An indication of the control point: `F0` · op code · type · status · more · parameters."""
    f = Fields(PROTOCOL, data)
    if f.u8("response code") != RESPONSE:
        raise DecodeError(PROTOCOL, "not a control point response (F0)", 0)
    op, kind, status, more = (f.u8(w) for w in ("op code", "measurement type", "status", "more flag"))
    return ControlResponse(op, kind, status, bool(more), f.take(f.left, "parameters"))
