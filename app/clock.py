"""Station clock. Sources stamp samples with it; headless runs may scale it to go faster than real time."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    @property
    def speed(self) -> float: ...

    def now(self) -> float:
        """Station time, seconds since the epoch (UTC)."""
        ...

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        """Wait `seconds` of station time; True if `stop` was set meanwhile."""
        ...


class ScaledClock:
    """Wall clock running `speed` times faster than real time from the moment it is made (1.0 = real time)."""

    def __init__(self, speed: float = 1.0, start: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._speed = speed
        self._start_wall = time.time() if start is None else start
        self._start_mono = time.monotonic()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> float:
        return self._start_wall + (time.monotonic() - self._start_mono) * self._speed

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        return stop.wait(max(0.0, seconds) / self._speed)


def real_clock() -> ScaledClock:
    return ScaledClock(1.0)


class FixedClock:
    """Station time that stands still unless moved (`t`): what depends on it never depends on how
    fast the machine runs. For tests and offline evaluation."""

    def __init__(self, now: float) -> None:
        self.t = now

    @property
    def speed(self) -> float:
        return 1.0

    def now(self) -> float:
        return self.t

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        return stop.wait(seconds)
