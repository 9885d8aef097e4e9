"""A synthetic patient: a seeded, deterministic generator of waveforms, numerics and technical conditions.

Time here is seconds since monitoring began (the source adds its station-time origin). Waveforms are
rendered in fixed chunks of CHUNK_S seconds, each chunk from the beat and breath schedules plus noise
drawn from a generator seeded by (seed, bed, chunk), so any sample has one value however the signal
is split into blocks and whichever channel is asked for first. Numerics are read from the same
schedules, so the heart rate on the screen is the rate of the QRS complexes drawn next to it.
"""

from __future__ import annotations

import math
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt
from wardwatch.app.codes import MdcCode, info
from wardwatch.app.domain import TechnicalKind, Validity
from wardwatch.devices.simulator.artefact import Motion
from wardwatch.devices.simulator.ecg import (
    ECG_RATE,
    LEAD_II_TEMPLATES,
    BeatArrays,
    Fibrillation,
    gaussian_sum,
    has_qrs,
    vf_envelope,
)
from wardwatch.devices.simulator.pleth import BASE_LEVEL, PULSE_REACH, SPAN, render_pulses
from wardwatch.devices.simulator.resp import BreathTrain, render_breaths
from wardwatch.devices.simulator.rhythm import BeatTrain
from wardwatch.devices.simulator.scenarios import SCENARIO_BY_NAME, Rhythm, Scenario
from wardwatch.devices.simulator.smooth import FloatArray, Wander, WanderBank
from wardwatch.devices.simulator.timeline import Condition, Segment, Stream, Timeline

CHUNK_S = 4.0
_GOLDEN = 0.6180339887498949  # spreads successive bed indices evenly over an interval
_SEED_MASK = (1 << 64) - 1


@dataclass(frozen=True, slots=True)
class Channel:
    code: MdcCode
    rate: float  # Hz
    unit: str  # UCUM
    label: str

    @property
    def chunk_samples(self) -> int:
        return round(self.rate * CHUNK_S)


def _channel(code: MdcCode, rate: float) -> Channel:
    row = info(code)
    return Channel(code, rate, row.ucum, row.label)


CHANNELS: tuple[Channel, ...] = (
    _channel(MdcCode.ECG_ELEC_POTL_II, ECG_RATE),
    _channel(MdcCode.PULS_OXIM_PLETH, 125.0),
    _channel(MdcCode.RESP, 62.5),
)
CHANNEL_BY_CODE: dict[MdcCode, Channel] = {c.code: c for c in CHANNELS}

# Slow components (breathing, baseline wander) are computed once per chunk on the respiration grid and
# interpolated for the faster channels: they change far too little between those points to matter.
_SLOW_RATE = CHANNEL_BY_CODE[MdcCode.RESP].rate
_SLOW_PER_CHUNK = CHANNEL_BY_CODE[MdcCode.RESP].chunk_samples
# One chunk's noise is drawn in one go and shared out in this fixed order, so it is the same whichever
# channel is asked for first.
_ECG_N = CHANNEL_BY_CODE[MdcCode.ECG_ELEC_POTL_II].chunk_samples
_ECG_NOISE = 0
_EMG_NOISE = _ECG_NOISE + _ECG_N
_PLETH_NOISE = _EMG_NOISE + _ECG_N
_RESP_NOISE = _PLETH_NOISE + CHANNEL_BY_CODE[MdcCode.PULS_OXIM_PLETH].chunk_samples
_NOISE_SAMPLES = _RESP_NOISE + _SLOW_PER_CHUNK


@dataclass(frozen=True, slots=True, eq=False)
class _Basis:
    """What the channels of one chunk share."""

    t_first: float
    slow_times: FloatArray  # the respiration grid over the chunk, one point past its end
    lungs: FloatArray  # lung volume on that grid
    ecg_baseline: FloatArray  # baseline wander of the ECG, pleth and impedance traces on that grid
    pleth_baseline: FloatArray
    resp_baseline: FloatArray
    _noise: FloatArray

    def noise(self, offset: int, n: int) -> FloatArray:
        return self._noise[offset : offset + n]


