"""Numerics derived from the waves of a recording, which carries none of its own.

Everything here is a pure function of sample arrays. The costly part (finding beats, pulses and breaths)
runs once when a record is loaded; what it yields is a `NumericTrack` per numeric: each value with the
record time at which a monitor watching the wave live could first have known it. Playback then asks a
track for its value at a playback position and gets an average over the values already known, so the
numerics shown never use samples that have not been played yet.

Invalid samples (NaN) and flat stretches (a lead off, a transducer not connected) are cut out before any
detection: detection runs on each stretch of usable signal on its own, and no interval spans a gap.

There is no SpO₂ here on purpose: oxygen saturation needs the red and infrared absorbances a pulse oximeter
measures, and a recorded pleth wave (one normalised trace) does not carry them. A value made up from it
would be a fake value on a monitor.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import signal
from wardwatch.app.codes import MdcCode
from wfdb import processing

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.int64]

# A stretch of signal shorter than this cannot give an interval worth averaging.
MIN_RUN_S = 2.0
# A stretch whose range is below this many ADC steps is a flat line (quantisation noise at most).
FLAT_ADC_STEPS = 10.0
# A lead is worth counting beats on if at least this share of it is usable signal...
MIN_LEAD_COVERAGE = 0.5
# ... and the detector found at least this many RR intervals on it.
MIN_LEAD_INTERVALS = 3


@dataclass(frozen=True, slots=True)
class Averaging:
    """How a numeric is formed from per-beat (or per-breath) values, and how long a detector looks ahead."""

    window_s: float  # values known within this span before the playback position count
    min_count: int  # fewer values than this: not enough signal, no number
    stale_s: float  # newest value older than this: the number is out of date (no beat, no breath)
    delay_s: float  # a beat at time t is known at t + delay (the detector needs a little signal after it)


# Heart and pulse rate: median of the last ~10 s, as bedside monitors roughly do. XQRS decides on a beat
# within a few hundred ms of it; find_peaks' prominence looks half its window ahead.
HEART_RATE = Averaging(window_s=10.0, min_count=3, stale_s=5.0, delay_s=0.5)
PULSE_RATE = Averaging(window_s=10.0, min_count=3, stale_s=5.0, delay_s=0.75)
# Breaths are slow: a longer window and a detector that needs seconds of signal after a breath.
RESP_RATE = Averaging(window_s=30.0, min_count=2, stale_s=20.0, delay_s=4.0)
# Arterial pressure: median of the beats of the last ~8 s; a beat is known when the next one is seen.
ART_PRESSURE = Averaging(window_s=8.0, min_count=3, stale_s=5.0, delay_s=0.75)


@dataclass(frozen=True, slots=True, eq=False)
class NumericTrack:
    """The values of one numeric over a recording, each stamped with the record time it becomes known."""

    code: MdcCode
    label: str  # the wave it is derived from
    ready_s: FloatArray  # non-decreasing
    values: FloatArray
    averaging: Averaging

    def value_at(self, t_s: float) -> float | None:
        """The numeric at record time `t_s`, from values known by then; None if there is not enough."""
        a = self.averaging
        hi = int(np.searchsorted(self.ready_s, t_s, side="right"))
        lo = int(np.searchsorted(self.ready_s, t_s - a.window_s, side="right"))
        if hi - lo < a.min_count or t_s - float(self.ready_s[hi - 1]) > a.stale_s:
            return None
        return float(np.median(self.values[lo:hi]))


@dataclass(frozen=True, slots=True, eq=False)
class Wave:
    """One channel's samples as the derivations need them."""

    label: str
    samples: npt.NDArray[np.floating]
    adc_step: float  # physical size of one ADC unit: the finest change the recording can show


def empty_track(code: MdcCode, label: str, averaging: Averaging) -> NumericTrack:
    return NumericTrack(code, label, np.empty(0), np.empty(0), averaging)


def usable_runs(x: npt.NDArray[np.floating], min_len: int, min_span: float) -> list[tuple[int, int]]:
    """[start, stop) of every stretch of finite samples at least `min_len` long and not flat."""
    finite = np.isfinite(x)
    edges = np.flatnonzero(np.diff(np.concatenate(([False], finite, [False])).astype(np.int8)))
    runs: list[tuple[int, int]] = []
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        if stop - start >= min_len and float(np.ptp(x[start:stop])) >= min_span:
            runs.append((int(start), int(stop)))
    return runs


def min_span(wave: Wave, floor: float) -> float:
    """Smallest range a stretch must have to count as signal: a few ADC steps, and at least `floor`."""
    return max(FLAT_ADC_STEPS * wave.adc_step, floor)


