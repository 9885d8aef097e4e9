"""`wardwatch bench alarms`: a simulated ward-day at full speed, WardWatch against a plain monitor.

Every bed gets a `SimulatedPatient` from the default ward mix and is driven one station second at a
time: the simulator's own source (`SimulatorSource.step`, no thread) pushes that second's numerics,
NIBP and technical changes into a `StreamHub`, the station's silence check (`check_silence`) turns a
dropped link into its technical condition, and the real `AlarmEngine` (`FixedClock`) ticks. Beds do
not interact (nobody pauses audio or changes limits), so each bed runs with its own hub and engine,
in parallel worker processes, and the figures are the same whatever the number of workers.

What is counted
- WardWatch audible alarms: journal events RAISED or RELEASED (a held-back arrhythmia that was
  raised after all). HELD_BACK events are counted apart. Technical alarms count on both sides.
- The plain threshold monitor sees the same numerics, technical conditions and arrhythmia
  candidates with the same limits (`default_settings()`), but without condition delays and without
  verification: every candidate of the arrhythmia screening sounds, also during artefact. Its
  audible alarms are condition onsets (a key going from absent to present in a second). Both sides
  take only current, valid numerics (the simulated monitor marks values measured during motion as
  questionable) and both keep an arrhythmia present for `arrhythmia_every_s + arrhythmia_hold_s`
  after an analysis last saw it, so the difference measured is delays and verification only.
- A nurse acknowledges every sounding alarm `ACK_AFTER_S` after it sounds. Without anyone at the
  station, high-priority alarms latch for ever and one V-tach alarm would absorb a whole day of
  episodes (and every later true event would look "already alarmed").

Arrhythmia analysis shortcut (so that 32 bed-days stay affordable)
The live station analyses every bed every second. Here the engine's analyser renders the bed's last
`arrhythmia_window_s` of ECG lead II, pleth and impedance respiration straight from the patient (by
sample index, resampled onto one 250 Hz grid, channels under a lead-off / sensor-off condition left
out as `gather_signals` does) and calls `analyse_signals`, but only
  (a) every `ANALYSIS_EVERY_S` seconds in candidate windows: from the start of a timeline segment with
      a non-sinus rhythm, motion artefact, leads off, or a target heart rate beyond 45 / 135 per min
      (where extreme brady / tachy candidates arise) until `CANDIDATE_TAIL_S` after its end; and
  (b) on a seeded random `CLEAN_SAMPLE_FRACTION` of the other seconds, to show that the screening
      raises nothing on clean sinus rhythm.
No analysis runs while the device is disconnected (no fresh wave reaches the station). The JSON
reports `analysed_windows`, `sampled_clean_windows` and `clean_window_false_candidates`; a
candidate in a clean window means the day's arrhythmia figures under-count nuisance by up to
1 / `CLEAN_SAMPLE_FRACTION` times that.

True events (ground truth from each patient's timeline, in seconds since monitoring began)
- vt: a segment of ventricular tachycardia (the vt scenario's ~15 s runs at ~170/min). Detected by an
  alarm for V-tach or V-fib.
- vf: a run of V-fib together with the V-tach run that heralds it (onset at the first of them).
  Detected by an alarm for V-fib, V-tach or asystole (all high, all bring the nurse at once).
- asystole: a segment of asystole or of P waves only (ventricular standstill), at least 4 s.
  Detected by an alarm for asystole or V-fib.
- limit events: a stretch of beating (sinus or AF) rhythm where the patient's own vital sign, the
  timeline's target without the per-patient wander, is beyond a default limit by a margin larger than
  that wander (HR 3/min, SpO2 1 %, RR 2/min, NIBP sys 8 / dia 6 mmHg against the cuff's noise,
  temperature 0.2 °C) for at least the rule's delay + 5 s. Named after the least extreme rule of that
  side (hr_low, hr_high, spo2_low, rr_low, rr_high, nibp_*, temp_*); detected by that rule's alarm or
  a more extreme one on the same side (spo2_very_low, apnoea), the pulse-rate alarm for heart rate,
  and the extreme brady / tachy arrhythmia alarm for heart rate.
An event counts only if its onset plus its tolerance falls inside the run. It is detected when a
matching alarm sounded (RAISED or RELEASED) no later than `DETECTION_GRACE_S` after the later of the
episode's end and onset + tolerance, and was not cleared before the onset; its latency is the time from
the onset to the moment that alarm was sounding (0 if it already sounded). It is missed if there is
no such alarm (a true arrhythmia only held back is missed), and late if its latency exceeds the
tolerance: `ARRHYTHMIA_TOLERANCE_S` for arrhythmias (AAMI EC13 / IEC 60601-2-27 practice: onset within
10 s before the alarm), the rule's delay + `LIMIT_TOLERANCE_S` for limit events, plus the cuff interval
for NIBP (a cuff only measures every `DEFAULT_NIBP_INTERVAL_S`).
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from statistics import median
from typing import Any, TextIO

import numpy as np
import numpy.typing as npt
from wardwatch.app.alarms.engine import AlarmEngine
from wardwatch.app.alarms.findings import (
    ARRHYTHMIA_PREFIX,
    TECHNICAL_PREFIX,
    Finding,
    category_of,
    is_current,
)
from wardwatch.app.alarms.model import Action, AlarmEvent, Category, State
from wardwatch.app.alarms.settings import AlarmSettings, default_settings
from wardwatch.app.clock import FixedClock
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import DeviceStatus, Observation, TechnicalEvent, TechnicalKind, WaveformBlock
from wardwatch.app.hub import StreamHub
from wardwatch.app.supervisor import check_silence
from wardwatch.devices.simulator.patient import CHANNEL_BY_CODE, SimulatedPatient
from wardwatch.devices.simulator.scenarios import SCENARIO_BY_NAME, Rhythm, default_mix
from wardwatch.devices.simulator.source import DEFAULT_NIBP_INTERVAL_S, SimulatorSource
from wardwatch.devices.simulator.timeline import Segment, Timeline

FloatArray = npt.NDArray[np.float64]
# The arrhythmia screening + verification on one window: `analyse_signals` of the live station.
SignalScreen = Callable[[Mapping[str, FloatArray], AlarmSettings, float], Sequence[Finding]]

# A fixed station-time origin (2026-01-01 UTC, whole seconds so that every tick is exact in float).
T0 = 1_767_225_600
ANALYSIS_FS = 250.0
ANALYSIS_EVERY_S = 2
CANDIDATE_TAIL_S = 30
CLEAN_SAMPLE_FRACTION = 0.005
# Target heart rates beyond these make extreme brady / tachy candidates likely (looser than the
# PhysioNet 40 / 140 definitions, as the 2015 Challenge's false-alarm code is).
EXTREME_RATE = (45.0, 135.0)
ACK_AFTER_S = 20.0
ARRHYTHMIA_TOLERANCE_S = 10.0
LIMIT_TOLERANCE_S = 10.0
DETECTION_GRACE_S = 30.0
MIN_ASYSTOLE_S = 4.0
SECONDS_PER_DAY = 86_400.0
TARGET_RATIO = 0.30
_CLEAN_STREAM = 0x5EED_C1EA  # seed word of the clean-window sample, apart from the patient's streams
_SAMPLE_EPS = 1e-9

_ANALYSED_CHANNELS: tuple[tuple[MdcCode, str], ...] = (
    (MdcCode.ECG_ELEC_POTL_II, "II"),
    (MdcCode.PULS_OXIM_PLETH, "PLETH"),
    (MdcCode.RESP, "RESP"),
)
_LETHAL_GROUP = frozenset({Rhythm.VT, Rhythm.VF, Rhythm.ASYSTOLE, Rhythm.P_ONLY})
_BEATING_SUPRAVENTRICULAR = frozenset({Rhythm.SINUS, Rhythm.AF})
_NO_SAMPLES: npt.NDArray[np.float32] = np.empty(0, np.float32)


# ---- the arrhythmia screening ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Screening:
    """The arrhythmia analysis a ward-day runs, and the alarm key it gives each rhythm."""

    name: str
    analyse: SignalScreen
    vt: str
    vf: str
    asystole: str
    brady: str
    tachy: str


def live_screening() -> Screening:
    """The station's own `analyse_signals` (screening + verification); imported only when asked for,
    because it needs `wardwatch.app.verify`."""
    from wardwatch.app.alarms.arrhythmia import analyse_signals
    from wardwatch.app.verify.alarm_types import ArrhythmiaType

    def key(kind: ArrhythmiaType) -> str:
        return ARRHYTHMIA_PREFIX + kind.value

    return Screening(
        name="live",
        analyse=analyse_signals,
        vt=key(ArrhythmiaType.VENTRICULAR_TACHYCARDIA),
        vf=key(ArrhythmiaType.VENTRICULAR_FLUTTER_FIB),
        asystole=key(ArrhythmiaType.ASYSTOLE),
        brady=key(ArrhythmiaType.BRADYCARDIA),
        tachy=key(ArrhythmiaType.TACHYCARDIA),
    )


# ---- ground truth -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TrueEvent:
    kind: str
    onset: float  # seconds since monitoring began
    end: float
    keys: frozenset[str]  # alarms that announce it
    tolerance_s: float  # later than onset + this is late


@dataclass(frozen=True, slots=True)
class _LimitTruth:
    rule: str  # the least extreme default rule of its side: its crossing defines the event
    vital: str  # the `Vitals` field
    margin: float  # beyond the limit by more than the patient's own wander
    also: tuple[str, ...] = ()  # other limit alarms announcing the same event
    arrhythmia: str = ""  # the `Screening` field of an arrhythmia alarm that announces it too


_LIMIT_TRUTHS: tuple[_LimitTruth, ...] = (
    _LimitTruth("hr_low", "hr", 3.0, ("pr_low",), "brady"),
    _LimitTruth("hr_high", "hr", 3.0, ("pr_high",), "tachy"),
    _LimitTruth("spo2_low", "spo2", 1.0, ("spo2_very_low",)),
    _LimitTruth("rr_low", "rr", 2.0, ("apnoea",)),
    _LimitTruth("rr_high", "rr", 2.0),
    _LimitTruth("nibp_sys_low", "sys", 8.0),
    _LimitTruth("nibp_sys_high", "sys", 8.0),
    _LimitTruth("nibp_dia_low", "dia", 6.0),
    _LimitTruth("nibp_dia_high", "dia", 6.0),
    _LimitTruth("temp_low", "temp", 0.2),
    _LimitTruth("temp_high", "temp", 0.2),
)


def _rhythm_events(timeline: Timeline, seconds: int, screening: Screening) -> list[TrueEvent]:
    events: list[TrueEvent] = []
    group: list[Segment] = []

    def close() -> None:
        if not group:
            return
        onset, end = group[0].start, group[-1].end
        rhythms = {seg.rhythm for seg in group}
        if Rhythm.VF in rhythms:
            kind, keys = "vf", frozenset({screening.vf, screening.vt, screening.asystole})
        elif rhythms & {Rhythm.ASYSTOLE, Rhythm.P_ONLY}:
            kind, keys = "asystole", frozenset({screening.asystole, screening.vf})
        else:
            kind, keys = "vt", frozenset({screening.vt, screening.vf})
        if kind != "asystole" or end - onset >= MIN_ASYSTOLE_S:
            events.append(TrueEvent(kind, onset, end, keys, ARRHYTHMIA_TOLERANCE_S))
        group.clear()

    for seg in timeline.between(0.0, float(seconds)):
        if seg.rhythm in _LETHAL_GROUP and seg.start >= 0.0:
            group.append(seg)
        else:
            close()
    close()
    return events


def _limit_events(
    timeline: Timeline, seconds: int, settings: AlarmSettings, screening: Screening
) -> list[TrueEvent]:
    events: list[TrueEvent] = []
    segments = timeline.between(0.0, float(seconds))
    for truth in _LIMIT_TRUTHS:
        rule = settings.rule(truth.rule)
        if rule is None or not rule.enabled:
            continue
        low = None if rule.low is None else rule.low - truth.margin
        high = None if rule.high is None else rule.high + truth.margin

        def beyond(value: float, low: float | None = low, high: float | None = high) -> bool:
            return (low is not None and value < low) or (high is not None and value > high)

        mask = np.zeros(seconds, bool)
        for seg in segments:
            if seg.rhythm not in _BEATING_SUPRAVENTRICULAR:
                continue
            # targets ramp monotonically from origin to target: neither beyond, nothing beyond between
            if not (beyond(getattr(seg.origin, truth.vital)) or beyond(getattr(seg.target, truth.vital))):
                continue
            first, stop = max(0, math.ceil(seg.start)), min(seconds, math.ceil(seg.end))
            for s in range(first, stop):
                mask[s] = beyond(getattr(seg.vitals(float(s)), truth.vital))
        keys = frozenset(
            {truth.rule, *truth.also}
            | ({getattr(screening, truth.arrhythmia)} if truth.arrhythmia else set())
        )
        tolerance = rule.delay_s + LIMIT_TOLERANCE_S
        if rule.code in (MdcCode.PRESS_BLD_NONINV_SYS, MdcCode.PRESS_BLD_NONINV_DIA):
            tolerance += DEFAULT_NIBP_INTERVAL_S
        for onset, end in _runs(mask):
            if end - onset >= rule.delay_s + 5.0:
                events.append(TrueEvent(truth.rule, float(onset), float(end), keys, tolerance))
    return events


def _runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """[start, end) of each run of True."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


