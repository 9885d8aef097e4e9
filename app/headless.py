"""`wardwatch run --headless`: the whole pipeline without a window, with a one-line summary per 10 s."""

from __future__ import annotations

import signal
import threading
import time
from typing import TextIO

import psutil
from wardwatch.app.domain import LinkState
from wardwatch.app.station import Station

SUMMARY_EVERY_S = 10.0


def summary_line(station: Station, station_elapsed: float, wall_elapsed: float, rss_mb: float) -> str:
    c = station.hub.counters
    states = [s.status.state for s in station.sources.values()]
    connected = sum(1 for s in states if s is LinkState.CONNECTED)
    technical = sum(1 for bed in station.beds if station.hub.conditions(bed.bed_id))
    return (
        f"t={station_elapsed:7.0f}s wall={wall_elapsed:6.1f}s beds={len(station.beds)} "
        f"connected={connected} samples={c.samples} observations={c.observations} "
        f"technical_events={c.events} beds_with_technical_state={technical} rss_mb={rss_mb:.1f}"
    )


def run_headless(station: Station, duration: float | None, out: TextIO) -> int:
    proc = psutil.Process()
    stop = threading.Event()
    # a service manager's stop (SIGTERM) is a clean stop, not a crash
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    clock = station.clock
    station.start()
    t0 = clock.now()
    wall0 = time.monotonic()
    next_summary = SUMMARY_EVERY_S
    try:
        while True:
            elapsed = clock.now() - t0
            if duration is not None and elapsed >= duration:
                break
            wait = next_summary - elapsed
            if duration is not None:
                wait = min(wait, duration - elapsed)
            if clock.wait(max(0.0, wait), stop):
                break
            elapsed = clock.now() - t0
            if elapsed + 1e-6 >= next_summary:
                rss = proc.memory_info().rss / 2**20
                out.write(summary_line(station, elapsed, time.monotonic() - wall0, rss) + "\n")
                out.flush()
                next_summary += SUMMARY_EVERY_S
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        station.stop()
    return 0
