"""The risk on a running ward: a slowly deteriorating simulated bed gets its advisory hours before its
NEWS2 reaches 7; the advisory is low priority, silent by default, shown, journaled and acknowledgeable;
the risk is a numeric of the bed (so it is recorded as a trend); the window shows it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from wardwatch.app.alarms.early_warning import Consciousness, score_news2
from wardwatch.app.alarms.engine import AlarmEngine
from wardwatch.app.alarms.model import Action, Category, Priority
from wardwatch.app.alarms.news2_watch import ClinicalEntries, inputs_from
from wardwatch.app.clock import FixedClock
from wardwatch.app.codes import MdcCode
from wardwatch.app.deterioration.model import load_model
from wardwatch.app.deterioration.service import ADVISORY_KEY, BedRisk, RiskService
from wardwatch.app.domain import Observation
from wardwatch.app.hub import StreamHub
from wardwatch.devices.simulator.patient import SimulatedPatient

BED = "bed01"
T0 = 1_800_000_000.0 - (1_800_000_000.0 % 3600.0)  # on the hour
ON_AIR_ALERT = ClinicalEntries(consciousness=Consciousness.A, on_oxygen=False)


def push_minute(hub: StreamHub, patient: SimulatedPatient, t: float, now: float) -> None:
    """The slow patient's vitals as its monitor reports them; the cuff every 15 minutes."""
    v = patient.timeline.at(t).vitals(t)
    for code, value in (
        (MdcCode.ECG_HEART_RATE, round(v.hr)),
        (MdcCode.PULS_OXIM_SAT_O2, round(v.spo2)),
        (MdcCode.RESP_RATE, round(v.rr)),
        (MdcCode.TEMP_BODY, round(v.temp, 1)),
    ):
        hub.push_observation(Observation(BED, code, float(value), "", now))
    if int(t) % 900 == 0:
        for reading in patient.nibp(t):
            hub.push_observation(Observation(BED, reading.code, reading.value, reading.unit, now))


def stable_bed_fed(
    minutes: int, scenario: str = "stable", each_hour: list[BedRisk] | None = None
) -> tuple[RiskService, FixedClock]:
    """A stable simulated bed's first `minutes`, minute by minute, through the real service (`each_hour`
    collects the risk at the end of every hour)."""
    hub = StreamHub()
    hub.add_bed(BED)
    clock = FixedClock(T0)
    service = RiskService(hub, clock, lambda: [BED], load_model())
    patient = SimulatedPatient(scenario, seed=1, bed_index=1)
    for minute in range(minutes):
        clock.t = T0 + minute * 60.0
        push_minute(hub, patient, minute * 60.0, clock.t)
        service.step(clock.t)
        risk = service.latest(BED)
        if each_hour is not None and minute % 60 == 59 and risk is not None:
            each_hour.append(risk)
    return service, clock


@pytest.fixture(scope="module")
def slow_ward():
    """16 hours of the slow_deterioration scenario, minute by minute, through the real service and
    alarm engine on a fixed clock."""
    model = load_model()
    hub = StreamHub()
    hub.add_bed(BED)
    clock = FixedClock(T0)
    service = RiskService(hub, clock, lambda: [BED], model)
    engine = AlarmEngine(hub, clock, lambda: [BED], extra=service)
    patient = SimulatedPatient("slow_deterioration", seed=1, bed_index=1)
    first_advisory = first_news2_7 = None
    snapshots = []
    for minute in range(16 * 60):
        t = minute * 60.0
        clock.t = T0 + t
        push_minute(hub, patient, t, clock.t)
        service.step(clock.t)
        snap = engine.tick()
        if first_advisory is None and any(a.key == ADVISORY_KEY for a in snap.alarms):
            first_advisory = t
            snapshots.append(snap)
        news = score_news2(inputs_from(dict(hub.streams(BED).numerics), ON_AIR_ALERT, clock.t))
        if first_news2_7 is None and news.total >= 7:
            first_news2_7 = t
    return {
        "service": service,
        "engine": engine,
        "hub": hub,
        "advisory": first_advisory,
        "news2_7": first_news2_7,
        "snapshots": snapshots,
        "clock": clock,
    }


def test_the_advisory_comes_hours_before_news2_reaches_seven(slow_ward):
    assert slow_ward["news2_7"] is not None, "the scenario must reach NEWS2 7"
    assert slow_ward["advisory"] is not None, "the slowly deteriorating bed never raised the advisory"
    lead_h = (slow_ward["news2_7"] - slow_ward["advisory"]) / 3600.0
    assert lead_h >= 2.0, f"advisory only {lead_h:.1f} h before NEWS2 7"


def test_the_advisory_is_low_priority_silent_and_explained(slow_ward):
    snap = slow_ward["snapshots"][0]
    alarm = next(a for a in snap.alarms if a.key == ADVISORY_KEY)
    assert alarm.priority is Priority.LOW
    assert alarm.category is Category.ADVISORY
    assert not alarm.audible and not alarm.sounding
    assert alarm.banner().startswith("* Deterioration risk")
    assert "Raised" not in alarm.reason or alarm.reason  # the reason carries the factors in words
    assert "Of " in alarm.reason and "patient-hours" in alarm.reason  # the calibration note


def test_the_advisory_is_journaled_and_can_be_acknowledged(slow_ward):
    engine = slow_ward["engine"]
    raised = [e for e in engine.journal() if e.key == ADVISORY_KEY and e.action is Action.RAISED]
    assert raised and raised[0].priority is Priority.LOW
    alarm = next(a for a in engine.snapshot.alarms if a.key == ADVISORY_KEY)
    assert engine.acknowledge(alarm.alarm_id, "nurse")
    assert any(e.key == ADVISORY_KEY and e.action is Action.ACKNOWLEDGED for e in engine.journal())