def true_events(
    timeline: Timeline, seconds: int, settings: AlarmSettings, screening: Screening
) -> list[TrueEvent]:
    """The timeline's true events whose onset + tolerance falls inside the first `seconds`."""
    events = _rhythm_events(timeline, seconds, screening) + _limit_events(
        timeline, seconds, settings, screening
    )
    return sorted((e for e in events if e.onset + e.tolerance_s < seconds), key=lambda e: (e.onset, e.kind))


# ---- where the analysis runs -----------------------------------------------------------------------------
def candidate_seconds(timeline: Timeline, seconds: int) -> npt.NDArray[np.bool_]:
    """Per second: inside a candidate window (see the module docstring)."""
    mask = np.zeros(seconds, bool)
    lo, hi = EXTREME_RATE
    for seg in timeline.between(0.0, float(seconds)):
        phase = seg.phase
        extreme = not lo <= seg.target.hr <= hi
        if seg.rhythm != Rhythm.SINUS or phase.motion or phase.lead_off or extreme:
            first = max(0, math.ceil(seg.start))
            mask[first : max(first, min(seconds, math.ceil(seg.end) + CANDIDATE_TAIL_S))] = True
    return mask


def analysis_plan(
    timeline: Timeline, seconds: int, seed: int, bed_index: int, clean_fraction: float
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """(analyse at second s, s is a sampled clean window): every ANALYSIS_EVERY_S s in candidate
    windows, and a seeded random fraction of the other seconds."""
    candidate = candidate_seconds(timeline, seconds)
    rng = np.random.default_rng([seed & 0xFFFF_FFFF_FFFF_FFFF, bed_index, _CLEAN_STREAM])
    clean = (rng.random(seconds) < clean_fraction) & ~candidate
    analyse = (candidate & (np.arange(seconds) % ANALYSIS_EVERY_S == 0)) | clean
    return analyse, clean


# ---- one bed --------------------------------------------------------------------------------------------
class _BenchPatient(SimulatedPatient):
    """The patient as the bench's source sees it: no waveform blocks (the bench drops them unread,
    and rendering a day of every wave would cost more than the rest together). The analysis asks
    `rendered` for the stretches it needs."""

    def samples(self, code: MdcCode, start_index: int, n: int) -> npt.NDArray[np.float32]:
        return _NO_SAMPLES

    def rendered(self, code: MdcCode, start_index: int, n: int) -> npt.NDArray[np.float32]:
        return super().samples(code, start_index, n)


class _HubSink:
    """The source's sink: numerics, technical events and status to the hub; waveform blocks dropped."""

    def __init__(self, hub: StreamHub) -> None:
        self._hub = hub

    def push_block(self, block: WaveformBlock) -> None:
        return None

    def push_observation(self, obs: Observation) -> None:
        self._hub.push_observation(obs)

    def push_event(self, event: TechnicalEvent) -> None:
        self._hub.push_event(event)

    def set_status(self, bed: str, status: DeviceStatus) -> None:
        self._hub.set_status(bed, status)


class _WaveTail:
    """The newest samples of one channel, rendered only where the last request did not reach."""

    def __init__(self, patient: _BenchPatient, code: MdcCode) -> None:
        self._patient = patient
        self._code = code
        self._start = 0
        self._values: npt.NDArray[np.float32] = _NO_SAMPLES

    def last(self, end: int, n: int) -> tuple[int, npt.NDArray[np.float32]]:
        """(first index, samples) of indices max(0, end - n) … end - 1."""
        start = max(0, end - n)
        held_end = self._start + len(self._values)
        if self._start <= start <= held_end <= end:
            fresh = self._patient.rendered(self._code, held_end, end - held_end)
            values = np.concatenate((self._values[start - self._start :], fresh))
        else:
            values = self._patient.rendered(self._code, start, end - start)
        self._start, self._values = start, values
        return start, values


class _SparseAnalyser:
    """The engine's analyser for one bed: the live screening on the planned seconds only."""

    def __init__(
        self,
        patient: _BenchPatient,
        hub: StreamHub,
        settings: AlarmSettings,
        screening: Screening,
        analyse: npt.NDArray[np.bool_],
        clean: npt.NDArray[np.bool_],
    ) -> None:
        self._patient = patient
        self._hub = hub
        self._settings = settings
        self._screen = screening.analyse
        self._analyse = analyse
        self._clean = clean
        self._tails = {code: _WaveTail(patient, code) for code, _ in _ANALYSED_CHANNELS}
        self.last_seen: dict[str, float] = {}  # every candidate, held back or not: the plain monitor's
        self.analysed = 0
        self.sampled_clean = 0
        self.clean_false_candidates = 0

    def __call__(self, bed: str, now: float) -> Sequence[Finding]:
        s = round(now - T0)
        if not 0 <= s < len(self._analyse) or not self._analyse[s] or not self._patient.connected(float(s)):
            return []
        streams = self._hub.streams(bed)
        conditions = set() if streams is None else set(streams.conditions)
        signals = self.signals(float(s), conditions)
        findings = list(self._screen(signals, self._settings, ANALYSIS_FS)) if signals else []
        self.analysed += 1
        if self._clean[s]:
            self.sampled_clean += 1
            self.clean_false_candidates += bool(findings)
        for f in findings:
            self.last_seen[f.key] = now
        return findings

    def signals(self, t: float, conditions: Iterable[TechnicalKind]) -> dict[str, FloatArray]:
        """The last window at `t` on one 250 Hz grid ending at the newest sample every channel has,
        leaving out the channels a technical condition says are off (as `gather_signals` does)."""
        off = set(conditions)
        window_s = self._settings.arrhythmia_window_s
        raw: dict[str, tuple[FloatArray, FloatArray]] = {}
        for code, name in _ANALYSED_CHANNELS:
            if (name == "II" and TechnicalKind.LEAD_OFF in off) or (
                name == "PLETH" and TechnicalKind.SENSOR_OFF in off
            ):
                continue
            rate = CHANNEL_BY_CODE[code].rate
            due = math.floor(t * rate + _SAMPLE_EPS) + 1  # samples whose time has come, as the source
            start, values = self._tails[code].last(due, int(window_s * rate) + 8)
            if len(values) < 2:
                continue
            raw[name] = ((start + np.arange(len(values))) / rate, values.astype(np.float64))
        if not raw:
            return {}
        end = min(float(times[-1]) for times, _ in raw.values())
        n = round(window_s * ANALYSIS_FS)
        grid = end - (n - 1) / ANALYSIS_FS + np.arange(n) / ANALYSIS_FS
        return {
            name: np.interp(grid, times, v, left=np.nan, right=np.nan) for name, (times, v) in raw.items()
        }


class _PlainMonitor:
    """A threshold monitor on the same data: every condition sounds the second it is present."""

    def __init__(self, settings: AlarmSettings) -> None:
        self._rules = tuple(r for r in settings.limits if r.enabled)
        self._hold = settings.arrhythmia_every_s + settings.arrhythmia_hold_s
        self._present: frozenset[str] = frozenset()
        self.onsets: list[tuple[float, str]] = []  # (seconds since the start, key)

    def observe(self, hub: StreamHub, bed: str, arrhythmia_seen: Mapping[str, float], now: float) -> None:
        streams = hub.streams(bed)
        present: set[str] = set()
        if streams is not None:
            numerics = streams.numerics
            # `limit_findings` without the messages it words for the engine: this runs every second
            for rule in self._rules:
                obs = numerics.get(rule.code)
                if obs is not None and is_current(obs, now) and rule.breached(obs.value):
                    present.add(rule.key)
            present |= {TECHNICAL_PREFIX + kind.value for kind in streams.conditions}
        present |= {key for key, at in arrhythmia_seen.items() if now - at <= self._hold}
        self.onsets += [(now - T0, key) for key in sorted(present - self._present)]
        self._present = frozenset(present)


@dataclass(frozen=True, slots=True)
class EventOutcome:
    bed: str
    scenario: str
    kind: str
    onset: float  # seconds since monitoring began
    latency_s: float | None  # None: missed
    late: bool
    held_back: bool  # a matching alarm was held back during the event and never sounded

    @property
    def missed(self) -> bool:
        return self.latency_s is None


@dataclass(frozen=True, slots=True)
class BedJob:
    bed: str
    bed_index: int
    scenario: str
    seed: int
    seconds: int
    screening: Screening
    clean_fraction: float


@dataclass(frozen=True, slots=True)
class BedOutcome:
    bed: str
    scenario: str
    audible: tuple[tuple[str, int], ...]  # per alarm key, sorted
    held_back: tuple[tuple[str, int], ...]
    baseline: tuple[tuple[str, int], ...]
    audible_outside: tuple[tuple[str, int], ...]  # sounded outside every true event
    baseline_outside: tuple[tuple[str, int], ...]
    events: tuple[EventOutcome, ...]
    analysed_windows: int
    sampled_clean_windows: int
    clean_window_false_candidates: int


@dataclass(slots=True)
class _AlarmTrace:
    key: str
    sounded_at: float | None = None
    held_at: float | None = None
    cleared_at: float | None = None


def _traces(journal: Iterable[AlarmEvent]) -> list[_AlarmTrace]:
    """Per alarm: when it first sounded, was held back and was cleared (seconds since the start)."""
    traces: dict[int, _AlarmTrace] = {}
    for e in journal:
        if e.alarm_id is None:
            continue
        trace = traces.setdefault(e.alarm_id, _AlarmTrace(e.key))
        t = e.time - T0
        if e.action in (Action.RAISED, Action.RELEASED) and trace.sounded_at is None:
            trace.sounded_at = t
        elif e.action is Action.HELD_BACK:
            trace.held_at = t
        elif e.action is Action.CLEARED:
            trace.cleared_at = t
    return list(traces.values())


def score_events(
    events: Iterable[TrueEvent], journal: Sequence[AlarmEvent], bed: str, scenario: str
) -> list[EventOutcome]:
    """Each true event detected (with its latency), late or missed, by the rules of the module docstring."""
    traces = _traces(journal)
    out: list[EventOutcome] = []
    for ev in events:
        horizon = max(ev.end, ev.onset + ev.tolerance_s) + DETECTION_GRACE_S
        latency: float | None = None
        held = False
        for tr in traces:
            if tr.key not in ev.keys or (tr.cleared_at is not None and tr.cleared_at <= ev.onset):
                continue
            if tr.sounded_at is not None and tr.sounded_at <= horizon:
                lag = max(0.0, tr.sounded_at - ev.onset)
                latency = lag if latency is None else min(latency, lag)
            elif tr.held_at is not None and ev.onset <= tr.held_at <= horizon:
                held = True
        late = latency is not None and latency > ev.tolerance_s
        out.append(EventOutcome(bed, scenario, ev.kind, ev.onset, latency, late, held and latency is None))
    return out


def outside_events(
    alarms: Iterable[tuple[float, str]], events: Sequence[TrueEvent]
) -> list[tuple[float, str]]:
    """The alarms (time, key) that sounded outside every true event: from its onset less its tolerance
    (a limit alarm may lead the margin that defines the event) to DETECTION_GRACE_S after its end."""
    spans = sorted((e.onset - e.tolerance_s, e.end + DETECTION_GRACE_S) for e in events)
    starts = [a for a, _ in spans]
    reach = list(itertools.accumulate((b for _, b in spans), max))  # furthest end of spans so far
    out: list[tuple[float, str]] = []
    for t, key in alarms:
        i = bisect.bisect_right(starts, t) - 1
        if i < 0 or reach[i] < t:
            out.append((t, key))
    return out


def _counts(alarms: Iterable[tuple[float, str]]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(Counter(key for _, key in alarms).items()))


def simulate_bed(job: BedJob) -> BedOutcome:
    """One bed's day through the real source code path, hub, silence check and alarm engine."""
    settings = default_settings()
    scenario = SCENARIO_BY_NAME[job.scenario]
    clock = FixedClock(float(T0))
    hub = StreamHub()
    source = SimulatorSource(scenario, job.bed, clock, seed=job.seed, bed_index=job.bed_index)
    patient = _BenchPatient(scenario, job.seed, job.bed_index)
    source.patient = patient
    analyse, clean = analysis_plan(patient.timeline, job.seconds, job.seed, job.bed_index, job.clean_fraction)
    analyser = _SparseAnalyser(patient, hub, settings, job.screening, analyse, clean)
    beds = (job.bed,)
    engine = AlarmEngine(hub, clock, lambda: beds, settings=settings, analyser=analyser)
    journal_queue = engine.subscribe()
    plain = _PlainMonitor(settings)
    sink = _HubSink(hub)
    hub.add_bed(job.bed)
    source.begin()
    for s in range(job.seconds):
        now = float(T0 + s)
        clock.t = now
        source.step(sink)
        hub.set_status(job.bed, source.status)
        for event in check_silence(hub, beds, now):
            hub.push_event(event)
        snapshot = engine.tick()
        plain.observe(hub, job.bed, analyser.last_seen, now)
        for alarm in snapshot.alarms:
            if alarm.state in (State.ACTIVE, State.LATCHED) and now - alarm.raised_at >= ACK_AFTER_S:
                engine.acknowledge(alarm.alarm_id, user="bench nurse")
    journal: list[AlarmEvent] = []
    while not journal_queue.empty():
        journal.append(journal_queue.get_nowait())
    sounded = [(e.time - T0, e.key) for e in journal if e.action in (Action.RAISED, Action.RELEASED)]
    held_back = Counter(e.key for e in journal if e.action is Action.HELD_BACK)
    events = true_events(patient.timeline, job.seconds, settings, job.screening)
    return BedOutcome(
        bed=job.bed,
        scenario=job.scenario,
        audible=_counts(sounded),
        held_back=tuple(sorted(held_back.items())),
        baseline=_counts(plain.onsets),
        audible_outside=_counts(outside_events(sounded, events)),
        baseline_outside=_counts(outside_events(plain.onsets, events)),
        events=tuple(score_events(events, journal, job.bed, job.scenario)),
        analysed_windows=analyser.analysed,
        sampled_clean_windows=analyser.sampled_clean,
        clean_window_false_candidates=analyser.clean_false_candidates,
    )


# ---- the ward -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventTypeFigures:
    kind: str
    events: int
    missed: int
    late: int
    held_back: int
    median_latency_s: float | None
    max_latency_s: float | None


@dataclass(frozen=True, slots=True)
class ScenarioFigures:
    scenario: str
    beds: int
    audible_per_bed_day: float
    baseline_audible_per_bed_day: float
    held_back_per_bed_day: float
    top_audible: tuple[tuple[str, int], ...]  # the keys that sounded most, with their counts
    top_baseline: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class WardDayResult:
    beds: int
    hours: float
    seed: int
    screening: str
    audible: int
    baseline_audible: int
    held_back: int
    audible_by_category: tuple[tuple[str, int], ...]
    baseline_by_category: tuple[tuple[str, int], ...]
    audible_outside_by_category: tuple[tuple[str, int], ...]
    baseline_outside_by_category: tuple[tuple[str, int], ...]
    event_types: tuple[EventTypeFigures, ...]
    missed: tuple[EventOutcome, ...]
    late: tuple[EventOutcome, ...]
    true_events: int
    analysed_windows: int
    sampled_clean_windows: int
    clean_window_false_candidates: int
    scenarios: tuple[ScenarioFigures, ...] = field(default=())

    @property
    def bed_days(self) -> float:
        return self.beds * self.hours / 24.0

    def per_bed_day(self, count: int) -> float:
        return count / self.bed_days if self.bed_days > 0 else 0.0

    @property
    def missed_true_events(self) -> int:
        return len(self.missed)

    @property
    def late_true_events(self) -> int:
        return len(self.late)

    @property
    def audible_ratio(self) -> float | None:
        return self.audible / self.baseline_audible if self.baseline_audible else None

    @property
    def target_met(self) -> bool:
        ratio = self.audible_ratio
        return ratio is not None and ratio <= TARGET_RATIO and not self.missed

    def to_json(self, listed: int = 20) -> dict[str, Any]:
        """The figures as one JSON object (at most `listed` missed and late events spelled out)."""

        def rate(count: int) -> float:
            return round(self.per_bed_day(count), 2)

        def event(e: EventOutcome) -> dict[str, Any]:
            latency = None if e.latency_s is None else round(e.latency_s, 1)
            return {
                "bed": e.bed,
                "scenario": e.scenario,
                "kind": e.kind,
                "onset_s": round(e.onset, 1),
                "latency_s": latency,
                "held_back": e.held_back,
            }

        ratio = self.audible_ratio
        return {
            "audible_per_bed_day": rate(self.audible),
            "baseline_audible_per_bed_day": rate(self.baseline_audible),
            "held_back_per_bed_day": rate(self.held_back),
            "true_events": self.true_events,
            "missed_true_events": self.missed_true_events,
            "late_true_events": self.late_true_events,
            "audible_vs_baseline": None if ratio is None else round(ratio, 3),
            "target_met": self.target_met,
            "beds": self.beds,
            "hours": self.hours,
            "bed_days": round(self.bed_days, 3),
            "seed": self.seed,
            "screening": self.screening,
            "audible_total": self.audible,
            "baseline_audible_total": self.baseline_audible,
            "held_back_total": self.held_back,
            "audible_per_bed_day_by_category": {k: rate(v) for k, v in self.audible_by_category},
            "baseline_audible_per_bed_day_by_category": {k: rate(v) for k, v in self.baseline_by_category},
            "audible_outside_true_events_per_bed_day_by_category": {
                k: rate(v) for k, v in self.audible_outside_by_category
            },
            "baseline_audible_outside_true_events_per_bed_day_by_category": {
                k: rate(v) for k, v in self.baseline_outside_by_category
            },
            "true_events_by_type": {
                t.kind: {
                    "events": t.events,
                    "missed": t.missed,
                    "late": t.late,
                    "held_back": t.held_back,
                    "median_latency_s": t.median_latency_s,
                    "max_latency_s": t.max_latency_s,
                }
                for t in self.event_types
            },
            "missed": [event(e) for e in self.missed[:listed]],
            "late": [event(e) for e in self.late[:listed]],
            "by_scenario": {
                s.scenario: {
                    "beds": s.beds,
                    "audible_per_bed_day": s.audible_per_bed_day,
                    "baseline_audible_per_bed_day": s.baseline_audible_per_bed_day,
                    "held_back_per_bed_day": s.held_back_per_bed_day,
                    "top_audible": dict(s.top_audible),
                    "top_baseline": dict(s.top_baseline),
                }
                for s in self.scenarios
            },
            "analysed_windows": self.analysed_windows,
            "sampled_clean_windows": self.sampled_clean_windows,
            "clean_window_false_candidates": self.clean_window_false_candidates,
            "analysis": {
                "every_s_in_candidate_windows": ANALYSIS_EVERY_S,
                "candidate_tail_s": CANDIDATE_TAIL_S,
                "clean_sample_fraction": CLEAN_SAMPLE_FRACTION,
                "nurse_acknowledges_after_s": ACK_AFTER_S,
            },
        }


def _by_category(counts: Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    out: Counter[str] = Counter(
        {c.value: 0 for c in (Category.PHYSIOLOGICAL, Category.ARRHYTHMIA, Category.TECHNICAL)}
    )
    for key, n in counts:
        out[category_of(key).value] += n
    return tuple(out.items())


def _event_types(events: Sequence[EventOutcome]) -> tuple[EventTypeFigures, ...]:
    out: list[EventTypeFigures] = []
    for kind in sorted({e.kind for e in events}):
        mine = [e for e in events if e.kind == kind]
        lat = [e.latency_s for e in mine if e.latency_s is not None]
        out.append(
            EventTypeFigures(
                kind,
                len(mine),
                sum(e.missed for e in mine),
                sum(e.late for e in mine),
                sum(e.held_back for e in mine),
                round(median(lat), 1) if lat else None,
                round(max(lat), 1) if lat else None,
            )
        )
    return tuple(out)


def _scenarios(outcomes: Sequence[BedOutcome], hours: float) -> tuple[ScenarioFigures, ...]:
    out: list[ScenarioFigures] = []
    for name in sorted({o.scenario for o in outcomes}):
        mine = [o for o in outcomes if o.scenario == name]
        days = len(mine) * hours / 24.0
        audible: Counter[str] = Counter()
        baseline: Counter[str] = Counter()
        held: Counter[str] = Counter()
        for o in mine:
            audible.update(dict(o.audible))
            baseline.update(dict(o.baseline))
            held.update(dict(o.held_back))
        out.append(
            ScenarioFigures(
                name,
                len(mine),
                round(sum(audible.values()) / days, 2),
                round(sum(baseline.values()) / days, 2),
                round(sum(held.values()) / days, 2),
                tuple(audible.most_common(4)),
                tuple(baseline.most_common(4)),
            )
        )
    return tuple(out)


def summarise(outcomes: Sequence[BedOutcome], hours: float, seed: int, screening: str) -> WardDayResult:
    audible = [kv for o in outcomes for kv in o.audible]
    baseline = [kv for o in outcomes for kv in o.baseline]
    events = [e for o in outcomes for e in o.events]
    return WardDayResult(
        beds=len(outcomes),
        hours=hours,
        seed=seed,
        screening=screening,
        audible=sum(n for _, n in audible),
        baseline_audible=sum(n for _, n in baseline),
        held_back=sum(n for o in outcomes for _, n in o.held_back),
        audible_by_category=_by_category(audible),
        baseline_by_category=_by_category(baseline),
        audible_outside_by_category=_by_category(kv for o in outcomes for kv in o.audible_outside),
        baseline_outside_by_category=_by_category(kv for o in outcomes for kv in o.baseline_outside),
        event_types=_event_types(events),
        missed=tuple(e for e in events if e.missed),
        late=tuple(e for e in events if e.late),
        true_events=len(events),
        analysed_windows=sum(o.analysed_windows for o in outcomes),
        sampled_clean_windows=sum(o.sampled_clean_windows for o in outcomes),
        clean_window_false_candidates=sum(o.clean_window_false_candidates for o in outcomes),
        scenarios=_scenarios(outcomes, hours),
    )


def run_ward_day(
    beds: int,
    hours: float,
    seed: int,
    *,
    screening: Screening | None = None,
    mix: Sequence[str] | None = None,
    workers: int | None = None,
    clean_fraction: float = CLEAN_SAMPLE_FRACTION,
) -> WardDayResult:
    """The ward-day's figures. `mix` overrides `default_mix(beds)`; `screening` the live arrhythmia
    analysis (which needs `wardwatch.app.verify`); `workers` processes share the beds (default: one
    per core; 1 runs everything in this process)."""
    if beds < 1:
        raise ValueError("beds must be at least 1")
    if not hours > 0:
        raise ValueError("hours must be positive")
    names = list(mix) if mix is not None else default_mix(beds)
    if len(names) != beds:
        raise ValueError(f"the mix names {len(names)} scenarios for {beds} beds")
    screening = screening or live_screening()
    seconds = round(hours * 3600.0)
    jobs = [
        BedJob(f"bed{i + 1:02d}", i, name, seed, seconds, screening, clean_fraction)
        for i, name in enumerate(names)
    ]
    workers = min(beds, workers or os.cpu_count() or 1)
    if workers <= 1:
        outcomes = [simulate_bed(job) for job in jobs]
    else:
        # the unusual patients cost the most (arrhythmia analysis): start them first so that no
        # worker is left with a long bed at the end
        order = sorted(jobs, key=lambda j: (j.scenario == "stable", j.bed_index))
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            done = dict(zip((j.bed for j in order), pool.map(simulate_bed, order), strict=True))
        outcomes = [done[job.bed] for job in jobs]
    return summarise(outcomes, hours, seed, screening.name)


# ---- command line ---------------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--beds", type=int, default=32)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None, help="processes (default: one per core)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _table(result: WardDayResult, runtime_s: float) -> str:
    j = result.to_json()
    lines = [
        f"Simulated ward-day: {result.beds} beds x {result.hours:g} h (seed {result.seed}), "
        f"arrhythmia screening: {result.screening}, {runtime_s:.0f} s",
        "",
        f"{'audible alarms per bed-day':<34}{'WardWatch':>10}{'plain':>10}",
    ]
    for cat, value in j["audible_per_bed_day_by_category"].items():
        lines.append(f"  {cat:<32}{value:>10.1f}{j['baseline_audible_per_bed_day_by_category'][cat]:>10.1f}")
    lines.append(f"  {'all':<32}{j['audible_per_bed_day']:>10.1f}{j['baseline_audible_per_bed_day']:>10.1f}")
    ratio = j["audible_vs_baseline"]
    lines += [
        f"  held back (shown muted)          {j['held_back_per_bed_day']:>10.1f}",
        f"  WardWatch / plain: {'-' if ratio is None else f'{100 * ratio:.0f} %'} (target <= 30 %)",
        "",
        f"{'true events':<16}{'events':>8}{'missed':>8}{'late':>6}{'median s':>10}{'max s':>8}",
    ]
    for t in result.event_types:
        med = "-" if t.median_latency_s is None else f"{t.median_latency_s:.1f}"
        top = "-" if t.max_latency_s is None else f"{t.max_latency_s:.1f}"
        lines.append(f"  {t.kind:<14}{t.events:>8}{t.missed:>8}{t.late:>6}{med:>10}{top:>8}")
    lines += [
        f"  {'all':<14}{result.true_events:>8}{result.missed_true_events:>8}{result.late_true_events:>6}",
        "",
        f"arrhythmia windows analysed: {result.analysed_windows}; clean sinus windows sampled: "
        f"{result.sampled_clean_windows}, with a candidate: {result.clean_window_false_candidates}",
        f"target (<= 30 % of the plain monitor, none missed): {'met' if result.target_met else 'NOT met'}",
    ]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace, out: TextIO) -> int:
    """`wardwatch bench alarms`: run the ward-day and print its figures (JSON with --json)."""
    started = time.perf_counter()
    try:
        screening = live_screening()
    except ImportError as exc:
        out.write(f"the arrhythmia analysis is not available ({exc}); nothing was measured\n")
        return 1
    try:
        result = run_ward_day(
            args.beds, args.hours, args.seed, screening=screening, workers=getattr(args, "workers", None)
        )
    except ValueError as exc:
        out.write(f"{exc}\n")
        return 2
    runtime_s = time.perf_counter() - started
    if args.json:
        figures = result.to_json()
        figures["runtime_s"] = round(runtime_s, 1)
        out.write(json.dumps(figures, ensure_ascii=False) + "\n")
    else:
        out.write(_table(result, runtime_s))
    return 0