def intervals(
    peaks: Sequence[IndexArray], fs: float, shortest_s: float, longest_s: float
) -> tuple[IndexArray, FloatArray]:
    """(index of the closing peak, seconds) of consecutive peaks within each run, within bounds."""
    ends: list[IndexArray] = []
    lengths: list[FloatArray] = []
    for p in peaks:
        if len(p) < 2:
            continue
        seconds = np.diff(p) / fs
        keep = (seconds >= shortest_s) & (seconds <= longest_s)
        ends.append(p[1:][keep])
        lengths.append(seconds[keep])
    if not ends:
        return np.empty(0, np.int64), np.empty(0)
    return np.concatenate(ends).astype(np.int64), np.concatenate(lengths)


def qrs_in_run(x: FloatArray, fs: float) -> IndexArray:
    """QRS complexes (sample indices) in one stretch of clean ECG, by wfdb's XQRS."""
    detector = processing.XQRS(sig=x, fs=fs)
    # XQRS normalises by a norm that is zero on some near-flat stretches; the result is then simply empty.
    with np.errstate(all="ignore"):
        try:
            detector.detect(verbose=False)
        except (ValueError, IndexError, ZeroDivisionError, FloatingPointError) as exc:
            # A detector that chokes on one stretch must not cost the whole record: no beats there.
            log.debug("QRS detection failed on a stretch: %s", type(exc).__name__)
            return np.empty(0, np.int64)
    return np.asarray(detector.qrs_inds, dtype=np.int64)


def rr_intervals(wave: Wave, fs: float) -> tuple[IndexArray, FloatArray, float]:
    """RR intervals of one lead: (closing beat index, seconds) and the share of the lead that is usable."""
    x = np.asarray(wave.samples, np.float64)
    runs = usable_runs(x, int(MIN_RUN_S * fs), min_span(wave, 0.1))  # ECG in mV: a QRS is well over 0.1
    beats = [qrs_in_run(x[a:b], fs) + a for a, b in runs]
    coverage = sum(b - a for a, b in runs) / max(1, len(x))
    ends, seconds = intervals(beats, fs, 60.0 / 300.0, 6.0)
    return ends, seconds, coverage


def heart_rate_track(leads: Sequence[Wave], fs: float) -> NumericTrack | None:
    """Heart rate from the first usable ECG lead (others are tried in turn); None without any ECG lead."""
    if not leads:
        return None
    best: tuple[Wave, IndexArray, FloatArray] | None = None
    for lead in leads:
        ends, seconds, coverage = rr_intervals(lead, fs)
        if coverage >= MIN_LEAD_COVERAGE and len(seconds) >= MIN_LEAD_INTERVALS:
            best = (lead, ends, seconds)
            break
        if best is None or len(seconds) > len(best[2]):
            best = (lead, ends, seconds)
    assert best is not None
    lead, ends, seconds = best
    if len(seconds) == 0:
        return empty_track(MdcCode.ECG_HEART_RATE, leads[0].label, HEART_RATE)
    return NumericTrack(
        MdcCode.ECG_HEART_RATE, lead.label, ends / fs + HEART_RATE.delay_s, 60.0 / seconds, HEART_RATE
    )


def _filtered(x: FloatArray, sos: FloatArray) -> FloatArray:
    """Causal filtering, started in steady state at the first sample so that no step transient appears."""
    zi = signal.sosfilt_zi(sos) * x[0]
    y, _ = signal.sosfilt(sos, x, zi=zi)
    return np.asarray(y, np.float64)


def _spread(y: FloatArray) -> float:
    """Robust peak-to-peak size of a wave: a few spikes of artefact do not set the scale."""
    lo, hi = np.percentile(y, [5.0, 95.0])
    return float(hi - lo)


def wave_peaks(
    x: FloatArray,
    fs: float,
    runs: Sequence[tuple[int, int]],
    band_hz: tuple[float, float] | None,
    shortest_s: float,
    rel_prominence: float,
    wlen_s: float,
) -> list[IndexArray]:
    """Peaks of a quasi-periodic wave in each usable run (after an optional causal band-pass)."""
    sos = None if band_hz is None else signal.butter(2, band_hz, btype="bandpass", fs=fs, output="sos")
    settle = 0 if band_hz is None else int(1.0 / band_hz[0] * fs)  # let the filter forget its start
    found: list[IndexArray] = []
    for a, b in runs:
        y = x[a:b] if sos is None else _filtered(x[a:b], sos)
        if len(y) <= settle + 2:
            continue
        spread = _spread(y[settle:])
        if spread <= 0.0:
            continue
        peaks, _ = signal.find_peaks(
            y,
            distance=max(1, int(shortest_s * fs)),
            prominence=rel_prominence * spread,
            wlen=max(3, int(wlen_s * fs)),
        )
        found.append(peaks[peaks >= settle].astype(np.int64) + a)
    return found


