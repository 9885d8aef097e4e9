"""Pulse oximeter (PLX service `0x1822`): Spot-check `0x2A5E` and Continuous `0x2A5F` measurements."""

from __future__ import annotations

from wardwatch.devices.ble.common import (
    BPM,
    PERCENT,
    PERFUSION_INDEX,
    PULSE_RATE_OXIM,
    SPO2,
    bit_names,
    date_time,
    reading,
    sfloat_field,
)
from wardwatch.devices.decoded import Decoded, Fields, State
from wardwatch.devices.mder import MderNumber

SPOT = "ble-plx-spot"
CONTINUOUS = "ble-plx-cont"

MEASUREMENT_STATUS = {
    5: "measurement ongoing",
    6: "early estimated data",
    7: "validated data",
    8: "fully qualified data",
    9: "data from measurement storage",
    10: "data for demonstration",
    11: "data for testing",
    12: "calibration ongoing",
    13: "measurement unavailable",
    14: "questionable measurement",
    15: "invalid measurement",
}
SENSOR_STATUS = {
    0: "extended display update ongoing",
    1: "equipment malfunction",
    2: "signal processing irregularity",
    3: "inadequate signal",
    4: "poor signal",
    5: "low perfusion",
    6: "erratic signal",
    7: "non-pulsatile signal",
    8: "questionable pulse",
    9: "signal analysis ongoing",
    10: "sensor interference",
    11: "sensor unconnected to user",
    12: "unknown sensor connected",
    13: "sensor displaced",
    14: "sensor malfunctioning",
    15: "sensor disconnected",
}
_SENSOR_OFF = {1, 11, 13, 14, 15}  # the value cannot stand: no sensor on a finger, or a broken one


def _state(status: int | None, sensor: int | None, number_state: State) -> State:
    """The worst of what the number's encoding and the device's status bits say."""
    if number_state is not State.VALID:
        return number_state
    if status is not None:
        if status & (1 << 15):
            return State.INVALID
        if status & (1 << 13):
            return State.UNAVAILABLE
        if status & ((1 << 10) | (1 << 11)):
            return State.DEMO
        if status & (1 << 12):
            return State.CALIBRATING
        if status & (1 << 14):
            return State.QUESTIONABLE
    if sensor is not None:
        if any(sensor & (1 << b) for b in _SENSOR_OFF):
            return State.INVALID
        if sensor & ((1 << 3) | (1 << 4) | (1 << 6) | (1 << 7) | (1 << 8)):
            return State.QUESTIONABLE
    return State.VALID


def _pair(f: Fields, which: str) -> tuple[MderNumber, MderNumber]:
    return sfloat_field(f, f"SpO2 ({which})"), sfloat_field(f, f"pulse rate ({which})")


def _readings(
    pairs: list[tuple[str, MderNumber, MderNumber]],
    pai: MderNumber | None,
    status: int | None,
    sensor: int | None,
    **extra: object,
) -> list[Decoded]:
    details: dict[str, object] = dict(extra)
    if status is not None:
        details["measurement_status"] = bit_names(status, MEASUREMENT_STATUS)
    if sensor is not None:
        details["sensor_status"] = bit_names(sensor, SENSOR_STATUS)
    out = []
    for averaging, spo2, pr in pairs:
        more = {**details, "averaging": averaging} if averaging != "normal" else details
        out.append(reading(SPO2, PERCENT, spo2, _state(status, sensor, spo2.state), **more))
        out.append(reading(PULSE_RATE_OXIM, BPM, pr, _state(status, sensor, pr.state), **more))
    if pai is not None:
        out.append(reading(PERFUSION_INDEX, PERCENT, pai, _state(status, sensor, pai.state), **details))
    return out


def decode_spot(data: bytes) -> list[Decoded]:
    f = Fields(SPOT, data)
    flags = f.u8("flags")
    spo2, pr = _pair(f, "normal")
    extra: dict[str, object] = {}
    if flags & 0x01:
        extra["timestamp"] = date_time(f)
    status = f.u16("measurement status") if flags & 0x02 else None
    sensor = f.u24("device and sensor status") if flags & 0x04 else None
    pai = sfloat_field(f, "pulse amplitude index") if flags & 0x08 else None
    if flags & 0x10:
        extra["device_clock_set"] = False
    f.end()
    return _readings([("normal", spo2, pr)], pai, status, sensor, **extra)


def decode_continuous(data: bytes) -> list[Decoded]:
    f = Fields(CONTINUOUS, data)
    flags = f.u8("flags")
    pairs = [("normal", *_pair(f, "normal"))]
    if flags & 0x01:
        pairs.append(("fast", *_pair(f, "fast")))
    if flags & 0x02:
        pairs.append(("slow", *_pair(f, "slow")))
    status = f.u16("measurement status") if flags & 0x04 else None
    sensor = f.u24("device and sensor status") if flags & 0x08 else None
    pai = sfloat_field(f, "pulse amplitude index") if flags & 0x10 else None
    f.end()
    return _readings(pairs, pai, status, sensor)
