"""The review's part of the record: revision 0006 (notes table and review indexes, both ways), a
note recorded through the station's own writer, and the review bench on a small record."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect
from wardwatch.app.clock import FixedClock
from wardwatch.app.domain import Patient
from wardwatch.app.review.bench import bench_review
from wardwatch.app.review.notes import NoteError, add_note
from wardwatch.app.station import BedSetup, Station, StationSetup
from wardwatch.storage.database import alembic_config, make_ddl_engine, open_record
from wardwatch.storage.keys import DatabaseKey, read_key_file, write_key_file
from wardwatch.storage.review_queries import review_reader
from wardwatch.storage.station_record import attach_record


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "station.key"
    write_key_file(path, DatabaseKey.new())
    return path


def _indexes(engine, table: str) -> set[str]:
    return {i["name"] for i in inspect(engine).get_indexes(table)}


def test_revision_0006_adds_the_notes_table_and_the_review_indexes_and_takes_them_away_again(
    tmp_path, key_file
):
    record = open_record(tmp_path / "data", key_file=key_file)
    assert "shift_notes" in inspect(record.engine).get_table_names()
    assert "ix_shift_notes_bed_time" in _indexes(record.engine, "shift_notes")
    assert "ix_alarm_events_time" in _indexes(record.engine, "alarm_events")
    assert "ix_technical_events_time" in _indexes(record.engine, "technical_events")
    path = record.path
    record.close()
    ddl = make_ddl_engine(path, read_key_file(key_file))
    config = alembic_config()
    with ddl.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0005")
    assert "shift_notes" not in inspect(ddl).get_table_names()
    assert "ix_alarm_events_time" not in _indexes(ddl, "alarm_events")
    ddl.dispose()
    open_record(tmp_path / "data", key_file=key_file).close()  # and up again on the next start


def test_a_note_goes_through_the_stations_writer_into_the_record_and_onto_the_bed(tmp_path, key_file):
    station = Station(StationSetup("Ward 7", [BedSetup("Bed 1", None)]), FixedClock(time.time()))
    rec = attach_record(station, tmp_path / "data", key_file=key_file)
    try:
        station.admit("bed01", Patient("MRN-1", "Doe", "Jane"))
        add_note(station, rec.writer.put_critical, "bed01", "nurse.a", "  Slept well.  ").result(10)
        with pytest.raises(NoteError, match="at most"):
            add_note(station, rec.writer.put_critical, "bed01", "nurse.a", "x" * 2001)
        with pytest.raises(NoteError, match="not recording"):
            add_note(station, None, "bed01", "nurse.a", "lost")
        (note,) = review_reader(rec.reader).notes("bed01", 0, time.time() + 10)
        assert (note.author, note.text) == ("nurse.a", "Slept well.")
        assert station.bed("bed01").notes[-1].endswith("nurse.a: Slept well.")
    finally:
        rec.close()
        station.queries.shutdown()


def test_the_review_bench_prints_its_figures_on_a_small_record(tmp_path, monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    result = bench_review(beds=2, hours=2.0, report_hours=1.0, repeat=1, where=str(tmp_path), seed=1)
    for key in ("trend_24h_query_ms", "trend_72h_query_ms", "trend_24h_open_ms", "ward_report_1h_s"):
        assert result[key] > 0, key
    assert result["report_pages"] >= 3  # the ward summary, then each bed from a page of its own
    assert result["trend_24h_alarms"] > 0


def test_a_recording_station_publishes_the_review_service_and_a_station_without_record_does_not(
    tmp_path, key_file
):
    import argparse

    from wardwatch.app.config import StationConfig
    from wardwatch.app.extensions import ServiceContext
    from wardwatch.app.review.cli import REVIEW_SERVICE, start_services
    from wardwatch.app.review.service import ReviewService

    station = Station(StationSetup("Ward 7", [BedSetup("Bed 1", None)]), FixedClock(time.time()))
    config = StationConfig(data_dir=tmp_path / "data")
    assert start_services(ServiceContext(station, config, argparse.Namespace(), None, headless=True)) == []
    rec = attach_record(station, tmp_path / "data", key_file=key_file)
    try:
        (service,) = start_services(
            ServiceContext(station, config, argparse.Namespace(), rec, headless=False)
        )
        assert station.services[REVIEW_SERVICE] is service and isinstance(service, ReviewService)
        assert service.beds() == [("bed01", "Bed 1")]
        assert service.reports_dir == tmp_path / "data" / "reports"
        assert service.alarms(None, 0.0, time.time()).result(10) == []
        service.close()
        with pytest.raises(RuntimeError, match="stopped"):
            service.alarms(None, 0.0, time.time()).result(10)
    finally:
        rec.close()
        station.queries.shutdown()
