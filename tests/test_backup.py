"""Backups of the encrypted record and restoring them: encrypted, consistent, checked, never destructive."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, insert, select
from wardwatch.app.codes import MdcCode
from wardwatch.storage import schema
from wardwatch.storage.backup import BackupError, backup, backup_file, restore
from wardwatch.storage.database import Record, integrity_ok, make_engine, open_record
from wardwatch.storage.errors import LockedError, WrongKeyError
from wardwatch.storage.keys import DatabaseKey, write_key_file
from wardwatch.storage.recorder import wave_row
from wardwatch.storage.writer import RecordWriter, Retention

ECG = int(MdcCode.ECG_ELEC_POTL_II)
T0 = 1_750_000_020.0
# the writer purges by its wall clock; these tests write fixed, older times that must stay
KEEP_ALL = Retention(waveforms_s=1e10, trends_s=1e10)


def block(i: int, bed: str = "bed01") -> dict[str, object]:
    """Row values of the i-th 1 s ECG block."""
    t = T0 + i + np.arange(250) / 250.0
    return wave_row(bed, ECG, 250.0, "mV", float(t[0]), np.sin(t)).values


def add_blocks(record: Record, first: int, count: int) -> None:
    with record.engine.begin() as conn:
        conn.execute(insert(schema.waveforms), [block(i) for i in range(first, first + count)])


def waveform_rows(path: Path, key: DatabaseKey) -> int:
    engine = make_engine(path, key)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(schema.waveforms)).scalar_one()
    finally:
        engine.dispose()


@pytest.fixture
def key(tmp_path: Path) -> DatabaseKey:
    key = DatabaseKey.new()
    write_key_file(tmp_path / "key", key)
    return key


@pytest.fixture
def record(tmp_path: Path, key: DatabaseKey) -> Iterator[Record]:
    rec = open_record(tmp_path / "data", key_file=tmp_path / "key")
    yield rec
    rec.close()


def test_backup_taken_while_the_writer_writes_is_encrypted_intact_and_holds_the_rows(record, key, tmp_path):
    writer = RecordWriter(record.engine, KEEP_ALL, batch_s=0.01)
    writer.start()
    stop = threading.Event()

    def keep_writing() -> None:
        i = 0
        while not stop.is_set():
            writer.put(wave_row("bed01", ECG, 250.0, "mV", T0 + i, np.zeros(250)))
            i += 1
            stop.wait(0.002)

    producer = threading.Thread(target=keep_writing)
    producer.start()
    try:
        for _ in range(20):
            writer.flush()
        with record.engine.connect() as conn:
            before = conn.execute(select(func.count()).select_from(schema.waveforms)).scalar_one()
        dest = tmp_path / "backups" / "ward.db"
        dest.parent.mkdir()
        backup(record.engine, key, dest)
    finally:
        stop.set()
        producer.join()
        writer.stop()

    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        sqlite3.connect(dest).execute("SELECT count(*) FROM sqlite_master").fetchall()
    assert dest.stat().st_mode & 0o777 == 0o600
    engine = make_engine(dest, key)
    try:
        assert integrity_ok(engine)
    finally:
        engine.dispose()
    assert before > 0
    assert waveform_rows(dest, key) >= before
    assert sorted(p.name for p in dest.parent.iterdir()) == ["ward.db"]  # no temporary file left


def test_backup_refuses_an_existing_destination_and_leaves_it_alone(record, key, tmp_path):
    dest = tmp_path / "ward.db"
    dest.write_bytes(b"someone else's file")
    with pytest.raises(BackupError, match="already exists"):
        backup(record.engine, key, dest)
    assert dest.read_bytes() == b"someone else's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "key", "ward.db"]


def test_backup_to_a_folder_with_a_quote_in_its_name(record, key, tmp_path):
    add_blocks(record, 0, 3)
    dest = tmp_path / "nurse's backups" / "ward.db"
    dest.parent.mkdir()
    backup(record.engine, key, dest)
    assert waveform_rows(dest, key) == 3


def test_backup_file_copies_a_database_a_running_station_holds_open(record, key, tmp_path):
    add_blocks(record, 0, 4)
    dest = tmp_path / "ward.db"
    backup_file(record.path, key, dest)  # the station (`record`) keeps its lock meanwhile
    assert waveform_rows(dest, key) == 4


def test_restore_moves_the_old_database_aside_and_puts_the_backup_in_place(record, key, tmp_path):
    add_blocks(record, 0, 5)
    saved = tmp_path / "ward.db"
    backup(record.engine, key, saved)
    add_blocks(record, 5, 7)
    data_dir = record.path.parent
    record.close()

    restored = restore(saved, data_dir, key)

    assert restored == data_dir / "wardwatch.db"
    assert restored.stat().st_mode & 0o777 == 0o600
    assert waveform_rows(restored, key) == 5
    aside = [p for p in data_dir.iterdir() if ".before-restore-" in p.name]
    assert [p.name[: len("wardwatch.db.before-restore-")] for p in aside] == ["wardwatch.db.before-restore-"]
    assert waveform_rows(aside[0], key) == 12  # the replaced database is kept whole
    assert saved.exists()
    # the station opens the restored record as usual
    reopened = open_record(data_dir, key_file=tmp_path / "key")
    try:
        assert integrity_ok(reopened.engine)
    finally:
        reopened.close()


def test_restore_into_an_empty_data_folder_needs_nothing_to_move_aside(record, key, tmp_path):
    add_blocks(record, 0, 2)
    saved = tmp_path / "ward.db"
    backup(record.engine, key, saved)

    restored = restore(saved, tmp_path / "new-machine", key)

    assert waveform_rows(restored, key) == 2
    assert [p.name for p in restored.parent.iterdir() if "before-restore" in p.name] == []


def test_restore_refuses_a_backup_made_with_another_key_and_changes_nothing(record, key, tmp_path):
    other_key = DatabaseKey.new()
    write_key_file(tmp_path / "other-key", other_key)
    other = open_record(tmp_path / "other", key_file=tmp_path / "other-key")
    try:
        foreign = tmp_path / "foreign.db"
        backup(other.engine, other_key, foreign)
    finally:
        other.close()
    add_blocks(record, 0, 3)
    data_dir = record.path.parent
    record.close()
    before = {p.name: p.read_bytes() for p in data_dir.iterdir()}

    with pytest.raises(WrongKeyError, match="does not match"):
        restore(foreign, data_dir, key)

    assert {p.name: p.read_bytes() for p in data_dir.iterdir()} == before
    assert waveform_rows(data_dir / "wardwatch.db", key) == 3


def test_restore_refuses_a_damaged_backup_and_changes_nothing(record, key, tmp_path):
    add_blocks(record, 0, 200)
    saved = tmp_path / "ward.db"
    backup(record.engine, key, saved)
    damaged = tmp_path / "damaged.db"
    raw = bytearray(saved.read_bytes())
    raw[len(raw) // 2 : len(raw) // 2 + 4096] = bytes(4096)  # a page in the middle zeroed
    damaged.write_bytes(bytes(raw))
    data_dir = record.path.parent
    record.close()
    before = {p.name: p.read_bytes() for p in data_dir.iterdir()}

    with pytest.raises(BackupError, match="damaged"):
        restore(damaged, data_dir, key)

    assert {p.name: p.read_bytes() for p in data_dir.iterdir()} == before


def test_restore_refuses_while_a_station_holds_the_record_open(record, key, tmp_path):
    add_blocks(record, 0, 3)
    saved = tmp_path / "ward.db"
    backup(record.engine, key, saved)
    add_blocks(record, 3, 1)

    with pytest.raises(LockedError, match="in use"):
        restore(saved, record.path.parent, key)

    assert [p.name for p in record.path.parent.iterdir() if "before-restore" in p.name] == []
    with record.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.waveforms)).scalar_one() == 4


def test_restore_refuses_the_database_itself(record, key):
    data_dir = record.path.parent
    record.close()
    with pytest.raises(BackupError, match="the database itself"):
        restore(data_dir / "wardwatch.db", data_dir, key)
