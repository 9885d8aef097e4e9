import pytest
from PySide6.QtCore import QRect
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import Bed, DeviceStatus, LinkState, Observation, Validity
from wardwatch.app.hub import StreamHub
from wardwatch.app.presentation import (
    NO_VALUE,
    NOT_MEASURED,
    Freshness,
    choose_numerics,
    choose_waves,
    grid_shape,
    link_text,
    numeric_view,
    summarise,
)


def _obs(code: MdcCode, value: float, t: float, validity: Validity = Validity.VALID) -> Observation:
    return Observation("bed01", code, value, "/min", t, validity)


@pytest.mark.parametrize(
    ("beds", "shape"), [(4, (2, 2)), (8, (2, 4)), (16, (4, 4)), (32, (4, 8)), (64, (8, 8))]
)
def test_grid_adapts_to_the_ward_size(beds: int, shape: tuple[int, int]):
    assert grid_shape(beds) == shape


def test_current_value_is_shown_as_measured():
    view = numeric_view(_obs(MdcCode.ECG_HEART_RATE, 72.4, 100.0), MdcCode.ECG_HEART_RATE, now=101.0)
    assert (view.text, view.freshness) == ("72", Freshness.CURRENT)


def test_value_older_than_its_validity_is_greyed_with_its_time():
    view = numeric_view(_obs(MdcCode.ECG_HEART_RATE, 72, 100.0), MdcCode.ECG_HEART_RATE, now=200.0)
    assert view.freshness is Freshness.STALE and view.time_text


def test_invalid_value_is_never_shown_as_if_valid():
    obs = _obs(MdcCode.PULS_OXIM_SAT_O2, 97, 100.0, Validity.INVALID)
    view = numeric_view(obs, MdcCode.PULS_OXIM_SAT_O2, now=100.5)
    assert (view.text, view.freshness) == (NO_VALUE, Freshness.INVALID)


def test_parameter_nobody_measures_reads_not_measured():
    view = numeric_view(None, MdcCode.PULS_OXIM_SAT_O2, now=0.0)
    assert (view.text, view.freshness) == (NOT_MEASURED, Freshness.ABSENT)


def test_pulse_rate_stands_in_for_heart_rate_when_there_is_no_ecg():
    views = choose_numerics({MdcCode.PULS_RATE: _obs(MdcCode.PULS_RATE, 64, 10.0)}, now=10.5)
    assert (views[0].label, views[0].text) == ("PR", "64")


def test_arterial_pressure_is_preferred_to_nibp_and_shows_its_mean():
    numerics = {
        code: _obs(code, value, 10.0)
        for code, value in (
            (MdcCode.PRESS_BLD_ART_SYS, 120),
            (MdcCode.PRESS_BLD_ART_DIA, 70),
            (MdcCode.PRESS_BLD_ART_MEAN, 87),
            (MdcCode.PRESS_BLD_NONINV_SYS, 130),
        )
    }
    pressure = choose_numerics(numerics, now=10.5)[2]
    assert (pressure.label, pressure.text) == ("ART", "120/70 (87)")


def test_primary_ecg_lead_comes_first_then_abp_pleth_resp():
    waves = choose_waves(
        [MdcCode.RESP, MdcCode.PULS_OXIM_PLETH, MdcCode.ECG_ELEC_POTL_V5, MdcCode.ECG_ELEC_POTL_II]
    )
    assert waves == (MdcCode.ECG_ELEC_POTL_II, MdcCode.PULS_OXIM_PLETH, MdcCode.RESP)


def test_patient_names_can_be_masked():
    import datetime as dt

    from wardwatch.app.domain import Patient

    bed = Bed("bed01", "Bed 1", Patient("1", "Doe", "Jane", dt.date(1940, 1, 1)))
    assert summarise(bed, None, 0.0, mask_names=True).patient_text == "•••"
    assert "Doe" not in repr(bed.patient)


def test_numeric_cells_never_overlap_and_stay_inside_the_panel():
    from wardwatch.ui.tile import numeric_cells

    for w, h in ((150, 90), (150, 230), (100, 60), (400, 400)):
        panel = QRect(0, 0, w, h)
        cells = numeric_cells(panel, 5)
        assert len(cells) == 5
        for i, a in enumerate(cells):
            assert a.left() >= 0 and a.top() >= 0 and a.right() <= w + 0.01 and a.bottom() <= h + 0.01
            for b in cells[i + 1 :]:
                assert not a.intersected(b).isValid() or a.intersected(b).isEmpty()


def test_the_device_badge_says_when_data_falters_and_when_the_link_is_lost():
    hub = StreamHub()
    hub.set_status("bed01", DeviceStatus("serial:nonin:/dev/ttyUSB0", "serial", LinkState.CONNECTED, "nonin"))
    hub.push_observation(Observation("bed01", MdcCode.PULS_OXIM_SAT_O2, 97.0, "%", 1000.0))
    streams = hub.streams("bed01")
    assert link_text(streams, 1001.0) == ("SERIAL", LinkState.CONNECTED)
    assert link_text(streams, 1003.4) == ("SERIAL data 3 s old", LinkState.CONNECTED)
    lost = DeviceStatus("serial:nonin:/dev/ttyUSB0", "serial", LinkState.DISCONNECTED, "lost")
    hub.set_status("bed01", lost)
    assert link_text(hub.streams("bed01"), 1003.4) == ("SERIAL link lost", LinkState.DISCONNECTED)


def test_the_device_badge_shows_the_links_loss_from_one_percent():
    hub = StreamHub()
    status = DeviceStatus(
        "serial:nonin:/dev/ttyUSB0", "serial", LinkState.CONNECTED, "nonin", loss_percent=12.4
    )
    hub.set_status("bed01", status)
    hub.push_observation(Observation("bed01", MdcCode.PULS_OXIM_SAT_O2, 97.0, "%", 1000.0))
    assert link_text(hub.streams("bed01"), 1000.5) == ("SERIAL loss 12%", LinkState.CONNECTED)
