"""Device values become the station's channels in the station's units, whatever device sent them."""

from __future__ import annotations

import pytest
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import TechnicalKind
from wardwatch.app.hub import StreamHub
from wardwatch.devices.decoded import Decoded, State
from wardwatch.devices.delivery import MDC_TEMP, Delivery

BED = "bed01"


@pytest.fixture
def hub() -> StreamHub:
    h = StreamHub()
    h.add_bed(BED)
    return h


def test_a_generic_temperature_in_fahrenheit_is_charted_as_body_temperature_in_celsius(hub) -> None:
    Delivery(BED, "patch").push(hub, [Decoded(MDC_TEMP, "Temp", 100.4, "[degF]", 266560)], 10.0)
    obs = hub.streams(BED).numerics[MdcCode.TEMP_BODY]
    assert (obs.value, obs.unit) == (38.0, "Cel")


def test_a_blood_pressure_in_kpa_is_charted_in_mmhg(hub) -> None:
    Delivery(BED, "monitor").push(hub, [Decoded(150021, "NIBP sys", 16.0, "kPa", 265987)], 10.0)
    obs = hub.streams(BED).numerics[MdcCode.PRESS_BLD_NONINV_SYS]
    assert (obs.value, obs.unit) == (120.0, "mm[Hg]")


def test_an_ecg_in_microvolts_is_drawn_in_millivolts_back_to_back(hub) -> None:
    delivery = Delivery(BED, "patch")
    wave = Decoded(131328, "ECG", None, "uV", 266419, samples=(1000.0, -500.0), rate_hz=2.0)
    delivery.push(hub, [wave], 10.0)
    delivery.push(hub, [wave], 11.0)
    channel = hub.streams(BED).waves[MdcCode.ECG_ELEC_POTL]
    chunk = channel.ring.read_since(0)
    assert chunk.values.tolist() == [1.0, -0.5, 1.0, -0.5] and channel.unit == "mV"
    assert chunk.times.tolist() == [9.0, 9.5, 10.0, 10.5]  # the second block follows the first


def test_values_the_device_does_not_stand_by_are_not_charted(hub) -> None:
    Delivery(BED, "patch").push(
        hub,
        [
            Decoded(147842, "HR", None, "/min", 264864, State.UNAVAILABLE),
            Decoded(150456, "SpO2", 97.0, "%", 262688, State.INVALID),
        ],
        10.0,
    )
    assert not hub.streams(BED).numerics


def test_low_battery_is_raised_at_20_percent_and_cleared_only_above_25(hub) -> None:
    delivery = Delivery(BED, "patch")

    def battery(level: float) -> None:
        delivery.push(hub, [Decoded(67996, "Battery", level, "%", 262688)], 10.0)

    battery(20)
    assert TechnicalKind.LOW_BATTERY in hub.streams(BED).conditions
    battery(23)  # a level wobbling just above the limit does not flap the alarm
    assert TechnicalKind.LOW_BATTERY in hub.streams(BED).conditions
    battery(26)
    assert TechnicalKind.LOW_BATTERY not in hub.streams(BED).conditions
    assert delivery.battery_percent == 26
