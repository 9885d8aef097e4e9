"""Positive evidence of a ventricular run on the ECG (pure functions).

A run of ventricular beats replaces the patient's usual QRS on every lead at once, and its complexes,
coming from one focus, look alike to one another and follow each other faster than 100/min. So:

1. on each lead whose baseline gives a trustworthy template of the usual complex (QRS *and* the
   repolarisation after it, which a ventricular beat changes too), find where that complex recurs in
   the last seconds;
2. keep the stretch where it vanished on every such lead (a run shows on all leads; artefact on one);
3. look there for five complexes in a row that repeat one another: the wave over four cycles correlates
   with itself shifted by one cycle, for a cycle of 0.25-0.6 s (100-240/min).

Step 3 compares the wave with itself rather than counting detected beats: broad ventricular complexes
are exactly what a QRS detector tuned on narrow ones misses or double-counts, while the self-similarity
needs no detection at all. Noise and movement do not repeat themselves beat after beat; a sinus or
supraventricular tachycardia keeps the usual complex, so it leaves no stretch to look in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt
from wardwatch.app.verify.waves import (
    Beats,
    FloatArray,
    Shape,
    ecg_wave,
    match_usual_shape,
)

# The event lies in the last ~10 s (AAMI EC13); 14 s also covers a run that began just before and
# the monitor's own delay. The usual complex is learned before the last 16 s, so it cannot be the run.
RUN_RECENT_S = 14.0
RUN_BASELINE_END_S = 16.0
# The usual complex from 0.1 s before its QRS peak to 0.3 s after (QRS and the start of the T wave),
# matched by shape (normalised correlation) and by size.
USUAL_BEFORE_S = 0.1
USUAL_AFTER_S = 0.3
USUAL_MIN_BEATS = 8
USUAL_CONSISTENCY = 0.8
USUAL_CORRELATION = 0.9
USUAL_SIZE = (0.7, 1.4)
# Between two usual complexes further apart than this many usual intervals, something else happened.
USUAL_MISSED = 1.5
# Five complexes = four cycles; a cycle of 0.25-0.6 s is 100-240/min (faster is flutter or noise).
RUN_CYCLES = 4
RUN_CYCLE_S = (0.25, 0.6)
# A run's complexes repeat each other this closely (normalised correlation over the four cycles) and
# keep their size (ratio of spreads of the two compared spans).
RUN_LIKENESS = 0.9
RUN_SIZE = (0.5, 2.0)
# The compared span lies this much inside the stretch without the usual complex.
RUN_INSIDE = 0.8
# Self-similarity is computed at this fraction of the sampling rate: the 1-30 Hz wave loses nothing.
DECIMATE = 2


@dataclass(frozen=True, slots=True)
class UsualComplex:
    """Where the lead's usual complex recurs in the recent seconds (seconds from the window's start)."""

    lead: str
    times: FloatArray
    interval: float  # the usual beat-to-beat interval of the baseline, seconds


@dataclass(frozen=True, slots=True)
class VentricularRun:
    lead: str  # the lead where the run repeats itself best
    rate: float  # per minute
    likeness: float  # normalised correlation of successive cycles
    start: float  # seconds from the window's start
    vanished_on: tuple[str, ...]  # leads on which the usual complex vanished ("" when none had one)
    vanished_s: float  # how long the usual complex was absent on all of them, seconds


def usual_complex(beats: Beats, wave: FloatArray, fs: float) -> UsualComplex | None:
    """The usual complex's recurrences in the last RUN_RECENT_S, or None when the baseline gives no
    trustworthy template (too few beats, or beats that do not agree with their median)."""
    if beats.flat or beats.missing > 0.05:
        return None
    n = len(wave)
    shape = Shape(
        int(USUAL_BEFORE_S * fs), int(USUAL_AFTER_S * fs), USUAL_MIN_BEATS, USUAL_CONSISTENCY,
        USUAL_CORRELATION, USUAL_SIZE, 0.2,
    )  # fmt: skip
    start = n - int(RUN_RECENT_S * fs)
    found = match_usual_shape(beats.times, wave, fs, shape, start, n - int(RUN_BASELINE_END_S * fs))
    if found is None:
        return None
    interval = float(np.median(np.diff(found.centres))) / fs
    return UsualComplex(beats.name, (start + found.positions) / fs, interval)


def longest_absence(usual: UsualComplex, since: float, end: float) -> float:
    """The longest stretch from `since` to `end` (seconds from the window's start) without the usual
    complex."""
    t = usual.times[(usual.times >= since) & (usual.times <= end)]
    return float(np.max(np.diff(np.concatenate(([since], t, [end])))))


def vanished(usual: Sequence[UsualComplex], n: int, fs: float) -> npt.NDArray[np.bool_]:
    """Samples of the last RUN_RECENT_S where none of the leads shows its usual complex (all of them
    when no lead has one: nothing says the rhythm is the usual one)."""
    length = int(RUN_RECENT_S * fs)
    start_s = (n - length) / fs
    mask = np.ones(length, dtype=bool)
    for lead in usual:
        gone = np.zeros(length, dtype=bool)
        edges = np.concatenate(([start_s], lead.times, [n / fs])) - start_s
        for a, b in pairwise(edges):
            if b - a > USUAL_MISSED * lead.interval:
                gone[int(a * fs) : int(b * fs)] = True
        mask &= gone
    return mask


def _rolling(v: FloatArray, width: int) -> FloatArray:
    c = np.concatenate(([0.0], np.cumsum(v)))
    return c[width:] - c[:-width]


def self_similarity(
    wave: FloatArray, mask: npt.NDArray[np.bool_], fs: float
) -> tuple[float, float, float] | None:
    """(likeness, rate per minute, start in seconds from the mask's start) of the most self-similar
    span of RUN_CYCLES cycles inside `mask`: the span's first RUN_CYCLES-1 cycles against its last
    RUN_CYCLES-1, i.e. every complex against the next one, for every cycle length of RUN_CYCLE_S."""
    z = wave[-len(mask) :: DECIMATE]
    inside = mask[::DECIMATE].astype(np.float64)[: len(z)]
    rate = fs / DECIMATE
    best: tuple[float, float, float] | None = None
    for lag in range(int(RUN_CYCLE_S[0] * rate), int(RUN_CYCLE_S[1] * rate) + 1):
        width = (RUN_CYCLES - 1) * lag
        if len(z) < RUN_CYCLES * lag:
            break
        a, b = z[:-lag], z[lag:]
        sa, sb = _rolling(a, width), _rolling(b, width)
        cov = _rolling(a * b, width) - sa * sb / width
        va = np.maximum(_rolling(a * a, width) - sa * sa / width, 1e-20)
        vb = np.maximum(_rolling(b * b, width) - sb * sb / width, 1e-20)
        corr = cov / np.sqrt(va * vb)
        size = np.sqrt(va / vb)
        share = _rolling(inside, RUN_CYCLES * lag) / (RUN_CYCLES * lag)
        m = min(len(corr), len(share))
        ok = (size[:m] > RUN_SIZE[0]) & (size[:m] < RUN_SIZE[1]) & (share[:m] >= RUN_INSIDE)
        if not ok.any():
            continue
        scores = np.where(ok, corr[:m], -1.0)
        k = int(np.argmax(scores))
        if best is None or scores[k] > best[0]:
            best = (float(scores[k]), 60.0 * rate / lag, k / rate)
    return best


def ventricular_run(
    ecg: Sequence[Beats], signals: Mapping[str, npt.ArrayLike], fs: float
) -> VentricularRun | None:
    """A run of at least five alike complexes above 100/min where the usual complex vanished on every
    lead that has one, or None."""
    usable = [b for b in ecg if not b.flat and b.missing <= 0.05]
    if not usable:
        return None
    waves = {b.name: ecg_wave(signals[b.name], fs) for b in usable}
    n = len(next(iter(waves.values())))
    if n < int(RUN_RECENT_S * fs):
        return None
    usual = [u for b in usable if (u := usual_complex(b, waves[b.name], fs)) is not None]
    mask = vanished(usual, n, fs)
    if not mask.any():
        return None
    best: tuple[float, float, float, str] | None = None
    for name, wave in waves.items():
        found = self_similarity(wave, mask, fs)
        if found is not None and (best is None or found[0] > best[0]):
            best = (*found, name)
    if best is None or best[0] < RUN_LIKENESS:
        return None
    likeness, rate, start, lead = best
    return VentricularRun(
        lead,
        rate,
        likeness,
        (n - len(mask)) / fs + start,
        tuple(u.lead for u in usual),
        float(mask.sum()) / fs,
    )
