"""Glucose: the simulated CGM through the Bluetooth CGM decoder, trend arrows, hypo/hyper limits and
the predictive low alarm through the real alarm engine."""

from __future__ import annotations

from dataclasses import replace

from wardwatch.app.alarms.engine import AlarmEngine
from wardwatch.app.alarms.model import Category, Priority
from wardwatch.app.clock import FixedClock
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import Bed, Observation, Validity
from wardwatch.app.fleet.bed_devices import BedDevices
from wardwatch.app.fleet.glucose import PREDICTED_LOW_KEY, arrow_for, bed_glucose, glucose_trend
from wardwatch.app.fleet.rules import FleetRules
from wardwatch.app.hub import StreamHub
from wardwatch.app.sources import SourceContext, make_source
from wardwatch.devices.base import Sink
from wardwatch.devices.ble import cgm
from wardwatch.devices.glucose.encode import measurement, sfloat_bytes
from wardwatch.devices.glucose.simulator import SCENARIOS, SimulatedCgm
from wardwatch.devices.mder import sfloat

T0 = 1_800_000_000.0


def engine_on(hub: StreamHub, clock: FixedClock) -> AlarmEngine:
    engine = AlarmEngine(hub, clock, lambda: ["bed01"])
    engine.add_rules(FleetRules(hub, BedDevices(hub, clock, make_source), engine.settings_for))
    return engine


def reading(hub: StreamHub, clock: FixedClock, value: float) -> None:
    hub.push_observation(Observation("bed01", MdcCode.CONC_GLU_ISF, value, "mg/dL", clock.t, Validity.VALID))


def keys(engine: AlarmEngine) -> set[str]:
    return {a.key for a in engine.snapshot.alarms}


def test_predictive_low_sounds_before_the_hypo_on_a_falling_trend_and_gives_way_to_the_limit_alarm():
    clock, hub = FixedClock(T0), StreamHub()
    engine = engine_on(hub, clock)
    first_predicted = first_low = None
    for minute in range(40):
        value = 130.0 - 2.0 * minute  # falling 2 mg/dL/min: below 70 after 30 min
        reading(hub, clock, value)
        engine.tick()
        if PREDICTED_LOW_KEY in keys(engine) and first_predicted is None:
            first_predicted = value
            (alarm,) = engine.snapshot.alarms
            assert alarm.priority is Priority.MEDIUM
            assert "↓" in alarm.message and "below 70" in alarm.message
        if "glucose_low" in keys(engine) and first_low is None:
            first_low = value
            assert PREDICTED_LOW_KEY not in keys(engine)
        clock.t += 60.0
    # 20 min ahead at -2/min: predicted once the value is at or below 110, i.e. 20 min before the hypo
    assert first_predicted is not None and 108.0 <= first_predicted <= 110.0
    assert first_low == 68.0


def test_steady_glucose_predicts_nothing_and_a_rising_one_raises_the_hyper_alarm():
    clock, hub = FixedClock(T0), StreamHub()
    engine = engine_on(hub, clock)
    for minute in range(30):
        reading(hub, clock, 100.0 + (minute % 3))
        engine.tick()
        clock.t += 60.0
    assert engine.snapshot.alarms == ()
    for minute in range(10):
        reading(hub, clock, 245.0 + 2 * minute)
        engine.tick()
        clock.t += 60.0
    (alarm,) = engine.snapshot.alarms
    assert alarm.key == "glucose_high" and alarm.priority is Priority.MEDIUM


def test_the_hypo_limit_is_configurable_per_bed_and_level_two_covers_level_one():
    clock, hub = FixedClock(T0), StreamHub()
    engine = engine_on(hub, clock)
    rule = engine.settings_for("bed01").rule("glucose_low")
    assert rule is not None
    engine.set_limit("bed01", replace(rule, low=80.0))
    reading(hub, clock, 76.0)
    engine.tick()
    assert keys(engine) == {"glucose_low"}
    reading(hub, clock, 50.0)
    engine.tick()
    assert "glucose_very_low" in keys(engine)
    assert next(a for a in engine.snapshot.alarms if a.key == "glucose_very_low").priority is Priority.HIGH


