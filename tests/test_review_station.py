"""The review on records a real station made: a simulated ward run headless faster than real time,
and replayed real records (PhysioNet 2015), each reported by `wardwatch report handover`."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from pypdf import PdfReader
from wardwatch.app.cli import main
from wardwatch.storage.keys import DatabaseKey, write_key_file


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "station.key"
    write_key_file(path, DatabaseKey.new())
    return path


def _report(data: Path, key_file: Path, out: Path, hours: str, end: float) -> str:
    iso = dt.datetime.fromtimestamp(end, dt.UTC).isoformat()
    args = ["report", "handover", "--ward", "--hours", hours, "--end", iso, "--out", str(out)]
    assert main([*args, "--data-dir", str(data), "--key-file", str(key_file)]) == 0
    return "\n".join(p.extract_text() for p in PdfReader(out).pages)


def test_a_simulated_ward_run_headless_faster_than_real_time_is_reported(tmp_path, key_file):
    data = tmp_path / "data"
    started = time.time()
    run = ["run", "--headless", "--beds", "3", "--speed", "10", "--duration", "180"]
    assert main([*run, "--data-dir", str(data), "--key-file", str(key_file)]) == 0
    text = _report(data, key_file, tmp_path / "sim.pdf", "1", started + 200.0)
    for bed in ("Bed 1", "Bed 2", "Bed 3"):
        assert bed in text
    assert "HR bpm" in text and "SpO2 %" in text  # the recorded numerics, hour by hour
    assert "NEWS2 at the end" in text and "NEWS2: no score" not in text


def test_replayed_real_records_are_reported(tmp_path, key_file, shared_data):
    data = tmp_path / "data"
    started = time.time()
    run = ["run", "--headless", "--beds", "2", "--speed", "5", "--duration", "60"]
    replay = ["--replay", str(shared_data / "physionet2015")]
    assert main([*run, *replay, "--data-dir", str(data), "--key-file", str(key_file)]) == 0
    text = _report(data, key_file, tmp_path / "replay.pdf", "1", started + 80.0)
    assert "Bed 1" in text and "Bed 2" in text
    assert "HR bpm" in text
