"""The heart's beat schedule: when each beat falls, what kind it is and how strong a pulse it makes.

Drawn beat by beat from one seeded generator, so the schedule is a fixed property of the patient:
the ECG, the pleth and the heart-rate numerics are all read from it and therefore agree.
Sinus rhythm carries respiratory sinus arrhythmia; AF is irregularly irregular; a premature
ventricular beat comes early and is followed by a compensatory pause; in VF and asystole the
ventricles do not beat at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from wardwatch.devices.simulator.ecg import BeatArrays, BeatKind
from wardwatch.devices.simulator.pleth import pulse_scale
from wardwatch.devices.simulator.scenarios import NON_BEATING, Rhythm
from wardwatch.devices.simulator.table import RowTable
from wardwatch.devices.simulator.timeline import Timeline

# How strongly each kind of beat perfuses the finger (1 = a normal sinus beat).
_PERFUSION = {
    BeatKind.SINUS: 1.0,
    BeatKind.AF: 1.0,
    BeatKind.PVC: 0.8,
    BeatKind.VT: 0.35,
    BeatKind.P_ONLY: 0.0,
}
_REFRACTORY_S = 0.30  # no ventricular beat follows another sooner than this
_PVC_COUPLING = 0.6  # a PVC arrives this fraction of a cycle after the previous beat
_RSA = 0.05  # respiratory sinus arrhythmia: RR shortens by up to this fraction in inspiration

# Beats held: 60 s behind the oldest sample asked for, 8 s ahead, with room at 300/min before any growth.
_BEAT_CAPACITY = 512
_KEEP_BEHIND_S = 60.0
_TRIM_ABOVE_ROWS = 150  # trim in batches, not on every beat

_KIND_OF = {
    Rhythm.SINUS: BeatKind.SINUS,
    Rhythm.AF: BeatKind.AF,
    Rhythm.VT: BeatKind.VT,
    Rhythm.P_ONLY: BeatKind.P_ONLY,
}

HeartRate = Callable[[float, Rhythm], float]


class BeatTrain:
    def __init__(
        self,
        timeline: Timeline,
        heart_rate: HeartRate,
        breathing: Callable[[float], float],
        pvc_per_min: float,
        seed: list[int],
        start: float = -15.0,
    ) -> None:
        self._timeline = timeline
        self._heart_rate = heart_rate
        self._breathing = breathing
        self._pvc_per_min = pvc_per_min
        self._seed = seed
        self._start = start
        self._reset()

    def _reset(self) -> None:
        self._rng = np.random.default_rng(self._seed)
        self._cursor = self._start  # time of the last beat, or where a pause ended
        self._resume = True  # the next beat is the first after the start or a pause
        self._last_kind = BeatKind.SINUS
        self._last_rr = 1.0
        # columns: time, kind, amp, twave, rr_prev, pulse, pulse_scale
        self._table = RowTable(7, _BEAT_CAPACITY)
        self._complete_from = -math.inf

    # ---- drawing ---------------------------------------------------------------------------------
    def _step(self) -> None:
        tl = self._timeline
        t = self._cursor
        seg = tl.at(t)
        if seg.rhythm in NON_BEATING:
            self._cursor = seg.end
            self._resume = True
            return
        z = self._rng.standard_normal(4)
        u = self._rng.random(2)
        cycle = 60.0 / max(self._heart_rate(t, seg.rhythm), 10.0)
        pvc = False
        if self._resume:
            nxt = t + cycle * (0.3 + 0.5 * float(u[0]))
        else:
            rr, pvc = self._interval(seg.rhythm, cycle, t, float(z[0]), float(u[0]))
            nxt = t + rr
            change = None if nxt < seg.end else tl.next_rhythm_change(t, nxt)
            if change is not None:
                if change.rhythm in NON_BEATING:
                    self._cursor = change.start
                    self._resume = True
                    return
                # the new rhythm takes over at its onset, not one old cycle later
                nxt = max(change.start, t + _REFRACTORY_S) + 0.05 * float(u[1])
                pvc = False
        rhythm = tl.at(nxt).rhythm
        if rhythm in NON_BEATING:
            self._cursor = nxt
            self._resume = True
            return
        kind = BeatKind.PVC if pvc and rhythm == Rhythm.SINUS else _KIND_OF[rhythm]
        rr_prev = cycle if self._resume else nxt - t
        resp = self._breathing(nxt)
        amp = (1.0 + 0.025 * float(z[1])) * (1.0 + 0.06 * (resp - 0.5))
        twave = 1.0 + 0.05 * float(z[2])
        # a beat after a short filling time ejects less (Frank-Starling): AF and PVC pulses vary
        starling = min(max((rr_prev / cycle) ** 0.8, 0.15), 1.3)
        pulse = _PERFUSION[kind] * starling * (1.0 + 0.04 * float(z[3])) * (1.0 - 0.10 * (resp - 0.5))
        self._table.append(nxt, int(kind), amp, twave, rr_prev, max(pulse, 0.0), pulse_scale(cycle))
        self._cursor = nxt
        self._resume = False
        self._last_kind = kind
        self._last_rr = rr_prev

    def _interval(self, rhythm: Rhythm, cycle: float, t: float, z: float, u: float) -> tuple[float, bool]:
        """The RR interval to the next beat and whether that beat is a premature ventricular one."""
        if rhythm == Rhythm.SINUS:
            if self._last_kind == BeatKind.PVC:  # compensatory pause: the sinus node was not reset
                return max(2.0 * cycle - self._last_rr, cycle), False
            if u < self._pvc_per_min / (60.0 / cycle):
                return max(_PVC_COUPLING * cycle, _REFRACTORY_S), True
            rsa = _RSA * min(1.0, 80.0 / (60.0 / cycle))  # RSA fades as the rate rises
            return cycle * (1.0 - rsa * (self._breathing(t) - 0.5)) * (1.0 + 0.01 * z), False
        if rhythm == Rhythm.AF:
            spread = 0.22
            ratio = math.exp(spread * z - 0.5 * spread * spread)
            return max(cycle * min(max(ratio, 0.5), 2.0), _REFRACTORY_S - 0.02), False
        if rhythm == Rhythm.VT:
            return cycle * (1.0 + 0.012 * z), False
        return cycle * (1.0 + 0.01 * z), False  # P waves alone: the atrial rate

    def _extend_to(self, t: float, keep_from: float) -> None:
        if self._cursor > t:
            return
        target = t + 8.0  # draw ahead in batches, so trimming is rare
        while self._cursor <= target:
            self._step()
        table = self._table
        if len(table) > _TRIM_ABOVE_ROWS and table.forget_before(keep_from - _KEEP_BEHIND_S):
            self._complete_from = float(table.times[0]) if len(table) else t

    # ---- reading ---------------------------------------------------------------------------------
    def window(self, t0: float, t1: float) -> BeatArrays:
        """Beats with t0 ≤ time ≤ t1."""
        if t0 < self._complete_from:  # asked for the forgotten past: draw again from the start
            self._reset()
        self._extend_to(t1, t0)
        times = self._table.times
        i = int(np.searchsorted(times, t0, side="left"))
        j = int(np.searchsorted(times, t1, side="right"))
        a = self._table.rows(i, j)
        return BeatArrays(
            a[:, 0].copy(),
            a[:, 1].astype(np.int8),
            a[:, 2].copy(),
            a[:, 3].copy(),
            a[:, 4].copy(),
            a[:, 5].copy(),
            a[:, 6].copy(),
        )
