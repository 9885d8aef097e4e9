"""Alarm engine behaviour with an injected clock: no sleeps, every step is a tick at a chosen time."""

from __future__ import annotations

from dataclasses import replace

import pytest
from wardwatch.app.alarms.engine import AlarmEngine
from wardwatch.app.alarms.findings import Finding
from wardwatch.app.alarms.model import Action, Category, Priority, State
from wardwatch.app.alarms.settings import default_settings
from wardwatch.app.clock import FixedClock
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import Observation, TechnicalEvent, TechnicalKind, Validity
from wardwatch.app.hub import StreamHub

T0 = 1_800_000_000.0


class Ward:
    """A hub, a clock standing still and an engine over a few beds; `at(t)` moves time and ticks."""

    def __init__(self, beds: int = 2, analyser=None, extra=None) -> None:
        self.hub = StreamHub()
        self.clock = FixedClock(T0)
        self.beds = [f"bed{i + 1:02d}" for i in range(beds)]
        self.engine = AlarmEngine(self.hub, self.clock, lambda: self.beds, analyser=analyser, extra=extra)

    def at(self, seconds: float):
        self.clock.t = T0 + seconds
        return self.engine.tick()

    def spo2(self, bed: str, value: float, seconds: float, validity: Validity = Validity.VALID) -> None:
        self.hub.push_observation(
            Observation(bed, MdcCode.PULS_OXIM_SAT_O2, value, "%", T0 + seconds, validity)
        )

    def hr(self, bed: str, value: float, seconds: float) -> None:
        self.hub.push_observation(Observation(bed, MdcCode.ECG_HEART_RATE, value, "/min", T0 + seconds))

    def actions(self) -> list[Action]:
        return [e.action for e in self.engine.journal()]


def test_spo2_dip_shorter_than_its_delay_raises_nothing():
    ward = Ward()
    for s in range(0, 14):
        ward.spo2("bed01", 87, s)
        snap = ward.at(s)
    ward.spo2("bed01", 95, 14)
    snap = ward.at(14)
    ward.spo2("bed01", 95, 30)
    snap = ward.at(30)
    assert snap.alarms == ()
    assert ward.actions() == []


def test_spo2_low_is_raised_once_its_delay_has_elapsed_with_the_value_in_words():
    ward = Ward()
    delay = default_settings().rule("spo2_low").delay_s
    for s in range(0, int(delay)):
        ward.spo2("bed01", 87, s)
        assert ward.at(s).alarms == ()
    ward.spo2("bed01", 87, delay)
    snap = ward.at(delay)
    [alarm] = snap.alarms
    assert alarm.key == "spo2_low" and alarm.priority is Priority.MEDIUM and alarm.state is State.ACTIVE
    assert alarm.message == "SpO₂ 87 < 90"
    assert alarm.condition_since == T0 and alarm.raised_at == T0 + delay
    assert alarm.banner() == "** SpO₂ 87 < 90"
    assert snap.sounding_priority is Priority.MEDIUM


def test_a_stale_or_invalid_value_raises_no_limit_alarm():
    ward = Ward()
    ward.spo2("bed01", 70, 0, Validity.INVALID)
    ward.at(0)
    assert ward.at(30).alarms == ()
    ward.spo2("bed02", 70, 0)
    assert all(a.key != "spo2_low" for a in ward.at(60).alarms)  # 60 s old: no longer current


def test_medium_alarm_clears_itself_when_its_condition_ends():
    ward = Ward()
    for s in range(0, 21):
        ward.spo2("bed01", 86, s)
        ward.at(s)
    assert ward.engine.snapshot.alarms
    ward.spo2("bed01", 96, 21)
    assert ward.at(21).alarms == ()
    assert ward.actions() == [Action.RAISED, Action.CLEARED]


def test_high_alarm_latches_after_its_condition_ends_until_acknowledged():
    ward = Ward()
    for s in range(0, 6):
        ward.spo2("bed01", 80, s)
        ward.at(s)
    very_low = next(a for a in ward.engine.snapshot.alarms if a.key == "spo2_very_low")
    assert very_low.priority is Priority.HIGH
    ward.spo2("bed01", 97, 7)
    snap = ward.at(7)
    latched = next(a for a in snap.alarms if a.key == "spo2_very_low")
    assert latched.state is State.LATCHED and not latched.condition_active and latched.ended_at == T0 + 7
    assert snap.sounding_priority is Priority.HIGH  # still sounding: nobody has seen it yet
    ward.at(100)
    assert any(a.key == "spo2_very_low" for a in ward.engine.snapshot.alarms)
    assert ward.engine.acknowledge(latched.alarm_id, user="nurse.a")
    assert ward.engine.snapshot.alarms == ()
    acks = [e for e in ward.engine.journal() if e.action is Action.ACKNOWLEDGED]
    assert acks[0].user == "nurse.a" and acks[0].alarm_id == latched.alarm_id


