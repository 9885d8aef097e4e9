"""How much of what a device should have sent arrived intact, over the last minute."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

WINDOW_S = 60.0


@dataclass(slots=True)
class LinkHealth:
    """Counts of good and bad units (packets, lines, frames) with their times; the loss is the share of
    bad units in the window. Gaps where nothing arrived at all are the supervisor's "no signal"."""

    window_s: float = WINDOW_S
    _counts: deque[tuple[float, int, int]] = field(default_factory=deque)

    def add(self, now: float, good: int, bad: int) -> None:
        if good or bad:
            self._counts.append((now, good, bad))
        while self._counts and self._counts[0][0] < now - self.window_s:
            self._counts.popleft()

    def loss_percent(self, now: float) -> float | None:
        """Percent of the window's units that were bad; None before anything arrived."""
        self.add(now, 0, 0)
        good = sum(g for _, g, _ in self._counts)
        bad = sum(b for _, _, b in self._counts)
        total = good + bad
        return None if total == 0 else round(100.0 * bad / total, 1)
