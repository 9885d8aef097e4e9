"""The central display with real simulated and recorded beds, offscreen."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from wardwatch.app.clock import ScaledClock
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import TechnicalEvent, TechnicalKind
from wardwatch.app.presentation import Freshness
from wardwatch.app.sources import SourceContext, make_source
from wardwatch.app.station import BedSetup, Station, StationSetup
from wardwatch.devices.base import Sink, Source, ThreadedSource
from wardwatch.devices.simulator import default_mix
from wardwatch.ui.main_window import NOT_A_MEDICAL_DEVICE, MainWindow


def _station(beds: list[BedSetup], maker=make_source) -> Station:
    return Station(StationSetup("Test ward", beds, seed=7), ScaledClock(1.0), source_maker=maker)


@pytest.fixture
def window(qtbot):
    created: list[tuple[Station, MainWindow]] = []

    def make(station: Station) -> MainWindow:
        win = MainWindow(station, fps=30)
        qtbot.addWidget(win)
        win.resize(1600, 900)
        station.start()
        win.start()
        win.show()
        created.append((station, win))
        return win

    yield make
    for station, win in created:
        win.stop()
        station.stop()


def test_sixteen_simulated_beds_paint_frames_and_every_tile_draws_its_waves(qtbot, window):
    mix = default_mix(16)
    win = window(_station([BedSetup(f"Bed {i + 1}", f"sim:{mix[i]}") for i in range(16)]))
    win.stats.record = True

    def all_tiles_drawn() -> bool:
        return all(
            tile.frames_drawn > 5 and tile._traces and all(t.has_data for t in tile._traces.values())
            for tile in win.tiles
        )

    qtbot.waitUntil(all_tiles_drawn, timeout=15000)
    qtbot.waitUntil(lambda: win.stats.frames > 10, timeout=5000)
    for tile in win.tiles:
        assert MdcCode.ECG_ELEC_POTL_II in tile._traces, tile.bed.label
        streams = win.station.hub.streams(tile.bed.bed_id)
        for code, trace in tile._traces.items():
            assert trace.cursor > 0 and trace.cursor <= streams.waves[code].ring.count


def test_numerics_shown_match_what_the_simulator_reported(qtbot, window):
    win = window(_station([BedSetup("Bed 1", "sim:stable"), BedSetup("Bed 2", "sim:tachy")]))
    hub = win.station.hub

    def hr_shown() -> bool:
        return all(
            tile.summary.numerics and tile.summary.numerics[0].freshness is Freshness.CURRENT
            for tile in win.tiles
        )

    qtbot.waitUntil(hr_shown, timeout=10000)
    for tile in win.tiles:
        win._frame()  # one more frame so both read the same hub state
        for view in tile.summary.numerics:
            if view.label == "HR":
                assert view.text == f"{hub.latest(tile.bed.bed_id, MdcCode.ECG_HEART_RATE).value:.0f}"
            if view.label == "SpO₂":
                assert view.text == f"{hub.latest(tile.bed.bed_id, MdcCode.PULS_OXIM_SAT_O2).value:.0f}"


class ExplodingSource(ThreadedSource):
    kind = "sim"

    def run(self, sink: Sink, stop: threading.Event) -> None:
        raise RuntimeError("boom from the device driver")


def test_a_source_that_raises_is_shown_as_a_technical_state_and_the_rest_keeps_running(qtbot, window):
    def maker(spec: str, bed: str, ctx: SourceContext) -> Source:
        if spec == "sim:explode":
            return ExplodingSource(spec, bed, ctx.clock)
        return make_source(spec, bed, ctx)

    win = window(_station([BedSetup("Bed 1", "sim:explode"), BedSetup("Bed 2", "sim:stable")], maker))
    broken, healthy = win.tiles
    qtbot.waitUntil(lambda: broken.summary.message.startswith("Source failed"), timeout=5000)
    qtbot.waitUntil(lambda: healthy.frames_drawn > 10, timeout=10000)
    assert healthy.summary.message == ""
    assert "boom" not in broken.summary.message  # internal exception text stays in the log


def test_a_missing_wfdb_record_is_shown_on_its_bed_and_the_other_beds_keep_running(
    qtbot, window, tmp_path: Path
):
    missing = tmp_path / "no_such_record"
    win = window(_station([BedSetup("Bed 1", f"replay:{missing}"), BedSetup("Bed 2", "sim:stable")]))
    broken, healthy = win.tiles
    qtbot.waitUntil(lambda: broken.summary.message.startswith("Source failed"), timeout=10000)
    assert "no_such_record" in broken.summary.message
    qtbot.waitUntil(lambda: healthy.frames_drawn > 10, timeout=10000)


def test_an_empty_bed_is_shown_as_standby_not_hidden(qtbot, window):
    win = window(_station([BedSetup("Bed 1", None), BedSetup("Bed 2", "sim:stable")]))
    empty = win.tiles[0]
    empty.refresh_summary(0.0, force=True)
    assert empty.isVisible()
    assert not empty.summary.occupied
    assert empty.summary.patient_text == "no patient"


def test_lead_off_is_written_on_the_tile_without_relying_on_colour(qtbot, window):
    win = window(_station([BedSetup("Bed 1", "sim:stable")]))
    tile = win.tiles[0]
    qtbot.waitUntil(lambda: tile.frames_drawn > 3, timeout=10000)
    clock = win.station.clock
    win.station.hub.push_event(TechnicalEvent(tile.bed.bed_id, TechnicalKind.LEAD_OFF, True, clock.now()))
    qtbot.waitUntil(lambda: tile.summary.message == "Leads off", timeout=2000)
    assert tile.summary.message_kind is TechnicalKind.LEAD_OFF
    win.station.hub.push_event(TechnicalEvent(tile.bed.bed_id, TechnicalKind.LEAD_OFF, False, clock.now()))
    qtbot.waitUntil(lambda: tile.summary.message == "", timeout=2000)


def test_status_bar_says_plainly_that_this_is_not_a_medical_device(qtbot, window):
    win = window(_station([BedSetup("Bed 1", None)]))
    texts = [w.text() for w in win.statusBar().findChildren(type(win._clock_label))]
    assert NOT_A_MEDICAL_DEVICE in texts


def test_admitting_moving_and_discharging_show_on_the_tiles(qtbot, window):
    import datetime as dt

    from wardwatch.app.domain import Patient

    win = window(_station([BedSetup("Bed 1", "sim:stable"), BedSetup("Bed 2", None)]))
    patient = Patient("MRN-1", "Doe", "Jane", dt.date(1950, 3, 1))
    win.station.admit("bed01", patient)
    win.refresh_beds()
    assert win.tiles[0].summary.patient_text == "DOE, Jane"
    win.station.move("bed01", "bed02")
    win.refresh_beds()
    assert (win.tiles[0].summary.patient_text, win.tiles[1].summary.patient_text) == (
        "not admitted",
        "DOE, Jane",
    )
    win.station.discharge("bed02")
    win.refresh_beds()
    assert win.tiles[1].summary.patient_text == "no patient"


def test_a_bursty_device_is_played_out_behind_its_newest_sample(qtbot, window):
    import numpy as np
    from wardwatch.app.domain import WaveformBlock

    win = window(_station([BedSetup("Bed 1", None)]))
    tile = win.tiles[0]
    hub = win.station.hub
    now = win.station.clock.now()
    # a Polar-H10-like burst: 0.56 s of ECG that ends now
    samples = np.zeros(140, np.float32)
    hub.push_block(WaveformBlock("bed01", MdcCode.ECG_ELEC_POTL_II, samples, 250.0, now - 139 / 250.0))
    tile.refresh_summary(now, force=True)
    tile.advance(now)
    ring = hub.streams("bed01").waves[MdcCode.ECG_ELEC_POTL_II].ring
    trace = tile._traces[MdcCode.ECG_ELEC_POTL_II]
    assert trace.cursor == 0  # the burst is held back, not drawn at once
    tile.advance(now + 0.3)
    assert 0 < trace.cursor < ring.count  # ... and drawn progressively, frame by frame
    tile.advance(now + 0.6)
    assert trace.cursor == ring.count
