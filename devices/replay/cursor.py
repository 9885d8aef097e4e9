"""The stepping core of replay: which samples and numerics are due at a station time. No threads, no clock.

Sample g of the playback (counted from the first sample of the first pass, across loops) is stamped
`origin + g / rate`, so timestamps run on without a jump when the record starts over, and a sample is
handed out only once its time has come. Numerics come once a second of playback time, each from what
had been played of the current pass by then: a new pass starts the averaging afresh.
"""

from __future__ import annotations

import math

from wardwatch.app.codes import info
from wardwatch.app.domain import Observation, Validity, WaveformBlock
from wardwatch.devices.replay.record import Recording

NUMERIC_PERIOD_S = 1.0


class ReplayCursor:
    """Where a playback of `recording` on `bed` stands; advanced by asking what is due at a time."""

    def __init__(self, recording: Recording, bed: str, origin: float, loop: bool = True) -> None:
        self.recording = recording
        self.bed = bed
        self.origin = origin
        self.loop = loop
        self._sent = 0  # samples handed out so far, across passes
        self._next_numeric = 1  # index of the next numeric second

    @property
    def samples_sent(self) -> int:
        return self._sent

    @property
    def finished(self) -> bool:
        """Without looping: every sample and every numeric of the record has been handed out."""
        rec = self.recording
        return (
            not self.loop
            and self._sent >= rec.n_samples
            and self._next_numeric * NUMERIC_PERIOD_S > rec.duration_s
        )

    def sample_time(self, g: int) -> float:
        """Station time of playback sample `g`."""
        return self.origin + g / self.recording.rate

    def _due_count(self, t: float) -> int:
        """How many samples have a time at or before `t`."""
        if t < self.origin:
            return 0
        last = math.floor((t - self.origin) * self.recording.rate)
        # Rounding may put `last` one sample past `t`; never stamp a sample in the future.
        while last >= 0 and self.sample_time(last) > t:
            last -= 1
        due = last + 1
        return due if self.loop else min(due, self.recording.n_samples)

    def due_until(self, t: float) -> list[WaveformBlock]:
        """Blocks (one per channel, per pass touched) of every sample due by station time `t` not yet sent."""
        rec = self.recording
        n = rec.n_samples
        due = self._due_count(t)
        blocks: list[WaveformBlock] = []
        while self._sent < due:
            start = self._sent % n
            count = min(n - start, due - self._sent)
            t0 = self.sample_time(self._sent)
            # Readers time sample k of a block as t0 + k / rate, which can round one ulp past the time
            # the sample was counted at: leave such a sample for the next step.
            while count > 0 and t0 + (count - 1) / rec.rate > t:
                count -= 1
            if count == 0:
                break
            stop = start + count
            blocks.extend(
                WaveformBlock(self.bed, c.code, c.samples[start:stop], rec.rate, t0, c.unit, c.label)
                for c in rec.channels
            )
            self._sent += count
        return blocks

    def numerics_until(self, t: float) -> list[Observation]:
        """Observations for every whole second of playback up to station time `t` not yet given."""
        rec = self.recording
        duration = rec.duration_s
        out: list[Observation] = []
        while True:
            played = self._next_numeric * NUMERIC_PERIOD_S  # record seconds since playback began
            if self.origin + played > t or (not self.loop and played > duration):
                break
            # Position within the current pass, in (0, duration]: the numeric at the very end of a pass
            # still belongs to it, and the next one starts the new pass with nothing averaged yet.
            position = played - max(0, math.ceil(played / duration) - 1) * duration
            out.extend(self._observations(position, self.origin + played))
            self._next_numeric += 1
        return out

    def _observations(self, position: float, when: float) -> list[Observation]:
        obs: list[Observation] = []
        for track in self.recording.numerics:
            value = track.value_at(position)
            unit = info(track.code).ucum
            if value is None:
                # Not enough valid signal: say so, never make a number up.
                obs.append(
                    Observation(self.bed, track.code, math.nan, unit, when, Validity.INVALID, track.label)
                )
            else:
                obs.append(Observation(self.bed, track.code, value, unit, when, Validity.VALID, track.label))
        return obs
