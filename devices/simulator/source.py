"""The simulator as a live `Source`: a thread pushing what a `SimulatedPatient` makes as station time passes.

Sample k of a channel is stamped t0 + k / rate, where t0 is the station time the source started,
and is pushed only once that time has come (never a sample from the future). During a disconnect
episode nothing at all is pushed; afterwards the samples simply resume at the current time, leaving
a gap, as a real device's would.
"""

from __future__ import annotations

import math

from wardwatch.app.clock import Clock
from wardwatch.app.domain import (
    LinkState,
    Observation,
    TechnicalEvent,
    TechnicalKind,
    WaveformBlock,
)
from wardwatch.devices.base import SharedRunner, Sink, SteppedSource
from wardwatch.devices.simulator.patient import (
    CHANNELS,
    Reading,
    SimulatedPatient,
    TechnicalChange,
    technical_change,
)
from wardwatch.devices.simulator.scenarios import Scenario

# 40 ms blocks, like a bedside monitor's waveform packets: the display plays waves out a little behind
# the newest sample so that they sweep smoothly, and that delay must stay well inside the 100 ms
# sample-to-screen budget. The price: for 64 beds the simulator costs ~20 % of a core at 0.04 s
# against ~13 % at 0.1 s (the thread wake-ups and hub writes alone are ~12 % vs ~6 %).
DEFAULT_BLOCK_INTERVAL_S = 0.04
DEFAULT_NIBP_INTERVAL_S = 300.0
# Most station time handled in one pass; a loop that fell behind catches up in steps of this.
_MAX_STEP_S = 30.0
_MAX_BACKLOG_S = 60.0
_GOLDEN = 0.6180339887498949  # spreads any number of beds' wake-up phases evenly over an interval
# Sample times are computed in floating point: allow this much rounding when asking "is it due?".
_EPS = 1e-9


def _due(elapsed: float, rate: float) -> int:
    """How many samples of a channel at `rate` have a time ≤ `elapsed` (sample 0 is at 0)."""
    return math.floor(elapsed * rate + _EPS) + 1


def _outside(first: int, end: int, rate: float, gaps: list[tuple[float, float]]) -> list[tuple[int, int]]:
    """The runs of sample indices in [first, end) whose times fall outside every gap."""
    runs = [(first, end)]
    for g0, g1 in gaps:
        lo, hi = math.ceil(g0 * rate - _EPS), math.ceil(g1 * rate - _EPS)
        runs = [piece for a, b in runs for piece in ((a, min(b, lo)), (max(a, hi), b)) if piece[0] < piece[1]]
    return runs


def _in_gap(t: float, gaps: list[tuple[float, float]]) -> bool:
    return any(g0 <= t < g1 for g0, g1 in gaps)