NUMERIC_CODES: tuple[MdcCode, ...] = (
    MdcCode.ECG_HEART_RATE,
    MdcCode.PULS_OXIM_SAT_O2,
    MdcCode.PULS_OXIM_PULS_RATE,
    MdcCode.RESP_RATE,
    MdcCode.TEMP_BODY,
)
NIBP_CODES: tuple[MdcCode, ...] = (
    MdcCode.PRESS_BLD_NONINV_SYS,
    MdcCode.PRESS_BLD_NONINV_DIA,
    MdcCode.PRESS_BLD_NONINV_MEAN,
)

# Beat and pulse detection windows and settling times of the simulated monitor's algorithms.
HR_WINDOW_S = 12.0
HR_INTERVALS = 8
ASYSTOLE_S = 4.0  # no QRS for this long: the monitor reads a rate of 0
NO_PULSE_S = 5.0  # no pulse for this long: the oximeter gives up (SpO₂ and PR invalid)
OXIMETER_SETTLE_S = 6.0  # after the probe goes back on, the oximeter searches before it reports
RESP_SETTLE_S = 10.0  # impedance respiration needs a few breaths after the leads go back on
SPO2_LAG_S = 4.0  # the oximeter's averaging delays the displayed saturation
MIN_PULSE = 0.2  # pulses smaller than this are not detected by the oximeter

_HR_WANDER_GAIN = {Rhythm.SINUS: 1.0, Rhythm.AF: 1.6, Rhythm.VT: 0.8, Rhythm.P_ONLY: 0.6}


@dataclass(frozen=True, slots=True)
class Reading:
    """A numeric as the simulated monitor reports it (the source turns it into an `Observation`)."""

    code: MdcCode
    value: float
    unit: str
    validity: Validity = Validity.VALID


@dataclass(frozen=True, slots=True)
class TechnicalChange:
    time: float
    kind: TechnicalKind
    active: bool
    code: MdcCode | None = None
    detail: str = ""


# What each technical condition concerns and how it is described on the bed's tile.
_CONDITION_TEXT: dict[TechnicalKind, tuple[MdcCode | None, str, str]] = {
    TechnicalKind.LEAD_OFF: (MdcCode.ECG_ELEC_POTL_II, "ECG leads off", "ECG leads back on"),
    TechnicalKind.SENSOR_OFF: (MdcCode.PULS_OXIM_PLETH, "SpO₂ probe off", "SpO₂ probe back on"),
    TechnicalKind.LOW_BATTERY: (None, "battery low", "battery swapped"),
}


def technical_change(time: float, kind: TechnicalKind, active: bool) -> TechnicalChange:
    code, on, off = _CONDITION_TEXT.get(kind, (None, kind.value, kind.value))
    return TechnicalChange(time, kind, active, code, on if active else off)


def _reading(code: MdcCode, value: float | None, validity: Validity = Validity.VALID) -> Reading:
    if value is None or not math.isfinite(value):
        return Reading(code, math.nan, info(code).ucum, Validity.INVALID)
    return Reading(code, value, info(code).ucum, validity)


def rate_from_events(
    events: Sequence[float],
    t: float,
    n_intervals: int = HR_INTERVALS,
    min_intervals: int = 2,
    max_interval: float = 3.0,
) -> float | None:
    """Rate per minute from the mean of the last intervals between `events` (sorted times ≤ t).

    A pause longer than 1.5 mean intervals since the last event pulls the rate down at once, as a
    monitor's rate falls during a developing pause rather than waiting for the next beat.
    """
    recent = list(events[-(n_intervals + 1) :])
    intervals = [b - a for a, b in pairwise(recent) if b - a <= max_interval]
    if len(intervals) < min_intervals:
        return None
    mean = sum(intervals) / len(intervals)
    gap = t - recent[-1]
    return 60.0 / (gap if gap > 1.5 * mean else mean)


