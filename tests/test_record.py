"""The encrypted record on real SQLCipher files, with the real OS keyring (a Secret Service in CI)."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import inspect
from wardwatch.app.clock import ScaledClock
from wardwatch.app.domain import STATION_BED, Patient, TechnicalKind
from wardwatch.app.station import BedSetup, Station, StationSetup
from wardwatch.storage import schema
from wardwatch.storage.codec import decode_hour, encode_hour
from wardwatch.storage.database import head_revision, integrity_ok, open_record
from wardwatch.storage.errors import KeyFileError, KeyMissingError, LockedError, WrongKeyError
from wardwatch.storage.keys import DatabaseKey, read_key_file, write_key_file
from wardwatch.storage.reader import RecordReader
from wardwatch.storage.recorder import trend_row, wave_row
from wardwatch.storage.station_record import attach_record
from wardwatch.storage.writer import RecordWriter, Retention, Row, compact_slice, purge_slice


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "station.key"
    write_key_file(path, DatabaseKey.new())
    return path


def _has_keyring() -> bool:
    import keyring
    from keyring.backends import fail

    return not isinstance(keyring.get_keyring(), fail.Keyring)


def test_the_database_file_is_unreadable_without_its_key(tmp_path, key_file):
    record = open_record(tmp_path / "data", key_file=key_file)
    record.close()
    path = tmp_path / "data" / "wardwatch.db"
    assert not path.read_bytes().startswith(b"SQLite format 3\0")
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        sqlite3.connect(path).execute("SELECT * FROM sqlite_master").fetchall()
    assert path.stat().st_mode & 0o077 == 0


def test_a_wrong_key_is_refused_with_a_plain_message_and_no_sqlcipher_noise(tmp_path, key_file, capfd):
    open_record(tmp_path / "data", key_file=key_file).close()
    other = tmp_path / "other.key"
    wrong = DatabaseKey.new()
    write_key_file(other, wrong)
    before = hashlib.sha256((tmp_path / "data" / "wardwatch.db").read_bytes()).hexdigest()
    with pytest.raises(WrongKeyError, match="the database key does not match this database") as info:
        open_record(tmp_path / "data", key_file=other)
    assert wrong.hex() not in str(info.value)
    assert "ERROR CORE" not in capfd.readouterr().err
    assert hashlib.sha256((tmp_path / "data" / "wardwatch.db").read_bytes()).hexdigest() == before
    assert info.value.exit_code == WrongKeyError.exit_code


def test_a_second_station_on_the_same_database_is_refused(tmp_path, key_file):
    record = open_record(tmp_path / "data", key_file=key_file)
    try:
        with pytest.raises(LockedError, match="in use by another WardWatch station"):
            open_record(tmp_path / "data", key_file=key_file)
    finally:
        record.close()
    open_record(tmp_path / "data", key_file=key_file).close()  # free again once the first has closed


def test_a_key_file_must_be_private_and_hold_64_hex_characters(tmp_path):
    path = tmp_path / "k"
    key = DatabaseKey.new()
    write_key_file(path, key)
    assert read_key_file(path) == key
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        read_key_file(path)
    path.chmod(0o600)
    path.write_text("not hex\n")
    with pytest.raises(KeyFileError, match="64 hexadecimal"):
        read_key_file(path)
    with pytest.raises(KeyFileError, match="cannot read"):
        read_key_file(tmp_path / "missing")


def test_the_key_never_shows_in_its_repr_or_str():
    key = DatabaseKey.new()
    assert key.hex() not in repr(key) and key.hex() not in str(key) and key.hex() not in f"{key}"


@pytest.mark.skipif(not _has_keyring(), reason="no OS keyring here (make test runs one)")
def test_the_key_is_made_on_first_run_kept_in_the_os_keyring_and_reused(tmp_path):
    import keyring

    data = tmp_path / "data"
    open_record(data).close()
    stored = keyring.get_password("WardWatch database key", str((data / "wardwatch.db").resolve()))
    assert stored is not None and len(stored) == 64
    record = open_record(data)  # the same key again, from the keyring
    assert integrity_ok(record.engine)
    record.close()


@pytest.mark.skipif(not _has_keyring(), reason="no OS keyring here (make test runs one)")
def test_an_existing_database_without_its_key_in_the_keyring_is_refused(tmp_path, key_file):
    open_record(tmp_path / "data", key_file=key_file).close()
    with pytest.raises(KeyMissingError, match="not in the keyring"):
        open_record(tmp_path / "data")


def test_migrations_build_the_whole_schema_from_empty(tmp_path, key_file):
    record = open_record(tmp_path / "data", key_file=key_file)
    try:
        tables = set(inspect(record.engine).get_table_names())
        assert set(schema.metadata.tables) <= tables
        with record.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == head_revision()
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        record.close()


def test_a_critical_row_is_committed_before_it_is_reported_recorded(tmp_path, key_file):
    record = open_record(tmp_path / "data", key_file=key_file)
    writer = RecordWriter(record.engine)
    writer.start()
    try:
        row = Row(schema.audit, {"time": 1.0, "user": "nurse", "action": "acknowledge", "detail": "bed01"})
        writer.put_critical(row).result(10)
        with record.engine.connect() as conn:
            assert (
                conn.exec_driver_sql("SELECT count(*) FROM audit WHERE action = 'acknowledge'").scalar() == 1
            )
    finally:
        writer.stop()
        record.close()


def test_a_running_station_records_waves_trends_alarms_and_admissions(tmp_path, key_file):
    station = Station(
        StationSetup("test", [BedSetup("Bed 1", "sim:stable"), BedSetup("Bed 2", "sim:vt")]), ScaledClock(1.0)
    )
    rec = attach_record(station, tmp_path / "data", key_file=key_file)
    station.start()
    t0 = station.clock.now()
    try:
        station.admit("bed01", Patient("MRN-4242", "Quill", "Ada", dt.date(1941, 3, 4)))
        time.sleep(6.0)
        station.discharge("bed01")
    finally:
        station.stop()
        rec.close()
    record = open_record(tmp_path / "data", key_file=key_file)
    try:
        reader = record.reader()
        waves = reader.waves("bed01", t0, t0 + 30.0)
        assert {r.rate for r in waves.values()} >= {250.0, 125.0}
        ecg = max(waves.values(), key=lambda s: s.rate)
        assert len(ecg.values) >= 4 * 250  # at least 4 of the 6 s
        assert np.all(np.diff(ecg.times) > 0)
        assert reader.trends("bed01", t0 - 60.0, t0 + 60.0)
        with record.engine.connect() as conn:
            adm = conn.exec_driver_sql("SELECT admitted_at, discharged_at FROM admissions").fetchall()
            assert len(adm) == 1 and adm[0][1] is not None
            assert conn.exec_driver_sql("SELECT mrn FROM patients").scalar() == "MRN-4242"
            beds = conn.exec_driver_sql("SELECT bed_id, label FROM beds ORDER BY bed_id").fetchall()
            assert beds == [("bed01", "Bed 1"), ("bed02", "Bed 2")]
            devices = conn.exec_driver_sql("SELECT bed_id, source FROM devices ORDER BY bed_id").fetchall()
            assert devices == [("bed01", "sim:stable"), ("bed02", "sim:vt")]
            audit = conn.exec_driver_sql("SELECT user, action, detail FROM audit ORDER BY id").fetchall()
            assert audit == [("station", "ward admit", "bed01"), ("station", "ward discharge", "bed01")]
    finally:
        record.close()


def test_retention_purges_expired_waveforms_and_trends_in_slices(tmp_path, key_file):
    record = open_record(tmp_path / "data", key_file=key_file)
    now = 2_000_000_000.0
    try:
        writer = RecordWriter(
            record.engine, Retention(waveforms_s=3600.0, trends_s=7200.0), clock=lambda: now
        )
        rows = [wave_row("bed01", 1, 250.0, "mV", now - 7200.0 + 4 * i, np.zeros(1000)) for i in range(1800)]
        writer.start()
        writer.put_many(rows)
        assert writer.flush()
        writer.stop()
        with record.engine.connect() as conn:
            assert (
                conn.exec_driver_sql("SELECT count(*) FROM waveforms").scalar() < 1800
            )  # the first slice ran
        while purge_slice(record.engine, now, Retention(3600.0, 7200.0), limit=100):
            pass
        with record.engine.connect() as conn:
            oldest = conn.exec_driver_sql("SELECT min(t_end) FROM waveforms").scalar()
        assert oldest >= now - 3600.0
    finally:
        record.close()


def _minutes_of_trends(first_minute: int, count: int, code: int = 147842) -> list[Row]:
    rng = np.random.default_rng(first_minute)
    rows = []
    for m in range(first_minute, first_minute + count):
        values = (60.0 + rng.integers(0, 40, 60)).astype(np.float32)
        values[rng.random(60) < 0.1] = np.nan  # seconds with no value (sensor off, dropout)
        rows.append(trend_row("bed01", code, m, values))
    return rows


def _write(record, rows: list[Row], now: float) -> None:
    """Rows through the station's own writer thread, committed."""
    writer = RecordWriter(record.engine, Retention(), clock=lambda: now)
    writer.start()
    writer.put_many(rows)
    assert writer.flush()
    writer.stop()


