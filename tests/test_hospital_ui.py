"""The hospital page and the rapid-response overview, offscreen, painted from a house fed the way the
network thread feeds it (decoded payloads); the viewer is built but not connected."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QPoint, Qt
from wardwatch.app.alarms.model import Priority
from wardwatch.app.clock import ScaledClock
from wardwatch.app.domain import LinkState
from wardwatch.app.hospital.house import STATION_LOST_KEY
from wardwatch.app.hospital.payloads import (
    AlarmEventInfo,
    AlarmState,
    BedAlarms,
    BedInfo,
    News2,
    PatientInfo,
    StationStatus,
    Technical,
)
from wardwatch.app.hospital.settings import MqttSettings, ViewTarget, parse_url
from wardwatch.app.hospital.viewer import SERVICE_NAME, HospitalViewer
from wardwatch.app.security.access import OK, AccessControl, Actor, AuditEntry
from wardwatch.app.security.actions import Action
from wardwatch.app.security.permissions import load_permissions
from wardwatch.app.station import BedSetup, Station, StationSetup
from wardwatch.ui.alarm_bar import INFO_W, ROW_H
from wardwatch.ui.hospital_rapid import RapidResponseView, rows_in_order
from wardwatch.ui.hospital_window import HospitalWindow
from wardwatch.ui.main_window import MainWindow


@pytest.fixture
def viewer():
    settings = MqttSettings(parse_url("mqtt://127.0.0.1:1"), "main", "rrt", view=(ViewTarget("main", "*"),))
    v = HospitalViewer(settings, "RRT desk")
    yield v
    v.close()


def feed(viewer: HospitalViewer, now: float) -> None:
    house = viewer.house
    for ward, name in (("icu", "ICU North"), ("cardio", "Cardiology")):
        house.on_status("main", ward, StationStatus(name, "online", now, ("bed01", "bed02"), "1.0"))
        house.on_info(
            "main",
            ward,
            "bed01",
            BedInfo(name, "bed01", "Bed 1", PatientInfo("DOE, Jane", "M1", 71, "F"), "sim", now),
        )
        house.on_info("main", ward, "bed02", BedInfo(name, "bed02", "Bed 2", None, "sim", now))
    high = AlarmState(17, "spo2_low", "physiological", "high", "active", "SpO₂ 86 < 90", now - 60, now - 70)
    event = AlarmEventInfo("raised", 17, "spo2_low", "high", "", "", now - 60)
    house.on_alarms("main", "cardio", "bed02", BedAlarms("main/cardio:1a:1", now - 60, event, (high,)))
    house.on_news2("main", "icu", "bed01", News2(now - 300, 7, "high", True))
    house.on_news2("main", "icu", "bed02", News2(now - 600, 5, "medium", True))


def window_for(
    qtbot, viewer: HospitalViewer, role: str, audit: list[AuditEntry] | None = None
) -> HospitalWindow:
    sink = audit.append if audit is not None else (lambda _e: None)
    access = AccessControl(load_permissions(), sink, actor=Actor(f"user.{role}", role))
    window = HospitalWindow(viewer, access)
    qtbot.addWidget(window)
    window.resize(1400, 800)
    window.show()
    window.frame()
    return window


def test_the_hospital_page_shows_each_wards_beds_with_source_station_and_link_age(qtbot, viewer):
    now = time.time()
    feed(viewer, now)
    window = window_for(qtbot, viewer, "clinician")
    assert sorted(window.page.tiles) == [
        "main/cardio/bed01",
        "main/cardio/bed02",
        "main/icu/bed01",
        "main/icu/bed02",
    ]
    tile = window.page.tiles["main/icu/bed01"]
    assert tile.summary.label == "icu · Bed 1"
    assert tile.summary.link_text.startswith("ICU North · link ") and tile.summary.link_text.endswith(" s")
    assert tile.summary.patient_text == "DOE, Jane · 71 F"
    assert tile.news2 == ("NEWS2 7", "high")
    alarm_tile = window.page.tiles["main/cardio/bed02"]
    assert alarm_tile.alarm is not None and "SpO₂ 86 < 90" in alarm_tile.alarm.text
    headers = {k: h.text() for k, h in window.page.headers.items()}
    assert "Cardiology" in headers["main/cardio"] and "online" in headers["main/cardio"]
    # the remote alarm reaches the alarm bar, under the ward and bed's name
    assert [a.bed for a in window.alarm_bar.lines.shown()] == ["main/cardio/bed02"]
    assert window.alarm_bar.lines.labels["main/cardio/bed02"] == "cardio · Bed 2"


def test_a_lost_station_shows_no_data_on_its_tiles_and_a_banner(qtbot, viewer):
    now = time.time()
    feed(viewer, now)
    viewer.house.on_status(
        "main", "icu", StationStatus("ICU North", "offline", now, ("bed01", "bed02"), "1.0")
    )
    window = window_for(qtbot, viewer, "clinician")
    tile = window.page.tiles["main/icu/bed02"]
    assert tile.alarm is not None and tile.alarm.text.startswith("! No data from station ICU North since ")
    assert tile.summary.link_text.startswith("ICU North · no data")
    assert window._fault.isVisibleTo(window) and "ICU North" in window._fault.text()


def test_the_rapid_response_table_lists_high_alarms_then_news2_high_then_news2_medium(qtbot, viewer):
    now = time.time()
    feed(viewer, now)
    view = RapidResponseView(viewer.house.snapshot)
    qtbot.addWidget(view)
    assert rows_in_order(view) == [
        ("High alarm", "cardio · Bed 2"),
        ("NEWS2 ≥ 7", "icu · Bed 1"),
        ("NEWS2 5–6", "icu · Bed 2"),
    ]
    assert view.table.item(0, 3).text() == "*** SpO₂ 86 < 90"
    assert view.table.item(0, 6).text() == "1 min"
    assert "1 high alarm not acknowledged" in view.summary.text()


def test_the_acknowledge_buttons_are_disabled_for_a_viewer_and_a_viewer_is_refused(qtbot, viewer):
    now = time.time()
    feed(viewer, now)
    audit: list[AuditEntry] = []
    window = window_for(qtbot, viewer, "viewer", audit)
    dialog = window.open_bed("main/cardio/bed02")
    assert dialog is not None
    dialog.frame()
    assert dialog.alarms.count() == 1
    assert not dialog.ack_button.isEnabled() and not dialog.ack_all_button.isEnabled()
    assert window.acknowledge_remote("main/cardio/bed02", 17, "spo2_low") is None
    assert audit[-1].action == Action.ACKNOWLEDGE_REMOTE and audit[-1].outcome != OK
    assert viewer.ack_outcomes() == ()  # nothing was sent
    assert "main/cardio/bed02" in viewer.open_beds()  # the open bed asks for its waves
    dialog.close()
    assert "main/cardio/bed02" not in viewer.open_beds()


def test_a_clinician_may_acknowledge_and_the_request_is_kept_until_its_answer(qtbot, viewer):
    now = time.time()
    feed(viewer, now)
    audit: list[AuditEntry] = []
    window = window_for(qtbot, viewer, "clinician", audit)
    dialog = window.open_bed("main/cardio/bed02")
    assert dialog is not None
    dialog.frame()
    assert dialog.ack_button.isEnabled()
    request = window.acknowledge_remote("main/cardio/bed02", 17, "spo2_low")
    assert request is not None and audit[-1].outcome == OK
    outcome = viewer.ack_outcome(request)
    # not connected (no broker in this test): the person is told it was not sent
    assert outcome is not None and outcome.ok is False and "no connection" in outcome.detail
    dialog.frame()
    assert "Not acknowledged" in dialog.result.text()


def test_the_viewers_own_no_data_alarm_is_silenced_locally_by_a_nurse(qtbot, viewer):
    now = time.time()
    feed(viewer, now)
    viewer.house.on_status(
        "main", "icu", StationStatus("ICU North", "offline", now, ("bed01", "bed02"), "1.0")
    )
    window = window_for(qtbot, viewer, "nurse")
    assert window.acknowledge_remote("main/icu/bed01", -1, STATION_LOST_KEY) is None
    lost = [a for a in viewer.house.snapshot().alarms.alarms if a.key == STATION_LOST_KEY]
    assert lost and all(a.acknowledged_by == "user.nurse" for a in lost)


def test_the_station_window_has_a_hospital_menu_enabled_only_with_a_broker(qtbot, viewer):
    station = Station(StationSetup("Ward 7", [BedSetup("Bed 1", None)]), ScaledClock(1.0))
    try:
        plain = MainWindow(station)
        qtbot.addWidget(plain)
        assert not plain.hospital_menu.page_action.isEnabled()  # type: ignore[attr-defined]
        assert not plain.hospital_menu.rapid_action.isEnabled()  # type: ignore[attr-defined]
        station.services[SERVICE_NAME] = viewer
        shared = MainWindow(station)
        qtbot.addWidget(shared)
        menu = shared.hospital_menu  # type: ignore[attr-defined]
        assert menu.page_action.isEnabled() and menu.rapid_action.isEnabled()
        feed(viewer, time.time())
        rapid = menu.open_rapid()
        assert menu.hospital is not None and menu.hospital.isVisible() and rapid is not None
        assert viewer.started  # connecting in the background (to nothing here); the window never waits
        assert sorted(menu.hospital.page.tiles)[0] == "main/cardio/bed01"
        menu.hospital.close()
    finally:
        station.stop()


@pytest.mark.parametrize(
    ("sound", "with_high", "with_medium_only"),
    [("all", Priority.HIGH, Priority.MEDIUM), ("high", Priority.HIGH, None), ("none", None, None)],
)
def test_remote_alarms_sound_through_the_alarm_audio_as_the_sound_setting_says(
    qtbot, sound, with_high, with_medium_only
):
    settings = MqttSettings(parse_url("mqtt://127.0.0.1:1"), "main", "rrt", sound=sound)
    viewer = HospitalViewer(settings, "RRT desk")
    now = time.time()
    feed(viewer, now)
    window = window_for(qtbot, viewer, "nurse")
    assert window.sound.player.priority is with_high
    medium = AlarmState(3, "hr_high", "physiological", "medium", "active", "HR 131 > 130", now, now)
    viewer.house.on_alarms("main", "cardio", "bed02", BedAlarms("main/cardio:1a:2", now, None, (medium,)))
    window.frame()
    assert window.sound.player.priority is with_medium_only
    assert len(window.alarm_bar.lines.shown()) == 1  # shown whatever the sound setting


def test_why_on_the_alarm_bar_opens_the_bed_of_that_alarm_when_another_station_uses_the_same_id(
    qtbot, viewer
):
    now = time.time()
    feed(viewer, now)  # cardio/bed02 has alarm 17, high
    same_id = AlarmState(17, "hr_high", "physiological", "medium", "active", "HR 130 > 120", now - 5, now - 9)
    event = AlarmEventInfo("raised", 17, "hr_high", "medium", "", "", now - 5)
    viewer.house.on_alarms("main", "icu", "bed01", BedAlarms("main/icu:1b:1", now - 5, event, (same_id,)))
    window = window_for(qtbot, viewer, "clinician")
    lines = window.alarm_bar.lines
    assert [a.bed for a in lines.shown()] == ["main/cardio/bed02", "main/icu/bed01"]  # high first
    qtbot.mouseClick(
        lines, Qt.MouseButton.LeftButton, pos=QPoint(lines.width() - INFO_W // 2, ROW_H + ROW_H // 2)
    )
    assert list(window.bed_views) == ["main/icu/bed01"]
    # acknowledging still names the station's own alarm id
    assert [a.alarm_id for a in window.snapshot.alarms.alarms] == [17, 17]


def test_a_remote_tile_shows_a_lost_bedside_link_while_its_station_is_heard(qtbot, viewer):
    now = time.time()
    feed(viewer, now)
    viewer.house.on_technical("main", "icu", "bed01", Technical(now, "lost", ()))
    window = window_for(qtbot, viewer, "clinician")
    tile = window.page.tiles["main/icu/bed01"]
    assert tile.summary.link_text == "ICU North · bedside link lost"
    assert tile.summary.link_state is LinkState.DISCONNECTED
    assert window.page.tiles["main/icu/bed02"].summary.link_state is LinkState.CONNECTED
