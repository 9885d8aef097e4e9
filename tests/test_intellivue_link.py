"""An IntelliVue on a real pseudo-terminal: the emulated monitor serves the master side, the station's serial
source the slave. Association, numerics and waves into the hub, noise survived, a pulled cable, a refuse, a
silent monitor and the release on stop."""

from __future__ import annotations

import pytest
from test_serial_source import Cable, wait_for
from wardwatch.app.clock import ScaledClock
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import LinkState
from wardwatch.app.hub import StreamHub
from wardwatch.devices.intellivue.emulator import EmulatedIntelliVue, EmulatorThread, Vitals
from wardwatch.devices.intellivue.framing import frame
from wardwatch.devices.intellivue.session import SessionConfig
from wardwatch.devices.serial_port import SerialSource, parse_spec
from wardwatch.devices.serial_port.parsers import PARSERS, IntelliVueParser

BED = "bed01"
# time-outs short enough for a test to see them; the protocol is the same
QUICK = SessionConfig(reply_timeout_s=2.0, answer_timeout_s=1.0, retry_s=0.5)


class MonitorOnCable:
    """The emulated monitor behind a cable: unplugging stops it serving before the pty goes."""

    def __init__(self, cable: Cable, emulator: EmulatedIntelliVue) -> None:
        self.cable = cable
        self.emulator = emulator
        self.server: EmulatorThread | None = EmulatorThread(emulator, cable.master).start()

    def unplug(self) -> None:
        assert self.server is not None
        self.server.stop()
        self.server = None
        self.cable.unplug()

    def plug(self) -> None:
        self.cable.plug()
        self.server = EmulatorThread(self.emulator, self.cable.master).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


@pytest.fixture
def intellivue(tmp_path, monkeypatch):
    """Start an emulated monitor on a cable and the station's source on its other end."""
    monkeypatch.setitem(PARSERS, "intellivue", lambda: IntelliVueParser(QUICK))
    made: list[tuple[MonitorOnCable, SerialSource]] = []

    def start(emulator: EmulatedIntelliVue | None = None) -> tuple[StreamHub, SerialSource, MonitorOnCable]:
        monitor = MonitorOnCable(Cable(tmp_path / "ttyIntelliVue"), emulator or EmulatedIntelliVue())
        hub = StreamHub()
        _protocol, port, baud = parse_spec(f"intellivue:{monitor.cable.link}")
        source = SerialSource("intellivue", port, baud, BED, ScaledClock(1.0))
        source.start(hub)
        made.append((monitor, source))
        return hub, source, monitor

    yield start
    for monitor, source in made:
        source.stop()
        monitor.stop()
        if monitor.cable.link.is_symlink():
            monitor.cable.unplug()


def _value(hub: StreamHub, code: MdcCode) -> float | None:
    o = hub.latest(BED, code)
    return o.value if o is not None else None


def _samples(hub: StreamHub, code: MdcCode) -> int:
    streams = hub.streams(BED)
    wave = streams.waves.get(code) if streams else None
    return wave.ring.count if wave else 0


def test_intellivue_on_a_pty_associates_and_numerics_and_waves_reach_the_hub(intellivue):
    hub, source, monitor = intellivue()
    wait_for(lambda: source.status.state is LinkState.CONNECTED)
    assert source.status.detail.startswith("intellivue on ")
    wait_for(
        lambda: (
            _samples(hub, MdcCode.ECG_ELEC_POTL_II) >= 500 and _samples(hub, MdcCode.PULS_OXIM_PLETH) >= 125
        )
    )
    assert _value(hub, MdcCode.ECG_HEART_RATE) == 72.0
    assert _value(hub, MdcCode.PULS_OXIM_SAT_O2) == 97.0
    assert _value(hub, MdcCode.RESP_RATE) == 16.0
    assert (_value(hub, MdcCode.PRESS_BLD_NONINV_SYS), _value(hub, MdcCode.PRESS_BLD_NONINV_DIA)) == (
        120.0,
        80.0,
    )
    assert _value(hub, MdcCode.TEMP_BODY) == 36.8  # the monitor's generic temperature, as body temperature
    streams = hub.streams(BED)
    assert streams.waves[MdcCode.ECG_ELEC_POTL_II].rate == 500.0
    assert streams.waves[MdcCode.PULS_OXIM_PLETH].rate == 125.0
    assert monitor.emulator.received[:2] == ["association request", "mds create result"]
    assert source.status.decode_errors == 0