def test_an_hour_of_trend_values_round_trips_exactly_through_its_encoding():
    rng = np.random.default_rng(5)
    values = np.round(75 + np.cumsum(rng.normal(0, 0.3, 3600)), 1).astype(np.float32)
    values[rng.random(3600) < 0.2] = np.nan
    encoded = encode_hour(values)
    assert len(encoded) < values.nbytes / 2  # slowly changing values deflate well once shuffled
    np.testing.assert_array_equal(decode_hour(encoded), values)


def test_completed_hours_of_trends_are_folded_and_read_back_unchanged(tmp_path, key_file):
    record = open_record(tmp_path / "data", key_file=key_file)
    first = 30_000_000  # a minute at the start of an hour (UTC minutes since the epoch)
    now = (first + 200) * 60.0  # three hours complete, the fourth still open
    try:
        _write(record, _minutes_of_trends(first, 200), now)
        reader = RecordReader(record.engine)
        before = reader.trends("bed01", first * 60.0, now)
        while compact_slice(record.engine, now, limit=50):  # small slices split hours: still exact
            pass
        after = reader.trends("bed01", first * 60.0, now)
        np.testing.assert_array_equal(after[147842].times, before[147842].times)
        np.testing.assert_array_equal(after[147842].values, before[147842].values)
        with record.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM trend_hours").scalar() == 3
            assert conn.exec_driver_sql("SELECT count(*) FROM trends").scalar() == 20  # the open hour
        part = reader.trend("bed01", 147842, first * 60.0 + 3599.0, first * 60.0 + 3601.0)
        expected = before[147842]
        sel = (expected.times >= first * 60.0 + 3599.0) & (expected.times <= first * 60.0 + 3601.0)
        np.testing.assert_array_equal(part.values, expected.values[sel])
    finally:
        record.close()