class SimulatorSource(SteppedSource):
    kind = "sim"

    def __init__(
        self,
        scenario: Scenario,
        bed: str,
        clock: Clock,
        seed: int = 0,
        bed_index: int = 0,
        nibp_interval_s: float = DEFAULT_NIBP_INTERVAL_S,
        block_interval_s: float = DEFAULT_BLOCK_INTERVAL_S,
        time_scale: float = 1.0,
        runner: SharedRunner | None = None,
    ) -> None:
        super().__init__(f"sim:{scenario.name}@{bed}", bed, clock, runner)
        self.scenario = scenario
        self.bed_index = bed_index
        self.patient = SimulatedPatient(scenario, seed, bed_index, time_scale)
        self.nibp_interval_s = nibp_interval_s
        self.block_interval_s = block_interval_s
        # where the next pass resumes, in samples per channel and in whole seconds for numerics
        self._next_sample = {channel.code: 0 for channel in CHANNELS}
        self._next_second = 0
        self._next_nibp = 0
        self._reported: frozenset[TechnicalKind] = frozenset()
        self._shown: tuple[LinkState, float | None] | None = None
        self._quiet = (math.inf, -math.inf)  # see SimulatedPatient.quiet_span

    def begin(self) -> None:
        clock = self.clock
        self._t0 = clock.now()
        # at speed > 1 keep the wall-time cadence and push fewer, larger blocks
        self._interval = self.block_interval_s * max(1.0, clock.speed)
        self._done = -_EPS  # station time (since t0) up to which everything has been pushed
        # beds started together would otherwise all wake at the same instants and queue for the GIL
        self._deadline = self._interval * ((self.bed_index * _GOLDEN) % 1.0)
        # a real device does not deliver hours of backlog after the station was suspended: beyond this,
        # the missed stretch becomes a gap, as after a disconnect
        self._backlog_limit = max(_MAX_BACKLOG_S, 10.0 * self._interval)

    def step(self, sink: Sink) -> float:
        t0 = self._t0
        elapsed = self.clock.now() - t0
        if elapsed - self._done > self._backlog_limit:
            self._done = elapsed - self._interval
            self._skip_to(self._done)
        # A late pass (a busy core, the window opening) catches up in blocks of the usual size, as a
        # real device's buffered blocks arrive: one big block would make the display treat this bed
        # as a bursty device and play its waves out later for many seconds afterwards.
        step = min(_MAX_STEP_S, self._interval)
        while self._done < elapsed and not self.stopping:
            step_end = min(elapsed, self._done + step)
            self._publish(sink, t0, self._done, step_end)
            self._done = step_end
        self._deadline += self._interval
        if self._deadline < elapsed:  # fell behind (a suspended machine, a busy core): do not burst
            self._deadline = elapsed + self._interval
        return max(0.0, self._deadline - (self.clock.now() - t0))

    def _skip_to(self, t: float) -> None:
        """Resume after `t` (seconds since t0) without pushing what was due before it."""
        for channel in CHANNELS:
            self._next_sample[channel.code] = max(self._next_sample[channel.code], _due(t, channel.rate))
        self._next_second = max(self._next_second, _due(t, 1.0))
        self._next_nibp = max(self._next_nibp, math.floor(t / self.nibp_interval_s + _EPS) + 1)
        self._quiet = (math.inf, -math.inf)

    def _publish(self, sink: Sink, t0: float, t_from: float, t_to: float) -> None:
        """Push everything whose time falls in (t_from, t_to] (seconds since t0)."""
        p = self.patient
        quiet_from, quiet_to = self._quiet
        if quiet_from <= t_from and t_to < quiet_to:  # the usual pass: nothing technical can change
            gaps: list[tuple[float, float]] = []
            connected = True
        else:
            gaps = p.disconnections(t_from, t_to)
            for change in p.technical_changes(t_from, t_to):
                if not _in_gap(change.time, gaps):
                    self._report(sink, change, t0)
            connected = p.connected(t_to)
            if connected:
                self._reconcile(sink, t0, t_to)
            self._quiet = p.quiet_span(t_to)
        next_sample = self._next_sample
        for channel in CHANNELS:
            code, rate = channel.code, channel.rate
            first, end = next_sample[code], _due(t_to, rate)
            if first >= end:
                continue
            for a, b in _outside(first, end, rate, gaps) if gaps else ((first, end),):
                samples = p.samples(code, a, b - a)
                sink.push_block(
                    WaveformBlock(self.bed, code, samples, rate, t0 + a / rate, channel.unit, channel.label)
                )
            next_sample[code] = end
        for second in range(self._next_second, _due(t_to, 1.0)):
            if not _in_gap(second, gaps):
                for reading in p.readings(float(second)):
                    sink.push_observation(self._observation(reading, t0 + second))
            self._next_second = second + 1
        while self._next_nibp * self.nibp_interval_s <= t_to + _EPS:
            t = self._next_nibp * self.nibp_interval_s
            if not _in_gap(t, gaps):  # a measurement due while disconnected is lost with the link
                for reading in p.nibp(t):
                    sink.push_observation(self._observation(reading, t0 + t))
            self._next_nibp += 1
        self._show_status(connected, None if self.scenario.battery is None else p.battery_percent(t_to))

    def _observation(self, reading: Reading, time: float) -> Observation:
        return Observation(
            self.bed, reading.code, reading.value, reading.unit, time, reading.validity, self.source_id
        )

    def _report(self, sink: Sink, change: TechnicalChange, t0: float) -> None:
        if (change.kind in self._reported) == change.active:
            return
        self._reported = self._reported | {change.kind} if change.active else self._reported - {change.kind}
        sink.push_event(
            TechnicalEvent(self.bed, change.kind, change.active, t0 + change.time, change.detail, change.code)
        )

    def _reconcile(self, sink: Sink, t0: float, t: float) -> None:
        """Report conditions that changed while the link was down, stamped with the time they are seen."""
        state = self.patient.technical_state(t)
        for kind in sorted(self._reported ^ state):
            self._report(sink, technical_change(t, kind, kind in state), t0)

    def _show_status(self, connected: bool, battery: float | None) -> None:
        state = LinkState.CONNECTED if connected else LinkState.DISCONNECTED
        shown = (state, None if battery is None else round(battery, 1))
        if shown == self._shown:
            return
        self._shown = shown
        detail = self.scenario.name if connected else "no data from the device"
        if shown[1] is None:
            self._set_status(state, detail)
        else:
            self._set_status(state, detail, battery_percent=shown[1])
