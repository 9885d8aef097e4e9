"""The hash-chained audit trail on real SQLCipher files: `audit verify` passes on a clean trail and
fails on each kind of tampering done directly in the encrypted file (edit, delete, insert, reorder)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from alembic import command
from wardwatch.app.cli import main
from wardwatch.app.clock import ScaledClock
from wardwatch.app.domain import Patient
from wardwatch.app.security.access import Actor
from wardwatch.app.security.service import SERVICE_NAME
from wardwatch.app.station import BedSetup, Station, StationSetup
from wardwatch.storage import database, schema
from wardwatch.storage.database import make_engine, open_record
from wardwatch.storage.keys import DatabaseKey, read_key_file, write_key_file
from wardwatch.storage.security_audit import DirectAudit, entry_values, row_hash, verify_chain
from wardwatch.storage.station_record import attach_record
from wardwatch.storage.writer import RecordWriter, Row


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "station.key"
    write_key_file(path, DatabaseKey.new())
    return path


@pytest.fixture
def trail(tmp_path: Path, key_file: Path) -> Path:
    """A record whose trail holds 10 rows written by the record writer, as a station writes them."""
    data = tmp_path / "data"
    record = open_record(data, key_file=key_file)
    writer = RecordWriter(record.engine)
    writer.start()
    for i in range(10):
        writer.put_critical(
            Row(
                schema.audit,
                {
                    "time": 1_800_000_000.0 + i,
                    "user": "nurse.a",
                    "action": "alarm.acknowledge",
                    "target": f"bed0{i % 4 + 1}",
                    "detail": f"entry {i}",
                },
            )
        )
    assert writer.flush()
    writer.stop()
    record.close()
    return data


def tamper(data: Path, key_file: Path, *sql: str) -> None:
    """Change the encrypted file directly, as someone holding the key would, bypassing WardWatch."""
    engine = make_engine(data / database.DATABASE_NAME, read_key_file(key_file))
    try:
        with engine.begin() as conn:
            for statement in sql:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def verify(data: Path, key_file: Path) -> tuple[bool, list[str], int]:
    engine = make_engine(data / database.DATABASE_NAME, read_key_file(key_file))
    try:
        with engine.connect() as conn:
            result = verify_chain(conn)
    finally:
        engine.dispose()
    return result.ok, result.problems, result.entries


def test_audit_verify_passes_on_a_clean_trail(trail, key_file, capsys):
    assert verify(trail, key_file) == (True, [], 10)
    # the command line too (no users yet: the set-up user may run it)
    assert main(["audit", "verify", "--data-dir", str(trail), "--key-file", str(key_file)]) == 0
    assert "audit trail intact" in capsys.readouterr().out


def _forged_insert(row_id: int, prev: str) -> str:
    """A row forged by someone who knows the hash function: its own hash is right for its content."""
    values = {
        "time": 1_800_000_100.0,
        "user": "nurse.a",
        "action": "alarm.acknowledge",
        "target": "bed01",
        "outcome": "ok",
        "before": "",
        "after": "",
        "detail": "forged",
    }
    h = row_hash(prev, row_id, values)
    return (
        'INSERT INTO audit (id, time, "user", action, target, outcome, before, after, detail, prev_hash, '
        "hash) "
        f"VALUES ({row_id}, 1800000100.0, 'nurse.a', 'alarm.acknowledge', 'bed01', 'ok', '', '', 'forged', "
        f"'{prev}', '{h}')"
    )


TAMPERING = {
    "edit a field": ["UPDATE audit SET detail = 'nothing happened' WHERE id = 4"],
    "edit who": ["UPDATE audit SET \"user\" = 'someone.else' WHERE id = 7"],
    "delete a middle row": ["DELETE FROM audit WHERE id = 5"],
    "delete the last row": ["DELETE FROM audit WHERE id = 10"],
    "delete the first row": ["DELETE FROM audit WHERE id = 1"],
    "reorder two rows": [
        "UPDATE audit SET id = 1000 WHERE id = 3",
        "UPDATE audit SET id = 3 WHERE id = 4",
        "UPDATE audit SET id = 4 WHERE id = 1000",
    ],
    "reorder by time": ["UPDATE audit SET time = time + 100 WHERE id = 2"],
}


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_audit_verify_fails_on_tampering_in_the_encrypted_file(trail, key_file, capsys, kind):
    tamper(trail, key_file, *TAMPERING[kind])
    ok, problems, _ = verify(trail, key_file)
    assert not ok and problems, kind
    assert main(["audit", "verify", "--data-dir", str(trail), "--key-file", str(key_file)]) == 1
    assert "NOT INTACT" in capsys.readouterr().out


def test_audit_verify_fails_on_an_inserted_row_even_when_its_own_hash_is_right(trail, key_file):
    engine = make_engine(trail / database.DATABASE_NAME, read_key_file(key_file))
    with engine.connect() as conn:
        last = conn.exec_driver_sql("SELECT hash FROM audit WHERE id = 10").scalar()
        fifth = conn.exec_driver_sql("SELECT hash FROM audit WHERE id = 5").scalar()
    engine.dispose()
    tamper(trail, key_file, _forged_insert(11, last))  # appended after the end: the head does not know it
    ok, problems, _ = verify(trail, key_file)
    assert not ok and any("head" in p for p in problems)
    tamper(
        trail,
        key_file,
        "DELETE FROM audit WHERE id = 11",
        "UPDATE audit SET id = id + 100 WHERE id > 5",
        _forged_insert(6, fifth),
    )  # slipped in between rows 5 and 106
    ok, problems, _ = verify(trail, key_file)
    assert not ok


def test_the_station_writer_and_a_command_append_to_one_chain(trail, key_file):
    record = open_record(trail, key_file=key_file)
    writer = RecordWriter(record.engine)
    writer.start()
    direct = DirectAudit(make_engine(trail / database.DATABASE_NAME, read_key_file(key_file)))
    from wardwatch.app.security.access import AuditEntry

    for i in range(5):
        writer.put_critical(
            Row(schema.audit, {"time": time.time(), "user": "station", "action": "ward admit"})
        )
        direct(AuditEntry(time.time(), "admin", "export.data", f"file{i}.csv"))
    assert writer.flush()
    writer.stop()
    record.close()
    assert verify(trail, key_file) == (True, [], 20)


def test_ward_changes_are_chained_with_the_user_who_made_them(tmp_path, key_file):
    from wardwatch.app.config import StationConfig
    from wardwatch.app.extensions import ServiceContext
    from wardwatch.app.security.cli import start_services

    station = Station(
        StationSetup("Chain ward", [BedSetup("Bed 1", None), BedSetup("Bed 2", None)]), ScaledClock(1.0)
    )
    record = attach_record(station, tmp_path / "data", key_file)
    services = start_services(ServiceContext(station, StationConfig(), None, record, headless=True))  # type: ignore[arg-type]
    try:
        station.services[SERVICE_NAME].access.set_actor(Actor("charge.b", "charge_nurse"))  # type: ignore[attr-defined]
        station.admit("bed01", Patient(mrn="MRN-77", family_name="Testperson", given_name="Ann"))
        station.move("bed01", "bed02")
        station.discharge("bed02")
        assert record.writer.flush()
    finally:
        for s in services:
            s.close()
        record.close()
    engine = make_engine(tmp_path / "data" / database.DATABASE_NAME, read_key_file(key_file))
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT \"user\", action, target, detail, hash FROM audit WHERE action LIKE 'ward %' ORDER BY id"
        ).fetchall()
        result = verify_chain(conn)
    engine.dispose()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("charge.b", "ward admit", "bed01"),
        ("charge.b", "ward discharge", "bed01"),
        ("charge.b", "ward admit", "bed02"),
        ("charge.b", "ward discharge", "bed02"),
    ]
    assert all(len(r[4]) == 64 for r in rows)
    assert result.ok, result.problems
    # never the patient's details in the trail
    assert not any("Testperson" in str(v) or "MRN-77" in str(v) for r in rows for v in r)


def test_rows_written_before_the_users_revision_join_the_chain_on_upgrade(tmp_path, key_file):
    data = tmp_path / "data"
    record = open_record(data, key_file=key_file, migrate=False)
    config = database.alembic_config()
    with record.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
        for i in range(3):
            conn.exec_driver_sql(
                "INSERT INTO audit (time, user, action, detail) VALUES (?, 'station', 'ward admit', ?)",
                (1_700_000_000.0 + i, f"bed0{i + 1}"),
            )
    record.close()
    open_record(data, key_file=key_file).close()  # migrates to head
    assert verify(data, key_file) == (True, [], 3)


def test_entry_values_hold_every_field_of_the_entry():
    from wardwatch.app.security.access import AuditEntry

    entry = AuditEntry(1.5, "u", "limits.patient", "bed01", "ok", "low 90", "low 88", "d")
    assert entry_values(entry) == {
        "time": 1.5,
        "user": "u",
        "action": "limits.patient",
        "target": "bed01",
        "outcome": "ok",
        "before": "low 90",
        "after": "low 88",
        "detail": "d",
    }
