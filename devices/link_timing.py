"""What the link benches (`wardwatch bench link`, `bench ble`) time, and how they wait for it."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import TechnicalKind
from wardwatch.app.hub import StreamHub


def since(start: float, condition: Callable[[], bool], limit_s: float = 60.0) -> float:
    """Wait for `condition`; the seconds from `start` (a time.monotonic()) until it held, NaN if never."""
    while not condition():
        if time.monotonic() - start > limit_s:
            return math.nan
        time.sleep(0.005)
    return time.monotonic() - start


def conditions(hub: StreamHub, bed: str) -> set[TechnicalKind]:
    return {c.kind for c in hub.conditions(bed)}


def samples(hub: StreamHub, bed: str, code: MdcCode) -> int:
    """Samples of one wave that reached the bed so far."""
    streams = hub.streams(bed)
    channel = streams.waves.get(code) if streams else None
    return channel.ring.count if channel else 0


def run_figures(
    away: float, state: float, alarm: float, reconnected: float, data: float, cleared: float
) -> dict[str, float]:
    """One pull-and-return, as both link benches print it (keys are the benches' JSON contract)."""
    return {
        "away_s": away,
        "link_state_s": round(state, 3),
        "technical_alarm_s": round(alarm, 2),
        "reconnected_s": round(reconnected, 2),
        "data_again_s": round(data, 2),
        "alarm_cleared_s": round(cleared, 2),
    }
