"""Polar H10 ECG over the Polar Measurement Data (PMD) service: the data notification.

Byte 0 is the measurement type (0 = ECG), bytes 1-8 the sensor's time stamp of the **last** sample (u64
LE, ns), byte 9 the frame type (bit 7 = delta compressed); H10 ECG frames are type 0: 3-byte signed LE
samples in µV at 130 Hz. See ../shared/PROTOCOLS.md §4.
"""

from __future__ import annotations

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
