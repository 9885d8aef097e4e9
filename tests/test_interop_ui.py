"""The interfaces in the window (pytest-qt, offscreen): an ADT admission arriving on the interface's
thread shows on its tile, and the admin dialog shows the links and applies new settings."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from wardwatch.app.clock import ScaledClock
from wardwatch.app.interop.mllp import MllpReader, frame
from wardwatch.app.interop.reports import Identity
from wardwatch.app.interop.service import InteropService
from wardwatch.app.interop.settings import InteropSettings
from wardwatch.app.station import BedSetup, Station, StationSetup
from wardwatch.storage.database import open_record
from wardwatch.storage.interop_queue import OutboxQueue
from wardwatch.storage.keys import DatabaseKey, write_key_file
from wardwatch.ui import interop_hooks
from wardwatch.ui.interop_dialog import InteropDialog
from wardwatch.ui.main_window import MainWindow


@pytest.fixture
def ward(qtbot, tmp_path: Path):
    key = tmp_path / "k"
    write_key_file(key, DatabaseKey.new())
    record = open_record(tmp_path / "data", key_file=key)
    station = Station(
        StationSetup("Interface ward", [BedSetup("Bed 1", None), BedSetup("Bed 2", None)]), ScaledClock()
    )
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    settings = InteropSettings(hl7_in_port=port, hl7_out="127.0.0.1:9", link_down_alarm_s=3600)
    service = InteropService(
        station,
        OutboxQueue(record.engine),
        settings,
        Identity("WARDWATCH", "0200000000000004", "WARD"),
        config_path=tmp_path / "wardwatch.toml",
    )
    service.start()
    station.services["interop"] = service
    win = MainWindow(station, fps=30)
    qtbot.addWidget(win)
    win.resize(1400, 800)
    win.start()
    win.show()
    yield station, win, service, port, tmp_path
    win.stop()
    service.close()
    station.stop()
    record.close()


def _send(port: int, text: str) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(frame(text))
        reader = MllpReader()
        while True:
            for item in reader.feed(sock.recv(65536)):
                return item.decode()


def test_an_adt_admission_shows_on_its_tile_without_anyone_touching_the_window(qtbot, ward):
    _station, win, _service, port, _tmp = ward
    tile = next(t for t in win.tiles if t.bed.bed_id == "bed02")
    assert tile.bed.patient is None
    answer = _send(
        port,
        "MSH|^~\\&|ADT|HOSP|||20261202||ADT^A01^ADT_A01|UI1|P|2.6\r"
        "PID|1||M77^^^H^MR||ROE^RITA\rPV1|1|I|W^^Bed 2\r",
    )
    assert "MSA|AA|UI1" in answer
    qtbot.waitUntil(lambda: tile.bed.patient is not None and tile.bed.patient.mrn == "M77", timeout=5000)


def test_the_admin_dialog_shows_the_links_and_applies_and_saves_new_settings(qtbot, ward):
    _station, win, service, _port, tmp = ward
    dialog = interop_hooks.open_dialog(win)
    assert isinstance(dialog, InteropDialog)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.table.rowCount() >= 3, timeout=5000)  # hl7, alarms, ADT in
    names = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    assert names == ["hl7", "alarms", "ADT in"]
    dialog.hl7_out.setText("not a host")
    assert dialog.apply() is False and "hl7_out" in dialog.error.text()
    dialog.hl7_out.setText("")
    dialog.fhir_out.setText("http://127.0.0.1:9/fhir")
    dialog.interval.setValue(30)
    assert dialog.apply() is True
    qtbot.waitUntil(lambda: "applied" in service.last_result, timeout=10000)
    assert service.settings.fhir_out == "http://127.0.0.1:9/fhir" and service.settings.hl7_out is None
    qtbot.waitUntil(
        lambda: (
            [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())] == ["fhir", "ADT in"]
        ),
        timeout=5000,
    )
    saved = (tmp / "wardwatch.toml").read_text()
    assert 'fhir_out = "http://127.0.0.1:9/fhir"' in saved and "numerics_interval_s = 30" in saved
    from wardwatch.app.config import load_config

    loaded = load_config(tmp / "wardwatch.toml")
    assert loaded.messages == () and loaded.config.interop_numerics_interval_s == 30.0


def test_settings_are_not_applied_when_the_stations_check_says_no(qtbot, ward):
    _station, win, service, _port, _tmp = ward
    asked: list[tuple[str, str]] = []

    def refuse(before: str, after: str) -> str | None:
        asked.append((before, after))
        return None

    dialog = InteropDialog(service, refuse, win)
    qtbot.addWidget(dialog)
    dialog.fhir_out.setText("http://127.0.0.1:9/fhir")
    assert dialog.apply() is False
    assert "may not" in dialog.error.text()
    assert service.settings.fhir_out is None
    before, after = asked[0]
    assert "fhir_out=None" in before and "fhir_out=http://127.0.0.1:9/fhir" in after