def test_a_minute_row_arriving_after_its_hour_was_folded_is_read_and_folded_too(tmp_path, key_file):
    record = open_record(tmp_path / "data", key_file=key_file)
    first = 30_000_000
    now = (first + 130) * 60.0
    try:
        _write(record, _minutes_of_trends(first, 60), now)
        while compact_slice(record.engine, now):
            pass
        late = np.full(60, np.nan, np.float32)
        late[30:] = 99.0  # the second half of minute 10, held back by a full disk
        with record.engine.connect() as conn:
            old = conn.exec_driver_sql("SELECT samples FROM trend_hours").scalar()
        kept = decode_hour(old)[600:660]
        _write(record, [trend_row("bed01", 147842, first + 10, late)], now)
        reader = RecordReader(record.engine)
        start = (first + 10) * 60.0
        expected = np.where(np.isfinite(late), late, kept)
        expected_times = start + np.flatnonzero(np.isfinite(expected))
        got = reader.trend("bed01", 147842, start, start + 59.0)
        np.testing.assert_array_equal(got.times, expected_times)
        np.testing.assert_array_equal(got.values, expected[np.isfinite(expected)])
        while compact_slice(record.engine, now):
            pass
        with record.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM trends").scalar() == 0
        again = reader.trend("bed01", 147842, start, start + 59.0)
        np.testing.assert_array_equal(again.values, got.values)
    finally:
        record.close()


