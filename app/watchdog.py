"""`wardwatch watchdog -- ARGS`: run the station as a child and start it again within seconds if it dies.

For ward PCs whose session has no systemd user manager (a kiosk autostart entry): the autostart runs
`wardwatch watchdog -- --kiosk`. Where systemd is there, `packaging/systemd/wardwatch.service` does the
same job with `Restart=on-failure`. Either way the station itself tells the ward that it was restarted
(see app/run_marker.py); the watchdog only brings it back, and logs why it went.

A station that quits normally (exit status 0: someone closed it on purpose) is not started again. One
that keeps dying is still started again, but after 10 s instead of 1 s, so a broken installation does
not spin the CPU the ward's other software needs.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from types import FrameType
from typing import TextIO

log = logging.getLogger(__name__)

RESTART_DELAY_S = 1.0
BURST_RESTARTS = 5  # more restarts than this within BURST_WINDOW_S: slow down
BURST_WINDOW_S = 60.0
SLOW_RESTART_DELAY_S = 10.0


def station_command(args: Sequence[str]) -> list[str]:
    """The command that starts the station with `args`: the frozen build's own executable, or this
    Python running the command line module."""
    if getattr(sys, "frozen", False):
        return [sys.executable, *args]
    return [sys.executable, "-m", "wardwatch.app.cli", *args]


def describe(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit status {returncode}"


def restart_delay(restarts: deque[float], now: float) -> float:
    """Pause before the next start, given the monotonic times of the recent restarts."""
    while restarts and restarts[0] < now - BURST_WINDOW_S:
        restarts.popleft()
    return SLOW_RESTART_DELAY_S if len(restarts) >= BURST_RESTARTS else RESTART_DELAY_S


def watch(args: Sequence[str], out: TextIO) -> int:
    stop = threading.Event()
    child: subprocess.Popen[bytes] | None = None

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()
        if child is not None and child.poll() is None:
            child.terminate()  # the station stops cleanly on SIGTERM

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, on_signal)
    restarts: deque[float] = deque()
    while True:
        child = subprocess.Popen(station_command(args))
        print(f"watchdog: station started (pid {child.pid})", file=out, flush=True)
        returncode = child.wait()
        if stop.is_set():
            print(f"watchdog: stopped; station ended with {describe(returncode)}", file=out, flush=True)
            return 0
        if returncode == 0:
            print("watchdog: the station was closed normally; not restarting", file=out, flush=True)
            return 0
        now = time.monotonic()
        delay = restart_delay(restarts, now)
        restarts.append(now)
        log.error("station ended with %s; starting it again in %.0f s", describe(returncode), delay)
        print(
            f"watchdog: station ended with {describe(returncode)}; starting it again in {delay:.0f} s",
            file=out,
            flush=True,
        )
        if stop.wait(delay):
            return 0
