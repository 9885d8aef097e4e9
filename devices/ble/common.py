"""Pieces the BLE health profiles share: MDC codes and units, SFLOAT fields, the date_time field."""

from __future__ import annotations

from dataclasses import dataclass

from wardwatch.devices.decoded import Decoded, DecodeError, Fields, State
from wardwatch.devices.mder import MderNumber, float32, sfloat


@dataclass(frozen=True, slots=True)
class Quantity:
    code: int  # 32-bit MDC code
    label: str


@dataclass(frozen=True, slots=True)
class Unit:
    ucum: str
    code: int  # 32-bit MDC unit code (partition 4)


# ../shared/PROTOCOLS.md §2, except where marked
HEART_RATE = Quantity(147842, "HR")
SPO2 = Quantity(150456, "SpO2")
PULSE_RATE_OXIM = Quantity(149530, "PR")
PULSE_RATE = Quantity(149514, "PR")
PERFUSION_INDEX = Quantity(150488, "PI")  # MDC_BLD_PERF_INDEX
NIBP_SYS, NIBP_DIA, NIBP_MEAN = (
    Quantity(150021, "NIBP sys"),
    Quantity(150022, "NIBP dia"),
    Quantity(150023, "NIBP mean"),
)
CUFF_PRESSURE = Quantity(150300, "Cuff")  # MDC_PRESS_CUFF, the family of 150301-150303 (not in the table)
TEMPERATURE = Quantity(150344, "Temp")
GLUCOSE_ISF = Quantity(160212, "Glucose")
BATTERY = Quantity(67996, "Battery")  # MDC_ATTR_VAL_BATT_CHARGE, partition 1 term 2460 (not in the table)

BPM = Unit("/min", 264864)
PERCENT = Unit("%", 262688)
MMHG = Unit("mm[Hg]", 266016)
KPA = Unit("kPa", 265987)
DEGC = Unit("Cel", 268192)
DEGF = Unit("[degF]", 266560)
MG_PER_DL = Unit("mg/dL", 264274)


def sfloat_field(fields: Fields, what: str) -> MderNumber:
    return sfloat(fields.u16(what))


def float_field(fields: Fields, what: str) -> MderNumber:
    return float32(int.from_bytes(fields.take(4, what), "little"))


def whole(value: float) -> MderNumber:
    """A plain integer field (uint8/uint16) as a number with no decimals."""
    return MderNumber(float(value), State.VALID, 0)


def reading(
    quantity: Quantity, unit: Unit, number: MderNumber, state: State | None = None, **details: object
) -> Decoded:
    """A value as decoded; `state` overrides the number's own when the message says more about it."""
    return Decoded(
        quantity.code,
        quantity.label,
        number.value,
        unit.ucum,
        unit.code,
        number.state if state is None else state,
        details=dict(details),
        decimals=number.decimals if number.value is not None else None,
    )


def date_time(fields: Fields) -> str | None:
    """The 7-byte date_time field as ISO 8601 (device clock, no zone); None when the device does not
    know the date (year, month or day 0)."""
    year = fields.u16("time stamp year")
    month, day, hours, minutes, seconds = fields.take(5, "time stamp")
    if year == 0 or month == 0 or day == 0:
        return None
    if not (1 <= month <= 12 and 1 <= day <= 31 and hours <= 23 and minutes <= 59 and seconds <= 59):
        raise DecodeError(fields.protocol, "time stamp out of range", fields.pos - 7)
    return f"{year:04d}-{month:02d}-{day:02d}T{hours:02d}:{minutes:02d}:{seconds:02d}"


def bit_names(value: int, names: dict[int, str]) -> list[str]:
    return [name for bit, name in sorted(names.items()) if value & (1 << bit)]
