"""Slow, smooth variability (heart-rate drift, baseline wander, fibrillation phase) as pure functions of time.

A sum of a few sinusoids with seeded, incommensurate frequencies: continuous across any split of the
signal into blocks and evaluable at any instant without state, which is what determinism needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Wander:
    freqs: tuple[float, ...]  # Hz
    phases: tuple[float, ...]  # rad
    amps: tuple[float, ...]  # their sum is the largest possible excursion

    @classmethod
    def draw(cls, rng: np.random.Generator, amplitude: float, f_lo: float, f_hi: float, n: int = 3) -> Wander:
        """`n` components with frequencies spread log-uniformly over [f_lo, f_hi]."""
        freqs = np.exp(rng.uniform(math.log(f_lo), math.log(f_hi), n))
        phases = rng.uniform(0.0, 2 * math.pi, n)
        weights = rng.uniform(0.5, 1.0, n)
        amps = amplitude * weights / weights.sum()
        return cls(tuple(freqs.tolist()), tuple(phases.tolist()), tuple(amps.tolist()))

    def at(self, t: float) -> float:
        return sum(
            a * math.sin(2 * math.pi * f * t + p)
            for f, p, a in zip(self.freqs, self.phases, self.amps, strict=True)
        )

    def over(self, times: FloatArray) -> FloatArray:
        out = np.zeros(len(times))
        for f, p, a in zip(self.freqs, self.phases, self.amps, strict=True):
            out += a * np.sin(2 * math.pi * f * times + p)
        return out

    def integral(self, times: FloatArray) -> FloatArray:
        """∫ of the wander from 0 to each time: the phase of an oscillator whose frequency wanders."""
        out = np.zeros(len(times))
        for f, p, a in zip(self.freqs, self.phases, self.amps, strict=True):
            w = 2 * math.pi * f
            out += a / w * (math.cos(p) - np.cos(w * times + p))
        return out


@dataclass(frozen=True, slots=True, eq=False)
class WanderBank:
    """Several wanders evaluated together (one vectorised call instead of one per wander)."""

    freqs: FloatArray  # (wander, component)
    phases: FloatArray
    amps: FloatArray

    @classmethod
    def of(cls, *wanders: Wander) -> WanderBank:
        return cls(
            np.array([w.freqs for w in wanders]),
            np.array([w.phases for w in wanders]),
            np.array([w.amps for w in wanders]),
        )

    def over(self, times: FloatArray) -> FloatArray:
        """(wander, time) values."""
        angle = (2 * math.pi) * self.freqs[:, :, None] * times[None, None, :] + self.phases[:, :, None]
        return np.asarray((self.amps[:, :, None] * np.sin(angle)).sum(axis=1), dtype=np.float64)


def ease(x: float) -> float:
    """Smooth 0→1 over x in [0, 1] (a raised cosine), flat at both ends as physiology is."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    return 0.5 - 0.5 * math.cos(math.pi * x)
