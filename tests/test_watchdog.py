"""A station killed under the watchdog is started again within seconds and tells the ward it restarted;
a clean stop is not taken for a crash."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

import psutil
import pytest
from wardwatch.app.clock import FixedClock
from wardwatch.app.domain import STATION_BED, TechnicalKind
from wardwatch.app.run_marker import MARKER_NAME, PreviousRun, RunMarker, notice
from wardwatch.app.station import BedSetup, Station, StationSetup
from wardwatch.app.watchdog import BURST_RESTARTS, RESTART_DELAY_S, SLOW_RESTART_DELAY_S, restart_delay

STATION = ["run", "--headless", "--duration", "300", "--no-record", "--beds", "1"]


def lines_of(proc: subprocess.Popen[str]) -> queue.Queue[str]:
    q: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            q.put(line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    return q


def wait_line(q: queue.Queue[str], text: str, seconds: float = 30.0) -> tuple[str, float]:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            line = q.get(timeout=max(0.01, end - time.monotonic()))
        except queue.Empty:
            break
        if text in line:
            return line, time.monotonic()
    raise AssertionError(f"no line with {text!r} within {seconds} s")


def marker_pid(data_dir: Path) -> int | None:
    try:
        return int(json.loads((data_dir / MARKER_NAME).read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return None


@pytest.fixture
def watchdog(tmp_path: Path):
    data_dir = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, "-m", "wardwatch.app.cli", "watchdog", "--", *STATION, "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    yield proc, lines_of(proc), data_dir
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            for child in psutil.Process(proc.pid).children(recursive=True):
                child.kill()
            proc.kill()


@pytest.mark.timeout(120)
def test_a_killed_station_is_restarted_within_seconds_and_says_it_restarted(watchdog) -> None:
    proc, lines, data_dir = watchdog
    wait_line(lines, "station started (pid")
    end = time.monotonic() + 30
    while marker_pid(data_dir) is None and time.monotonic() < end:
        time.sleep(0.05)
    first = marker_pid(data_dir)
    assert first is not None and psutil.pid_exists(first)
    os.kill(first, signal.SIGKILL)
    killed = time.monotonic()
    _line, restarted = wait_line(lines, "station started (pid")
    assert restarted - killed <= 5.0
    line, _ = wait_line(lines, "Station restarted at")
    assert "after an unexpected stop" in line
    # a stop by the service manager is clean: the watchdog ends, the marker is gone
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert not (data_dir / MARKER_NAME).exists()


def test_a_clean_stop_leaves_no_marker_and_the_next_start_is_no_restart(tmp_path: Path) -> None:
    marker = RunMarker(tmp_path)
    assert marker.begin() is None
    marker.end()
    again = RunMarker(tmp_path)
    assert again.begin() is None
    again.end()


def test_a_marker_left_behind_is_a_restart_with_the_last_sign_of_life(tmp_path: Path) -> None:
    (tmp_path / MARKER_NAME).write_text(json.dumps({"pid": 999_999_999, "started": 1.0, "alive": 1000.0}))
    marker = RunMarker(tmp_path)
    previous = marker.begin()
    marker.end()
    assert previous == PreviousRun(999_999_999, 1.0, 1000.0)
    text = notice(previous, 1000.0 + 120)
    assert text.startswith("Station restarted at ") and "last known running at" in text


def test_a_marker_cut_short_by_a_power_loss_still_counts_as_a_restart(tmp_path: Path) -> None:
    (tmp_path / MARKER_NAME).write_text('{"pid": 12')
    marker = RunMarker(tmp_path)
    assert marker.begin() is not None
    marker.end()


def test_restarts_slow_down_only_when_the_station_keeps_dying() -> None:
    recent: deque[float] = deque()
    assert restart_delay(recent, 100.0) == RESTART_DELAY_S
    recent.extend(100.0 + k for k in range(BURST_RESTARTS))
    assert restart_delay(recent, 106.0) == SLOW_RESTART_DELAY_S
    assert restart_delay(recent, 200.0) == RESTART_DELAY_S  # a minute later the burst is forgotten


def test_the_restart_is_a_station_technical_alarm(tmp_path: Path) -> None:
    from wardwatch.app.cli import begin_run
    from wardwatch.app.config import StationConfig

    (tmp_path / MARKER_NAME).write_text(json.dumps({"pid": 999_999_999, "started": 1.0, "alive": 1000.0}))
    station = Station(StationSetup("W", [BedSetup("Bed 1", None)]), FixedClock(time.time()))
    config = StationConfig(data_dir=tmp_path)
    marker, messages = begin_run(station, config)
    marker.end()
    assert messages and messages[0].startswith("Station restarted at")
    condition = {c.kind: c for c in station.hub.conditions(STATION_BED)}[TechnicalKind.STATION_RESTARTED]
    assert "unexpected stop" in condition.detail
