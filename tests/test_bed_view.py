"""The bed view draws what the hub holds: sweeps with gaps, numerics by the sector rules, trends, messages."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import datetime as dt
import math
import time

import numpy as np
import pytest
from wardwatch.app.clock import FixedClock
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import Observation, Patient, TechnicalEvent, TechnicalKind, Validity, WaveformBlock
from wardwatch.app.presentation import Freshness
from wardwatch.app.station import BedSetup, Station, StationSetup
from wardwatch.ui.bed_view import (
    ECG_SPEED_MM_S,
    RESP_SPEED_MM_S,
    BedView,
    SweepBuffer,
    bed_view_waves,
    pixels_per_mm,
)
from wardwatch.ui.theme import theme

BED = "bed01"
ECG_RATE = 250.0


@pytest.fixture
def station() -> Station:
    setup = StationSetup("Test ward", [BedSetup("Bed 1", None), BedSetup("Bed 2", None)])
    return Station(setup, FixedClock(time.time()))


@pytest.fixture
def view(qtbot, station: Station) -> BedView:
    bed_view = BedView(station, BED)
    qtbot.addWidget(bed_view)
    bed_view.resize(1400, 800)
    bed_view.show()
    qtbot.waitExposed(bed_view)
    return bed_view


def block_start(station: Station, rate: float, seconds: float) -> float:
    # A quarter-sample offset keeps round(t * rate) away from .5, where float noise could shift a slot.
    return (math.floor(station.clock.now() * rate) - seconds * rate + 0.25) / rate


def push_wave(
    station: Station, code: MdcCode, samples: np.ndarray, rate: float = ECG_RATE, label: str = ""
) -> None:
    t0 = block_start(station, rate, len(samples) / rate)
    station.hub.push_block(WaveformBlock(BED, code, samples.astype(np.float32), rate, t0, label=label))


def push_numeric(station: Station, code: MdcCode, value: float, age_s: float = 0.0, **kw: object) -> None:
    unit = {MdcCode.TEMP_BODY: "Cel", MdcCode.PULS_OXIM_SAT_O2: "%"}.get(code, "/min")
    station.hub.push_observation(Observation(BED, code, value, unit, station.clock.now() - age_s, **kw))  # type: ignore[arg-type]


def curve_y(view: BedView, code: MdcCode) -> np.ndarray:
    _x, y = view.wave_rows[code].curve.getData()
    return np.asarray(y) if y is not None else np.empty(0)


def finite(y: np.ndarray) -> np.ndarray:
    return y[np.isfinite(y)]


# -- waves -------------------------------------------------------------------------------------------


def test_ecg_curve_holds_the_pushed_samples(qtbot, station, view):
    samples = np.linspace(-0.5, 1.5, 500)
    push_wave(station, MdcCode.ECG_ELEC_POTL_II, samples)
    qtbot.waitUntil(
        lambda: (
            MdcCode.ECG_ELEC_POTL_II in view.wave_rows
            and len(finite(curve_y(view, MdcCode.ECG_ELEC_POTL_II))) == 500
        )
    )
    np.testing.assert_allclose(
        np.sort(finite(curve_y(view, MdcCode.ECG_ELEC_POTL_II))), np.sort(samples.astype(np.float32))
    )


def test_nan_samples_break_the_line_instead_of_drawing_values(qtbot, station, view):
    samples = np.ones(500)
    samples[200:260] = np.nan
    push_wave(station, MdcCode.ECG_ELEC_POTL_II, samples)
    qtbot.waitUntil(
        lambda: (
            MdcCode.ECG_ELEC_POTL_II in view.wave_rows
            and len(finite(curve_y(view, MdcCode.ECG_ELEC_POTL_II))) == 440
        )
    )
    y = curve_y(view, MdcCode.ECG_ELEC_POTL_II)
    drawn = np.flatnonzero(np.isfinite(y))
    # the 440 drawn samples form two runs separated by the 60-sample hole
    assert np.count_nonzero(np.diff(drawn) > 1) >= 1
    assert np.isnan(y).any()


def test_all_nan_data_draws_an_empty_sweep(qtbot, station, view):
    push_wave(station, MdcCode.ECG_ELEC_POTL_II, np.full(300, np.nan))
    push_wave(station, MdcCode.PULS_OXIM_PLETH, np.full(150, np.nan), rate=125.0)
    qtbot.waitUntil(
        lambda: len(view.wave_rows) == 2 and view.wave_rows[MdcCode.PULS_OXIM_PLETH].buffer is not None
    )
    view.frame()
    assert len(finite(curve_y(view, MdcCode.ECG_ELEC_POTL_II))) == 0
    assert len(finite(curve_y(view, MdcCode.PULS_OXIM_PLETH))) == 0


def test_waves_are_ordered_ecg_leads_first_then_abp_pleth_resp(qtbot, station, view):
    for code, rate in (
        (MdcCode.RESP, 62.5),
        (MdcCode.PULS_OXIM_PLETH, 125.0),
        (MdcCode.ECG_ELEC_POTL_I, ECG_RATE),
        (MdcCode.PRESS_BLD_ART_ABP, 125.0),
        (MdcCode.ECG_ELEC_POTL_II, ECG_RATE),
    ):
        push_wave(station, code, np.zeros(int(rate)), rate=rate)
    qtbot.waitUntil(lambda: len(view.wave_rows) == 5)
    assert list(view.wave_rows) == [
        MdcCode.ECG_ELEC_POTL_II,
        MdcCode.ECG_ELEC_POTL_I,
        MdcCode.PRESS_BLD_ART_ABP,
        MdcCode.PULS_OXIM_PLETH,
        MdcCode.RESP,
    ]


def test_a_channel_that_appears_later_gets_its_own_curve(qtbot, station, view):
    push_wave(station, MdcCode.ECG_ELEC_POTL_II, np.zeros(250))
    qtbot.waitUntil(lambda: list(view.wave_rows) == [MdcCode.ECG_ELEC_POTL_II])
    push_wave(station, MdcCode.PULS_OXIM_PLETH, np.full(125, 0.5), rate=125.0)
    qtbot.waitUntil(lambda: MdcCode.PULS_OXIM_PLETH in view.wave_rows)
    qtbot.waitUntil(lambda: len(finite(curve_y(view, MdcCode.PULS_OXIM_PLETH))) == 125)


def test_reassigning_the_source_starts_the_sweeps_afresh(qtbot, station, view):
    push_wave(station, MdcCode.ECG_ELEC_POTL_II, np.ones(500))
    qtbot.waitUntil(
        lambda: (
            MdcCode.ECG_ELEC_POTL_II in view.wave_rows
            and len(finite(curve_y(view, MdcCode.ECG_ELEC_POTL_II))) == 500
        )
    )
    station.assign_source(BED, None)  # the hub forgets the bed's data and bumps its generation
    qtbot.waitUntil(lambda: not view.wave_rows)
    push_wave(station, MdcCode.ECG_ELEC_POTL_II, np.full(100, 2.0))
    qtbot.waitUntil(
        lambda: (
            MdcCode.ECG_ELEC_POTL_II in view.wave_rows
            and len(finite(curve_y(view, MdcCode.ECG_ELEC_POTL_II))) == 100
        )
    )
    assert set(finite(curve_y(view, MdcCode.ECG_ELEC_POTL_II))) == {2.0}


def test_bed_without_streams_shows_placeholders(qtbot, station, monkeypatch):
    monkeypatch.setattr(station.hub, "streams", lambda bed: None)
    bed_view = BedView(station, BED)
    qtbot.addWidget(bed_view)
    bed_view.show()
    bed_view.frame()
    assert not bed_view.wave_rows
    assert bed_view.message_label.text() == "No device assigned"
    assert bed_view.numeric_texts() == {"HR": "---", "SpO₂": "---", "RR": "---"}


def test_ecg_sweep_runs_at_25_mm_per_s_and_10_mm_per_mv_on_this_screen(qtbot, station, view):
    push_wave(station, MdcCode.ECG_ELEC_POTL_II, np.zeros(250), label="MLII")
    push_wave(station, MdcCode.RESP, np.zeros(62), rate=62.5)
    qtbot.waitUntil(lambda: len(view.wave_rows) == 2)
    ppmm = pixels_per_mm(view.screen())
    ecg = view.wave_rows[MdcCode.ECG_ELEC_POTL_II]
    (x_lo, x_hi), (y_lo, y_hi) = ecg.plot.vb.viewRange()
    assert (x_hi - x_lo) * ECG_SPEED_MM_S * ppmm == pytest.approx(ecg.plot.vb.width(), rel=0.01)
    assert (y_hi - y_lo) * 10.0 * ppmm == pytest.approx(ecg.plot.vb.height(), rel=0.01)
    assert ecg.describe() == "MLII  x1  10 mm/mV  25 mm/s"
    resp = view.wave_rows[MdcCode.RESP]
    (r_lo, r_hi), _ = resp.plot.vb.viewRange()
    assert (r_hi - r_lo) * RESP_SPEED_MM_S * ppmm == pytest.approx(resp.plot.vb.width(), rel=0.01)


# -- messages ----------------------------------------------------------------------------------------


def test_leads_off_is_written_across_the_ecg_while_active(qtbot, station, view):
    push_wave(station, MdcCode.ECG_ELEC_POTL_II, np.zeros(250))
    now = station.clock.now()
    station.hub.push_event(TechnicalEvent(BED, TechnicalKind.LEAD_OFF, True, now))
    qtbot.waitUntil(lambda: view.message_label.isVisible() and view.message_label.text() == "Leads off")
    station.hub.push_event(TechnicalEvent(BED, TechnicalKind.LEAD_OFF, False, now))
    qtbot.waitUntil(lambda: not view.message_label.isVisible())


def test_no_signal_condition_is_shown_over_the_waves(qtbot, station, view):
    station.hub.push_event(TechnicalEvent(BED, TechnicalKind.NO_SIGNAL, True, station.clock.now()))
    qtbot.waitUntil(lambda: view.message_label.isVisible() and view.message_label.text() == "No signal")


# -- numerics and trends -------------------------------------------------------------------------------


def test_numerics_show_the_pushed_values(qtbot, station, view):
    push_numeric(station, MdcCode.ECG_HEART_RATE, 72)
    push_numeric(station, MdcCode.PULS_OXIM_SAT_O2, 97)
    push_numeric(station, MdcCode.RESP_RATE, 16)
    push_numeric(station, MdcCode.TEMP_BODY, 37.14)
    for code, value in (
        (MdcCode.PRESS_BLD_NONINV_SYS, 120),
        (MdcCode.PRESS_BLD_NONINV_DIA, 80),
        (MdcCode.PRESS_BLD_NONINV_MEAN, 93),
    ):
        station.hub.push_observation(Observation(BED, code, value, "mm[Hg]", station.clock.now()))
    expected = {"HR": "72", "SpO₂": "97", "NIBP": "120/80 (93)", "RR": "16", "Temp": "37.1"}
    qtbot.waitUntil(lambda: view.numeric_texts() == expected)
    shown = {box.head_label.text().split()[0]: box.value_label.text() for box in view.numeric_boxes}
    assert shown == expected


def test_stale_value_is_greyed_with_its_time(qtbot, station, view):
    push_numeric(station, MdcCode.ECG_HEART_RATE, 64, age_s=60)  # HR is current for 10 s
    qtbot.waitUntil(lambda: view.numeric_texts().get("HR") == "64")
    box = next(b for b in view.numeric_boxes if b.view is not None and b.view.label == "HR")
    assert box.view is not None and box.view.freshness is Freshness.STALE
    expected_time = dt.datetime.fromtimestamp(station.clock.now() - 60).strftime("%H:%M")
    assert box.time_label.text() == expected_time
    assert theme().colour("text", "stale").name() in box.value_label.styleSheet()


def test_invalid_value_is_never_shown_as_a_number(qtbot, station, view):
    push_numeric(station, MdcCode.PULS_OXIM_SAT_O2, 88, validity=Validity.INVALID)
    qtbot.waitUntil(lambda: view.numeric_texts().get("SpO₂") == "-?-")


def test_trends_plot_the_last_hour_of_history(qtbot, station):
    now = station.clock.now()
    station.hub.push_observation(Observation(BED, MdcCode.ECG_HEART_RATE, 50, "/min", now - 4000))
    for i, value in enumerate((70, 75, 80)):
        station.hub.push_observation(
            Observation(BED, MdcCode.ECG_HEART_RATE, value, "/min", now - 1800 + i * 60)
        )
    station.hub.push_observation(Observation(BED, MdcCode.PRESS_BLD_NONINV_SYS, 130, "mm[Hg]", now - 600))
    station.hub.push_observation(Observation(BED, MdcCode.PRESS_BLD_NONINV_DIA, 85, "mm[Hg]", now - 600))
    bed_view = BedView(station, BED)
    qtbot.addWidget(bed_view)
    bed_view.show()
    bed_view.frame()  # the first frame fills the trends without waiting for their period
    x, y = bed_view.trend_curve(MdcCode.ECG_HEART_RATE).getData()
    assert list(y) == [70, 75, 80]
    assert list(x) == [now - 1800, now - 1740, now - 1680]
    assert list(bed_view.trend_curve(MdcCode.PRESS_BLD_NONINV_SYS).getData()[1]) == [130]
    assert list(bed_view.trend_curve(MdcCode.PRESS_BLD_NONINV_DIA).getData()[1]) == [85]


# -- header, buttons, life cycle -----------------------------------------------------------------------


def test_header_names_the_patient_with_mrn_and_age(qtbot, station, view):
    assert view.patient_label.text() == "no patient"
    today = dt.datetime.fromtimestamp(station.clock.now()).date()
    station.admit(
        BED, Patient("MRN42", "Doe", "Jane", today.replace(year=today.year - 40) - dt.timedelta(days=1))
    )
    qtbot.waitUntil(lambda: view.patient_label.text() == "DOE, Jane   MRN MRN42   40 y")
    assert view.bed_label.text() == "Bed 1"
    assert not view.admit_button.isEnabled() and view.discharge_button.isEnabled()


def test_ward_buttons_request_actions_for_this_bed(qtbot, view):
    with qtbot.waitSignal(view.sourceRequested) as blocker:
        view.source_button.click()
    assert blocker.args == [BED]
    with qtbot.waitSignal(view.admitRequested) as blocker:
        view.admit_button.click()
    assert blocker.args == [BED]


def test_closing_the_window_stops_its_frame_timer(qtbot, station):
    bed_view = BedView(station, BED)  # not handed to qtbot: it deletes itself on close
    bed_view.show()
    timer = bed_view.frame_timer
    assert timer.isActive()
    bed_view.close()
    assert not timer.isActive()


# -- the sweep itself ----------------------------------------------------------------------------------


def test_sweep_places_samples_by_time_and_erases_ahead_of_the_pen():
    buffer = SweepBuffer(rate=100.0, sweep_s=2.0, erase_s=0.1)
    t = 1000.0 + np.arange(150) / 100.0  # starts at slot 0, wraps after 200 samples
    buffer.write(np.arange(150, dtype=np.float32), t)
    assert buffer.ys[0] == 0 and buffer.ys[149] == 149
    assert np.isnan(buffer.ys[150:160]).all()  # the erase bar
    buffer.write(np.full(100, 7.0, np.float32), 1001.5 + np.arange(100) / 100.0)
    assert (buffer.ys[150:200] == 7).all() and (buffer.ys[:50] == 7).all()  # wrapped to the left edge
    assert np.isnan(buffer.ys[50:60]).all()
    assert buffer.ys[60] == 60  # the previous sweep still shows behind the erase bar


def test_sweep_holds_over_one_missing_sample_but_breaks_on_a_longer_gap():
    buffer = SweepBuffer(rate=100.0, sweep_s=5.0, erase_s=0.05)
    buffer.write(np.ones(10, np.float32), 2000.0 + np.arange(10) / 100.0)
    buffer.write(np.full(5, 2.0, np.float32), 2000.11 + np.arange(5) / 100.0)  # one slot skipped: jitter
    buffer.write(np.full(5, 3.0, np.float32), 2000.30 + np.arange(5) / 100.0)  # 14 slots skipped: dropout
    assert buffer.ys[10] == 1.0
    assert buffer.ys[15] == 2.0 and np.isnan(buffer.ys[16:30]).all()
    assert (buffer.ys[30:35] == 3.0).all()


def test_sweep_keeps_erasing_with_the_clock_when_data_stops():
    buffer = SweepBuffer(rate=100.0, sweep_s=10.0, erase_s=0.05)
    buffer.write(np.ones(100, np.float32), 3000.0 + np.arange(100) / 100.0)
    assert not buffer.follow_clock(3001.5)  # a short pause is not yet a stall
    assert buffer.follow_clock(3004.0)
    assert np.isnan(buffer.ys[100:400]).all()
    assert np.isfinite(buffer.ys[:100]).all()


def test_sweep_ignores_samples_older_than_the_pen():
    buffer = SweepBuffer(rate=100.0, sweep_s=2.0, erase_s=0.05)
    buffer.write(np.ones(50, np.float32), 4000.0 + np.arange(50) / 100.0)
    assert not buffer.write(np.full(10, 9.0, np.float32), 4000.0 + np.arange(10) / 100.0)
    assert 9.0 not in buffer.ys


def test_wave_order_helper_keeps_unknown_waves_last():
    codes = [MdcCode.RESP, MdcCode.ECG_ELEC_POTL_V5, MdcCode.PULS_OXIM_PLETH, MdcCode.ECG_ELEC_POTL_II]
    assert bed_view_waves(codes) == (
        MdcCode.ECG_ELEC_POTL_II,
        MdcCode.ECG_ELEC_POTL_V5,
        MdcCode.PULS_OXIM_PLETH,
        MdcCode.RESP,
    )


def test_pixel_density_falls_back_to_96_dpi_without_a_screen():
    assert pixels_per_mm(None) == pytest.approx(96 / 25.4)
