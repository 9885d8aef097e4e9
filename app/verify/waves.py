"""Signal conditioning and beat detection for the arrhythmia verification (pure functions).

QRS complexes and arterial/pleth pulses are found with `scipy.signal` filters and `find_peaks`
(a Pan-Tompkins-like energy envelope for the ECG, a band-passed pulse wave for PLETH and ABP). The
detectors are written here rather than taken from `wfdb.processing` because XQRS gives no beats at
all on a window with a few NaN samples and costs ~0.3 s per lead, too slow for a live station; gqrs
raises on an all-NaN lead. What matters for verification is less the detector than the quality gate:
a channel is only evidence when it is clean (little missing, not flat, not saturated) and its beats
are regular at a physiological rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
from scipy.signal import butter, find_peaks, sosfiltfilt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

ECG_NAMES = frozenset({"II", "I", "III", "V", "MCL", "aVF", "aVL", "aVR", "ECG"})
PULSE_NAMES = ("ABP", "PLETH")


@cache
def band_sos(low: float, high: float, fs: float) -> npt.NDArray[np.float64]:
    return butter(2, [low, high], btype="band", fs=fs, output="sos")


def fill_gaps(x: npt.ArrayLike) -> tuple[FloatArray, float]:
    """The signal with NaN samples bridged linearly, and the fraction that was missing."""
    y = np.asarray(x, np.float64).copy()
    bad = ~np.isfinite(y)
    frac = float(bad.mean()) if len(y) else 1.0
    if 0 < bad.sum() < len(y):
        idx = np.arange(len(y))
        y[bad] = np.interp(idx[bad], idx[~bad], y[~bad])
    elif bad.all():
        y[:] = 0.0
    return y, frac


@dataclass(frozen=True, slots=True)
class Beats:
    """Beats found on one channel over a window, with what makes them trustworthy or not."""

    name: str
    times: FloatArray  # seconds from the start of the window
    duration: float
    missing: float  # fraction of NaN samples
    flat: bool
    widths: FloatArray  # QRS width per beat (ECG only), seconds
    rises: FloatArray  # rise of each pulse from the low before it (PLETH/ABP only), band-passed units

    @property
    def rr(self) -> FloatArray:
        return np.diff(self.times)

    def rate(self) -> float:
        rr = self.rr
        return float(60.0 / np.median(rr)) if len(rr) else 0.0

    def regularity(self) -> float:
        """Coefficient of variation of the RR intervals (0 = perfectly regular)."""
        rr = self.rr
        return float(np.std(rr) / np.mean(rr)) if len(rr) >= 2 else 1.0

    def longest_gap(self, since: float = 0.0) -> float:
        """The longest stretch without a beat from `since` to the end of the window."""
        t = self.times[self.times >= since]
        edges = np.concatenate(([since], t, [self.duration]))
        return float(np.max(np.diff(edges)))

    def after(self, since: float) -> Beats:
        keep = self.times >= since
        return Beats(
            self.name,
            self.times[keep],
            self.duration,
            self.missing,
            self.flat,
            self.widths[keep],
            self.rises[keep],
        )


def saturated(y: FloatArray) -> bool:
    """Pinned at its extremes much of the time: an amplifier at its rail, not a body signal (an ECG
    touches its maximum only at the R peaks, a few per cent of the time)."""
    if len(y) == 0:
        return False
    lo, hi = float(np.min(y)), float(np.max(y))
    margin = 0.01 * (hi - lo)
    at_rail = np.mean((y <= lo + margin) | (y >= hi - margin))
    return hi > lo and float(at_rail) > 0.2


def ecg_beats(name: str, x: npt.ArrayLike, fs: float) -> Beats:
    y, missing = fill_gaps(x)
    duration = len(y) / fs
    spread = float(np.percentile(y, 99) - np.percentile(y, 1)) if len(y) else 0.0
    flat = spread < 0.05 or missing > 0.5 or saturated(y)  # mV: no usable ECG on this lead
    if flat or len(y) < int(fs):
        return Beats(name, np.empty(0), duration, missing, True, np.empty(0), np.empty(0))
    band = sosfiltfilt(band_sos(5.0, 20.0, fs), y)
    energy = np.convolve(
        np.abs(np.diff(band, prepend=band[0])), np.ones(int(0.08 * fs)) / int(0.08 * fs), "same"
    )
    top = float(np.percentile(energy, 99))
    peaks, _ = find_peaks(energy, height=0.3 * top, distance=int(0.24 * fs))
    # a QRS must stand out of the lead's own noise floor, not just of a flat, noisy line
    floor = float(np.percentile(energy, 20))
    peaks = peaks[energy[peaks] > 4.0 * floor]
    wide = sosfiltfilt(band_sos(1.0, 30.0, fs), y)
    widths = np.array([_qrs_width(wide, int(p), fs) for p in peaks])
    return Beats(name, peaks / fs, duration, missing, False, widths, np.zeros(len(peaks)))


def _qrs_width(y: FloatArray, p: int, fs: float) -> float:
    lo, hi = max(0, p - int(0.15 * fs)), min(len(y), p + int(0.15 * fs))
    seg = y[lo:hi] - np.median(y[lo:hi])
    if len(seg) < 3:
        return 0.0
    k = int(np.argmax(np.abs(seg)))
    above = np.abs(seg) > 0.3 * abs(seg[k])
    a = k
    while a > 0 and above[a - 1]:
        a -= 1
    b = k
    while b < len(seg) - 1 and above[b + 1]:
        b += 1
    return (b - a + 1) / fs


def pulse_beats(name: str, x: npt.ArrayLike, fs: float) -> Beats:
    """Pulses on PLETH or ABP: peaks of the band-passed wave standing out of its own spread."""
    y, missing = fill_gaps(x)
    duration = len(y) / fs
    spread = float(np.percentile(y, 95) - np.percentile(y, 5)) if len(y) else 0.0
    minimum = 8.0 if name == "ABP" else 1e-3  # mmHg of pulse pressure; PLETH is in arbitrary units
    flat = spread < minimum or missing > 0.5 or saturated(y)
    if flat or len(y) < int(fs):
        return Beats(name, np.empty(0), duration, missing, True, np.empty(0), np.empty(0))
    band = sosfiltfilt(band_sos(0.5, 8.0, fs), y)
    prominence = 0.35 * float(np.percentile(band, 95) - np.percentile(band, 5))
    peaks, _ = find_peaks(band, prominence=prominence, distance=int(0.3 * fs))
    return Beats(name, peaks / fs, duration, missing, False, np.zeros(len(peaks)), _rises(band, peaks, fs))


def _rises(band: FloatArray, peaks: IntArray, fs: float) -> FloatArray:
    """Each pulse's rise from the lowest point in the half-interval before it."""
    if len(peaks) < 2:
        return np.zeros(len(peaks))
    half = max(1, int(0.5 * float(np.median(np.diff(peaks / fs))) * fs))
    return np.array([band[p] - band[max(0, p - half) : p + 1].min() for p in peaks])


