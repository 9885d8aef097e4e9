"""The alarm bar, tile alarm area and alarms window under pytest-qt (offscreen), on a real station
whose beds have no source; conditions are pushed into its hub as a device would."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from wardwatch.app.alarms.findings import Finding
from wardwatch.app.alarms.model import Category, Priority, State
from wardwatch.app.clock import ScaledClock
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import TechnicalEvent, TechnicalKind
from wardwatch.app.station import BedSetup, Station, StationSetup
from wardwatch.ui.alarm_bar import INFO_W, ROW_H
from wardwatch.ui.main_window import MainWindow


@pytest.fixture
def ward(qtbot):
    station = Station(
        StationSetup("Alarm ward", [BedSetup("Bed 1", "sim:stable"), BedSetup("Bed 2", "sim:stable")]),
        ScaledClock(1.0),
    )
    # these tests are about the display of alarms, not the arrhythmia analysis (tested on its own)
    station.alarms._analyser = lambda bed, now: []
    win = MainWindow(station, fps=30)
    qtbot.addWidget(win)
    win.resize(1400, 800)
    station.start()
    win.start()
    win.show()
    yield station, win
    win.stop()
    station.stop()


def _low_battery(station: Station, bed: str = "bed01") -> None:
    """A technical condition without a delay of its own, so the tests need not wait for one."""
    station.hub.push_event(TechnicalEvent(bed, TechnicalKind.LOW_BATTERY, True, station.clock.now(), "12 %"))


def test_alarm_appears_in_the_bar_and_on_its_bed_tile(qtbot, ward):
    station, win = ward
    _low_battery(station)
    qtbot.waitUntil(
        lambda: any(a.key == "technical:low_battery" for a in win.alarm_bar.lines.snapshot.alarms)
    )
    qtbot.waitUntil(lambda: win.tiles[0].alarm is not None)
    assert win.tiles[0].alarm.text.startswith("! Low battery")
    assert win.tiles[1].alarm is None or "Low battery" not in win.tiles[1].alarm.text


def test_acknowledge_by_clicking_the_button_records_the_station_user(qtbot, ward):
    station, win = ward
    _low_battery(station)
    qtbot.waitUntil(lambda: bool(win.alarm_bar.lines.snapshot.alarms))
    qtbot.mouseClick(win.alarm_bar.ack_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.alarm_bar.lines.snapshot.alarms[0].state is State.ACKNOWLEDGED)
    alarm = win.alarm_bar.lines.snapshot.alarms[0]
    assert alarm.acknowledged_by == "station" and alarm.acknowledged_at is not None
    assert station.alarms.snapshot.sounding_priority is None


def test_acknowledge_by_f2_shortcut(qtbot, ward):
    station, win = ward
    _low_battery(station)
    qtbot.waitUntil(lambda: bool(station.alarms.snapshot.alarms))
    win.activateWindow()
    qtbot.keyClick(win, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: station.alarms.snapshot.alarms[0].state is State.ACKNOWLEDGED)


def test_audio_pause_by_f3_shows_a_countdown_and_f3_again_resumes(qtbot, ward):
    station, win = ward
    _low_battery(station)
    qtbot.waitUntil(lambda: bool(station.alarms.snapshot.alarms))
    qtbot.keyClick(win, Qt.Key.Key_F3)
    qtbot.waitUntil(lambda: "AUDIO PAUSED" in win.alarm_bar.pause_button.text())
    qtbot.waitUntil(lambda: win.tiles[0]._paused_text.startswith("AUDIO PAUSED"))
    qtbot.keyClick(win, Qt.Key.Key_F3)
    qtbot.waitUntil(lambda: station.alarms.snapshot.pause is None)


def test_clicking_an_alarm_line_opens_its_bed_and_the_info_end_shows_the_reasoning(qtbot, ward):
    station, win = ward
    opened: list[str] = []
    win.bed_view_factory = None
    win.open_bed = opened.append  # type: ignore[method-assign]
    win.alarm_bar.lines.bedClicked.disconnect()
    win.alarm_bar.lines.bedClicked.connect(win.open_bed)
    _low_battery(station, "bed02")
    qtbot.waitUntil(lambda: bool(win.alarm_bar.lines.snapshot.alarms))
    lines = win.alarm_bar.lines
    qtbot.mouseClick(lines, Qt.MouseButton.LeftButton, pos=QPoint(40, ROW_H // 2))
    assert opened == ["bed02"]
    qtbot.mouseClick(lines, Qt.MouseButton.LeftButton, pos=QPoint(lines.width() - INFO_W // 2, ROW_H // 2))
    dialog = win._alarms_dialog
    assert dialog is not None and dialog.isVisible()
    assert "Low battery" in dialog.reason.toPlainText()


def test_held_back_alarm_is_listed_with_its_reason_and_shown_muted_on_the_tile(qtbot, ward):
    station, win = ward
    finding = Finding(
        key="arrhythmia:Ventricular_Tachycardia",
        category=Category.ARRHYTHMIA,
        priority=Priority.HIGH,
        message="V-tach",
        latching=True,
        held_back=True,
        reason="VT not confirmed: narrow regular QRS on lead II, pleth pulsatile at 82/min",
    )
    station.alarms._analyser = lambda bed, now: [finding] if bed == "bed01" else []
    qtbot.waitUntil(lambda: bool(station.alarms.snapshot.held_back), timeout=5000)
    qtbot.waitUntil(lambda: win.tiles[0].alarm is not None and win.tiles[0].alarm.held_back)
    assert win.tiles[0].alarm.text == "V-tach held back — see reason"
    assert station.alarms.snapshot.sounding_priority is None
    dialog = win.alarms_dialog(held_back=True)
    dialog.refresh()
    dialog.held.selectRow(0)
    assert "narrow regular QRS" in dialog.reason.toPlainText()


def test_limits_dialog_changes_one_bed_and_the_engine_records_who(qtbot, ward):
    station, win = ward
    dialog = win.limits_dialog("bed02")
    row = next(i for i, r in enumerate(dialog._rules) if r.key == "spo2_low")
    dialog._widgets[row][0].setValue(88)
    dialog.accept()
    assert station.alarms.settings_for("bed02").rule("spo2_low").low == 88
    assert station.alarms.settings_for("bed01").rule("spo2_low").low == 90
    change = [e for e in station.alarms.journal() if e.action.value == "limits_changed"]
    assert change and change[-1].user == "station" and change[-1].bed == "bed02"
    qtbot.waitUntil(lambda: win.tiles[1].limits.get(MdcCode.PULS_OXIM_SAT_O2) == "88–")


def test_nurse_entries_feed_the_news2_shown_on_the_tile_and_are_journalled(qtbot, ward):
    from wardwatch.app.alarms.early_warning import Consciousness

    station, win = ward
    dialog = win.entries_dialog("bed01")
    dialog.consciousness.setCurrentIndex(dialog.consciousness.findData(Consciousness.V))
    dialog.oxygen.setCurrentIndex(dialog.oxygen.findData(True))
    dialog.accept()
    assert station.news2.entries("bed01").consciousness is Consciousness.V
    assert station.news2.entries("bed01").entered_by == "station"
    [entry] = [e for e in station.alarms.journal() if e.action.value == "clinical_entry"]
    assert entry.bed == "bed01" and "consciousness V" in entry.detail
    # V scores 3 and oxygen 2: at least 5, a medium band, whatever the monitor adds
    qtbot.waitUntil(lambda: win.tiles[0].news2[0].startswith("NEWS2 "), timeout=5000)
    latest = station.news2.latest("bed01")
    assert latest.score.parameter_scores["consciousness"] == 3 and latest.score.total >= 5
    assert win.tiles[0].news2[1] in ("medium", "high")
