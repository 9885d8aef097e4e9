"""IntelliVue real-time sample arrays (object class 9, NOM_MOC_VMO_METRIC_SA_RT) read into waves.

A wave object's values (`SaObsValue`: physio id, measurement state, the samples as u16 BE) arrive in every
poll reply, but what they mean arrives once per object handle, in the first reply: the sample spec
(`SaSpec`: sample size and how many bits of a sample are signal), the linear scale (`ScaleRangeSpec16`:
two absolute values and the scaled values they match), the sample period (1/8 ms) and the unit. The spec
of each handle is therefore kept by the caller (the session) and handed back in; the decoding stays pure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from wardwatch.devices.decoded import Decoded, DecodeError, Fields, State
from wardwatch.devices.intellivue.framing import PROTOCOL
from wardwatch.devices.mder import float32

ATTR_SA_VAL_OBS = 0x096E
ATTR_SA_CMPD_VAL_OBS = 0x0967
ATTR_SA_SPECN = 0x096D
ATTR_SCALE_SPECN_I16 = 0x096F
ATTR_TIME_PD_SAMP = 0x098D
ATTR_UNIT_CODE = 0x0996
WAVE_ATTRIBUTES = frozenset(
    {
        ATTR_SA_VAL_OBS,
        ATTR_SA_CMPD_VAL_OBS,
        ATTR_SA_SPECN,
        ATTR_SCALE_SPECN_I16,
        ATTR_TIME_PD_SAMP,
        ATTR_UNIT_CODE,
    }
)
TICKS_PER_S = 8000  # RelativeTime: 1/8 ms

# physio id (partition 2 term) → label; the MDC code is partition 2 + the term (PROTOCOLS.md §2)
WAVE_LABELS = {
    0x0101: "ECG I",
    0x0102: "ECG II",
    0x013D: "ECG III",
    0x4BB4: "Pleth",
    0x4A14: "ABP",
    0x5000: "Resp",
}
WAVE_UNITS = {0x10B2: "mV", 0x10B3: "uV", 0x0F20: "mm[Hg]", 0x0200: "1", 0x0F03: "kPa"}


@dataclass(frozen=True, slots=True)
class Scale:
    """ScaleRangeSpec16: scaled `lower_scaled`..`upper_scaled` are `lower`..`upper` in the wave's unit."""

    lower: float
    upper: float
    lower_scaled: int
    upper_scaled: int

    def __call__(self, raw: int) -> float:
        step = (self.upper - self.lower) / (self.upper_scaled - self.lower_scaled)
        # rounded a digit below one step, so that float noise does not show (0.0, not -7e-15)
        digits = max(0, 1 - math.floor(math.log10(abs(step))))
        return round(self.lower + (raw - self.lower_scaled) * step, digits) + 0.0  # and never -0.0


@dataclass(frozen=True, slots=True)
class WaveSpec:
    """What is known of one wave object (by handle); None where the monitor has not said yet."""

    sample_size: int = 16  # bits per sample on the wire
    significant_bits: int = 16
    array_size: int | None = None  # samples per array
    flags: int = 0
    scale: Scale | None = None
    period: int | None = None  # RelativeTime per sample
    unit_code: int | None = None

    @property
    def rate_hz(self) -> float | None:
        return TICKS_PER_S / self.period if self.period else None


@dataclass(frozen=True, slots=True)
class RawArray:
    physio_id: int
    state: int
    data: bytes


def _sa_value(c: Fields) -> RawArray:
    physio = c.u16("wave physio id")
    state = c.u16("wave measurement state")
    return RawArray(physio, state, c.take(c.u16("sample array length"), "sample array"))


def read_attribute(attr_id: int, value: Fields, spec: WaveSpec, arrays: list[RawArray]) -> WaveSpec:
    """Read one wave attribute: a spec attribute gives the updated spec, a value is added to `arrays`."""
    if attr_id == ATTR_SA_VAL_OBS:
        arrays.append(_sa_value(value))
    elif attr_id == ATTR_SA_CMPD_VAL_OBS:
        count = value.u16("compound wave count")
        inner = value.sub(value.u16("compound wave length"), "compound wave")
        arrays += [_sa_value(inner) for _ in range(count)]
    elif attr_id == ATTR_SA_SPECN:
        array_size = value.u16("array size")
        sample_size, bits = value.u8("sample size"), value.u8("significant bits")
        flags = value.u16("sample array flags")
        if sample_size not in (8, 16) or not 0 < bits <= sample_size:
            raise DecodeError(
                PROTOCOL, f"sample spec of {bits} bits in {sample_size} is not readable", value.pos
            )
        spec = replace(
            spec, sample_size=sample_size, significant_bits=bits, array_size=array_size, flags=flags
        )
    elif attr_id == ATTR_SCALE_SPECN_I16:
        lower, upper = float32(value.u32("lower absolute value")), float32(value.u32("upper absolute value"))
        lower_scaled, upper_scaled = value.u16("lower scaled value"), value.u16("upper scaled value")
        if lower.value is None or upper.value is None or lower_scaled == upper_scaled:
            raise DecodeError(PROTOCOL, "wave scale without two distinct points", value.pos)
        spec = replace(spec, scale=Scale(lower.value, upper.value, lower_scaled, upper_scaled))
    elif attr_id == ATTR_TIME_PD_SAMP:
        period = value.u32("sample period")
        if period == 0:
            raise DecodeError(PROTOCOL, "sample period of 0", value.pos)
        spec = replace(spec, period=period)
    elif attr_id == ATTR_UNIT_CODE:
        spec = replace(spec, unit_code=value.u16("unit code"))
    return spec


def to_decoded(
    array: RawArray, spec: WaveSpec, handle: int, state: State, details: dict[str, object]
) -> Decoded:
    """One sample array as a wave in physical units (samples masked to the significant bits first: the
    bits above carry flags such as a pace pulse or lead-off mark). A DecodeError when the spec does not
    yet say how to read it."""
    if spec.scale is None or spec.period is None:
        raise DecodeError(PROTOCOL, f"wave of handle {handle} before its scale and sample period")
    width = spec.sample_size // 8
    if len(array.data) % width:
        raise DecodeError(
            PROTOCOL, f"sample array of {len(array.data)} bytes is not whole {width}-byte samples"
        )
    mask = (1 << spec.significant_bits) - 1
    scale = spec.scale
    raw = [int.from_bytes(array.data[k : k + width], "big") & mask for k in range(0, len(array.data), width)]
    unit = spec.unit_code or 0
    code = 2 * 65536 + array.physio_id
    return Decoded(
        code,
        WAVE_LABELS.get(array.physio_id, f"MDC {code}"),
        None,
        WAVE_UNITS.get(unit, ""),
        4 * 65536 + unit,
        state,
        samples=tuple(scale(r) for r in raw),
        rate_hz=spec.rate_hz,
        details={**details, "handle": handle, "measurement_state": f"{array.state:04X}"},
    )
