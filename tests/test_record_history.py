"""The alarms dialog's history tab reads the encrypted record on a worker and fills by signal."""

from __future__ import annotations

import threading

from wardwatch.app.alarms.model import Action, AlarmEvent, Priority
from wardwatch.app.clock import ScaledClock
from wardwatch.app.station import BedSetup, Station, StationSetup
from wardwatch.storage.keys import DatabaseKey, write_key_file
from wardwatch.storage.recorder import alarm_event_row
from wardwatch.storage.station_record import attach_record
from wardwatch.ui.main_window import MainWindow


def test_the_history_tab_shows_recorded_events_read_off_the_gui_thread(qtbot, tmp_path, monkeypatch):
    key = tmp_path / "k"
    write_key_file(key, DatabaseKey.new())
    station = Station(StationSetup("History ward", [BedSetup("Bed 1", "sim:stable")]), ScaledClock(1.0))
    station.alarms._analyser = lambda bed, now: []
    record = attach_record(station, tmp_path / "data", key_file=key)
    now = station.clock.now()
    event = AlarmEvent(now - 60.0, Action.ACKNOWLEDGED, "bed01", 7, "spo2_low", Priority.HIGH, "nurse-a", "")
    record.writer.put_critical(alarm_event_row(event)).result(10)

    threads: list[str] = []
    journal = station.queries.journal
    assert journal is not None

    def spying_journal(start: float, end: float):
        threads.append(threading.current_thread().name)
        return journal(start, end)

    monkeypatch.setattr(station.queries, "journal", spying_journal)
    win = MainWindow(station, fps=30)
    qtbot.addWidget(win)
    try:
        dialog = win.alarms_dialog()
        assert dialog.history is not None
        dialog.tabs.setCurrentWidget(dialog.history)
        table = dialog.history.table
        qtbot.waitUntil(lambda: table.rowCount() >= 1, timeout=10_000)
        texts = [table.item(0, c).text() for c in range(table.columnCount())]
        assert "Bed 1" in texts and "acknowledged" in texts and "spo2_low" in texts and "nurse-a" in texts
        assert threads and all(name.startswith("record-reader") for name in threads)
        dialog.close()
    finally:
        win.stop()
        station.stop()
        record.close()
    # a screen left open after the station stopped gets a plain answer, never an exception
    late = station.queries.journal_between(0.0, 1.0)
    assert late.exception() is not None


def test_without_a_record_the_dialog_has_no_history_tab(qtbot):
    station = Station(StationSetup("No record", [BedSetup("Bed 1", "sim:stable")]), ScaledClock(1.0))
    win = MainWindow(station, fps=30)
    qtbot.addWidget(win)
    dialog = win.alarms_dialog()
    assert dialog.history is None and dialog.tabs.count() == 2
    station.queries.shutdown()