def test_retention_purges_folded_hours_of_trends(tmp_path, key_file):
    record = open_record(tmp_path / "data", key_file=key_file)
    first = 30_000_000
    now = (first + 600) * 60.0
    try:
        _write(record, _minutes_of_trends(first, 600), now)
        while compact_slice(record.engine, now):
            pass
        while purge_slice(record.engine, now, Retention(3600.0, 4 * 3600.0)):
            pass
        with record.engine.connect() as conn:
            oldest = conn.exec_driver_sql("SELECT min(hour) FROM trend_hours").scalar()
        assert (oldest + 1) * 3600.0 > now - 4 * 3600.0
        assert RecordReader(record.engine).trends("bed01", first * 60.0, now)
    finally:
        record.close()


def test_no_personal_health_information_reaches_the_log(tmp_path, key_file):
    log_file = tmp_path / "wardwatch.log"
    handler = logging.FileHandler(log_file)
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        station = Station(StationSetup("test", [BedSetup("Bed 1", "sim:stable")]), ScaledClock(5.0))
        rec = attach_record(station, tmp_path / "data", key_file=key_file)
        station.start()
        station.admit("bed01", Patient("MRN-77123", "Zebedee", "Philomena", dt.date(1933, 7, 9)))
        time.sleep(3.0)
        station.discharge("bed01")
        station.stop()
        rec.close()
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()
    text = log_file.read_text()
    assert "recording into" in text  # the log was written
    for secret in ("MRN-77123", "Zebedee", "Philomena", "1933-07-09"):
        assert secret not in text
        assert secret.encode() not in (tmp_path / "data" / "wardwatch.db").read_bytes()


CRASH_CHILD = r"""
import sys, time
from pathlib import Path
from wardwatch.storage.codec import decode_hour, encode_hour
from wardwatch.storage.database import open_record
from wardwatch.storage.writer import RecordWriter, Row
from wardwatch.storage.reader import RecordReader
from wardwatch.storage.recorder import trend_row, wave_row
from wardwatch.storage import schema
import numpy as np
record = open_record(Path(sys.argv[1]), key_file=Path(sys.argv[2]))
writer = RecordWriter(record.engine, batch_s=0.05)
writer.start()
start = int(sys.argv[3])
for i in range(start, start + 10**6):
    noise = np.random.default_rng(i).normal(size=1000)
    writer.put(wave_row("bed01", 1, 250.0, "mV", 2e9 + i, noise))
    future = writer.put_critical(Row(schema.alarm_events, {
        "time": 2e9 + i, "bed_id": "bed01", "alarm_id": i, "key": "hr_high", "priority": "high",
        "action": "raised", "user": "station", "detail": ""}))
    if i % 5 == 0:
        future.result()
        print(i, flush=True)
"""


