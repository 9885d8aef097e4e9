"""The full role × action matrix: every action a role is allowed works, every other one is refused and
the refusal is audited — checked on the permission table for every action name, and on the station's
window for every action it offers (a real station, a real encrypted record, the real security service)."""

from __future__ import annotations

from pathlib import Path

import pytest
from wardwatch.app.alarms.findings import Finding
from wardwatch.app.alarms.model import Category, Priority, State
from wardwatch.app.clock import ScaledClock
from wardwatch.app.config import StationConfig
from wardwatch.app.domain import Patient
from wardwatch.app.extensions import ServiceContext
from wardwatch.app.security.access import DENIED, OK, AccessControl, Actor, AuditEntry
from wardwatch.app.security.actions import Action, Role
from wardwatch.app.security.cli import start_services
from wardwatch.app.security.permissions import PermissionsError, load_permissions, parse_permissions
from wardwatch.app.security.service import SERVICE_NAME
from wardwatch.app.station import BedSetup, Station, StationSetup
from wardwatch.storage import database
from wardwatch.storage.database import make_engine
from wardwatch.storage.keys import DatabaseKey, read_key_file, write_key_file
from wardwatch.storage.station_record import attach_record
from wardwatch.ui import main_window
from wardwatch.ui.main_window import MainWindow

A = Action
NURSE = {A.VIEW, A.ACKNOWLEDGE, A.AUDIO_PAUSE, A.OBSERVATION, A.NOTE}
# The roles, written out here independently of resources/permissions.toml.
EXPECTED: dict[Role, set[Action]] = {
    Role.VIEWER: {A.VIEW},
    Role.NURSE: NURSE,
    Role.CHARGE_NURSE: NURSE | {A.ESCALATION, A.LIMITS_WARD, A.LIMITS_PATIENT, A.ASSIGN_SOURCE}
    | {A.ADMIT, A.MOVE, A.DISCHARGE, A.HANDOVER, A.REVIEW, A.ACKNOWLEDGE_REMOTE},
    Role.CLINICIAN: NURSE | {A.REVIEW, A.HANDOVER, A.LIMITS_PATIENT, A.EXPORT, A.ACKNOWLEDGE_REMOTE},
    Role.ADMIN: {
        A.VIEW, A.DEVICE_SETTINGS, A.ASSIGN_SOURCE, A.USER_MANAGE, A.RETENTION, A.INTEROP_SETTINGS,
        A.STATION_SETTINGS, A.SECURITY_SETTINGS, A.AUDIT_VIEW, A.AUDIT_EXPORT, A.AUDIT_VERIFY, A.EXPORT,
        A.BACKUP, A.RESTORE, A.UPGRADE, A.CHECK, A.DIAGNOSTICS,
    },
}  # fmt: skip


@pytest.mark.parametrize("role", list(Role))
def test_every_action_of_the_matrix_is_allowed_or_refused_and_audited_per_role(role):
    entries: list[AuditEntry] = []
    access = AccessControl(load_permissions(), entries.append, lambda: 1.0)
    actor = Actor(f"user.{role.value}", role.value)
    for action in Action:
        decision = access.check(action, "bed01", before="b", after="a", actor=actor)
        allowed = action in EXPECTED[role]
        assert bool(decision) is allowed, (role, action)
        entry = entries[-1]
        assert (entry.user, entry.action, entry.target) == (actor.name, action.value, "bed01")
        if allowed:
            assert (entry.outcome, entry.before, entry.after) == (OK, "b", "a")
        else:
            assert entry.outcome == DENIED and "may not" in entry.detail and decision.reason == entry.detail
    assert len(entries) == len(Action)


def test_a_locked_station_refuses_every_action_and_audits_it():
    entries: list[AuditEntry] = []
    access = AccessControl(load_permissions(), entries.append)
    for action in Action:
        assert not access.check(action)
    assert {e.outcome for e in entries} == {DENIED} and len(entries) == len(Action)
    assert all("log in" in e.detail for e in entries)


def test_an_action_no_role_lists_is_refused_to_everyone():
    access = AccessControl(load_permissions())
    for role in Role:
        assert not access.check("pump.stop_infusion", actor=Actor("x", role.value))


def test_commands_map_to_actions_and_unlisted_ones_are_for_administrators():
    p = load_permissions()
    assert p.command_action("export") == A.EXPORT
    assert p.command_action("db upgrade") == A.UPGRADE
    assert p.command_action("restore") == A.RESTORE
    assert p.command_action("diagnostics") == A.DIAGNOSTICS
    assert p.command_action("audit verify") == A.AUDIT_VERIFY
    assert p.command_action("report") == A.HANDOVER
    assert p.command_action("interop") == A.INTEROP_SETTINGS
    assert p.command_action("interop settings") == A.INTEROP_SETTINGS
    assert p.command_action("devices") == A.VIEW  # the asset list holds no patient data
    assert p.command_action("devices serviced") == A.DEVICE_SETTINGS
    open_commands = ("", "run", "bench", "bench security", "eval", "decode", "info", "train")
    open_commands += ("interop status",)
    for open_command in open_commands:
        assert p.command_action(open_command) is None
    assert p.command_action("something new") == A.STATION_SETTINGS


