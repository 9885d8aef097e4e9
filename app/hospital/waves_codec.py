"""Waveform blocks on the wire (`.../<bed>/waves`): a CBOR map, version 1 (docs/hospital.md).

    {"v": 1, "t": EPOCH, "blocks": [{"code": MDC, "fs": 250.0, "t0": EPOCH, "scale": 0.005, "n": 125,
                                      "data": BYTES, "unit": "mV", "label": "II"}, …]}

`data` is zlib(int16 little-endian first differences of round(x / scale)), the first value absolute.
A NaN (a gap: lead off, dropout) or a jump in sample times splits a block, so a gap stays a gap on the
viewer. `scale` is the channel's resolution, widened for a block whose values would not fit int16
differences. Pure functions: numpy in, bytes out and back; `WavesError` (a PayloadError) on bad input.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cbor2
import numpy as np
import numpy.typing as npt
from wardwatch.app.hospital.payloads import VERSION, WAVES_MAX_BYTES, PayloadError, check_time

DEFAULT_SCALE = 0.005  # 5 µV for a channel in mV (ECG)
AUTO_STEPS = 4000  # other units: about 12 bits over the block's peak, unless a scale is given
# |round(x/scale)| kept under this, so every first difference fits int16
_HALF_INT16 = 16383
MAX_SAMPLES = 1 << 18  # per block on decode: a bigger claim is refused before inflating anything
MAX_BLOCKS = 256


class WavesError(PayloadError):
    """A waves message that cannot be accepted."""


@dataclass(frozen=True, slots=True, eq=False)
class WaveBlock:
    """Consecutive samples of one channel (sample k at t0 + k / fs); no NaN once decoded."""

    code: int
    fs: float
    t0: float
    samples: npt.NDArray[np.float32]
    unit: str = ""
    label: str = ""


@dataclass(frozen=True, slots=True, eq=False)
class Waves:
    t: float
    blocks: tuple[WaveBlock, ...]


def split_runs(
    code: int,
    fs: float,
    times: npt.NDArray[np.float64],
    values: npt.NDArray[np.float32],
    unit: str = "",
    label: str = "",
) -> list[WaveBlock]:
    """Samples read from a ring (times and values) as gap-free blocks: split at NaN values and where the
    next sample comes later than 1.5 sample periods."""
    values = np.asarray(values, np.float32)
    times = np.asarray(times, np.float64)
    if len(values) == 0 or fs <= 0:
        return []
    finite = np.isfinite(values) & np.isfinite(times)
    breaks = np.zeros(len(values), dtype=bool)
    breaks[1:] = np.diff(times) > 1.5 / fs
    blocks: list[WaveBlock] = []
    start: int | None = None
    for i in range(len(values) + 1):
        end_run = i == len(values) or not finite[i] or (breaks[i] and start is not None)
        if end_run and start is not None:
            blocks.append(WaveBlock(code, fs, float(times[start]), values[start:i].copy(), unit, label))
            start = None
        if i < len(values) and finite[i] and start is None:
            start = i
    return blocks


def _pack(samples: npt.NDArray[np.float32], scale: float | None) -> tuple[float, bytes]:
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    if scale is None or scale <= 0:
        scale = peak / AUTO_STEPS if peak > 0 else 1.0
    if peak / scale > _HALF_INT16:
        scale = peak / _HALF_INT16
    q = np.rint(samples.astype(np.float64) / scale).astype(np.int64)
    diffs = np.empty_like(q)
    diffs[:1] = q[:1]
    diffs[1:] = np.diff(q)
    return scale, zlib.compress(diffs.astype("<i2").tobytes(), 6)


def encode_waves(t: float, blocks: Sequence[WaveBlock], scales: Mapping[int, float] | None = None) -> bytes:
    """The CBOR message of `blocks` (NaN-free: use `split_runs`); `scales` gives a channel's resolution
    by code (default: DEFAULT_SCALE for mV, else about AUTO_STEPS steps over the block's peak).
    WavesError if the message would be over WAVES_MAX_BYTES."""
    out: list[dict[str, Any]] = []
    for block in blocks:
        samples = np.asarray(block.samples, np.float32)
        if len(samples) == 0:
            continue
        if not np.all(np.isfinite(samples)):
            raise WavesError("a block holds NaN: split it with split_runs first")
        given = (scales or {}).get(block.code)
        scale, data = _pack(
            samples, given if given is not None else DEFAULT_SCALE if block.unit == "mV" else None
        )
        entry: dict[str, Any] = {
            "code": int(block.code),
            "fs": float(block.fs),
            "t0": float(block.t0),
            "scale": float(scale),
            "n": len(samples),
            "data": data,
        }
        if block.unit:
            entry["unit"] = block.unit
        if block.label:
            entry["label"] = block.label
        out.append(entry)
    message = cbor2.dumps({"v": VERSION, "t": float(t), "blocks": out})
    if len(message) > WAVES_MAX_BYTES:
        raise WavesError(f"waves message of {len(message)} bytes is over {WAVES_MAX_BYTES}")
    return message


def _finite(entry: Mapping[str, Any], key: str, *, positive: bool = False) -> float:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise WavesError(f"block field {key!r} must be a finite number")
    if positive and value <= 0:
        raise WavesError(f"block field {key!r} must be positive")
    return float(value)


def _unpack(entry: Mapping[str, Any]) -> WaveBlock:
    code = entry.get("code")
    n = entry.get("n")
    data = entry.get("data")
    if isinstance(code, bool) or not isinstance(code, int):
        raise WavesError("block field 'code' must be a whole number")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_SAMPLES:
        raise WavesError(f"block field 'n' must be a whole number from 1 to {MAX_SAMPLES}")
    if not isinstance(data, bytes):
        raise WavesError("block field 'data' must be bytes")
    fs, t0, scale = (
        _finite(entry, "fs", positive=True),
        _finite(entry, "t0"),
        _finite(entry, "scale", positive=True),
    )
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(data, 2 * n + 1)  # never inflate more than the block claims
    except zlib.error:
        raise WavesError("block data is not zlib") from None
    if len(raw) != 2 * n or inflater.unconsumed_tail:
        raise WavesError("block data does not hold n samples")
    q = np.cumsum(np.frombuffer(raw, dtype="<i2").astype(np.int64))
    unit, label = entry.get("unit", ""), entry.get("label", "")
    return WaveBlock(
        code,
        fs,
        t0,
        (q * scale).astype(np.float32),
        unit if isinstance(unit, str) else "",
        label if isinstance(label, str) else "",
    )


def decode_waves(data: bytes) -> Waves:
    """A waves message back as blocks; WavesError (size checked before parsing, version, fields)."""
    if len(data) > WAVES_MAX_BYTES:
        raise WavesError(f"waves message of {len(data)} bytes is over {WAVES_MAX_BYTES}")
    try:
        doc = cbor2.loads(data)
    except Exception as exc:  # cbor2 raises several types for bad input; all mean "not CBOR we read"
        raise WavesError(f"waves message is not CBOR ({type(exc).__name__})") from None
    if not isinstance(doc, dict):
        raise WavesError("waves message must be a CBOR map")
    version = doc.get("v")
    if isinstance(version, bool) or not isinstance(version, int):
        raise WavesError("waves message has no version 'v'")
    if version != VERSION:
        raise WavesError(f"waves version {version} is not known (this station reads {VERSION})")
    t = doc.get("t")
    if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t):
        raise WavesError("field 't' must be a finite number")
    try:
        check_time(float(t), "t")
    except PayloadError as exc:
        raise WavesError(str(exc)) from None
    blocks = doc.get("blocks")
    if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
        raise WavesError(f"field 'blocks' must be a list of at most {MAX_BLOCKS}")
    out = []
    for entry in blocks:
        if not isinstance(entry, dict):
            raise WavesError("a block must be a CBOR map")
        out.append(_unpack(entry))
    return Waves(float(t), tuple(out))
