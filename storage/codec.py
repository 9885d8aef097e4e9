"""Compact forms of what the record keeps (pure functions: arrays in, bytes out, and back).

Waveforms: a block's samples are quantised to int16 over the block's own range (gain and offset per
block: a 3 mV ECG block resolves ~0.05 µV, far below the monitor's own noise), NaN kept as a reserved
code, then delta-coded and deflated. Trends: 60 float32 per minute row.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

NAN_CODE = -32768  # int16 code for "no sample" (lead off, dropout)
_LEVELS = 65534.0  # codes -32767 … 32767
SECONDS_PER_MINUTE = 60
SECONDS_PER_HOUR = 3600


def encode_wave(samples: npt.ArrayLike) -> tuple[float, float, bytes]:
    """(gain, offset, data): value = code * gain + offset."""
    x = np.asarray(samples, np.float64)
    finite = np.isfinite(x)
    if finite.any():
        lo, hi = float(x[finite].min()), float(x[finite].max())
    else:
        lo = hi = 0.0
    offset = (lo + hi) / 2.0
    gain = (hi - lo) / _LEVELS if hi > lo else 1.0
    codes = np.full(x.shape, NAN_CODE, np.int16)
    codes[finite] = np.clip(np.rint((x[finite] - offset) / gain), -32767, 32767).astype(np.int16)
    # deltas wrap in 16 bits and unwrap exactly; neighbouring samples differ little, so they deflate well
    delta = np.diff(codes, prepend=np.int16(0)).astype(np.int16)
    return gain, offset, zlib.compress(delta.tobytes(), 1)


def decode_wave(gain: float, offset: float, data: bytes, count: int) -> npt.NDArray[np.float32]:
    delta = np.frombuffer(zlib.decompress(data), np.int16, count=count)
    codes = np.cumsum(delta, dtype=np.int16)
    out = codes.astype(np.float64) * gain + offset
    out[codes == NAN_CODE] = np.nan
    return out.astype(np.float32)


def empty_minute() -> npt.NDArray[np.float32]:
    return np.full(SECONDS_PER_MINUTE, np.nan, np.float32)


def encode_minute(values: npt.NDArray[np.float32]) -> bytes:
    return np.asarray(values, np.float32).tobytes()


def decode_minute(data: bytes) -> npt.NDArray[np.float32]:
    return np.frombuffer(data, np.float32, count=SECONDS_PER_MINUTE).copy()


def encode_hour(values: npt.NDArray[np.float32]) -> bytes:
    """An hour of one-second values, deflated.

    Trend values change slowly and are mostly whole numbers, and most channels are empty for most
    seconds (NIBP), so an hour of heart rate deflates from 14.4 kB to ~1.6 kB and of NIBP to ~130
    bytes: fewer pages to read and decrypt is what keeps a cold 24 h query fast. (Shuffling the
    float32 bytes first deflates a third better, but un-shuffling cost more than it saved in reading.)"""
    return zlib.compress(np.ascontiguousarray(values, np.float32).tobytes(), 1)


def decode_hour(data: bytes) -> npt.NDArray[np.float32]:
    return decode_hours([data])[0].copy()


def decode_hours(encoded: Sequence[bytes]) -> npt.NDArray[np.float32]:
    """Many encoded hours as one (hours × 3600) array."""
    joined = b"".join([zlib.decompress(d) for d in encoded])
    return np.frombuffer(joined, np.float32).reshape(len(encoded), SECONDS_PER_HOUR)


def hour_of_minutes(old: bytes | None, minutes: Sequence[int], rows: Sequence[bytes], hour: int) -> bytes:
    """An hour row with the given minute rows of that hour laid into it; a value a minute row lacks
    (NaN) keeps what the old hour row had."""
    merged = decode_hour(old) if old is not None else np.full(SECONDS_PER_HOUR, np.nan, np.float32)
    for minute, data in zip(minutes, rows, strict=True):
        at = (minute - hour * 60) * SECONDS_PER_MINUTE
        values = np.frombuffer(data, np.float32, count=SECONDS_PER_MINUTE)
        have = np.isfinite(values)
        merged[at : at + SECONDS_PER_MINUTE][have] = values[have]
    return encode_hour(merged)


def merge_minutes(old: bytes, new: npt.NDArray[np.float32]) -> bytes:
    """A minute row written twice (a partial minute at shutdown, then the rest) keeps both halves."""
    merged = decode_minute(old)
    have = np.isfinite(new)
    merged[have] = new[have]
    return encode_minute(merged)