def test_intellivue_on_a_pty_survives_noise_between_frames(intellivue):
    hub, source, monitor = intellivue()
    wait_for(lambda: _value(hub, MdcCode.ECG_HEART_RATE) == 72.0)
    assert monitor.server is not None
    monitor.server.send(b"\x00\x13garbage\xc1" + frame(b"\xe1\x00\x00\x02\x00") + b"\xc0\x11\x01\x7d\xc1")
    monitor.emulator.vitals = Vitals(hr=88)
    wait_for(lambda: _value(hub, MdcCode.ECG_HEART_RATE) == 88.0)
    assert source.status.decode_errors >= 2 and source.status.state is LinkState.CONNECTED


def test_intellivue_on_a_pty_pulled_cable_then_plugged_again_associates_anew(intellivue):
    hub, source, monitor = intellivue()
    wait_for(lambda: _value(hub, MdcCode.ECG_HEART_RATE) == 72.0)
    monitor.unplug()
    wait_for(lambda: source.status.state is LinkState.DISCONNECTED)
    monitor.emulator.vitals = Vitals(hr=65)
    seen = _samples(hub, MdcCode.ECG_ELEC_POTL_II)
    monitor.plug()
    wait_for(lambda: source.status.state is LinkState.CONNECTED)
    wait_for(lambda: _value(hub, MdcCode.ECG_HEART_RATE) == 65.0)
    wait_for(lambda: _samples(hub, MdcCode.ECG_ELEC_POTL_II) > seen)
    assert monitor.emulator.associations == 2


def test_intellivue_on_a_pty_a_silent_monitor_is_lost_then_associated_again(intellivue):
    hub, source, monitor = intellivue()
    wait_for(lambda: source.status.state is LinkState.CONNECTED)
    monitor.emulator.silent = True
    wait_for(lambda: source.status.state is LinkState.DISCONNECTED)
    assert "no reply from the monitor" in source.status.detail
    wait_for(lambda: monitor.emulator.received.count("association request") >= 2)
    monitor.emulator.vitals = Vitals(hr=99)
    monitor.emulator.silent = False
    wait_for(lambda: source.status.state is LinkState.CONNECTED)
    wait_for(lambda: _value(hub, MdcCode.ECG_HEART_RATE) == 99.0)


def test_intellivue_on_a_pty_a_refuse_shows_and_is_tried_again(intellivue):
    _hub, source, monitor = intellivue(EmulatedIntelliVue(refuse=True))
    wait_for(lambda: "association refused" in source.status.detail)
    assert source.status.state is LinkState.DISCONNECTED
    wait_for(lambda: monitor.emulator.received.count("association request") >= 2)
    monitor.emulator.refuse = False
    wait_for(lambda: source.status.state is LinkState.CONNECTED)


def test_intellivue_on_a_pty_stopping_the_source_releases_the_association(intellivue):
    _hub, source, monitor = intellivue()
    wait_for(lambda: source.status.state is LinkState.CONNECTED)
    source.stop()
    wait_for(lambda: "release request" in monitor.emulator.received)
    assert not monitor.emulator.associated


def test_intellivue_serial_spec_defaults_to_115200():
    assert parse_spec("intellivue:/dev/ttyUSB0") == ("intellivue", "/dev/ttyUSB0", 115200)
    assert parse_spec("intellivue:/dev/ttyUSB0@19200")[2] == 19200
    assert parse_spec("nonin:/dev/ttyUSB0")[2] == 9600


def test_intellivue_link_bench_sees_the_pull_and_the_new_association():
    from wardwatch.devices.serial_port.link_bench import bench_link

    (run,) = bench_link((0.5,), "intellivue")["runs"]  # type: ignore[index]
    for key in ("link_state_s", "technical_alarm_s", "reconnected_s", "data_again_s", "alarm_cleared_s"):
        assert run[key] == run[key], key  # not NaN: every step happened
