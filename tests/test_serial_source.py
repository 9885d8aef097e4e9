"""Serial monitors on real pseudo-terminals: data reaches the hub, garbage is survived, a pulled cable
shows and a returning device is picked up again."""

from __future__ import annotations

import math
import os
import time
import tty
from collections.abc import Callable
from pathlib import Path

import pytest
from test_serial_decoders import LINE, nonin_packet
from wardwatch.app.clock import ScaledClock
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import LinkState, TechnicalKind
from wardwatch.app.hub import StreamHub
from wardwatch.devices.base import SourceError
from wardwatch.devices.serial_port import SerialSource, parse_spec
from wardwatch.devices.serial_port.link_bench import bench_link

BED = "bed01"


class Cable:
    """A pseudo-terminal standing in for a serial cable, reached through a stable link (as
    /dev/serial/by-id/… is): unplugging removes it, plugging in makes a new one behind the same link."""

    def __init__(self, link: Path) -> None:
        self.link = link
        self.master = self.slave = -1
        self.plug()

    def plug(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # bytes pass unchanged (no line discipline)
        self.link.symlink_to(os.ttyname(self.slave))

    def unplug(self) -> None:
        self.link.unlink()
        os.close(self.master)
        os.close(self.slave)

    def write(self, data: bytes) -> None:
        os.write(self.master, data)


def wait_for(
    condition: Callable[[], object], seconds: float = 10.0, feed: Callable[[], None] | None = None
) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if feed is not None:
            feed()
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def cable(tmp_path):
    c = Cable(tmp_path / "ttyMonitor")
    yield c
    if c.link.is_symlink():
        c.unplug()


@pytest.fixture
def monitor(cable):
    """Start a serial source of a protocol on the cable; it is stopped after the test."""
    started: list[SerialSource] = []

    def start(protocol: str) -> tuple[StreamHub, SerialSource]:
        hub = StreamHub()
        source = SerialSource(protocol, str(cable.link), 9600, BED, ScaledClock(1.0))
        source.start(hub)
        started.append(source)
        wait_for(lambda: source.status.state is LinkState.CONNECTED)
        return hub, source

    yield start
    for source in started:
        source.stop()


def test_a_nonin_oximeter_feeds_numerics_and_pleth_and_survives_garbage(monitor, cable):
    hub, source = monitor("nonin")
    cable.write(b"\x00\x13\x37" + nonin_packet(hr=88, spo2=95) + b"garbage!" + nonin_packet(hr=89, spo2=96))
    wait_for(lambda: (o := hub.latest(BED, MdcCode.PULS_OXIM_PULS_RATE)) is not None and o.value == 89.0)
    assert hub.latest(BED, MdcCode.PULS_OXIM_SAT_O2).value == 96.0
    pleth = hub.streams(BED).waves[MdcCode.PULS_OXIM_PLETH]
    assert pleth.rate == 75.0 and pleth.ring.count == 50
    assert source.status.decode_errors >= 2  # the noise before and between the packets


def test_a_nonin_sensor_taken_off_is_a_technical_state_and_clears(monitor, cable):
    hub, _source = monitor("nonin")
    cable.write(nonin_packet(status=0x80 | 0x40))
    wait_for(lambda: TechnicalKind.SENSOR_OFF in {c.kind for c in hub.conditions(BED)})
    cable.write(nonin_packet(hr=70))
    wait_for(lambda: TechnicalKind.SENSOR_OFF not in {c.kind for c in hub.conditions(BED)})


def test_a_masimo_feeds_numerics_line_by_line_even_split_across_reads(monitor, cable):
    hub, source = monitor("masimo")
    data = (
        (LINE + "\r\n").encode()
        + b"12/02/26 10:30:01 broken line\r\n"
        + (LINE.replace("BPM=072", "BPM=075") + "\r\n").encode()
    )
    for k in range(0, len(data), 17):
        cable.write(data[k : k + 17])
        time.sleep(0.005)
    wait_for(lambda: (o := hub.latest(BED, MdcCode.PULS_OXIM_PULS_RATE)) is not None and o.value == 75.0)
    assert hub.latest(BED, MdcCode.PULS_OXIM_SAT_O2).value == 98.0
    assert source.status.decode_errors == 1


def test_a_pulled_cable_shows_as_disconnected_and_the_device_is_picked_up_when_it_returns(monitor, cable):
    hub, source = monitor("nonin")
    cable.write(nonin_packet(hr=60))
    wait_for(lambda: hub.latest(BED, MdcCode.PULS_OXIM_PULS_RATE) is not None)
    cable.unplug()
    wait_for(lambda: source.status.state is LinkState.DISCONNECTED)
    cable.plug()
    wait_for(lambda: source.status.state is LinkState.CONNECTED)
    wait_for(
        lambda: hub.latest(BED, MdcCode.PULS_OXIM_PULS_RATE).value == 61.0,
        feed=lambda: cable.write(nonin_packet(hr=61)),
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nonin", "PROTOCOL:PORT"),
        ("philips:/dev/ttyS0", "unknown serial protocol"),
        ("masimo:/dev/ttyS0@fast", "speed"),
    ],
)
def test_a_wrong_serial_spec_is_a_clear_error(spec, message):
    with pytest.raises(SourceError, match=message):
        parse_spec(spec)


def test_serial_spec_with_and_without_speed():
    assert parse_spec("nonin:/dev/ttyUSB0") == ("nonin", "/dev/ttyUSB0", 9600)
    assert parse_spec("masimo:/dev/serial/by-id/usb-FTDI@19200") == (
        "masimo",
        "/dev/serial/by-id/usb-FTDI",
        19200,
    )


def test_a_second_source_on_the_same_port_is_refused_not_given_half_the_bytes(monitor, cable):
    _hub, first = monitor("nonin")
    second = SerialSource("nonin", str(cable.link), 9600, "bed02", ScaledClock(1.0))
    second.start(StreamHub())
    try:
        wait_for(lambda: second.status.state is LinkState.DISCONNECTED)
        assert "not available" in second.status.detail
        assert first.status.state is LinkState.CONNECTED
    finally:
        second.stop()


def test_bad_packets_show_as_the_links_loss(monitor, cable):
    _hub, source = monitor("nonin")
    broken = bytearray(nonin_packet(hr=90))
    broken[5 * 3 + 4] ^= 0xFF  # a corrupted frame: that packet is dropped
    cable.write(nonin_packet(hr=80) + bytes(broken) + nonin_packet(hr=81))
    wait_for(lambda: (source.status.loss_percent or 0.0) > 0.0)
    assert 20.0 <= source.status.loss_percent <= 50.0


def test_the_link_bench_sees_the_pull_the_alarm_and_the_return():
    (run,) = bench_link((0.5,))["runs"]  # type: ignore[index]
    for key in ("link_state_s", "technical_alarm_s", "reconnected_s", "data_again_s", "alarm_cleared_s"):
        assert math.isfinite(run[key]), key  # every step happened (how fast is the bench's to say)
