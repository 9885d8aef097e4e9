"""Knowing that the station did not stop cleanly last time: a marker file in the data dir.

The marker is written when the station starts, touched every half minute while it runs and removed when
it stops cleanly. Finding one at start-up means the last run ended without a clean stop (a crash, a kill,
the power): the station says so on screen, as a technical alarm, and in its record, because the
minutes it was away are minutes nobody was watching.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

log = logging.getLogger(__name__)

MARKER_NAME = "station.running"
BEAT_EVERY_S = 30.0


@dataclass(frozen=True, slots=True)
class PreviousRun:
    pid: int
    started: float
    last_alive: float  # the last time the run was known to be alive (its last heartbeat)


def notice(previous: PreviousRun, now: float) -> str:
    """What the ward is told: when the station came back, and when it was last known to be running."""

    def hhmmss(t: float) -> str:
        return dt.datetime.fromtimestamp(t).strftime("%H:%M:%S")

    return (
        f"Station restarted at {hhmmss(now)} after an unexpected stop; "
        f"last known running at {hhmmss(previous.last_alive)}"
    )


def _alive(pid: int) -> bool:
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        return psutil.Process(pid).is_running() and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


class RunMarker:
    # wall-clock times: what IT compares with the system log, whatever speed a test station runs at
    def __init__(self, folder: Path, status: Callable[[], list[dict[str, object]]] | None = None) -> None:
        self.path = folder / MARKER_NAME
        # what the devices say, kept with the heartbeat for `wardwatch diagnostics` (no patient data)
        self._status = status
        self._started = time.time()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._owned = False

    def begin(self) -> PreviousRun | None:
        """Claim the marker; the run that left one behind, if it is not running any more."""
        previous = self._read()
        if previous is not None and _alive(previous.pid):
            # another station on this data dir (the record's lock refuses the second one anyway)
            log.warning("a station (pid %d) is already running on %s", previous.pid, self.path.parent)
            return None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._write()
        except OSError as exc:  # a read-only or full disk must not stop the monitoring
            log.warning("cannot write the run marker %s: %s", self.path, exc)
            return previous
        self._owned = True
        self._thread = threading.Thread(target=self._beat, name="run-marker", daemon=True)
        self._thread.start()
        return previous

    def end(self) -> None:
        """A clean stop: the next start is not a restart."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._owned:
            self.path.unlink(missing_ok=True)
            self._owned = False

    def _read(self) -> PreviousRun | None:
        try:
            raw = json.loads(self.path.read_text("utf-8"))
            return PreviousRun(int(raw["pid"]), float(raw["started"]), float(raw["alive"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # a marker cut short by the power going is itself a sign of an unclean stop
            log.warning("run marker %s unreadable (%s)", self.path, exc)
            stamp = self.path.stat().st_mtime if self.path.exists() else time.time()
            return PreviousRun(-1, stamp, stamp)

    def _write(self) -> None:
        state: dict[str, object] = {"pid": os.getpid(), "started": self._started, "alive": time.time()}
        if self._status is not None:
            try:
                state["devices"] = self._status()
            except Exception as exc:  # a status that cannot be read must not stop the heartbeat
                state["devices"] = f"unavailable ({type(exc).__name__})"
        body = json.dumps(state)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(body, "utf-8")
        os.replace(tmp, self.path)

    def _beat(self) -> None:
        while not self._stop.wait(BEAT_EVERY_S):
            try:
                self._write()
            except OSError as exc:
                log.warning("cannot refresh the run marker: %s", exc)