def test_every_event_reported_recorded_survives_sigkill_at_random_moments(tmp_path, key_file):
    data = tmp_path / "data"
    open_record(data, key_file=key_file).close()
    rng = np.random.default_rng(7)
    reported: set[int] = set()
    next_id = 0
    for _ in range(20):
        child = subprocess.Popen(
            [sys.executable, "-c", CRASH_CHILD, str(data), str(key_file), str(next_id)],
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(float(rng.uniform(1.0, 2.5)))  # the child needs ~1 s to start
        child.kill()
        out, _ = child.communicate()
        ids = [int(line) for line in out.split()]
        reported.update(ids)
        next_id = (max(ids) if ids else next_id) + 10_000
    assert len(reported) > 20
    record = open_record(data, key_file=key_file)
    try:
        assert integrity_ok(record.engine)
        with record.engine.connect() as conn:
            stored = {r[0] for r in conn.exec_driver_sql("SELECT alarm_id FROM alarm_events")}
        assert reported <= stored
    finally:
        record.close()


DISK_FULL_CHILD = r"""
import json, resource, signal, sys, time
from pathlib import Path
import numpy as np
from wardwatch.storage.codec import decode_hour, encode_hour
from wardwatch.storage.database import open_record
from wardwatch.storage.writer import RecordWriter, Row
from wardwatch.storage.reader import RecordReader
from wardwatch.storage.recorder import trend_row, wave_row
from wardwatch.storage import schema
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
record = open_record(Path(sys.argv[1]), key_file=Path(sys.argv[2]))
states = []
writer = RecordWriter(record.engine, batch_s=0.05, on_state=lambda s: states.append(s.recording))
writer.start()
db = Path(sys.argv[1]) / "wardwatch.db"
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (db.stat().st_size + 256 * 1024, hard))
i = 0
deadline = time.time() + 30
while not states and time.time() < deadline:
    noise = np.random.default_rng(i).normal(size=2000)
    writer.put(wave_row("bed01", 1, 250.0, "mV", 2e9 + i, noise))
    i += 1
    time.sleep(0.001)
event = writer.put_critical(Row(schema.alarm_events, {"time": 2e9, "bed_id": "bed01", "alarm_id": 1,
    "key": "spo2_low", "priority": "high", "action": "raised", "user": "station", "detail": ""}))
resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))  # space returns
event.result(30)
writer.put(wave_row("bed01", 1, 250.0, "mV", 3e9, np.zeros(100)))
writer.flush()
writer.stop()
print(json.dumps({"states": states}))
"""


def test_a_full_disk_stops_recording_visibly_and_recording_resumes_with_the_gap_noted(tmp_path, key_file):
    data = tmp_path / "data"
    open_record(data, key_file=key_file).close()
    result = subprocess.run(
        [sys.executable, "-c", DISK_FULL_CHILD, str(data), str(key_file)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    import json

    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    # stopped, then resumed by itself (a small row may squeeze into the WAL and end it sooner)
    assert outcome["states"][0] is False and outcome["states"][-1] is True
    record = open_record(data, key_file=key_file)
    try:
        assert integrity_ok(record.engine)
        reader = record.reader()
        assert len(reader.gaps()) >= 1
        with record.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM alarm_events").scalar() == 1
            assert conn.exec_driver_sql("SELECT count(*) FROM waveforms WHERE t0 = 3e9").scalar() == 1
    finally:
        record.close()


def test_recording_stopped_is_the_stations_own_technical_alarm(tmp_path):
    station = Station(StationSetup("test", [BedSetup("Bed 1", "sim:stable")]), ScaledClock(1.0))
    station.station_condition(TechnicalKind.RECORDING_STOPPED, True, "disk full")
    assert STATION_BED in station._monitored_beds()
    snap = station.alarms.tick()
    assert any(a.bed == STATION_BED and "Recording stopped" in a.message for a in snap.alarms)
    station.station_condition(TechnicalKind.RECORDING_STOPPED, False)
    station.alarms.tick()
    assert STATION_BED not in station._monitored_beds()