def _span(times: FloatArray, start: float, end: float) -> slice:
    return slice(int(np.searchsorted(times, start, "left")), int(np.searchsorted(times, end, "left")))


class SimulatedPatient:
    """One patient under one scenario; everything it produces depends only on (scenario, seed, bed_index).

    Not thread-safe: each source owns its patient.
    """

    def __init__(
        self, scenario: Scenario | str, seed: int = 0, bed_index: int = 0, time_scale: float = 1.0
    ) -> None:
        if isinstance(scenario, str):
            scenario = SCENARIO_BY_NAME[scenario]
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.scenario = scenario
        self._words = (seed & _SEED_MASK, bed_index & _SEED_MASK, zlib.crc32(scenario.name.encode()))
        rng = np.random.default_rng([*self._words, Stream.PATIENT])
        self.baseline = scenario.baseline.offset(scenario.spread, tuple(rng.uniform(-1.0, 1.0, 6).tolist()))
        self.lead_in_s = scenario.lead_in_s + float(rng.uniform(0.0, scenario.stagger_s))
        self.ptt_s = 0.21 + float(rng.uniform(-0.015, 0.025))  # R peak to pulse foot at the finger
        self._hr_wander = Wander.draw(rng, 2.5, 0.004, 0.03)
        self._spo2_wander = Wander.draw(rng, 0.7, 0.005, 0.03)
        self._rr_wander = Wander.draw(rng, 1.0, 0.003, 0.02)
        self._temp_wander = Wander.draw(rng, 0.06, 0.0003, 0.002)
        self._baseline_wander = WanderBank.of(
            Wander.draw(rng, 0.05, 0.05, 0.3),  # ECG, mV
            Wander.draw(rng, 0.02, 0.02, 0.1),  # pleth
            Wander.draw(rng, 0.03, 0.01, 0.05),  # impedance
        )
        self._vf = Fibrillation.draw(rng, 5.5, 0.9, 0.55)
        self._af = Fibrillation.draw(rng, 6.5, 1.2, 0.07)
        self.timeline = Timeline(scenario, self.baseline, self.lead_in_s, self._words, time_scale)
        self._breaths = BreathTrain(self._resp_rate_at, [*self._words, Stream.BREATHS])
        self._beats = BeatTrain(
            self.timeline,
            self._heart_rate_at,
            self._breaths.level,
            scenario.pvc_per_min,
            [*self._words, Stream.BEATS],
        )
        self._chunks: OrderedDict[tuple[MdcCode, int], npt.NDArray[np.float32]] = OrderedDict()
        self._bases: OrderedDict[int, _Basis] = OrderedDict()
        # Chunk boundaries differ from bed to bed, so that a ward started at one instant spreads its
        # rendering over time instead of doing it for all beds at the same moments.
        self._slow_lag = int(((bed_index * _GOLDEN) % 1.0) * _SLOW_PER_CHUNK)
        # per channel: how many samples before t = 0 this patient's chunk 0 starts
        self._lags = {c.code: round(self._slow_lag * c.rate / _SLOW_RATE) for c in CHANNELS}

    # ---- physiology behind everything ---------------------------------------------------------------
    def _heart_rate_at(self, t: float, rhythm: Rhythm) -> float:
        seg = self.timeline.at(t)
        return seg.vitals(t).hr + _HR_WANDER_GAIN.get(rhythm, 1.0) * self._hr_wander.at(t)

    def _resp_rate_at(self, t: float) -> float:
        seg = self.timeline.at(t)
        return seg.vitals(t).rr + self._rr_wander.at(t)

    def _motion(self, seg: Segment, code: MdcCode, amplitude: float) -> Motion:
        rng = np.random.default_rng([*self._words, Stream.EPISODE, seg.ordinal, int(code)])
        return Motion.draw(rng, amplitude)

    # ---- waveforms -------------------------------------------------------------------------------------
    def beats(self, t0: float, t1: float) -> BeatArrays:
        """The beats with t0 ≤ time ≤ t1: the ground truth behind the ECG (for checking detectors)."""
        return self._beats.window(t0, t1)

    def samples(self, code: MdcCode, start_index: int, n: int) -> npt.NDArray[np.float32]:
        """Samples start_index … start_index+n-1 of a channel; sample k is at k / rate seconds."""
        channel = CHANNEL_BY_CODE.get(code)
        if channel is None:
            raise ValueError(f"the simulator does not produce {code!r}")
        if start_index < 0 or n < 0:
            raise ValueError("start_index and n must not be negative")
        per = channel.chunk_samples
        chunk, offset = divmod(start_index + self._lags[channel.code], per)
        if offset + n <= per:  # the live source's usual request: a slice of one chunk
            return self._chunk(channel, chunk)[offset : offset + n].copy()
        out = np.empty(n, np.float32)
        pos = 0
        while pos < n:
            take = min(per - offset, n - pos)
            out[pos : pos + take] = self._chunk(channel, chunk)[offset : offset + take]
            pos += take
            chunk, offset = chunk + 1, 0
        return out

    def _chunk(self, channel: Channel, chunk: int) -> npt.NDArray[np.float32]:
        key = (channel.code, chunk)
        data = self._chunks.get(key)
        if data is None:
            basis = self._basis(chunk)
            per = channel.chunk_samples
            times = (chunk * per - self._lags[channel.code] + np.arange(per)) / channel.rate
            if channel.code == MdcCode.ECG_ELEC_POTL_II:
                values = self._render_ecg(times, basis)
            elif channel.code == MdcCode.PULS_OXIM_PLETH:
                values = self._render_pleth(times, basis)
            else:
                values = self._render_resp(times, basis)
            data = values.astype(np.float32)
            self._chunks[key] = data
            if len(self._chunks) > 2 * len(CHANNELS):
                self._chunks.popitem(last=False)
        return data

    def _basis(self, chunk: int) -> _Basis:
        basis = self._bases.get(chunk)
        if basis is None:
            t_first = (chunk * _SLOW_PER_CHUNK - self._slow_lag) / _SLOW_RATE
            slow = t_first + np.arange(_SLOW_PER_CHUNK + 1) / _SLOW_RATE
            lungs = render_breaths(slow, self._breaths.arrays(t_first, t_first + CHUNK_S))
            ecg_w, pleth_w, resp_w = self._baseline_wander.over(slow)
            rng = np.random.default_rng([*self._words, Stream.NOISE, chunk])
            basis = _Basis(
                t_first,
                slow,
                lungs,
                # breathing moves the heart's axis and the electrodes' impedance: a gentle ECG swing;
                # venous return swings with it too, and the pleth baseline rides on respiration
                ecg_w + 0.04 * (lungs - 0.5),
                pleth_w + 0.03 * (lungs - 0.5),
                resp_w,
                rng.standard_normal(_NOISE_SAMPLES),
            )
            self._bases[chunk] = basis
            if len(self._bases) > 2:
                self._bases.popitem(last=False)
        return basis

    def _render_ecg(self, times: FloatArray, basis: _Basis) -> FloatArray:
        t0, t1 = float(times[0]), float(times[-1])
        n = len(times)
        x = LEAD_II_TEMPLATES.render(t0, n, self._beats.window(t0 - 0.8, t1 + 0.4))
        x += np.interp(times, basis.slow_times, basis.ecg_baseline)
        x += 0.012 * basis.noise(_ECG_NOISE, n)
        code = MdcCode.ECG_ELEC_POTL_II
        for seg in self.timeline.between(t0 - 6.0, t1):
            part = _span(times, seg.start, seg.end)
            tt = times[part]
            if seg.rhythm == Rhythm.AF and len(tt):
                x[part] += self._af.over(tt)
            elif seg.rhythm == Rhythm.VF and len(tt):
                x[part] += self._vf.over(tt) * vf_envelope(tt, seg.start, seg.end)
            if seg.phase.motion and len(tt):
                motion = self._motion(seg, code, 1.6)
                x[part] += motion.over(tt, seg.start, seg.end)
                # muscle tremor rides on the movement
                x[part] += 0.08 * motion.envelope(tt, seg.start, seg.end) * basis.noise(_EMG_NOISE, n)[part]
            if seg.phase.lead_off:
                # electrodes back on: the amplifier recovers from a DC offset over about a second
                after = _span(times, seg.end, seg.end + 5.0)
                offset = np.random.default_rng([*self._words, Stream.EPISODE, seg.ordinal]).uniform(-0.9, 0.9)
                x[after] += offset * np.exp(-(times[after] - seg.end) / 0.5)
                x[part] = np.nan
        return x

    def _render_pleth(self, times: FloatArray, basis: _Basis) -> FloatArray:
        t0, t1 = float(times[0]), float(times[-1])
        ptt = self.ptt_s
        beats = self._beats.window(t0 - ptt - 1.6 * PULSE_REACH[1], t1 - ptt - 1.6 * PULSE_REACH[0])
        beats = beats.select(beats.pulse > 0.0)
        y = BASE_LEVEL + SPAN * render_pulses(times, beats.time + ptt, beats.pulse, beats.pulse_scale)
        y += np.interp(times, basis.slow_times, basis.pleth_baseline)
        y += 0.002 * basis.noise(_PLETH_NOISE, len(times))
        code = MdcCode.PULS_OXIM_PLETH
        for seg in self.timeline.between(t0 - 10.0, t1):
            part = _span(times, seg.start, seg.end)
            if seg.phase.motion and part.stop > part.start:
                y[part] += self._motion(seg, code, 0.7).over(times[part], seg.start, seg.end)
            if seg.phase.sensor_off:
                # probe back on: the oximeter's gain search brings the pulse up over a few seconds
                after = _span(times, seg.end, seg.end + 8.0)
                y[after] = BASE_LEVEL + (y[after] - BASE_LEVEL) * (
                    1.0 - np.exp(-(times[after] - seg.end) / 1.2)
                )
                y[part] = np.nan
        return y

    def _render_resp(self, times: FloatArray, basis: _Basis) -> FloatArray:
        t0, t1 = float(times[0]), float(times[-1])
        n = len(times)
        y = 0.2 + 0.55 * basis.lungs[:n] + basis.resp_baseline[:n]
        # each heartbeat shifts blood in the chest: the small cardiogenic ripple of impedance traces
        beats = self._beats.window(t0 - 0.5, t1 + 0.5)
        qrs = beats.time[has_qrs(beats.kind)]
        y += gaussian_sum(times, qrs + 0.12, np.full(len(qrs), 0.05), np.full(len(qrs), 0.015))
        y += 0.002 * basis.noise(_RESP_NOISE, n)
        code = MdcCode.RESP
        for seg in self.timeline.between(t0, t1):
            part = _span(times, seg.start, seg.end)
            if seg.phase.motion and part.stop > part.start:
                y[part] += self._motion(seg, code, 0.5).over(times[part], seg.start, seg.end)
            if seg.phase.lead_off:  # impedance is measured through the ECG electrodes
                y[part] = np.nan
        return y

    # ---- numerics --------------------------------------------------------------------------------------
    def _since(self, t: float, condition: Condition, horizon: float) -> float:
        """Start of the current unbroken stretch without `condition` (−∞ if it did not occur lately)."""
        ago = self.timeline.since_last(t, condition, horizon)
        return -math.inf if ago is None else t - ago

    def readings(self, t: float) -> tuple[Reading, ...]:
        """HR, SpO₂, pulse rate, respiratory rate and temperature as the monitor shows them at `t`."""
        seg = self.timeline.at(t)
        return (
            self._heart_rate(t, seg),
            *self._oximetry(t, seg),
            self._resp_rate(t, seg),
            _reading(MdcCode.TEMP_BODY, round(seg.vitals(t).temp + self._temp_wander.at(t), 1)),
        )

    def _heart_rate(self, t: float, seg: Segment) -> Reading:
        code = MdcCode.ECG_HEART_RATE
        if seg.phase.lead_off or seg.rhythm == Rhythm.VF:  # no ECG, or no QRS to count: no honest rate
            return _reading(code, None)
        since = max(self._since(t, Condition.LEAD_OFF, HR_WINDOW_S + ASYSTOLE_S), t - HR_WINDOW_S)
        beats = self._beats.window(since, t)
        qrs = beats.time[has_qrs(beats.kind)].tolist()
        quiet_since = qrs[-1] if qrs else since
        if t - quiet_since >= ASYSTOLE_S:
            return _reading(code, 0.0)
        rate = rate_from_events(qrs, t)
        return _reading(code, None if rate is None else float(round(rate)))

    def _oximetry(self, t: float, seg: Segment) -> tuple[Reading, Reading]:
        spo2_code, pr_code = MdcCode.PULS_OXIM_SAT_O2, MdcCode.PULS_OXIM_PULS_RATE
        invalid = (_reading(spo2_code, None), _reading(pr_code, None))
        if seg.phase.sensor_off:
            return invalid
        probe_on = self._since(t, Condition.SENSOR_OFF, HR_WINDOW_S + OXIMETER_SETTLE_S)
        if t - probe_on < OXIMETER_SETTLE_S:
            return invalid
        since = max(probe_on, t - HR_WINDOW_S)
        beats = self._beats.window(since - self.ptt_s, t - self.ptt_s)
        feet = (beats.time[beats.pulse >= MIN_PULSE] + self.ptt_s).tolist()
        if not feet or t - feet[-1] > NO_PULSE_S:
            return invalid
        quality = Validity.QUESTIONABLE if seg.phase.motion else Validity.VALID
        lagged = t - SPO2_LAG_S
        spo2 = self.timeline.at(lagged).vitals(lagged).spo2 + self._spo2_wander.at(t)
        rate = rate_from_events(feet, t)
        return (
            _reading(spo2_code, float(round(min(max(spo2, 50.0), 100.0))), quality),
            _reading(pr_code, None if rate is None else float(round(rate)), quality),
        )

    def _resp_rate(self, t: float, seg: Segment) -> Reading:
        code = MdcCode.RESP_RATE
        if seg.phase.lead_off:
            return _reading(code, None)
        leads_on = self._since(t, Condition.LEAD_OFF, 60.0)
        if t - leads_on < RESP_SETTLE_S:
            return _reading(code, None)
        starts = self._breaths.starts(max(leads_on, t - 40.0), t).tolist()
        rate = rate_from_events(starts, t, n_intervals=4, max_interval=30.0)
        quality = Validity.QUESTIONABLE if seg.phase.motion else Validity.VALID
        return _reading(code, None if rate is None else float(round(rate)), quality)

    def nibp(self, t: float) -> tuple[Reading, Reading, Reading]:
        """A cuff measurement completed at `t`: systolic, diastolic, mean (mmHg)."""
        rng = np.random.default_rng([*self._words, Stream.NIBP, round(t * 1000.0) & _SEED_MASK])
        v = self.timeline.at(t).vitals(t)
        z = rng.standard_normal(2)
        sys = round(v.sys + 4.0 * float(z[0]))
        dia = round(min(v.dia + 3.0 * float(z[1]), sys - 15.0))
        mean = round(dia + (sys - dia) / 3.0)
        return (
            _reading(MdcCode.PRESS_BLD_NONINV_SYS, float(sys)),
            _reading(MdcCode.PRESS_BLD_NONINV_DIA, float(dia)),
            _reading(MdcCode.PRESS_BLD_NONINV_MEAN, float(mean)),
        )

    # ---- device conditions -------------------------------------------------------------------------------
    def _battery_plan(self) -> tuple[float, float, float] | None:
        """(level at start, drain per second, seconds from first swap to the next) or None."""
        battery = self.scenario.battery
        if battery is None:
            return None
        drain = battery.drain_per_min / 60.0
        # the warning starts when the other scenarios' first episode would: after the lead-in
        start = battery.low_below + drain * self.lead_in_s
        return start, drain, (100.0 - battery.swap_at) / drain

    def battery_percent(self, t: float) -> float | None:
        plan = self._battery_plan()
        battery = self.scenario.battery
        if plan is None or battery is None:
            return None
        start, drain, period = plan
        first_swap = (start - battery.swap_at) / drain
        if t < first_swap:
            return start - drain * max(t, 0.0)
        return 100.0 - drain * ((t - first_swap) % period)

    def _battery_changes(self, t0: float, t1: float) -> list[TechnicalChange]:
        plan = self._battery_plan()
        battery = self.scenario.battery
        if plan is None or battery is None:
            return []
        start, drain, period = plan
        first_swap = (start - battery.swap_at) / drain
        low_after_swap = (100.0 - battery.low_below) / drain
        times: list[tuple[float, bool]] = [(self.lead_in_s, True)]
        k0 = max(0, math.floor((t0 - first_swap) / period))
        k1 = max(0, math.ceil((t1 - first_swap) / period))
        for k in range(k0, k1 + 1):
            swap = first_swap + k * period
            times += [(swap, False), (swap + low_after_swap, True)]
        return [
            technical_change(t, TechnicalKind.LOW_BATTERY, active)
            for t, active in sorted(times)
            if t0 < t <= t1
        ]

    def technical_changes(self, t0: float, t1: float) -> list[TechnicalChange]:
        """Technical conditions starting or ending in (t0, t1], in time order."""
        out = [
            technical_change(t, TechnicalKind.LEAD_OFF, active)
            for t, active in self.timeline.changes(t0, t1, Condition.LEAD_OFF)
        ]
        out += [
            technical_change(t, TechnicalKind.SENSOR_OFF, active)
            for t, active in self.timeline.changes(t0, t1, Condition.SENSOR_OFF)
        ]
        out += self._battery_changes(t0, t1)
        return sorted(out, key=lambda c: c.time)

    def technical_state(self, t: float) -> frozenset[TechnicalKind]:
        """Technical conditions active at `t`."""
        seg = self.timeline.at(t)
        active: set[TechnicalKind] = set()
        if seg.phase.lead_off:
            active.add(TechnicalKind.LEAD_OFF)
        if seg.phase.sensor_off:
            active.add(TechnicalKind.SENSOR_OFF)
        battery = self.battery_percent(t)
        if (
            battery is not None
            and self.scenario.battery is not None
            and battery < self.scenario.battery.low_below
        ):
            active.add(TechnicalKind.LOW_BATTERY)
        return frozenset(active)

    def quiet_span(self, t: float) -> tuple[float, float]:
        """The stretch around `t` in which no technical condition changes and the link stays up
        (empty if the link is down at `t`): a live source can skip those checks inside it."""
        seg = self.timeline.at(t)
        if seg.phase.disconnected:
            return (math.inf, -math.inf)
        end = seg.end
        battery = self._battery_changes(t, seg.end)
        if battery:
            end = min(end, battery[0].time)
        return (seg.start, end)

    def connected(self, t: float) -> bool:
        return not self.timeline.at(t).phase.disconnected

    def disconnections(self, t0: float, t1: float) -> list[tuple[float, float]]:
        """Stretches overlapping [t0, t1] during which the device sends nothing."""
        return self.timeline.windows(t0, t1, Condition.DISCONNECTED)