def is_clean_rhythm(beats: Beats, since: float, max_cv: float = 0.2) -> bool:
    """Evidence worth trusting: enough beats, regular, at a rate a heart can keep, little missing."""
    recent = beats.after(since)
    if beats.flat or beats.missing > 0.1 or len(recent.times) < 4:
        return False
    rate = recent.rate()
    if not 30.0 <= rate <= 220.0:
        return False
    rr = recent.rr
    return recent.regularity() <= max_cv and float(np.max(rr)) <= 2.0 * float(np.median(rr))


def is_steady_pulse(beats: Beats, since: float, max_deviation: float = 0.12) -> bool:
    """Pulses at an unchanging pace from `since` to the very end: every interval within `max_deviation`
    of their median and the newest pulse no later than one interval (plus transit time) ago. A run of
    extra beats shortens intervals; beats that do not perfuse leave a gap; either breaks this."""
    recent = beats.after(since)
    if beats.flat or beats.missing > 0.05 or len(recent.times) < 6:
        return False
    rr = recent.rr
    median = float(np.median(rr))
    if median <= 0:
        return False
    steady = float(np.max(np.abs(rr - median))) <= max_deviation * median
    return steady and beats.duration - float(recent.times[-1]) <= 1.3 * median + 0.4


def run_rates(beats: Beats, n: int) -> FloatArray:
    """Heart rate over every run of `n` consecutive beats (n-1 intervals)."""
    rr = beats.rr
    if len(rr) < n - 1:
        return np.empty(0)
    spans = beats.times[n - 1 :] - beats.times[: len(beats.times) - n + 1]
    return 60.0 * (n - 1) / spans


