import numpy as np
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import (
    DeviceStatus,
    LinkState,
    Observation,
    TechnicalEvent,
    TechnicalKind,
    WaveformBlock,
)
from wardwatch.app.hub import StreamHub
from wardwatch.app.presentation import top_condition
from wardwatch.app.supervisor import check_silence


def _block(bed: str, t0: float, n: int = 10, rate: float = 250.0) -> WaveformBlock:
    return WaveformBlock(bed, MdcCode.ECG_ELEC_POTL_II, np.ones(n, np.float32), rate, t0)


def test_blocks_land_in_the_bed_channel_ring_with_their_times():
    hub = StreamHub()
    hub.push_block(_block("bed01", 100.0, n=5, rate=5.0))
    ring = hub.streams("bed01").waves[MdcCode.ECG_ELEC_POTL_II].ring
    chunk = ring.latest(5)
    assert chunk.times.tolist() == [100.0, 100.2, 100.4, 100.6, 100.8]
    assert hub.streams("bed01").last_data == 100.8


def test_latest_numeric_and_its_history_are_kept():
    hub = StreamHub()
    for i, value in enumerate((70.0, 72.0, 75.0)):
        hub.push_observation(Observation("bed01", MdcCode.ECG_HEART_RATE, value, "/min", 10.0 + i))
    assert hub.latest("bed01", MdcCode.ECG_HEART_RATE).value == 75.0
    history = hub.streams("bed01").numeric_history[MdcCode.ECG_HEART_RATE].latest(10)
    assert history.values.tolist() == [70.0, 72.0, 75.0]


def test_subscribers_receive_every_observation_and_event():
    hub = StreamHub()
    q = hub.subscribe()
    obs = Observation("bed01", MdcCode.PULS_OXIM_SAT_O2, 97.0, "%", 1.0)
    event = TechnicalEvent("bed01", TechnicalKind.LEAD_OFF, True, 2.0)
    hub.push_observation(obs)
    hub.push_event(event)
    assert [q.get_nowait(), q.get_nowait()] == [obs, event]


def test_technical_condition_is_active_until_its_end_event():
    hub = StreamHub()
    hub.push_event(TechnicalEvent("bed01", TechnicalKind.LEAD_OFF, True, 1.0))
    assert [c.kind for c in hub.conditions("bed01")] == [TechnicalKind.LEAD_OFF]
    hub.push_event(TechnicalEvent("bed01", TechnicalKind.LEAD_OFF, False, 2.0))
    assert hub.conditions("bed01") == []


def test_empty_or_rateless_blocks_are_rejected_not_stored():
    hub = StreamHub()
    hub.add_bed("bed01")
    hub.push_block(WaveformBlock("bed01", MdcCode.RESP, np.empty(0, np.float32), 62.5, 0.0))
    hub.push_block(WaveformBlock("bed01", MdcCode.RESP, np.ones(3, np.float32), 0.0, 0.0))
    assert hub.counters.rejected == 2
    assert MdcCode.RESP not in hub.streams("bed01").waves


def test_clearing_a_bed_forgets_its_data_and_bumps_its_generation():
    hub = StreamHub()
    hub.push_block(_block("bed01", 0.0))
    generation = hub.streams("bed01").generation
    hub.clear_bed("bed01")
    assert hub.streams("bed01").waves == {}
    assert hub.streams("bed01").generation == generation + 1


def test_silent_connected_source_raises_no_signal_and_data_clears_it():
    hub = StreamHub()
    hub.set_status("bed01", DeviceStatus("sim", "sim", LinkState.CONNECTED))
    hub.push_block(_block("bed01", 100.0))
    assert check_silence(hub, ["bed01"], now=103.0) == []
    events = check_silence(hub, ["bed01"], now=106.0)
    assert [(e.kind, e.active) for e in events] == [(TechnicalKind.NO_SIGNAL, True)]
    for e in events:
        hub.push_event(e)
    hub.push_block(_block("bed01", 106.5))
    cleared = check_silence(hub, ["bed01"], now=106.6)
    assert [(e.kind, e.active) for e in cleared] == [(TechnicalKind.NO_SIGNAL, False)]


def test_silence_of_a_disconnected_device_is_reported_as_disconnected():
    hub = StreamHub()
    hub.set_status("bed01", DeviceStatus("ble", "ble", LinkState.DISCONNECTED))
    hub.push_block(_block("bed01", 100.0))
    events = check_silence(hub, ["bed01"], now=105.5)
    assert [(e.kind, e.active) for e in events] == [(TechnicalKind.DISCONNECTED, True)]


def test_a_disconnected_device_s_alarm_says_why_the_source_thinks_it_went() -> None:
    hub = StreamHub()
    why = "no Bluetooth (service not running), retry in 4 s"
    hub.set_status("bed01", DeviceStatus("ble:A0", "ble", LinkState.DISCONNECTED, why))
    hub.push_block(_block("bed01", 100.0))
    (event,) = check_silence(hub, ["bed01"], now=105.5)
    cause = "no Bluetooth (service not running)"
    assert event.detail == f"{cause}; no data for more than 4 s"  # without the stale countdown
    hub.push_event(event)
    text, kind = top_condition(hub.streams("bed01"))
    assert kind is TechnicalKind.DISCONNECTED and text == f"Device disconnected: {cause}"


def test_a_bed_without_a_source_is_never_reported_silent():
    hub = StreamHub()
    hub.add_bed("bed01")
    assert check_silence(hub, ["bed01"], now=1e9) == []