def test_trend_arrows_follow_the_usual_cgm_bands():
    assert [arrow_for(r) for r in (3.5, 2.5, 1.5, 0.0, -1.5, -2.5, -3.5, None)] == [
        "↑↑",
        "↑",
        "↗",
        "→",
        "↘",
        "↓",
        "↓↓",
        "",
    ]
    times = [T0 + 60 * i for i in range(16)]
    trend = glucose_trend(times, [150 - 1.5 * i for i in range(16)])
    assert trend is not None and abs((trend.rate or 0) + 1.5) < 1e-9 and trend.arrow == "↘"
    assert glucose_trend(times[:2], [100, 90]).rate is None  # two readings say too little


def test_sfloat_encoding_round_trips_through_the_decoder():
    for value, decimals in ((112.0, 0), (-1.3, 1), (0.0, 0), (2.5, 1), (450.0, 0)):
        raw = int.from_bytes(sfloat_bytes(value, decimals), "little")
        assert sfloat(raw).value == value


def test_simulated_cgm_readings_go_through_the_bluetooth_decoder_into_the_bed_numerics():
    clock, hub = FixedClock(T0), StreamHub()
    sensor = SimulatedCgm(SCENARIOS["falling"], "bed01", clock)
    sensor.begin()
    for _ in range(12):
        sensor.step(hub)
        clock.t += 60.0
    obs = hub.latest("bed01", MdcCode.CONC_GLU_ISF)
    assert obs is not None and obs.unit == "mg/dL" and obs.validity is Validity.VALID
    assert abs(obs.value - SCENARIOS["falling"].glucose(11.0)) < 10.0
    trend = bed_glucose(hub.streams("bed01"))
    assert trend is not None and trend.rate is not None and -2.6 < trend.rate < -1.4
    assert sensor.status.battery_percent == 100.0 and sensor.status.decode_errors == 0


def test_a_record_damaged_on_the_link_is_rejected_by_its_crc_and_counted():
    clock, hub = FixedClock(T0), StreamHub()
    sensor = SimulatedCgm(SCENARIOS["stable"], "bed01", clock)
    good = measurement(101.0, 5, trend_mg_dl_min=-0.4, quality_percent=90.0)
    assert cgm.decode(good)[0].value == 101.0
    sensor.receive(hub, good[:-1] + bytes([good[-1] ^ 1]), clock.t)
    assert sensor.status.decode_errors == 1
    assert hub.latest("bed01", MdcCode.CONC_GLU_ISF) is None
    sensor.receive(hub, good, clock.t)
    assert hub.latest("bed01", MdcCode.CONC_GLU_ISF) is not None
    assert sensor.status.loss_percent == 50.0


def test_low_sensor_battery_is_announced_in_the_record_and_by_the_battery_level():
    decoded = cgm.decode(measurement(120.0, 1, battery_low=True))
    assert decoded[0].details["annunciation"] == ["device battery low"]


class CgmByHand(SimulatedCgm):
    """The simulated sensor without its thread: the test steps it."""

    def start(self, sink: Sink) -> None:
        self.sink = sink
        self.begin()


def test_a_sensor_low_battery_is_the_sensors_own_alarm_and_leaves_the_monitors_conditions_alone():
    clock, hub = FixedClock(T0), StreamHub()
    sensors: list[CgmByHand] = []

    def make(spec: str, bed: str, ctx: SourceContext) -> CgmByHand:
        sensors.append(CgmByHand(SCENARIOS["old-sensor"], bed, clock))  # 14 % battery
        return sensors[-1]

    devices = BedDevices(hub, clock, make)
    engine = AlarmEngine(hub, clock, lambda: ["bed01"])
    engine.add_rules(FleetRules(hub, devices, engine.settings_for))
    devices.start([Bed("bed01", "Bed 1", devices=("cgm:old-sensor",))], lambda bed: SourceContext(clock))
    sensors[0].step(sensors[0].sink)
    engine.tick()
    (alarm,) = engine.snapshot.alarms
    assert alarm.message == "CGM: Low battery" and alarm.category is Category.TECHNICAL
    assert hub.conditions("bed01") == []  # the bed's own (monitor's) conditions are untouched
