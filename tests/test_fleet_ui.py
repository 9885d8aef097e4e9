"""The fleet on screen: the pump and glucose strip on a bed sector, the bed view's panel, the asset and
maintenance views, and the fingerstick entry (offscreen, real widgets)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time

import pytest
from wardwatch.app.clock import FixedClock
from wardwatch.app.codes import MdcCode
from wardwatch.app.config import StationConfig
from wardwatch.app.domain import Observation, Validity
from wardwatch.app.fleet.service import SERVICE_NAME, FleetService
from wardwatch.app.sources import SourceContext
from wardwatch.app.station import BedSetup, Station, StationSetup
from wardwatch.ui.bed_view import BedView
from wardwatch.ui.fleet_hooks import fingerstick_dialog
from wardwatch.ui.fleet_tile import FleetStrip
from wardwatch.ui.fleet_views import AssetsDialog, MaintenanceDialog
from wardwatch.ui.frontend import build_window

T0 = time.time()


@pytest.fixture
def station() -> Station:
    clock = FixedClock(T0)
    beds = [BedSetup("Bed 1", None, ("pump:heparin",)), BedSetup("Bed 2", None)]
    st = Station(StationSetup("Ward 7", beds), clock)
    # the devices without their threads: a pump steps by hand below
    st.bed_devices.start(st.beds, lambda bed: SourceContext(clock))
    return st


def step_devices(station: Station, seconds: int) -> None:
    clock = station.clock
    assert isinstance(clock, FixedClock)
    for device in station.bed_devices.devices():
        device.source.begin()  # type: ignore[union-attr]
    for _ in range(seconds):
        clock.t += 1.0
        for device in station.bed_devices.devices():
            device.source.step(device.source._sink)  # type: ignore[union-attr]


def glucose(station: Station, values: list[float]) -> None:
    t = station.clock.now() - 60.0 * len(values)
    for v in values:
        t += 60.0
        obs = Observation("bed01", MdcCode.CONC_GLU_ISF, v, "mg/dL", t, Validity.VALID)
        station.hub.push_observation(obs, from_monitor=False)


def test_the_sector_strip_shows_the_pump_and_the_glucose_with_its_arrow(qtbot, station):
    step_devices(station, 3)
    glucose(station, [130, 127, 124, 121, 118, 115, 112, 109, 106, 103, 100])
    window = build_window(station, 30.0)
    qtbot.addWidget(window)
    window.resize(1600, 900)
    window.show()
    qtbot.waitExposed(window)
    strips: list[FleetStrip] = window.fleet_strips  # type: ignore[attr-defined]
    for strip in strips:
        strip.refresh(station.clock.now())
    assert "Heparin 2 mL/h" in strips[0].text
    assert "CGM 100 mg/dL ↓ -3.0/min" in strips[0].text
    assert strips[0].isVisible() and not strips[1].isVisible()  # a bed without devices looks as before
    assert "&Devices" in [a.text() for a in window.menuBar().actions()]


def test_the_bed_view_panel_shows_programme_dose_and_time_left(qtbot, station):
    step_devices(station, 3)
    view = BedView(station, "bed01")
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    from wardwatch.ui.fleet_panel import FleetPanel

    (panel,) = view.findChildren(FleetPanel)
    panel.refresh()
    text = panel.label.text()
    assert "Heparin" in text and "500 IU/mL" in text and "2 mL/h = 1000 IU/h" in text and "RUNNING" in text


def test_the_asset_and_maintenance_views_list_what_the_service_holds(qtbot, station):
    step_devices(station, 3)
    service = FleetService(station, StationConfig())
    station.services[SERVICE_NAME] = service
    service.tick()
    assets = AssetsDialog(station)
    qtbot.addWidget(assets)
    assets.show()
    types = {assets.table.item(r, 1).text() for r in range(assets.table.rowCount())}
    assert types == {"infusion-pump"}
    assert assets.table.item(0, 7).text() == "Bed 1"
    maintenance = MaintenanceDialog(station)
    qtbot.addWidget(maintenance)
    maintenance.show()
    assert maintenance.table.rowCount() == len(service.flags)


def test_a_fingerstick_entered_by_a_nurse_reaches_the_bed_and_the_journal(qtbot, station):
    window = build_window(station, 30.0)
    qtbot.addWidget(window)
    dialog = fingerstick_dialog(window, "bed01")
    assert dialog is not None  # a station without a user directory: every action is the station's
    dialog.unit.setCurrentText("mmol/L")
    dialog.value.setValue(4.2)
    dialog.accept()
    obs = station.hub.latest("bed01", MdcCode.CONC_GLU_CAPILLARY_WHOLEBLOOD)
    assert obs is not None and obs.value == 76.0 and obs.unit == "mg/dL"
    (entry,) = [e for e in station.alarms.journal() if e.detail.startswith("fingerstick")]
    assert (entry.bed, entry.user, entry.detail) == ("bed01", window.user, "fingerstick glucose 76 mg/dL")


def test_a_long_drug_name_gives_way_on_a_narrow_strip_so_rate_and_time_left_stay_whole(qtbot):
    from PySide6.QtGui import QFont, QFontMetrics
    from wardwatch.ui.fleet_text import FleetLine
    from wardwatch.ui.fleet_tile import fitted_text

    font = QFont()
    font.setPixelSize(14)
    fm = QFontMetrics(font)
    line = FleetLine("Sodium chloride 0.9 % 125 mL/h  8 min", name="Sodium chloride 0.9 %")
    room = fm.horizontalAdvance("Sodium 125 mL/h  8 min")
    text = fitted_text(line, fm, room)
    assert text.endswith(" 125 mL/h  8 min")
    assert text.startswith("Sod") and "…" in text
    assert fm.horizontalAdvance(text) <= room
    assert fitted_text(line, fm, 10_000) == line.text
