"""Lock-free single-writer ring buffer of (time, value) samples.

One thread writes; any number of threads read without ever blocking the writer. The writer announces
the range it is about to overwrite (`_reserved`) before touching the arrays and publishes it (`_count`)
after; a reader copies what it wants, then drops whatever the writer may have overwritten meanwhile.
Under the GIL the two integer stores are atomic, which is all this needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class Chunk:
    """Samples copied out of a ring: `cursor` is where the next `read_since` should start."""

    values: npt.NDArray[np.float32]
    times: npt.NDArray[np.float64]
    cursor: int
    lost: int = 0  # samples the reader was too slow for (overwritten before they were read)


# 0, 1, 2, … for sample times of evenly spaced blocks (read-only, shared by every ring).
_RAMP = np.arange(1 << 16, dtype=np.float64)
_RAMP.flags.writeable = False


class SampleRing:
    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        # np.full touches every page now: the ring's memory is resident from the start instead of
        # growing for an hour as a 1 Hz numeric history fills (which looks like a leak).
        self._values = np.full(capacity, np.nan, np.float32)
        self._times = np.full(capacity, np.nan, np.float64)
        self._count = 0  # samples published so far
        self._reserved = 0  # samples the writer may have started to write

    @property
    def count(self) -> int:
        return self._count

    @property
    def latest_time(self) -> float | None:
        n = self._count
        return None if n == 0 else float(self._times[(n - 1) % self.capacity])

    def write(self, values: npt.ArrayLike, times: npt.ArrayLike) -> None:
        """Append samples (single writer only)."""
        v = np.asarray(values, np.float32).ravel()
        t = np.asarray(times, np.float64).ravel()
        if v.shape != t.shape:
            raise ValueError("values and times differ in length")
        n = len(v)
        if n == 0:
            return
        start = self._count
        if n > self.capacity:
            v, t = v[-self.capacity :], t[-self.capacity :]
            start += n - self.capacity
            n = self.capacity
        self._reserved = start + n
        i = start % self.capacity
        first = min(n, self.capacity - i)
        self._values[i : i + first] = v[:first]
        self._times[i : i + first] = t[:first]
        if first < n:
            self._values[: n - first] = v[first:]
            self._times[: n - first] = t[first:]
        self._count = start + n

    def write_block(self, values: npt.ArrayLike, t0: float, rate: float) -> None:
        """Append evenly spaced samples, the first at `t0` (single writer only).

        The common case of every source, so the sample times are computed straight into the ring
        instead of into a temporary array first: 64 beds push ~4800 blocks a second, and every
        microsecond here is held under the interpreter lock the display thread is waiting for."""
        v = np.asarray(values, np.float32).ravel()
        n = len(v)
        if n == 0:
            return
        if n > min(self.capacity, len(_RAMP)):
            self.write(v, t0 + np.arange(n, dtype=np.float64) / rate)
            return
        start = self._count
        self._reserved = start + n
        i = start % self.capacity
        first = min(n, self.capacity - i)
        self._values[i : i + first] = v[:first]
        times = self._times[i : i + first]
        np.divide(_RAMP[:first], rate, out=times)
        times += t0
        if first < n:
            self._values[: n - first] = v[first:]
            times = self._times[: n - first]
            np.divide(_RAMP[first:n], rate, out=times)
            times += t0
        self._count = start + n

    def _copy(self, start: int, end: int) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float64]]:
        cap = self.capacity
        i, j = start % cap, end % cap
        if end - start == 0:
            return np.empty(0, np.float32), np.empty(0, np.float64)
        if i < j:
            return self._values[i:j].copy(), self._times[i:j].copy()
        return (
            np.concatenate((self._values[i:], self._values[:j])),
            np.concatenate((self._times[i:], self._times[:j])),
        )

    def read_since(self, cursor: int, max_samples: int | None = None) -> Chunk:
        """Samples published after `cursor` (at most the newest `max_samples`)."""
        end = self._count
        if cursor > end:  # the ring was replaced or reset: start over from what is there
            cursor = 0
        start = max(cursor, end - self.capacity)
        if max_samples is not None:
            start = max(start, end - max_samples)
        lost = start - cursor
        values, times = self._copy(start, end)
        oldest_safe = self._reserved - self.capacity
        if oldest_safe > start:  # the writer lapped us while copying
            drop = min(oldest_safe - start, len(values))
            values, times = values[drop:], times[drop:]
            lost += drop
        return Chunk(values, times, end, lost)

    def latest(self, n: int) -> Chunk:
        """The newest `n` samples (fewer if the ring holds fewer)."""
        return self.read_since(max(0, self._count - n), max_samples=n)

    def since_time(self, t_from: float) -> Chunk:
        """Samples with time ≥ `t_from` (times are assumed non-decreasing)."""
        chunk = self.latest(self.capacity)
        k = int(np.searchsorted(chunk.times, t_from, side="left"))
        return Chunk(chunk.values[k:], chunk.times[k:], chunk.cursor, 0) if k else chunk
