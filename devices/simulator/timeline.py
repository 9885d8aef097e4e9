"""A scenario laid out in time: lead-in, intro once, then the cycle repeated, each cycle's phase
durations varied a little so episodes do not tick like a metronome.

Segments are built lazily and deterministically (each cycle's variation comes from its own seeded
generator), so asking for any time gives the same answer whatever was asked before.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, replace
from enum import IntEnum, StrEnum

import numpy as np
from wardwatch.devices.simulator.scenarios import Phase, Rhythm, Scenario, Vitals, with_time_scale
from wardwatch.devices.simulator.smooth import ease


class Stream(IntEnum):
    """Independent random streams of one patient (one seeded generator each)."""

    PATIENT = 1
    TIMELINE = 2
    BEATS = 3
    BREATHS = 4
    NIBP = 5
    EPISODE = 6
    NOISE = 7


class Condition(StrEnum):
    """Technical conditions a phase may carry (the names of the matching `Phase` flags)."""

    LEAD_OFF = "lead_off"
    SENSOR_OFF = "sensor_off"
    DISCONNECTED = "disconnected"
    MOTION = "motion"


@dataclass(frozen=True, slots=True)
class Segment:
    start: float
    end: float
    phase: Phase
    origin: Vitals  # targets of the previous segment, where this one's ramp starts
    target: Vitals
    ramp_s: float
    ordinal: int  # position in the timeline; seeds per-episode details

    @property
    def rhythm(self) -> Rhythm:
        return self.phase.rhythm

    def has(self, condition: Condition) -> bool:
        return bool(getattr(self.phase, condition.value))

    def vitals(self, t: float) -> Vitals:
        if self.ramp_s <= 0.0:
            return self.target
        return self.origin.lerp(self.target, ease((t - self.start) / self.ramp_s))


class Timeline:
    def __init__(
        self,
        scenario: Scenario,
        baseline: Vitals,
        lead_in_s: float,
        seed_words: tuple[int, ...],
        time_scale: float = 1.0,
    ) -> None:
        self._scenario = scenario
        self._baseline = baseline
        self._seed_words = seed_words
        self._time_scale = time_scale
        lead_in = Phase(lead_in_s)
        first = Segment(-math.inf, lead_in_s, lead_in, baseline, baseline, 0.0, 0)
        self._segments: list[Segment] = [first]
        self._starts: list[float] = [first.start]
        self._phases = self._phase_stream()

    def _phase_stream(self) -> Iterator[Phase]:
        """Intro phases once, then the cycle for ever with durations varied per cycle."""
        for phase in self._scenario.intro:
            yield with_time_scale(phase, self._time_scale)
        cycle_index = 0
        while True:
            rng = np.random.default_rng([*self._seed_words, Stream.TIMELINE, cycle_index])
            wobble = rng.uniform(-1.0, 1.0, len(self._scenario.cycle))
            for phase, w in zip(self._scenario.cycle, wobble, strict=True):
                scaled = with_time_scale(phase, self._time_scale)
                yield replace(scaled, duration_s=scaled.duration_s * (1.0 + scaled.jitter * float(w)))
            cycle_index += 1

    def _extend_to(self, t: float) -> None:
        if not math.isfinite(t):
            raise ValueError("time must be finite")
        while self._segments[-1].end <= t:
            last = self._segments[-1]
            phase = next(self._phases)
            start = last.end
            end = start + max(phase.duration_s, 1e-3)
            seg = Segment(
                start,
                end,
                phase,
                last.target,
                phase.targets(self._baseline),
                min(phase.ramp_s, end - start),
                last.ordinal + 1,
            )
            self._segments.append(seg)
            self._starts.append(start)

    def at(self, t: float) -> Segment:
        self._extend_to(t)
        return self._segments[max(0, bisect_right(self._starts, t) - 1)]

    def between(self, t0: float, t1: float) -> list[Segment]:
        """Segments overlapping [t0, t1]."""
        self._extend_to(t1)
        i = max(0, bisect_right(self._starts, t0) - 1)
        j = bisect_right(self._starts, t1)
        return self._segments[i:j]

    def next_rhythm_change(self, t0: float, t1: float) -> Segment | None:
        """The first segment starting in (t0, t1] whose rhythm differs from the one at t0."""
        current = self.at(t0).rhythm
        for seg in self.between(t0, t1):
            if seg.start > t0 and seg.rhythm != current:
                return seg
        return None

    def windows(self, t0: float, t1: float, condition: Condition) -> list[tuple[float, float]]:
        """Stretches where `condition` holds overlapping [t0, t1] (whole, unclipped, adjacent ones merged)."""
        out: list[tuple[float, float]] = []
        for seg in self.between(t0, t1):
            if not seg.has(condition) or seg.end < t0:
                continue
            if out and out[-1][1] == seg.start:
                out[-1] = (out[-1][0], seg.end)
            else:
                out.append((seg.start, seg.end))
        return out

    def changes(self, t0: float, t1: float, condition: Condition) -> list[tuple[float, bool]]:
        """Times in (t0, t1] where `condition` starts (True) or ends (False)."""
        out: list[tuple[float, bool]] = []
        segs = self.between(t0, t1)
        state = segs[0].has(condition)  # the segment holding t0 began at or before it
        for seg in segs[1:]:
            now = seg.has(condition)
            if now != state and t0 < seg.start <= t1:
                out.append((seg.start, now))
            state = now
        return out

    def since_last(self, t: float, condition: Condition, horizon: float) -> float | None:
        """Seconds since `condition` last ended before `t` (looking back at most `horizon`), or None."""
        ends = [seg.end for seg in self.between(t - horizon, t) if seg.has(condition) and seg.end <= t]
        return None if not ends else t - ends[-1]