def test_acknowledged_alarm_stops_sounding_but_stays_shown_while_its_condition_lasts():
    ward = Ward()
    for s in range(0, 16):
        ward.spo2("bed01", 88, s)
        ward.at(s)
    [alarm] = ward.engine.snapshot.alarms
    ward.clock.t = T0 + 20
    ward.engine.acknowledge(alarm.alarm_id, "nurse.b")
    snap = ward.engine.snapshot
    [acked] = snap.alarms
    assert acked.state is State.ACKNOWLEDGED and acked.acknowledged_by == "nurse.b"
    assert acked.acknowledged_at == T0 + 20
    assert snap.sounding_priority is None
    ward.spo2("bed01", 97, 25)
    assert ward.at(25).alarms == ()


def test_audio_pause_silences_for_its_time_with_a_countdown_then_sound_resumes():
    ward = Ward()
    for s in range(0, 16):
        ward.spo2("bed01", 88, s)
        ward.at(s)
    ward.clock.t = T0 + 16
    pause = ward.engine.pause_audio("nurse.c")
    assert pause.until - pause.started_at == 120
    ward.spo2("bed01", 88, 76)
    snap = ward.at(76)
    assert snap.sounding_priority is None and snap.pause.remaining(T0 + 76) == pytest.approx(60)
    ward.spo2("bed01", 88, 136.5)
    snap = ward.at(136.5)
    assert snap.pause is None and snap.sounding_priority is Priority.MEDIUM
    assert Action.AUDIO_PAUSED in ward.actions() and Action.AUDIO_RESUMED in ward.actions()


def test_new_alarm_of_higher_priority_breaks_through_an_audio_pause():
    ward = Ward()
    for s in range(0, 16):
        ward.spo2("bed01", 88, s)
        ward.at(s)
    ward.clock.t = T0 + 16
    ward.engine.pause_audio()
    # another medium alarm does not break through …
    for s in range(16, 24):
        ward.hr("bed02", 150, s)
        snap = ward.at(s)
    assert snap.pause is not None and snap.sounding_priority is None
    # … a high one does, at once
    for s in range(24, 30):
        ward.spo2("bed02", 80, s)
        snap = ward.at(s)
    assert snap.pause is None and snap.sounding_priority is Priority.HIGH
    resumed = [e for e in ward.engine.journal() if e.action is Action.AUDIO_RESUMED]
    assert resumed and "break-through" in resumed[0].detail


def test_unacknowledged_high_alarm_escalates_after_the_configured_time_and_is_recorded():
    ward = Ward()
    for s in range(0, 6):
        ward.spo2("bed01", 80, s)
        ward.at(s)
    alarm = next(a for a in ward.engine.snapshot.alarms if a.priority is Priority.HIGH)
    after = default_settings().escalate_after_s
    ward.spo2("bed01", 80, alarm.raised_at - T0 + after - 1)
    assert not ward.at(alarm.raised_at - T0 + after - 1).escalated
    ward.spo2("bed01", 80, alarm.raised_at - T0 + after)
    snap = ward.at(alarm.raised_at - T0 + after)
    assert snap.escalated
    escalated = next(a for a in snap.alarms if a.alarm_id == alarm.alarm_id)
    assert escalated.escalated_at == alarm.raised_at + after
    assert Action.ESCALATED in ward.actions()


def test_acknowledged_high_alarm_never_escalates():
    ward = Ward()
    for s in range(0, 6):
        ward.spo2("bed01", 80, s)
        ward.at(s)
    ward.engine.acknowledge_bed("bed01")
    for s in range(6, 200, 10):
        ward.spo2("bed01", 80, s)
        snap = ward.at(s)
    assert not snap.escalated and Action.ESCALATED not in ward.actions()


def test_technical_condition_becomes_a_technical_alarm_after_its_delay_and_ends_with_it():
    ward = Ward()
    delay = default_settings().technical_delay_s[TechnicalKind.LEAD_OFF]
    ward.hub.push_event(TechnicalEvent("bed01", TechnicalKind.LEAD_OFF, True, T0, "lead II"))
    assert ward.at(0.0).alarms == ()
    assert ward.at(delay - 0.5).alarms == ()  # a lead off for a moment while the patient turns: nothing
    [alarm] = ward.at(delay).alarms
    assert alarm.category is Category.TECHNICAL and alarm.message == "Leads off"
    assert alarm.banner().startswith("!") and not alarm.latching
    ward.hub.push_event(TechnicalEvent("bed01", TechnicalKind.LEAD_OFF, False, T0 + delay + 3))
    assert ward.at(delay + 3.1).alarms == ()