def pulse_rate_track(pleth: Wave, fs: float) -> NumericTrack:
    """Pulse rate from the peaks of the pleth wave (labelled as the pulse oximeter's pulse rate)."""
    x = np.asarray(pleth.samples, np.float64)
    runs = usable_runs(x, int(MIN_RUN_S * fs), min_span(pleth, 0.0))
    peaks = wave_peaks(x, fs, runs, (0.5, 8.0), 60.0 / 240.0, 0.3, 2 * PULSE_RATE.delay_s)
    ends, seconds = intervals(peaks, fs, 60.0 / 240.0, 3.0)
    return NumericTrack(
        MdcCode.PULS_OXIM_PULS_RATE, pleth.label, ends / fs + PULSE_RATE.delay_s, 60.0 / seconds, PULSE_RATE
    )


def resp_rate_track(resp: Wave, fs: float) -> NumericTrack:
    """Respiration rate from the breaths (peaks) of the respiration wave, cardiac ripple filtered out."""
    x = np.asarray(resp.samples, np.float64)
    runs = usable_runs(x, int(3 * MIN_RUN_S * fs), min_span(resp, 0.0))
    peaks = wave_peaks(x, fs, runs, (0.1, 1.0), 1.0, 0.25, 2 * RESP_RATE.delay_s)
    ends, seconds = intervals(peaks, fs, 1.0, 20.0)
    return NumericTrack(
        MdcCode.RESP_RATE, resp.label, ends / fs + RESP_RATE.delay_s, 60.0 / seconds, RESP_RATE
    )


@dataclass(frozen=True, slots=True, eq=False)
class PressureBeats:
    """Per-beat arterial pressures: index at which each beat is complete, systolic, diastolic, mean."""

    ends: IndexArray
    systolic: FloatArray
    diastolic: FloatArray
    mean: FloatArray


def pressure_beats(abp: Wave, fs: float) -> PressureBeats:
    """Beat by beat: systolic peak, the end-diastolic minimum before it, the mean from foot to foot."""
    x = np.asarray(abp.samples, np.float64)
    runs = usable_runs(x, int(MIN_RUN_S * fs), min_span(abp, 5.0))  # a pulse pressure under 5 mmHg: no pulse
    ends: list[int] = []
    sys_: list[float] = []
    dia: list[float] = []
    mean: list[float] = []
    for peaks in wave_peaks(x, fs, runs, None, 60.0 / 240.0, 0.3, 2 * ART_PRESSURE.delay_s):
        # Foot i: the lowest point between systolic peaks i and i + 1.
        feet = [int(p + np.argmin(x[p:q])) for p, q in itertools.pairwise(peaks)]
        for i in range(1, len(feet)):
            start, stop, top = feet[i - 1], feet[i], int(peaks[i])
            s, d = float(x[top]), float(x[start])
            # Flushes, a clamped line and motion give shapes no heart makes: drop the beat, not the record.
            if not (20.0 <= s <= 300.0 and 0.0 <= d < s - 5.0 and (stop - start) / fs <= 3.0):
                continue
            ends.append(int(peaks[i + 1]))
            sys_.append(s)
            dia.append(d)
            mean.append(float(np.mean(x[start:stop])))
    return PressureBeats(np.asarray(ends, np.int64), np.asarray(sys_), np.asarray(dia), np.asarray(mean))


def pressure_tracks(abp: Wave, fs: float) -> tuple[NumericTrack, NumericTrack, NumericTrack]:
    """Systolic, diastolic and mean arterial pressure from the ABP wave."""
    beats = pressure_beats(abp, fs)
    ready = beats.ends / fs + ART_PRESSURE.delay_s
    return (
        NumericTrack(MdcCode.PRESS_BLD_ART_SYS, abp.label, ready, beats.systolic, ART_PRESSURE),
        NumericTrack(MdcCode.PRESS_BLD_ART_DIA, abp.label, ready, beats.diastolic, ART_PRESSURE),
        NumericTrack(MdcCode.PRESS_BLD_ART_MEAN, abp.label, ready, beats.mean, ART_PRESSURE),
    )
