"""The support bundle holds logs, versions, config and device status, and no secret or patient data."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

from wardwatch.app.diagnostics import blank_secrets
from wardwatch.storage.keys import DatabaseKey, read_key_file, write_key_file

PATIENT = ("MRN-918273", "Quuxley", "Zebediah")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd, timeout=120, check=False)


def test_the_bundle_has_what_support_needs_and_no_secret_or_patient_data(tmp_path: Path) -> None:
    data_dir, key_file, config = tmp_path / "data", tmp_path / "station.key", tmp_path / "wardwatch.toml"
    write_key_file(key_file, DatabaseKey.new())
    config.write_text(
        '[station]\nname = "Ward 7"\n[interop]\nmllp_password = "hunter2"\napi_token = "abc123"\n'
    )
    # a station that records, with an admitted patient, logging as it does on a ward
    script = textwrap.dedent(
        f"""
        import datetime as dt, time
        from pathlib import Path
        from wardwatch.app.clock import ScaledClock
        from wardwatch.app.domain import Patient
        from wardwatch.app.logs import setup_logging
        from wardwatch.app.run_marker import RunMarker
        from wardwatch.app.diagnostics import device_snapshot
        from wardwatch.app.station import BedSetup, Station, StationSetup
        from wardwatch.storage.station_record import attach_record
        data_dir = Path({str(data_dir)!r})
        setup_logging(data_dir, verbose=True)
        station = Station(StationSetup("Ward 7", [BedSetup("Bed 1", "sim:stable")]), ScaledClock(1.0))
        record = attach_record(station, data_dir, Path({str(key_file)!r}))
        marker = RunMarker(data_dir, lambda: device_snapshot(station))
        marker.begin()
        station.start()
        station.admit("bed01", Patient({PATIENT[0]!r}, {PATIENT[1]!r}, {PATIENT[2]!r}, dt.date(1941, 2, 3)))
        time.sleep(2)
        marker._write()  # the heartbeat, now rather than in 30 s
        station.stop()
        record.close()
        """
    )
    made = run(sys.executable, "-c", script, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    out = tmp_path / "support.zip"
    result = run(
        sys.executable, "-m", "wardwatch.app.cli", "diagnostics", "--data-dir", str(data_dir),
        "--config", str(config), "--out", str(out), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
        everything = b"".join(z.read(n) for n in names).decode("utf-8", "replace")
    assert {"versions.txt", "config/wardwatch.toml", "data-dir.txt", "station-status.json"} <= names
    assert any(n.startswith("logs/") for n in names)
    assert "Bed 1" in everything and '"state": "connected"' in everything  # the device status
    assert "wardwatch.db" in everything  # the record is listed by name and size ...
    assert not any(n.endswith((".db", ".key")) for n in names)  # ... never included
    for secret in ("hunter2", "abc123", read_key_file(key_file).hex()):
        assert secret not in everything
    for phi in (*PATIENT, "1941"):
        assert phi not in everything


def test_secret_looking_config_values_are_blanked_and_others_kept() -> None:
    text = 'name = "Ward 7"\nmllp_password = "x"\nKEY_FILE = "/etc/k"\n  api-token = 3'
    assert blank_secrets(text).splitlines() == [
        'name = "Ward 7"',
        'mllp_password = "<removed>"',
        'KEY_FILE = "<removed>"',
        '  api-token = "<removed>"',
    ]
