"""A time-ordered table of float rows in preallocated columns, dropped from the front as time moves on.

The beat and breath schedules are drawn a little ahead and kept a minute or so behind. Holding them in
one fixed block of memory, touched once when the patient is created, keeps a station's memory flat from
its first second instead of growing while Python lists of tuples fill up to their bound.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatTable = npt.NDArray[np.float64]


class RowTable:
    """Rows appended in increasing order of their first column (a time)."""

    def __init__(self, columns: int, capacity: int) -> None:
        self._data: FloatTable = np.full((capacity, columns), np.nan)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def clear(self) -> None:
        self._n = 0

    def append(self, *row: float) -> None:
        if self._n == len(self._data):  # only for look-backs far beyond what the station asks
            self._data = np.concatenate((self._data, np.full_like(self._data, np.nan)))
        self._data[self._n] = row
        self._n += 1

    @property
    def times(self) -> npt.NDArray[np.float64]:
        """The first column of the rows held (a view: valid until the next append or forget)."""
        return self._data[: self._n, 0]

    def row(self, k: int) -> tuple[float, ...]:
        return tuple(float(v) for v in self._data[k])

    def rows(self, i: int, j: int) -> FloatTable:
        """A copy of rows i … j-1, safe to keep while the table moves on."""
        return self._data[i:j].copy()

    def forget_before(self, t: float) -> int:
        """Drop the rows whose time is ≤ t; returns how many went."""
        cut = int(np.searchsorted(self.times, t, side="right"))
        if cut:
            keep = self._n - cut
            self._data[:keep] = self._data[cut : self._n]
            self._n = keep
        return cut