def test_device_disconnected_has_no_delay_of_its_own():
    ward = Ward()
    ward.hub.push_event(TechnicalEvent("bed01", TechnicalKind.DISCONNECTED, True, T0, "no data for 4 s"))
    [alarm] = ward.at(0.0).alarms
    assert alarm.key == "technical:disconnected"


def _arrhythmia(held: bool, reason: str) -> Finding:
    return Finding(
        key="arrhythmia:Asystole",
        category=Category.ARRHYTHMIA,
        priority=Priority.HIGH,
        message="Asystole",
        held_back=held,
        reason=reason,
    )


def test_held_back_arrhythmia_is_listed_with_its_reason_and_raised_when_evidence_appears():
    verdicts = iter([True, True, False])

    def analyser(bed: str, now: float):
        if bed != "bed01":
            return []
        held = next(verdicts, False)
        reason = "Asystole not confirmed: pleth pulsatile at 78/min" if held else "no pulse on pleth"
        return [_arrhythmia(held, reason)]

    ward = Ward(analyser=analyser)
    snap = ward.at(0)
    assert snap.alarms == () and snap.sounding_priority is None
    [held] = snap.held_back
    assert held.state is State.HELD_BACK and "pleth pulsatile" in held.reason
    snap = ward.at(1)
    assert snap.held_back and not snap.alarms
    snap = ward.at(2)
    [alarm] = snap.alarms
    assert alarm.state is State.ACTIVE and alarm.alarm_id == held.alarm_id and alarm.raised_at == T0 + 2
    assert snap.sounding_priority is Priority.HIGH
    assert ward.actions() == [Action.HELD_BACK, Action.RELEASED]


def test_sounding_arrhythmia_is_never_downgraded_by_a_later_analysis():
    verdicts = iter([False, True, True])

    def analyser(bed: str, now: float):
        return [_arrhythmia(next(verdicts, True), "x")] if bed == "bed01" else []

    ward = Ward(analyser=analyser)
    for s in range(3):
        snap = ward.at(s)
    [alarm] = snap.alarms
    assert alarm.state is State.ACTIVE and snap.sounding_priority is Priority.HIGH


def test_ended_held_back_alarm_stays_in_the_held_back_list_for_review():
    calls = iter([[_arrhythmia(True, "pleth pulsatile")]])

    def analyser(bed: str, now: float):
        return next(calls, []) if bed == "bed01" else []

    ward = Ward(analyser=analyser)
    ward.at(0)
    snap = ward.at(30)
    [kept] = snap.held_back
    assert kept.state is State.CLEARED and kept.reason == "pleth pulsatile"


def test_an_analysis_error_does_not_hide_the_other_alarms_of_the_bed():
    def analyser(bed: str, now: float):
        raise RuntimeError("detector broke")

    ward = Ward(analyser=analyser)
    ward.hub.push_event(TechnicalEvent("bed01", TechnicalKind.SENSOR_OFF, True, T0))
    ward.at(0)
    keys = {a.key for a in ward.at(10).alarms if a.bed == "bed01"}
    # the bed's own alarm stands, and the failed analysis is itself a technical alarm
    assert keys == {"technical:sensor_off", "technical:arrhythmia_analysis"}


def test_no_alarm_is_lost_when_a_burst_of_1000_arrives_at_once():
    ward = Ward(beds=250)
    kinds = [
        TechnicalKind.LEAD_OFF,
        TechnicalKind.SENSOR_OFF,
        TechnicalKind.LOW_BATTERY,
        TechnicalKind.DATA_ERROR,
    ]
    q = ward.engine.subscribe()
    for bed in ward.beds:
        for kind in kinds:
            ward.hub.push_event(TechnicalEvent(bed, kind, True, T0))
    ward.at(0.0)
    snap = ward.at(10.0)
    assert len(snap.alarms) == 1000
    assert {(a.bed, a.key) for a in snap.alarms} == {
        (b, f"technical:{k.value}") for b in ward.beds for k in kinds
    }
    raised = [q.get_nowait() for _ in range(q.qsize())]
    assert len(raised) == 1000 and all(e.action is Action.RAISED for e in raised)
    # sorted for the alarm bar: priority first
    priorities = [int(a.priority) for a in snap.alarms]
    assert priorities == sorted(priorities, reverse=True)