def dominant_frequency(x: npt.ArrayLike, fs: float) -> tuple[float, float]:
    """(frequency of the spectral peak in 1-12 Hz, fraction of the 1-20 Hz power within ±1 Hz of it):
    a fibrillating ECG is an oscillation at 3-9 Hz with its power concentrated there."""
    y, _ = fill_gaps(x)
    y = y - np.mean(y)
    if len(y) < int(fs) or not np.any(y):
        return 0.0, 0.0
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y)))) ** 2
    freqs = np.fft.rfftfreq(len(y), 1.0 / fs)
    band = (freqs >= 1.0) & (freqs <= 20.0)
    total = float(spectrum[band].sum())
    if total <= 0:
        return 0.0, 0.0
    search = (freqs >= 1.0) & (freqs <= 12.0)
    f0 = float(freqs[search][np.argmax(spectrum[search])])
    near = band & (np.abs(freqs - f0) <= 1.0)
    return f0, float(spectrum[near].sum()) / total


# The patient's usual QRS, learned from the window before the alarm's last seconds, is searched for in
# those seconds: where it keeps recurring there is no room for a run of other (ventricular) beats.
TEMPLATE_HALF_S = 0.1  # the QRS and its immediate surroundings
TEMPLATE_MIN_BEATS = 8
TEMPLATE_CONSISTENCY = 0.8  # median correlation of the baseline beats with their template
MATCH_CORRELATION = 0.9  # a beat shaped like the usual one
MATCH_AMPLITUDE = (0.5, 2.0)  # and of about its size


@dataclass(frozen=True, slots=True)
class Stretch:
    """A span of the window, in seconds from its start."""

    start: float
    end: float

    @property
    def length(self) -> float:
        return self.end - self.start


def usual_beat_gap(
    beats: Beats, x: npt.ArrayLike, fs: float, recent_s: float, baseline_end_s: float
) -> Stretch | None:
    """The longest stretch of the last `recent_s` seconds without a complex shaped like the lead's usual
    QRS (where a run of other beats could be), or None when the lead gives no trustworthy template.

    The template is the median of the beats found before `baseline_end_s` seconds from the end; it is
    only trusted when those beats agree with it (a noisy baseline or a lead with two rhythms gives no
    template, hence no evidence). Every position of the recent seconds is compared with it (normalised
    correlation and amplitude), so a missed detection cannot create a gap.
    """
    if beats.flat or beats.missing > 0.05:
        return None
    return usual_shape_gap(beats.times, ecg_wave(x, fs), fs, TEMPLATE_HALF_S, 0.2, recent_s, baseline_end_s)


def usual_shape_gap(
    times: FloatArray,
    wave: FloatArray,
    fs: float,
    half_s: float,
    spacing_s: float,
    recent_s: float,
    baseline_end_s: float,
) -> Stretch | None:
    """The longest stretch of the last `recent_s` seconds of `wave` without a shape like the median of the
    ±`half_s` windows around the `times` before the last `baseline_end_s` (matches at least `spacing_s`
    apart), or None when those windows do not agree with their median."""
    n = len(wave)
    h = int(half_s * fs)
    if h < 2:
        return None
    shape = Shape(
        h, h, TEMPLATE_MIN_BEATS, TEMPLATE_CONSISTENCY, MATCH_CORRELATION, MATCH_AMPLITUDE, spacing_s
    )
    found = match_usual_shape(times, wave, fs, shape, n - int(recent_s * fs), n - int(baseline_end_s * fs))
    if found is None:
        return None
    edges = np.concatenate(([0.0], found.positions / fs, [found.length / fs])) + (n / fs - recent_s)
    i = int(np.argmax(np.diff(edges)))
    return Stretch(float(edges[i]), float(edges[i + 1]))


@dataclass(frozen=True, slots=True)
class Shape:
    """How a patient's usual shape (a QRS, a pulse) is learned and recognised."""

    before: int  # samples of the window before each beat's time
    after: int  # and after it
    min_beats: int  # baseline beats needed to learn it
    consistency: float  # median correlation of those beats with their median, at least
    correlation: float  # a recent window this alike to it is a match
    size: tuple[float, float]  # and of this size relative to it
    spacing_s: float  # matches at least this far apart


