"""The station window with the security service (pytest-qt, offscreen): a locked station keeps raising,
showing and sounding alarms; a refused action opens the login; logins, idle lock, name masking, the
first-run administrator, authenticator enrolment and the audit viewer."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from wardwatch.app.alarms.findings import Finding
from wardwatch.app.alarms.model import Category, Priority
from wardwatch.app.clock import ScaledClock
from wardwatch.app.config import StationConfig
from wardwatch.app.domain import Patient
from wardwatch.app.extensions import ServiceContext
from wardwatch.app.security import totp
from wardwatch.app.security.access import Actor
from wardwatch.app.security.cli import start_services
from wardwatch.app.security.service import SERVICE_NAME, SecurityService
from wardwatch.app.station import BedSetup, Station, StationSetup
from wardwatch.storage.keys import DatabaseKey, write_key_file
from wardwatch.storage.station_record import attach_record
from wardwatch.ui.bed_view import BedView
from wardwatch.ui.main_window import MainWindow

ADMIN_PW = "admin horse battery"
NURSE_PW = "nurse staple 42!"
VT = Finding(key="arrhythmia:VT", category=Category.ARRHYTHMIA, priority=Priority.HIGH, message="V-tach")


def make_window(qtbot, tmp_path: Path, with_users: bool = True):
    key_file = tmp_path / "k"
    write_key_file(key_file, DatabaseKey.new())
    station = Station(
        StationSetup("Lock ward", [BedSetup("Bed 1", "sim:stable"), BedSetup("Bed 2", "sim:stable")]),
        ScaledClock(1.0),
    )
    station.alarms._analyser = lambda bed, now: []
    record = attach_record(station, tmp_path / "data", key_file)
    if with_users:  # made before the service starts, as `wardwatch user add` would
        from wardwatch.app.security.access import AccessControl
        from wardwatch.app.security.directory import UserDirectory
        from wardwatch.app.security.permissions import load_permissions

        d = UserDirectory(record.record.engine, AccessControl(load_permissions()))
        d.add_first_admin("admin", "Ada Admin", ADMIN_PW)
        d.add(Actor("admin", "admin"), "nurse.a", "Nora Nurse", "nurse", NURSE_PW)
    services = start_services(ServiceContext(station, StationConfig(), None, record, headless=False))  # type: ignore[arg-type]
    service = station.services[SERVICE_NAME]
    assert isinstance(service, SecurityService)
    win = MainWindow(station, fps=30)
    qtbot.addWidget(win)
    win.resize(1400, 800)
    station.start()
    win.start()
    win.show()
    return station, win, service, record, services


@pytest.fixture
def secured(qtbot, tmp_path):
    station, win, service, record, services = make_window(qtbot, tmp_path)
    yield station, win, service, record
    win.stop()
    station.stop()
    for s in services:
        s.close()
    record.close()


def login(qtbot, win, name: str, password: str) -> None:
    ui = win.security_ui
    dialog = ui.login()
    dialog.name.setText(name)
    dialog.secret.setText(password)
    dialog.submit()
    qtbot.waitUntil(lambda: ui.service.actor is not None and ui.service.actor.name == name, timeout=5000)


def test_a_locked_station_still_raises_shows_and_sounds_a_new_alarm(qtbot, secured):
    station, win, service, _ = secured
    assert service.actor is None and "STATION LOCKED" in win.security_ui.banner_text.text()
    bursts: list[str] = []
    win.sound.player.burst_started.connect(bursts.append)
    station.alarms._analyser = lambda bed, now: [VT] if bed == "bed02" else []
    qtbot.waitUntil(lambda: any(a.key == VT.key for a in station.alarms.snapshot.alarms), timeout=5000)
    qtbot.waitUntil(lambda: any(a.key == VT.key for a in win.alarm_bar.lines.snapshot.alarms), timeout=3000)
    qtbot.waitUntil(lambda: win.tiles[1].alarm is not None and "V-tach" in win.tiles[1].alarm.text)
    qtbot.waitUntil(lambda: "high" in bursts, timeout=3000)  # the tone does not depend on who is logged in
    assert station.alarms.snapshot.sounding_priority is Priority.HIGH
    # and the waves go on being drawn while locked
    before = win.stats.frames
    win.stats.record = True
    qtbot.waitUntil(lambda: win.stats.frames > before + 5, timeout=3000)
    # acknowledging is an action: refused while locked, the alarm keeps sounding
    win.on_refused = lambda decision: None
    win.acknowledge_all()
    assert station.alarms.snapshot.sounding_priority is Priority.HIGH


def test_a_refused_action_on_a_locked_station_opens_the_login_and_logging_in_unlocks(qtbot, secured):
    station, win, service, _ = secured
    station.alarms._analyser = lambda bed, now: [VT] if bed == "bed02" else []
    qtbot.waitUntil(lambda: bool(station.alarms.snapshot.alarms), timeout=5000)
    win.activateWindow()
    qtbot.keyClick(win, Qt.Key.Key_F2)
    dialog = win.security_ui.dialogs["login"]
    qtbot.waitUntil(dialog.isVisible)
    assert "locked" in dialog.reason.text().lower()
    dialog.name.setText("nurse.a")
    dialog.secret.setText("not it at all")
    dialog.submit()
    qtbot.waitUntil(lambda: "Wrong" in dialog.message.text(), timeout=5000)
    assert dialog.secret.text() == ""
    qtbot.wait(1100)  # the back-off after one failure
    dialog.secret.setText(NURSE_PW)
    dialog.submit()
    qtbot.waitUntil(lambda: service.actor == Actor("nurse.a", "nurse"), timeout=5000)
    qtbot.waitUntil(lambda: "nurse.a (Nurse) is acting" in win.security_ui.banner_text.text())
    assert "nurse.a" in win._user_label.text()
    win.acknowledge_all()
    qtbot.waitUntil(lambda: station.alarms.snapshot.sounding_priority is None, timeout=3000)
    assert station.alarms.snapshot.alarms[0].acknowledged_by == "nurse.a"


def test_quick_switch_hands_the_station_to_the_next_user(qtbot, secured):
    _, win, service, _ = secured
    login(qtbot, win, "nurse.a", NURSE_PW)
    login(qtbot, win, "admin", ADMIN_PW)
    assert service.actor == Actor("admin", "admin")


def test_idle_time_locks_the_station_and_locking_masks_names(qtbot, secured):
    station, win, service, record = secured
    login(qtbot, win, "admin", ADMIN_PW)
    station.admit("bed01", Patient(mrn="M1", family_name="Maskme", given_name="Ann"))
    win.refresh_beds()
    qtbot.waitUntil(lambda: "MASKME" in win.tiles[0].summary.patient_text)
    win.bed_view_factory = lambda bed_id: BedView(station, bed_id)
    win.open_bed("bed01")
    view = win.bed_views["bed01"]
    assert "MASKME" in view.patient_label.text()
    service.settings = replace(service.settings, idle_lock_s=30.0)
    win.security_ui.input.last_input = time.monotonic() - 31
    win.security_ui.check_idle()
    assert service.actor is None
    qtbot.waitUntil(lambda: win.tiles[0].summary.patient_text == "•••")
    assert view.patient_label.text() == "•••"
    view.close()
    qtbot.waitUntil(lambda: "STATION LOCKED" in win.security_ui.banner_text.text())
    assert record.writer.flush()
    with record.record.engine.connect() as conn:
        locks = conn.exec_driver_sql("SELECT detail FROM audit WHERE action = 'session.lock'").fetchall()
    assert locks and "no input for 30 s" in locks[-1][0]


def test_first_run_asks_for_an_administrator_and_logs_them_in(qtbot, tmp_path):
    station, win, service, record, services = make_window(qtbot, tmp_path, with_users=False)
    try:
        qtbot.waitUntil(lambda: "first_run" in win.security_ui.dialogs)
        dialog = win.security_ui.dialogs["first_run"]
        assert dialog.isVisible()
        dialog.name.setText("boss")
        dialog.password.setText("short")
        dialog.again.setText("short")
        dialog.submit()
        assert "8 characters" in dialog.message.text()
        dialog.password.setText(ADMIN_PW)
        dialog.again.setText(ADMIN_PW)
        dialog.submit()
        qtbot.waitUntil(lambda: service.actor == Actor("boss", "admin"), timeout=5000)
        assert not service.needs_first_admin
    finally:
        win.stop()
        station.stop()
        for s in services:
            s.close()
        record.close()


def test_authenticator_enrolment_shows_a_qr_code_and_enrols_with_a_generated_code(qtbot, secured):
    _, win, service, _ = secured
    login(qtbot, win, "nurse.a", NURSE_PW)
    dialog = win.security_ui.enrol()
    assert not dialog.qr.pixmap().isNull() and dialog.qr.pixmap().width() > 150
    assert f"secret={dialog.secret}" in dialog.uri
    dialog.password.setText(NURSE_PW)
    dialog.code.setText(totp.current_code(dialog.secret, time.time()))
    secret = dialog.secret
    with qtbot.waitSignal(dialog.enrolled, timeout=5000):
        dialog.submit()
    user = service.call(lambda d: d.user("nurse.a")).result(5)
    assert user is not None and user.totp_enabled
    # the next login asks for the code
    service.lock()
    login_dialog = win.security_ui.login()
    login_dialog.name.setText("nurse.a")
    login_dialog.secret.setText(NURSE_PW)
    login_dialog.submit()
    qtbot.waitUntil(login_dialog.code.isVisible, timeout=5000)
    login_dialog.secret.setText(NURSE_PW)
    login_dialog.code.setText(totp.current_code(secret, time.time() + 30))  # the enrolment's was used
    login_dialog.submit()
    qtbot.waitUntil(lambda: service.actor is not None, timeout=5000)


def test_the_audit_viewer_is_for_administrators_and_filters_and_verifies(qtbot, secured):
    _, win, _service, record = secured
    login(qtbot, win, "nurse.a", NURSE_PW)
    win.on_refused = lambda decision: None
    assert win.security_ui.audit() is None  # a nurse may not
    login(qtbot, win, "admin", ADMIN_PW)
    assert record.writer.flush()
    viewer = win.security_ui.audit()
    qtbot.waitUntil(lambda: viewer.table.rowCount() > 0, timeout=5000)
    actions = {viewer.table.item(i, 2).text() for i in range(viewer.table.rowCount())}
    assert {"session.login", "audit.view"} <= actions
    viewer.outcome.setCurrentIndex(viewer.outcome.findData("denied"))
    qtbot.waitUntil(
        lambda: viewer.table.rowCount() > 0 and viewer.table.item(0, 4).text() == "denied", timeout=5000
    )
    assert viewer.table.item(0, 1).text() == "nurse.a"
    viewer.verify()
    qtbot.waitUntil(lambda: "intact" in viewer.chain.text(), timeout=5000)