def test_alarm_bar_order_is_priority_then_newest_first():
    ward = Ward(beds=3)
    ward.hub.push_event(TechnicalEvent("bed01", TechnicalKind.LOW_BATTERY, True, T0))
    ward.at(0)
    ward.hub.push_event(TechnicalEvent("bed02", TechnicalKind.DISCONNECTED, True, T0 + 1))
    ward.at(1)
    ward.hub.push_event(TechnicalEvent("bed03", TechnicalKind.NO_SIGNAL, True, T0 + 2))
    snap = ward.at(2)
    assert [a.bed for a in snap.alarms] == ["bed03", "bed02", "bed01"]


def test_per_bed_limit_change_applies_to_that_bed_only_and_is_recorded():
    ward = Ward()
    rule = default_settings().rule("spo2_low")
    ward.engine.set_limit("bed01", replace(rule, low=85.0), user="charge.nurse")
    for s in range(0, 20):
        ward.spo2("bed01", 88, s)
        ward.spo2("bed02", 88, s)
        snap = ward.at(s)
    assert [a.bed for a in snap.alarms] == ["bed02"]
    [change] = [e for e in ward.engine.journal() if e.action is Action.LIMITS_CHANGED]
    assert change.user == "charge.nurse" and "low 90" in change.detail and "low 85" in change.detail


def test_engine_failure_is_published_as_a_fault_and_clears_when_ticks_work_again(monkeypatch):
    ward = Ward()
    ward.hub.push_event(TechnicalEvent("bed01", TechnicalKind.SENSOR_OFF, True, T0))
    ward.at(0)
    ward.at(10)

    def broken(bed: str, now: float):
        raise RuntimeError("boom")

    monkeypatch.setattr(ward.engine, "_findings", broken)
    snap = ward.engine.tick_safely()
    assert snap.fault is not None and "alarm engine error" in snap.fault
    assert [a.key for a in snap.alarms] == ["technical:sensor_off"]  # what was known stays shown
    monkeypatch.undo()
    assert ward.engine.tick_safely().fault is None


def test_value_hovering_at_its_limit_gives_one_alarm_not_one_per_dip():
    ward = Ward()
    values = [89.0] * 20 + [89.6, 90.2, 89.4, 90.4, 89.2] * 20  # a patient drifting at SpO2 89-90
    for s, v in enumerate(values):
        ward.spo2("bed01", v, s)
        ward.at(s)
    raised = [e for e in ward.engine.journal() if e.action is Action.RAISED and e.key == "spo2_low"]
    assert len(raised) == 1
    ward.spo2("bed01", 91.0, len(values))  # back inside by the hysteresis: the condition ends
    assert ward.at(len(values)).alarms == ()


def test_deep_desaturation_shows_one_alarm_not_two():
    ward = Ward()
    for s in range(0, 30):
        ward.spo2("bed01", 80, s)
        snap = ward.at(s)
    assert [a.key for a in snap.alarms] == ["spo2_very_low"]
    # when it recovers only to 88, the shallower alarm takes over at once: its delay ran underneath
    ward.spo2("bed01", 88, 30)
    snap = ward.at(30)
    assert "spo2_low" in [a.key for a in snap.alarms]


def test_confirmed_vtach_covers_the_heart_rate_alarm_but_a_held_back_one_does_not():
    def finding(held: bool) -> Finding:
        return Finding(
            key="arrhythmia:Ventricular_Tachycardia",
            category=Category.ARRHYTHMIA,
            priority=Priority.HIGH,
            message="V-tach",
            held_back=held,
        )

    for held, expected in ((False, {"arrhythmia:Ventricular_Tachycardia"}), (True, {"hr_high"})):
        ward = Ward(analyser=lambda bed, now, h=held: [finding(h)] if bed == "bed01" else [])
        for s in range(0, 12):
            ward.hr("bed01", 180, s)
            snap = ward.at(s)
        assert {a.key for a in snap.alarms} == expected


def test_heart_rate_alarm_speaks_for_the_pulse_rate_of_the_same_event():
    ward = Ward()
    for s in range(0, 12):
        ward.hr("bed01", 41, s)
        ward.hub.push_observation(Observation("bed01", MdcCode.PULS_OXIM_PULS_RATE, 41, "/min", T0 + s))
        snap = ward.at(s)
    assert [a.key for a in snap.alarms] == ["hr_low"]
