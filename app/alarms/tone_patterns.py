"""IEC 60601-1-8 priority tones, synthesised from resources/tones.toml (pure functions: numbers in,
samples out), so the sound is data a biomedical engineer can check rather than a recording."""

from __future__ import annotations

import io
import tomllib
import wave
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import numpy.typing as npt
from wardwatch.app.alarms.model import Priority

SAMPLE_RATE = 44_100


@dataclass(frozen=True, slots=True)
class TonePattern:
    priority: Priority
    fundamental_hz: float
    harmonics: tuple[float, ...]  # relative amplitude of f0, 2·f0, 3·f0, …
    pulse_s: float
    rise_s: float
    onsets: tuple[float, ...]
    repeat_s: float
    repeat_escalated_s: float

    @property
    def burst_s(self) -> float:
        return self.onsets[-1] + self.pulse_s


def parse_patterns(raw: dict[str, dict[str, object]]) -> dict[Priority, TonePattern]:
    out: dict[Priority, TonePattern] = {}
    for priority in Priority:
        entry = raw[priority.word]
        pattern = TonePattern(
            priority=priority,
            fundamental_hz=float(entry["fundamental_hz"]),  # type: ignore[arg-type]
            harmonics=tuple(float(a) for a in entry["harmonics"]),  # type: ignore[attr-defined]
            pulse_s=float(entry["pulse_s"]),  # type: ignore[arg-type]
            rise_s=float(entry["rise_s"]),  # type: ignore[arg-type]
            onsets=tuple(float(t) for t in entry["onsets"]),  # type: ignore[attr-defined]
            repeat_s=float(entry["repeat_s"]),  # type: ignore[arg-type]
            repeat_escalated_s=float(entry["repeat_escalated_s"]),  # type: ignore[arg-type]
        )
        if not 150 <= pattern.fundamental_hz <= 1000:
            raise ValueError(f"{priority.word}: the fundamental must be 150-1000 Hz")
        if 2 * pattern.rise_s > pattern.pulse_s or list(pattern.onsets) != sorted(pattern.onsets):
            raise ValueError(f"{priority.word}: rise and fall must fit in the pulse, onsets in order")
        out[priority] = pattern
    return out


@cache
def load_patterns() -> dict[Priority, TonePattern]:
    text = resources.files("wardwatch.resources").joinpath("tones.toml").read_text("utf-8")
    return parse_patterns(tomllib.loads(text))


def pulse(pattern: TonePattern, sample_rate: int = SAMPLE_RATE) -> npt.NDArray[np.float64]:
    """One pulse: the harmonic series under a linear rise and fall (no click at either end)."""
    n = round(pattern.pulse_s * sample_rate)
    t = np.arange(n) / sample_rate
    y = sum(
        a * np.sin(2 * np.pi * pattern.fundamental_hz * (k + 1) * t) for k, a in enumerate(pattern.harmonics)
    )
    ramp = max(1, round(pattern.rise_s * sample_rate))
    envelope = np.minimum(1.0, np.minimum(np.arange(n) + 1, n - np.arange(n)) / ramp)
    return np.asarray(y, np.float64) * envelope


def synthesise(pattern: TonePattern, sample_rate: int = SAMPLE_RATE) -> npt.NDArray[np.float32]:
    """One burst, peak-normalised to 0.9."""
    one = pulse(pattern, sample_rate)
    out = np.zeros(round(pattern.burst_s * sample_rate) + 1)
    for onset in pattern.onsets:
        i = round(onset * sample_rate)
        out[i : i + len(one)] += one[: len(out) - i]
    peak = float(np.max(np.abs(out))) or 1.0
    return (0.9 * out / peak).astype(np.float32)


def to_wav_bytes(samples: npt.NDArray[np.float32], sample_rate: int = SAMPLE_RATE) -> bytes:
    """16-bit mono PCM WAV."""
    pcm = np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return buffer.getvalue()