def test_the_risk_is_a_numeric_of_the_bed_each_hour(slow_ward):
    hub: StreamHub = slow_ward["hub"]
    latest = hub.latest(BED, MdcCode.RISK_DETERIORATION)
    risk: BedRisk = slow_ward["service"].latest(BED)
    assert latest is not None and latest.value == pytest.approx(round(risk.risk * 100, 1))
    assert len(risk.history) >= 15  # one an hour
    assert risk.factors and all(isinstance(f, str) and f for f in risk.factors)


def test_a_tone_can_be_configured_for_the_advisory(slow_ward):
    service: RiskService = slow_ward["service"]
    service.tone = True
    findings = service(BED, slow_ward["clock"].now())
    service.tone = False
    assert findings and findings[0].audible


def test_a_stable_bed_raises_no_advisory():
    service, clock = stable_bed_fed(8 * 60)
    risk = service.latest(BED)
    assert risk is not None and not risk.alert
    assert service(BED, clock.t) == []


@pytest.mark.parametrize("scenario", ["stable", "restless"])
def test_an_ordinary_patients_risk_does_not_climb_with_the_days_on_the_unit(scenario):
    # set A records nobody free of sepsis past 59 h; a model reading the stay's length raised every
    # ordinary patient's risk fivefold on the third day and the restless one's advisory for good
    hourly: list[BedRisk] = []
    stable_bed_fed(4 * 24 * 60, scenario, hourly)
    assert len(hourly) >= 90
    assert not any(r.alert for r in hourly)
    second_day = np.mean([r.risk for r in hourly[24:48]])
    fourth_day = np.mean([r.risk for r in hourly[72:96]])
    assert fourth_day <= 1.25 * second_day


def test_discharge_forgets_the_beds_hours():
    service, _clock = stable_bed_fed(90)
    assert service.latest(BED) is not None
    service.forget(BED)
    assert service.latest(BED) is None and service.hours(BED) is None


def test_laboratory_values_enter_the_hour_they_were_taken_and_ask_for_a_new_risk():
    model = load_model()
    hub = StreamHub()
    hub.add_bed(BED)
    clock = FixedClock(T0 + 1800.0)
    service = RiskService(hub, clock, lambda: [BED], model)
    service.set_labs(BED, {"Lactate": 4.2, "WBC": 19.0, "Platelets": math.nan}, clock.t)
    hours = service.hours(BED)
    assert hours is not None
    assert hours.labs[int(clock.t // 3600)] == {"Lactate": 4.2, "WBC": 19.0}
    with pytest.raises(ValueError, match="not a laboratory value"):
        hours.add_lab("Sodium", 140.0, clock.t)


def test_on_demand_the_risk_includes_the_hour_under_way():
    service, clock = stable_bed_fed(95)
    hourly = service.latest(BED)
    assert hourly is not None and hourly.hours == 1  # the first completed hour
    service.refresh(BED)
    service.step(clock.t)
    now = service.latest(BED)
    assert now is not None and now.time == clock.t and now.hours == 2


def test_a_restarted_station_rebuilds_the_last_hours_from_the_recorded_trends():
    from wardwatch.storage.reader import Series

    times = T0 - 3 * 3600.0 + np.arange(0.0, 3 * 3600.0, 1.0)
    recorded = {
        int(MdcCode.ECG_HEART_RATE): Series(times, np.full(times.size, 96.0, np.float32)),
        int(MdcCode.TEMP_BODY): Series(times, np.full(times.size, 38.4, np.float32)),
    }
    asked = []

    def trends(bed, start, end):
        asked.append((bed, start, end))
        return recorded

    clock = FixedClock(T0 + 60.0)
    hub = StreamHub()
    hub.add_bed(BED)
    service = RiskService(hub, clock, lambda: [BED], load_model(), reader=trends)
    service.backfill(clock.t)
    service.step(clock.t)
    risk = service.latest(BED)
    assert asked and asked[0][0] == BED
    assert risk is not None and risk.hours >= 3
    hours = service.hours(BED)
    assert hours is not None and len(hours.vitals) == 3


def test_the_service_starts_beside_a_station_and_follows_its_ward():
    import argparse
    import datetime as dt
    import time as _time

    from wardwatch.app.clock import ScaledClock
    from wardwatch.app.config import StationConfig
    from wardwatch.app.deterioration.service import SERVICE_NAME, start_risk_service
    from wardwatch.app.domain import Patient
    from wardwatch.app.extensions import ServiceContext
    from wardwatch.app.station import BedSetup, Station, StationSetup

    station = Station(StationSetup("test", [BedSetup("Bed 1", "sim:stable")]), ScaledClock(1.0))
    ctx = ServiceContext(station, StationConfig(), argparse.Namespace(), None, headless=True)
    service = start_risk_service(ctx)
    try:
        assert service is not None and station.services[SERVICE_NAME] is service
        deadline = _time.monotonic() + 20.0
        while service.model is None and _time.monotonic() < deadline:  # loaded on its own thread
            _time.sleep(0.05)
        assert service.model is not None and service.fault is None
        assert service.threshold == service.model.threshold and not service.tone
        station.admit(BED, Patient("MRN-1", "Test", "Pat", dt.date(1950, 6, 1)))
        hours = service.hours(BED)
        assert hours is not None and hours.age is not None and 70 <= hours.age <= 80
        station.discharge(BED)
        assert service.hours(BED) is None
    finally:
        service.close()
    off = start_risk_service(
        ServiceContext(station, StationConfig(deterioration_enabled=False), argparse.Namespace(), None, True)
    )
    assert off is None