@dataclass(frozen=True, slots=True)
class ShapeMatches:
    positions: npt.NDArray[np.intp]  # matches, in samples from the start of the recent stretch
    length: int  # windows compared in the recent stretch
    centres: npt.NDArray[np.int64]  # the baseline beats the shape was learned from, in samples


def match_usual_shape(
    times: FloatArray, wave: FloatArray, fs: float, shape: Shape, start: int, limit: int
) -> ShapeMatches | None:
    """Learn the median shape of `wave` around the beat `times` before sample `limit`, then find where
    it recurs from sample `start` on (every position is compared, so a missed detection cannot make a
    gap). None when there is too little baseline or its beats do not agree with their median."""
    before, after = shape.before, shape.after
    if start - before < 0:
        return None
    centres = np.round(np.asarray(times) * fs).astype(np.int64)
    centres = centres[(centres >= before) & (centres < limit - after)]
    if len(centres) < shape.min_beats:
        return None
    segments = np.stack([wave[c - before : c + after] for c in centres])
    template = np.median(segments, axis=0)
    spread = float(template.std())
    if spread <= 0:
        return None
    unit = (template - template.mean()) / spread
    consistency, _ = correlations(segments, unit)
    if float(np.median(consistency)) < shape.consistency:
        return None
    windows = np.lib.stride_tricks.sliding_window_view(wave[start - before :], before + after)
    corr, sd = correlations(windows, unit)
    size = sd / spread
    alike = (corr > shape.correlation) & (size > shape.size[0]) & (size < shape.size[1])
    positions, _ = find_peaks(np.where(alike, corr, 0.0), distance=max(1, int(shape.spacing_s * fs)))
    return ShapeMatches(positions, len(corr), centres)


def ecg_wave(x: npt.ArrayLike, fs: float) -> FloatArray:
    """The lead at 1-30 Hz, the band where complexes differ in shape (no wander, no mains)."""
    y, _ = fill_gaps(x)
    return sosfiltfilt(band_sos(1.0, 30.0, fs), y)


def correlations(rows: FloatArray, unit: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Normalised correlation of each row with a zero-mean, unit-spread template, and each row's spread."""
    sd = rows.std(axis=1)
    corr = ((rows - rows.mean(axis=1, keepdims=True)) @ unit) / len(unit) / np.maximum(sd, 1e-12)
    return corr, sd


# Ventricular beats fill and eject differently: their pulses come early or late, weak or not at all.
# Pulses through a stretch at the patient's own pace and strength say the heart kept its rhythm.
PULSE_PACE = (0.85, 1.2)  # each interval, as a fraction of the usual one
PULSE_STRENGTH = (0.7, 1.4)  # each pulse's rise, as a fraction of the usual one
PULSE_TRANSIT_S = (0.2, 0.6)  # a beat's pulse reaches the finger or the arterial line this much later


def pulse_kept_pace(beats: Beats, stretch: Stretch, baseline_end_s: float) -> bool:
    """Whether the pulse went on at its usual pace and strength through `stretch` (shifted by transit
    time), judged against the pulses before `baseline_end_s` seconds from the end."""
    if beats.flat or beats.missing > 0.05:
        return False
    limit = beats.duration - baseline_end_s
    usual = beats.times < limit
    if usual.sum() < 6:
        return False
    rises = beats.rises
    usual_rr = float(np.median(np.diff(beats.times[usual])))
    usual_rise = float(np.median(rises[usual][1:]))
    lo, hi = stretch.start + PULSE_TRANSIT_S[0], min(beats.duration, stretch.end + PULSE_TRANSIT_S[1])
    inside = (beats.times >= lo) & (beats.times <= hi)
    if inside.sum() < 3 or usual_rr <= 0 or usual_rise <= 0:
        return False
    before = beats.times[beats.times < lo][-1:]
    times = np.concatenate((before, beats.times[inside]))
    pace = np.diff(times) / usual_rr
    tail = (hi - float(times[-1])) / usual_rr
    strength = rises[inside] / usual_rise
    return (
        float(pace.min()) >= PULSE_PACE[0]
        and max(float(pace.max()), tail) <= PULSE_PACE[1]
        and float(strength.min()) >= PULSE_STRENGTH[0]
        and float(strength.max()) <= PULSE_STRENGTH[1]
    )
