"""Infusion pumps: the simulated pump's states, and its alarms through the real alarm engine."""

from __future__ import annotations

from wardwatch.app.alarms.engine import AlarmEngine
from wardwatch.app.alarms.model import Category, Priority
from wardwatch.app.clock import FixedClock
from wardwatch.app.domain import Bed
from wardwatch.app.fleet.bed_devices import BedDevices
from wardwatch.app.fleet.model import PumpState
from wardwatch.app.fleet.rules import FleetRules
from wardwatch.app.hub import StreamHub
from wardwatch.app.sources import SourceContext
from wardwatch.devices.base import Sink, SourceError
from wardwatch.devices.pumps import PROGRAMMES, parse_spec
from wardwatch.devices.pumps.programmes import SCENARIOS
from wardwatch.devices.pumps.simulator import PumpModel, SimulatedPump

T0 = 1_800_000_000.0


class SteppedByHand(SimulatedPump):
    """The simulated pump without its thread: the test steps it."""

    def start(self, sink: Sink) -> None:
        self.sink = sink
        self.begin()


def ward(spec: str) -> tuple[FixedClock, StreamHub, BedDevices, AlarmEngine, SteppedByHand]:
    clock = FixedClock(T0)
    hub = StreamHub()
    made: list[SteppedByHand] = []

    def make(spec: str, bed: str, ctx: SourceContext) -> SteppedByHand:
        programme, scenario, _channel = parse_spec(spec.partition(":")[2])
        pump = SteppedByHand(programme, PROGRAMMES[programme], SCENARIOS[scenario], bed, ctx.clock)
        made.append(pump)
        return pump

    devices = BedDevices(hub, clock, make)
    engine = AlarmEngine(hub, clock, lambda: ["bed01"])
    engine.add_rules(FleetRules(hub, devices, engine.settings_for))
    devices.start([Bed("bed01", "Bed 1", devices=(spec,))], lambda bed: SourceContext(clock))
    return clock, hub, devices, engine, made[0]


def run_for(clock: FixedClock, pump: SteppedByHand, engine: AlarmEngine, seconds: int) -> None:
    for _ in range(seconds):
        clock.t += 1.0
        pump.step(pump.sink)
        engine.tick()


def test_occlusion_raises_a_high_technical_alarm_naming_the_drug_and_clears_when_it_ends():
    clock, _hub, devices, engine, pump = ward("pump:heparin+occlusion")
    run_for(clock, pump, engine, 50)
    assert engine.snapshot.alarms == ()
    run_for(clock, pump, engine, 15)
    assert devices.on_bed("bed01")[0].pump is not None
    assert devices.on_bed("bed01")[0].pump.state is PumpState.OCCLUSION
    (alarm,) = engine.snapshot.alarms
    assert alarm.priority is Priority.HIGH
    assert alarm.category is Category.TECHNICAL
    assert alarm.message == "Pump occlusion — Heparin"
    run_for(clock, pump, engine, 130)  # the simulated nurse clears it after 120 s
    assert engine.snapshot.alarms == ()


def test_near_end_is_low_and_infusion_complete_is_medium():
    clock, _hub, _devices, engine, pump = ward("pump:saline+near-end")
    run_for(clock, pump, engine, 200)
    (alarm,) = engine.snapshot.alarms
    assert alarm.priority is Priority.LOW
    assert alarm.message.startswith("Infusion near end — Sodium chloride 0.9 %")
    run_for(clock, pump, engine, 300)
    (alarm,) = engine.snapshot.alarms
    assert alarm.priority is Priority.MEDIUM
    assert alarm.message == "Infusion complete — Sodium chloride 0.9 %"


def test_a_paused_pump_reminds_only_after_two_minutes_and_door_open_is_medium():
    clock, _hub, _devices, engine, pump = ward("pump:heparin+paused")
    run_for(clock, pump, engine, 100)
    assert engine.snapshot.alarms == ()
    run_for(clock, pump, engine, 60)
    (alarm,) = engine.snapshot.alarms
    assert (alarm.priority, alarm.message) == (Priority.LOW, "Pump paused — Heparin")
    clock2, _h, _d, engine2, pump2 = ward("pump:heparin+door")
    run_for(clock2, pump2, engine2, 50)
    (alarm,) = engine2.snapshot.alarms
    assert (alarm.priority, alarm.message) == (Priority.MEDIUM, "Pump door open — Heparin")


def test_a_pump_that_stops_reporting_raises_a_technical_alarm():
    clock, _hub, _devices, engine, pump = ward("pump:heparin")
    run_for(clock, pump, engine, 5)
    for _ in range(15):  # the pump is silent: nothing steps it
        clock.t += 1.0
        engine.tick()
    (alarm,) = engine.snapshot.alarms
    assert alarm.message == "Pump Heparin: no data"
    assert alarm.category is Category.TECHNICAL


def test_pump_battery_runs_low_then_empty_and_the_pump_stops():
    model = PumpModel.start(PROGRAMMES["heparin"], SCENARIOS["battery"])
    model.advance(3600.0)  # 22 % - 9 %/h
    assert model.state is PumpState.RUNNING and 12.0 < model.battery < 14.0
    model.advance(2 * 3600.0)
    assert model.state is PumpState.BATTERY
    infused = model.infused_ml
    model.advance(600.0)
    assert model.infused_ml == infused  # a pump without power delivers nothing


def test_time_remaining_follows_volume_and_rate():
    model = PumpModel.start(PROGRAMMES["antibiotic"], SCENARIOS["normal"])  # 100 mL at 200 mL/h
    model.advance(900.0)
    pump = SimulatedPump("antibiotic", PROGRAMMES["antibiotic"], SCENARIOS["normal"], "bed01", FixedClock(T0))
    pump.model = model
    report = pump.report(T0)
    assert report.volume_infused_ml == 50.0
    assert report.time_remaining_s == 900.0
    assert report.programme.dose_text == "9000 mg/h"


def test_a_misspelt_pump_spec_is_a_clear_source_error():
    for spec, words in (("heprin", "unknown pump programme"), ("heparin+occluded", "unknown pump scenario")):
        try:
            parse_spec(spec)
        except SourceError as exc:
            assert words in str(exc)
        else:
            raise AssertionError(spec)