def test_a_broken_matrix_is_refused_with_its_reason():
    base = load_permissions()
    assert base.allows("nurse", "alarm.acknowledge")
    with pytest.raises(PermissionsError, match="unknown role"):
        parse_permissions('[roles.nurse]\nincludes = ["ghost"]\nactions = []\n')
    with pytest.raises(PermissionsError, match="includes itself"):
        parse_permissions('[roles.a]\nincludes = ["b"]\n[roles.b]\nincludes = ["a"]\n')
    with pytest.raises(PermissionsError, match="lacks the roles"):
        parse_permissions("[roles.nurse]\nactions = []\n")


# -- the window's actions, per role ---------------------------------------------------------------------
VT = Finding(key="arrhythmia:VT", category=Category.ARRHYTHMIA, priority=Priority.HIGH, message="V-tach")


class FakeWardDialog:
    """Stands in for the admit / discharge / source dialogs (their own tests fill them in)."""

    def __init__(self, station: Station, bed_id: str | None, parent: object = None) -> None:
        self._bed = bed_id or "bed01"

    def exec(self) -> bool:
        return True

    def bed_id(self) -> str:
        return self._bed

    def patient(self) -> Patient:
        return Patient(mrn="MRN-1", family_name="Matrix", given_name="Test")

    def spec(self) -> str | None:
        return None


@pytest.fixture
def secured(qtbot, tmp_path: Path, monkeypatch):
    key_file = tmp_path / "k"
    write_key_file(key_file, DatabaseKey.new())
    station = Station(
        StationSetup("Matrix ward", [BedSetup("Bed 1", "sim:stable"), BedSetup("Bed 2", "sim:stable")]),
        ScaledClock(1.0),
    )
    station.alarms._analyser = lambda bed, now: [VT] if bed == "bed02" else []
    record = attach_record(station, tmp_path / "data", key_file)
    services = start_services(ServiceContext(station, StationConfig(), None, record, headless=False))  # type: ignore[arg-type]
    for name in ("AdmitDialog", "DischargeDialog", "SourceDialog"):
        monkeypatch.setattr(main_window, name, FakeWardDialog)
    win = MainWindow(station, fps=30)
    qtbot.addWidget(win)
    win.on_refused = lambda decision: None  # no message boxes in this test
    station.start()
    win.start()
    yield station, win, record, tmp_path / "data", key_file
    win.stop()
    station.stop()
    for s in services:
        s.close()
    record.close()


def trail(data: Path, key_file: Path) -> list[tuple[str, str, str, str]]:
    engine = make_engine(data / database.DATABASE_NAME, read_key_file(key_file))
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            'SELECT "user", action, target, outcome FROM audit ORDER BY id'
        ).fetchall()
    engine.dispose()
    return [tuple(r) for r in rows]  # type: ignore[misc]


@pytest.mark.parametrize("role", list(Role))
def test_window_actions_work_for_allowed_roles_and_are_refused_and_audited_for_the_others(
    qtbot, secured, role
):
    station, win, record, data, key_file = secured
    user = f"user.{role.value}"
    station.services[SERVICE_NAME].access.set_actor(Actor(user, role.value))  # type: ignore[attr-defined]
    may = EXPECTED[role]
    qtbot.waitUntil(lambda: any(a.key == VT.key for a in station.alarms.snapshot.alarms), timeout=5000)

    win.toggle_audio_pause()
    assert (station.alarms.snapshot.pause is not None) is (A.AUDIO_PAUSE in may)
    win.acknowledge_bed("bed02")
    qtbot.wait(50)
    vt = next(a for a in station.alarms.snapshot.alarms if a.key == VT.key)
    assert (vt.state is State.ACKNOWLEDGED) is (A.ACKNOWLEDGE in may)
    if A.ACKNOWLEDGE in may:
        assert vt.acknowledged_by == user

    dialog = win.limits_dialog("bed01")
    assert (dialog is not None) is (A.LIMITS_PATIENT in may)
    if dialog is not None:
        row = next(i for i, r in enumerate(dialog._rules) if r.key == "spo2_low")
        dialog._widgets[row][0].setValue(87)
        dialog.accept()
        assert station.alarms.settings_for("bed01").rule("spo2_low").low == 87
    entries = win.entries_dialog("bed01")
    assert (entries is not None) is (A.OBSERVATION in may)
    if entries is not None:
        entries.accept()  # nothing entered: recorded as an entry all the same

    win.admit_dialog("bed01")
    assert (station.bed("bed01").patient is not None) is (A.ADMIT in may)
    win.discharge_dialog("bed01")
    assert station.bed("bed01").patient is None
    win.source_dialog("bed02")
    assert (station.bed("bed02").source_spec is None) is (A.ASSIGN_SOURCE in may)

    assert record.writer.flush()
    rows = [r for r in trail(data, key_file) if r[0] == user]
    outcomes = {(action, outcome) for _, action, _, outcome in rows}
    for action in (A.AUDIO_PAUSE, A.ACKNOWLEDGE, A.LIMITS_PATIENT, A.OBSERVATION, A.ADMIT, A.ASSIGN_SOURCE):
        assert (action.value, OK if action in may else DENIED) in outcomes, (role, action)
    if A.ADMIT in may:  # the ward change itself is recorded under the same user
        assert any(action == "ward admit" for _, action, _, _ in rows)
