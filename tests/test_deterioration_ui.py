"""The risk on screen, painted from the service's memory: a badge on the tile, a panel in the bed view
with reasons, calibration note and history, and the laboratory values dialog."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time

import pytest
from wardwatch.app.clock import FixedClock
from wardwatch.app.codes import MdcCode
from wardwatch.app.deterioration.model import load_model
from wardwatch.app.deterioration.service import SERVICE_NAME, RiskService
from wardwatch.app.domain import Observation
from wardwatch.app.station import BedSetup, Station, StationSetup
from wardwatch.ui.bed_view import BedView
from wardwatch.ui.deterioration_widgets import DeteriorationPanel, LabsDialog, TileBadges, badge_text
from wardwatch.ui.tile import BedTile

BED = "bed01"


@pytest.fixture
def station() -> Station:
    start = time.time() // 3600 * 3600 - 3 * 3600
    station = Station(StationSetup("Test ward", [BedSetup("Bed 1", None)]), FixedClock(start))
    service = RiskService(station.hub, station.clock, lambda: [BED], load_model())
    station.services[SERVICE_NAME] = service
    clock: FixedClock = station.clock  # type: ignore[assignment]
    for minute in range(3 * 60):  # three hours of a tachycardic, feverish patient
        clock.t = start + minute * 60.0
        for code, value in (
            (MdcCode.ECG_HEART_RATE, 100 + minute / 6),
            (MdcCode.TEMP_BODY, 38.7),
            (MdcCode.RESP_RATE, 24.0),
            (MdcCode.PULS_OXIM_SAT_O2, 93.0),
        ):
            station.hub.push_observation(Observation(BED, code, float(value), "", clock.t))
        service.step(clock.t)
    return station


def test_the_tile_shows_the_risk_and_its_trend(qtbot, station: Station):
    tile = BedTile(station.bed(BED), station.hub)
    qtbot.addWidget(tile)
    tile.resize(480, 240)
    tile.show()
    service: RiskService = station.services[SERVICE_NAME]  # type: ignore[assignment]
    badges = TileBadges([tile], service)
    badge = badges.badges[BED]
    risk = service.latest(BED)
    assert risk is not None
    assert badge.isVisible() and badge.text() == badge_text(risk)
    assert badge.text().startswith("Risk ") and badge.text()[-1] in "↑↓→"
    assert tile.rect().contains(badge.geometry())


def test_the_bed_view_explains_the_risk(qtbot, station: Station):
    view = BedView(station, BED)
    qtbot.addWidget(view)
    view.resize(1400, 900)
    view.show()
    panel = view.findChild(DeteriorationPanel)
    assert panel is not None
    assert panel.value_label.text().startswith("Deterioration risk ")
    assert panel.reasons_label.text().startswith("Raised most by: ")
    assert (
        "patient-hours" in panel.note_label.text()
        and "not a certified medical device" in panel.note_label.text()
    )
    xs, _ = panel.curve.getData()
    assert xs is not None and len(xs) >= 2  # the last hours' risks


def test_without_the_service_the_panel_says_the_risk_is_off(qtbot):
    panel = DeteriorationPanel({}, BED)
    qtbot.addWidget(panel)
    assert panel.value_label.text() == "Deterioration risk: off"


def test_the_labs_dialog_reads_only_what_was_entered(qtbot):
    dialog = LabsDialog("Bed 1")
    qtbot.addWidget(dialog)
    dialog.fields["Lactate"].setText("3.1")
    dialog.fields["WBC"].setText("14")
    dialog.sex.setCurrentIndex(dialog.sex.findData(True))
    assert dialog.values() == {"Lactate": 3.1, "WBC": 14.0}
    assert dialog.female() is True
    assert dialog.summary() == "deterioration labs: lactate, white cells, sex"  # names, never values
