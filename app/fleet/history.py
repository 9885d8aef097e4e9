"""Each device's recorded history in memory: one row a minute of battery, link quality and its
cumulative counters, for the maintenance predictions (numpy columns, a fixed capacity per device)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

COLUMNS = ("time", "battery", "link_quality", "decode_errors", "disconnects", "sensor_off", "connected")
DEFAULT_CAPACITY = 3 * 24 * 60  # three days at one row a minute: ~170 kB per device


@dataclass(frozen=True, slots=True)
class HistoryRow:
    device_id: str
    time: float
    battery: float | None
    link_quality: float | None
    decode_errors: int
    disconnects: int
    sensor_off: int
    connected: bool

    def values(self) -> tuple[float, ...]:
        nan = float("nan")
        return (
            self.time,
            nan if self.battery is None else self.battery,
            nan if self.link_quality is None else self.link_quality,
            float(self.decode_errors),
            float(self.disconnects),
            float(self.sensor_off),
            1.0 if self.connected else 0.0,
        )


class DeviceHistory:
    """The newest `capacity` rows of one device, oldest first when read."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._data = np.full((capacity, len(COLUMNS)), np.nan)
        self._count = 0

    def add(self, row: HistoryRow) -> None:
        cap = len(self._data)
        if self._count and row.time <= self._data[(self._count - 1) % cap, 0]:
            return  # rows come in time order; a repeat (seeded from the record) is dropped
        self._data[self._count % cap] = row.values()
        self._count += 1

    def columns(self) -> dict[str, npt.NDArray[np.float64]]:
        cap = len(self._data)
        n = min(self._count, cap)
        start = self._count - n
        idx = (np.arange(start, self._count) % cap) if n else np.arange(0)
        block = self._data[idx]
        return {name: block[:, i].copy() for i, name in enumerate(COLUMNS)}

    def __len__(self) -> int:
        return min(self._count, len(self._data))
