"""The record's command line and the station's start with it, run as IT would (real subprocesses)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from test_cli import run
from wardwatch.storage.database import head_revision, open_record
from wardwatch.storage.errors import KeyFileError, LockedError, NoKeyringError, WrongKeyError
from wardwatch.storage.keys import DatabaseKey, write_key_file


def _key(tmp_path: Path, name: str = "station.key") -> Path:
    path = tmp_path / name
    write_key_file(path, DatabaseKey.new())
    return path


def test_db_upgrade_creates_the_database_and_db_check_finds_it_intact(tmp_path):
    key = _key(tmp_path)
    up = run("db", "upgrade", "--data-dir", str(tmp_path / "data"), "--key-file", str(key))
    assert up.returncode == 0, up.stderr
    assert f"schema {head_revision()}" in up.stdout
    check = run("db", "check", "--data-dir", str(tmp_path / "data"), "--key-file", str(key))
    assert check.returncode == 0 and "integrity ok" in check.stdout


def test_db_commands_fail_with_a_clear_message_and_exit_code(tmp_path):
    key = _key(tmp_path)
    data = tmp_path / "data"
    assert run("db", "upgrade", "--data-dir", str(data), "--key-file", str(key)).returncode == 0
    wrong = run("db", "check", "--data-dir", str(data), "--key-file", str(_key(tmp_path, "other.key")))
    assert wrong.returncode == WrongKeyError.exit_code
    assert "the database key does not match this database" in wrong.stderr
    assert "Traceback" not in wrong.stderr and "ERROR CORE" not in wrong.stderr
    key.chmod(0o644)
    loose = run("db", "check", "--data-dir", str(data), "--key-file", str(key))
    assert loose.returncode == KeyFileError.exit_code and "chmod 600" in loose.stderr
    key.chmod(0o600)
    record = open_record(data, key_file=key)
    try:
        busy = run("db", "check", "--data-dir", str(data), "--key-file", str(key))
        assert busy.returncode == LockedError.exit_code and "in use by another" in busy.stderr
    finally:
        record.close()


def test_without_a_keyring_the_message_says_how_to_fix_it(tmp_path):
    result = run(
        "db",
        "upgrade",
        "--data-dir",
        str(tmp_path / "data"),
        env_extra={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
    )
    assert result.returncode == NoKeyringError.exit_code
    assert "--key-file" in result.stderr and "keyring" in result.stderr
    assert not (tmp_path / "data" / "wardwatch.db").exists()  # never a plaintext database


def test_a_headless_station_records_into_the_encrypted_database(tmp_path):
    key = _key(tmp_path)
    data = tmp_path / "data"
    result = run(
        "run", "--headless", "--duration", "20", "--speed", "5", "--beds", "2",
        "--data-dir", str(data), "--key-file", str(key),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Not recording" not in result.stderr
    record = open_record(data, key_file=key)
    try:
        reader = record.reader()
        with record.engine.connect() as conn:
            first, last = conn.exec_driver_sql("SELECT min(t0), max(t_end) FROM waveforms").one()
        assert last - first > 10.0
        assert reader.waves("bed01", first, last)
        assert reader.trends("bed02", first - 60.0, last + 60.0)
    finally:
        record.close()


def test_a_damaged_database_is_left_untouched_and_the_station_monitors_without_recording(tmp_path):
    key = _key(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    damaged = data / "wardwatch.db"
    damaged.write_bytes(b"\x00garbage, not a database" * 500)
    digest = hashlib.sha256(damaged.read_bytes()).hexdigest()
    result = run(
        "run", "--headless", "--duration", "10", "--speed", "5", "--beds", "2",
        "--data-dir", str(data), "--key-file", str(key),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Not recording" in result.stderr and "Monitoring and alarms go on" in result.stderr
    assert "connected=2" in result.stdout
    assert hashlib.sha256(damaged.read_bytes()).hexdigest() == digest


def test_export_backup_and_restore_from_the_command_line(tmp_path):
    import datetime as dt

    import pyedflib
    import wfdb

    key = _key(tmp_path)
    data = tmp_path / "data"
    ran = run(
        "run", "--headless", "--duration", "15", "--speed", "5", "--beds", "1",
        "--data-dir", str(data), "--key-file", str(key),
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    record = open_record(data, key_file=key)
    with record.engine.begin() as conn:
        first, last = conn.exec_driver_sql("SELECT min(t0), max(t_end) FROM waveforms").one()
        conn.exec_driver_sql(
            "INSERT INTO technical_events (time, bed_id, kind, active, detail) "
            "VALUES (?, 'bed01', 'lead_off', 1, '')",
            (first + 1.0,),
        )
    record.close()

    def iso(t: float) -> str:
        return dt.datetime.fromtimestamp(t, dt.UTC).isoformat()

    common = ("--data-dir", str(data), "--key-file", str(key), "--from", iso(first), "--to", iso(last))
    edf = run("export", "waves", "--bed", "Bed 1", "--out", str(tmp_path / "w.edf"), *common)
    assert edf.returncode == 0, edf.stderr
    with pyedflib.EdfReader(str(tmp_path / "w.edf")) as f:
        assert f.signals_in_file == 3 and f.getFileDuration() > 5
    wf = run(
        "export", "waves", "--bed", "bed01", "--format", "wfdb", "--out", str(tmp_path / "wfdb"), *common
    )
    assert wf.returncode == 0, wf.stderr
    assert wfdb.rdrecord(str(tmp_path / "wfdb" / "bed01")).n_sig == 3
    for what in ("trends", "events"):
        out = run("export", what, "--bed", "bed01", "--out", str(tmp_path / f"{what}.csv"), *common)
        assert out.returncode == 0, out.stderr
        assert (tmp_path / f"{what}.csv").read_text().startswith("time_utc")
    empty = run("export", "waves", "--bed", "bed07", "--out", str(tmp_path / "none.edf"), *common)
    assert empty.returncode != 0 and "no waveforms" in empty.stderr.lower()

    copy = tmp_path / "backup.db"
    backed = run("backup", str(copy), "--data-dir", str(data), "--key-file", str(key))
    assert backed.returncode == 0, backed.stderr
    assert not copy.read_bytes().startswith(b"SQLite format 3")
    restored = run("restore", str(copy), "--data-dir", str(data), "--key-file", str(key))
    assert restored.returncode == 0, restored.stderr
    assert list(data.glob("wardwatch.db.before-restore-*"))
    check = run("db", "check", "--data-dir", str(data), "--key-file", str(key))
    assert check.returncode == 0 and "integrity ok" in check.stdout
