"""The review screens under pytest-qt on the known ward: they open, ask the record on the review
service's worker and paint what comes back — the snippet of a chosen alarm, the trends with NEWS2 and
the alarm time line, the burden counts, a report made by the button — and the bed view's notes."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from pypdf import PdfReader
from test_review_ward import END, T0, write_known_ward
from wardwatch.app.clock import FixedClock
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import Patient
from wardwatch.app.review.service import ReviewService
from wardwatch.app.station import BedSetup, Station, StationSetup
from wardwatch.storage.database import open_record
from wardwatch.storage.keys import DatabaseKey, write_key_file
from wardwatch.storage.review_queries import review_reader
from wardwatch.storage.review_tables import shift_notes
from wardwatch.storage.writer import RecordWriter
from wardwatch.ui.review_alarms import AlarmReview
from wardwatch.ui.review_burden import BurdenDashboard
from wardwatch.ui.review_notes import NOTE_AUTHOR, REVIEW_SERVICE, NotesPanel
from wardwatch.ui.review_report import HandoverDialog
from wardwatch.ui.review_trends import TrendReview

BEDS = [("bed01", "Bed 1"), ("bed02", "Bed 2"), ("bed03", "Bed 3")]


@pytest.fixture
def record(tmp_path: Path):
    key_file = tmp_path / "station.key"
    write_key_file(key_file, DatabaseKey.new())
    write_known_ward(tmp_path / "data", key_file)
    rec = open_record(tmp_path / "data", key_file=key_file)
    yield rec
    rec.close()


@pytest.fixture
def service(record) -> ReviewService:
    s = ReviewService(review_reader(record.reader()), lambda: BEDS, "Ward 7")
    yield s
    s.close()


def test_choosing_an_alarm_shows_its_reasoning_and_ten_seconds_of_full_disclosure_either_side(qtbot, service):
    view = AlarmReview(service, lambda: END, hours=4)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: len(view.episodes) == 5, timeout=5000)
    assert view.table.rowCount() == 5
    row = next(i for i, a in enumerate(view.episodes) if a.key == "arrhythmia:Ventricular_Tachycardia")
    assert view.table.item(row, 4).text() == "held back"
    view.select_alarm(row)
    ecg = int(MdcCode.ECG_ELEC_POTL_II)
    qtbot.waitUntil(lambda: ecg in view.wave_curves, timeout=5000)
    xs, _ys = view.wave_curves[ecg].getData()
    assert xs[0] == pytest.approx(-10.0, abs=0.01) and xs[-1] == pytest.approx(10.0, abs=0.01)
    assert len(xs) == pytest.approx(20 * 250, abs=2)
    assert int(MdcCode.PULS_OXIM_PLETH) in view.wave_curves
    assert "slow baseline drift on every lead" in view.reason_label.text()
    # browsing on: ten seconds later is read again from the record
    view.step(10.0)
    qtbot.waitUntil(lambda: view.wave_curves and view.wave_curves[ecg].getData()[0][0] > -0.1, timeout=5000)
    assert view.snippet[1] == pytest.approx(T0 + 7700.0)


def test_the_trend_review_shows_beds_side_by_side_with_news2_alarms_and_a_cursor_read_out(qtbot, service):
    view = TrendReview(service, lambda: END, ["bed01", "bed02"], hours=4)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: len(view.shifts) == 2, timeout=5000)
    hr = int(MdcCode.ECG_HEART_RATE)
    xs, ys = view.curves[("bed01", hr)].getData()
    assert len(xs) > 0 and set(np.unique(ys)) <= {80.0, 95.0, 120.0}
    assert ("bed02", hr) in view.curves
    _t, scores = view.news2_curves["bed01"].getData()
    assert np.nanmax(scores) == 15
    assert len(view.alarm_markers["bed01"].data) == 4
    assert len(view.alarm_markers["bed02"].data) == 1
    text = view.readout_at(T0 + 9060)
    assert "Bed 1:" in text and "HR 120" in text and "NEWS2 15 (high)" in text
    assert "Bed 2:" in text and "HR 70" in text
    view.show_cursor(T0 + 9200)
    assert "SpO₂ 88 < 90" in view.readout.text()
    view.spans.buttons[1].click()  # one hour: read again
    qtbot.waitUntil(lambda: view.period[1] - view.period[0] == 3600.0 and not view._pending, timeout=5000)


def test_the_dashboard_shows_the_counted_burden_of_each_bed_and_the_ward(qtbot, service):
    view = BurdenDashboard(service, lambda: END, hours=4)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.burden is not None, timeout=5000)
    cells = [[view.beds.item(r, c).text() for c in range(view.beds.columnCount())] for r in range(4)]
    assert cells[0][:3] == ["Bed 1", "4", "24.0"]
    assert cells[3][0] == "Ward" and cells[3][1] == "5"
    assert cells[3][-3:] == ["75 s", "87 s", "1"]
    assert view.top.item(0, 1).text() == "SpO₂ low"
    assert view.beds.item(0, 4).text() == "3"  # bed 1's medium alarms
    view.per_day.setChecked(True)
    assert view.beds.item(0, 4).text() == "18.0"  # 3 in 4 h


def test_the_report_button_makes_the_same_pdf_with_its_progress_shown(qtbot, service, tmp_path):
    dialog = HandoverDialog(service, lambda: END, tmp_path)
    qtbot.addWidget(dialog)
    dialog.hours.setValue(3.0)
    out = tmp_path / "shift.pdf"
    dialog.path.setText(str(out))
    dialog.start()
    qtbot.waitUntil(lambda: dialog.result_path is not None, timeout=20000)
    assert dialog.progress.value() == dialog.progress.maximum() == 4
    text = "\n".join(p.extract_text() for p in PdfReader(out).pages)
    assert "DOE, Jane" in text and "Asystole" in text and "NEWS2 at the end 15 (high)" in text


def test_a_note_added_on_the_bed_view_is_shown_and_recorded_with_its_author(qtbot, record, tmp_path):
    station = Station(StationSetup("Ward 7", [BedSetup("Bed 1", None)]), FixedClock(time.time()))
    station.admit("bed01", Patient("MRN-1", "Doe", "Jane"))
    writer = RecordWriter(record.engine)
    writer.start()
    service = ReviewService(review_reader(record.reader()), lambda: BEDS, "Ward 7", writer.put_critical)
    station.services[REVIEW_SERVICE] = service
    allowed = {"bed01": "nurse.c"}
    station.services[NOTE_AUTHOR] = allowed.get  # the window's check: who may write on this bed
    panel = NotesPanel(station, "bed01")
    qtbot.addWidget(panel)
    panel.edit.setText("   ")
    panel.add()
    assert panel.status.text() == "the note is empty"
    panel.edit.setText("Pain 6/10 at 04:00, paracetamol given.")
    panel.add()
    qtbot.waitUntil(lambda: panel.status.text() == "Kept in the record.", timeout=5000)
    assert panel.list.count() == 1 and "nurse.c: Pain 6/10" in panel.list.item(0).text()
    with record.engine.connect() as conn:
        rows = conn.execute(shift_notes.select()).all()
    assert [(r.bed_id, r.author, r.text) for r in rows][-1] == (
        "bed01",
        "nurse.c",
        "Pain 6/10 at 04:00, paracetamol given.",
    )
    allowed.clear()  # logged out: refused, nothing kept
    panel.edit.setText("Should not be kept.")
    panel.add()
    assert panel.status.text().startswith("Not permitted") and panel.list.count() == 1
    station.discharge("bed01")  # the notes leave with the patient
    panel.refresh()
    assert panel.list.count() == 0
    writer.stop()
    service.close()
    station.queries.shutdown()


def test_the_window_gets_a_review_menu_and_each_bed_menu_the_review_of_that_bed(qtbot, service):
    from PySide6.QtWidgets import QMenu
    from wardwatch.ui.main_window import MainWindow
    from wardwatch.ui.review_hooks import extend_bed_menu, open_alarms, open_trends

    station = Station(
        StationSetup("Ward 7", [BedSetup("Bed 1", None), BedSetup("Bed 2", None)]), FixedClock(END)
    )
    station.services[REVIEW_SERVICE] = service
    win = MainWindow(station, fps=30)
    qtbot.addWidget(win)
    menus = {a.text(): a.menu() for a in win.menuBar().actions()}
    assert [a.text() for a in menus["&Review"].actions()] == [
        "&Trend review…",
        "&Alarm review…",
        "Alarm &burden…",
        "&Handover report…",
    ]
    assert callable(station.services[NOTE_AUTHOR])
    menu = QMenu(win)
    extend_bed_menu(win, menu, "bed02")
    assert [a.text() for a in menu.actions() if a.text()] == [
        "Trend review…",
        "Alarm review…",
        "Handover report of this bed…",
    ]
    trends = open_trends(win, "bed02")
    qtbot.waitUntil(lambda: len(trends.shifts) == 1, timeout=5000)
    assert trends.shifts[0].label == "Bed 2"
    alarms = open_alarms(win, "bed02")
    qtbot.waitUntil(lambda: len(alarms.episodes) == 1, timeout=5000)  # bed02's asystole
    trends.close()
    alarms.close()
    station.queries.shutdown()


def test_a_refused_report_is_not_made(qtbot, service, tmp_path):
    asked = []
    dialog = HandoverDialog(service, lambda: END, tmp_path, "bed02", authorize=lambda t: asked.append(t))
    qtbot.addWidget(dialog)
    dialog.path.setText(str(tmp_path / "no.pdf"))
    dialog.start()
    assert asked == ["bed02"]
    assert dialog.status.text().startswith("Not permitted") and dialog.make.isEnabled()
    assert not (tmp_path / "no.pdf").exists()
