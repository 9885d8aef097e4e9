"""The viewer's house model and the rapid-response list: pure, no broker, an injected clock."""

from __future__ import annotations

import numpy as np
from wardwatch.app.alarms.model import Priority, State
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import LinkState, TechnicalKind
from wardwatch.app.hospital.house import (
    STATION_LOST_KEY,
    HospitalHouse,
    event_order,
    without_sound,
)
from wardwatch.app.hospital.payloads import (
    AlarmEventInfo,
    AlarmState,
    BedAlarms,
    BedInfo,
    Condition,
    News2,
    Numerics,
    NumericValue,
    PatientInfo,
    Risk,
    StationStatus,
    Technical,
    decode,
    encode,
)
from wardwatch.app.hospital.rapid_response import Urgency, rapid_response
from wardwatch.app.hospital.waves_codec import WaveBlock, decode_waves, encode_waves

T0 = 1_790_000_000.0


class Clock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def alarm(
    alarm_id: int, key: str = "spo2_low", priority: str = "high", state: str = "active", at: float = T0
):
    return AlarmState(
        alarm_id, key, "physiological", priority, state, f"{key} message", at, at - 5, reason="why"
    )


def alarms_msg(seq: int, *active: AlarmState, run: str = "18c0a1b2c3d", action: str | None = "raised"):
    event = None
    if action is not None:
        event = AlarmEventInfo(action, active[0].alarm_id if active else 1, "spo2_low", "high", "", "", T0)
    # through the real encoder and decoder, as the viewer gets it
    return decode(encode(BedAlarms(f"main/icu:{run}:{seq}", T0 + seq, event, tuple(active))))


def status(state: str = "online", beds: tuple[str, ...] = ("bed01", "bed02"), t: float = T0):
    return StationStatus("ICU North", state, t, beds, "1.0")


def info(bed: str = "bed01", label: str = "Bed 1", patient: PatientInfo | None = None):
    return BedInfo("ICU North", bed, label, patient, "sim", T0)


def test_retained_state_of_a_station_becomes_its_beds_with_patient_numerics_and_station_name():
    clock = Clock()
    house = HospitalHouse(clock=clock)
    house.on_status("main", "icu", status())
    house.on_info("main", "icu", "bed01", info(patient=PatientInfo("DOE, Jane", "MRN1", 71, "F")))
    values = (NumericValue(int(MdcCode.ECG_HEART_RATE), "HR", 72.0, "bpm", T0),)
    house.on_numerics("main", "icu", "bed01", Numerics(T0, values))
    snap = house.snapshot()
    assert [s.name for s in snap.stations] == ["ICU North"]
    assert [b.key for b in snap.beds] == ["main/icu/bed01", "main/icu/bed02"]
    bed = snap.bed("main/icu/bed01")
    assert bed is not None and bed.title == "icu · Bed 1" and bed.station == "ICU North"
    assert bed.patient is not None and bed.patient.text == "DOE, Jane · 71 F"
    assert "DOE" not in repr(bed.patient)  # masked in logs
    latest = house.hub.latest("main/icu/bed01", MdcCode.ECG_HEART_RATE)
    assert latest is not None and latest.value == 72.0
    clock.t += 3
    assert snap.stations[0].link_age(clock()) == 3.0


def test_each_alarms_message_replaces_the_beds_alarm_state_and_a_seen_event_id_is_dropped():
    house = HospitalHouse(clock=Clock())
    heard = []
    house.add_listener(heard.append)
    assert house.on_alarms("main", "icu", "bed01", alarms_msg(1, alarm(17)))
    assert house.on_alarms("main", "icu", "bed01", alarms_msg(2, alarm(17), alarm(18, "hr_high", "medium")))
    snap = house.snapshot()
    assert [a.alarm_id for a in snap.alarms.for_bed("main/icu/bed01")] == [17, 18]  # priority first
    assert snap.alarms.alarms[0].priority is Priority.HIGH and snap.alarms.sounding_priority is Priority.HIGH
    # QoS 1 redelivery of an event already applied: dropped, the state stands
    assert not house.on_alarms("main", "icu", "bed01", alarms_msg(1, alarm(17)))
    assert house.counters.duplicates == 1
    # an older event of the run arriving late never overwrites the newer state (but counts as received)
    assert house.on_alarms("main", "icu", "bed01", alarms_msg(0, alarm(16)))
    assert [a.alarm_id for a in house.snapshot().alarms.for_bed("main/icu/bed01")] == [17, 18]
    assert house.counters.out_of_order == 1
    # cleared: the list is empty after the event
    assert house.on_alarms("main", "icu", "bed01", alarms_msg(3, action="cleared"))
    assert house.snapshot().alarms.for_bed("main/icu/bed01") == ()
    assert [h.event_id for h in heard] == [f"main/icu:18c0a1b2c3d:{n}" for n in (1, 2, 0, 3)]
    assert house.seen_event_ids("main/icu") == {f"main/icu:18c0a1b2c3d:{n}" for n in (0, 1, 2, 3)}


def test_a_restarted_station_run_is_newer_than_the_old_run():
    house = HospitalHouse(clock=Clock())
    house.on_alarms("main", "icu", "bed01", alarms_msg(900, alarm(17), run="18c0a1b2c3d"))
    house.on_alarms("main", "icu", "bed01", alarms_msg(1, alarm(1), run="18c0a1b9999"))
    assert [a.alarm_id for a in house.snapshot().alarms.alarms] == [1]
    assert event_order("main/icu:ff:12") == (255, 12) and event_order("garbage") is None


def test_a_restarted_station_whose_clock_went_back_still_shows_its_new_alarms():
    # the new run-id (wall clock at start) is lower than the old one: the run changed, so it applies
    house = HospitalHouse(clock=Clock())
    house.on_alarms("main", "icu", "bed01", alarms_msg(900, alarm(17), run="18c0a1b9999"))
    assert house.on_alarms("main", "icu", "bed01", alarms_msg(1, alarm(1), run="18c0a1b2c3d"))
    assert [a.alarm_id for a in house.snapshot().alarms.alarms] == [1]
    assert house.counters.out_of_order == 0
    # within the new run, an older sequence number still does not overwrite the newer state
    house.on_alarms("main", "icu", "bed01", alarms_msg(3, alarm(3), run="18c0a1b2c3d"))
    house.on_alarms("main", "icu", "bed01", alarms_msg(2, alarm(2), run="18c0a1b2c3d"))
    assert [a.alarm_id for a in house.snapshot().alarms.alarms] == [3]
    assert house.counters.out_of_order == 1


def test_held_back_and_acknowledged_alarms_are_shown_as_the_station_shows_them():
    house = HospitalHouse(clock=Clock())
    acked = AlarmState(
        5, "hr_high", "physiological", "medium", "acknowledged", "HR 130 > 120", T0, T0, None, "dr.x", T0 + 1
    )
    held = AlarmState(6, "vtach", "arrhythmia", "high", "held_back", "VTach", T0, T0, reason="artefact")
    house.on_alarms("main", "icu", "bed01", alarms_msg(1, acked, held))
    snap = house.snapshot()
    assert [a.alarm_id for a in snap.alarms.alarms] == [5] and snap.alarms.alarms[
        0
    ].state is State.ACKNOWLEDGED
    assert [a.alarm_id for a in snap.alarms.held_back] == [6]
    assert snap.alarms.sounding_priority is None  # acknowledged: silent; held back: not shown


def test_a_silent_station_is_marked_lost_on_every_bed_within_ten_seconds_and_found_again():
    clock = Clock()
    house = HospitalHouse(clock=clock)
    house.on_status("main", "icu", status())
    house.on_info("main", "icu", "bed01", info())
    house.on_status("main", "ward4", StationStatus("Ward 4", "online", T0, ("bed01",), "1.0"))
    lost_at = None
    for step in range(1, 21):  # the viewer's once-a-second check; ward 4 keeps its heartbeat
        clock.t = T0 + step * 0.5
        if step % 4 == 0:
            house.on_status("main", "ward4", StationStatus("Ward 4", "online", clock.t, ("bed01",), "1.0"))
        house.tick()
        if lost_at is None and any(s.lost for s in house.snapshot().stations):
            lost_at = clock.t - T0
    assert lost_at is not None and lost_at <= 10.0
    snap = house.snapshot()
    icu = snap.station("main/icu")
    assert icu is not None and icu.lost and not snap.station("main/ward4").lost  # type: ignore[union-attr]
    lost = [a for a in snap.alarms.alarms if a.key == STATION_LOST_KEY]
    assert sorted(a.bed for a in lost) == ["main/icu/bed01", "main/icu/bed02"]
    assert lost[0].message.startswith("No data from station ICU North since ")
    assert all(b.station_lost for b in snap.beds_of("main/icu"))
    assert snap.alarms.sounding_priority is Priority.MEDIUM
    # silenced here by a person: still shown, no longer sounding
    assert house.acknowledge_lost("main/icu", "rrt.nurse")
    assert house.snapshot().alarms.sounding_priority is None
    # its heartbeat again: found
    clock.t += 1
    house.on_status("main", "icu", status(t=clock.t))
    assert not any(a.key == STATION_LOST_KEY for a in house.snapshot().alarms.alarms)


def test_a_station_whose_status_says_offline_is_lost_at_once_and_a_retained_bed_message_does_not_revive_it():
    clock = Clock()
    house = HospitalHouse(clock=clock)
    house.on_status("main", "icu", status())
    house.on_status("main", "icu", status("offline"))  # clean stop or last will
    house.on_info("main", "icu", "bed01", info())
    snap = house.snapshot()
    assert snap.stations[0].lost and snap.stations[0].state == "offline"
    assert {a.bed for a in snap.alarms.alarms if a.key == STATION_LOST_KEY} == {
        "main/icu/bed01",
        "main/icu/bed02",
    }


def test_technical_conditions_and_waves_reach_the_local_hub_for_the_tiles():
    house = HospitalHouse(clock=Clock())
    lead_off = Condition(TechnicalKind.LEAD_OFF.value, "V lead", T0)
    house.on_technical("main", "icu", "bed01", Technical(T0, "connected", (lead_off,)))
    assert [c.kind for c in house.hub.conditions("main/icu/bed01")] == [TechnicalKind.LEAD_OFF]
    assert house.snapshot().bed("main/icu/bed01").conditions == ("Leads off: V lead",)  # type: ignore[union-attr]
    house.on_technical("main", "icu", "bed01", Technical(T0 + 1, "connected", ()))
    assert house.hub.conditions("main/icu/bed01") == []
    samples = np.sin(np.linspace(0, 6, 125)).astype(np.float32)
    data = encode_waves(T0, [WaveBlock(int(MdcCode.ECG_ELEC_POTL_II), 250.0, T0, samples, "mV", "II")])
    house.on_waves("main", "icu", "bed01", decode_waves(data))
    streams = house.hub.streams("main/icu/bed01")
    assert streams is not None and streams.waves[MdcCode.ECG_ELEC_POTL_II].ring.count == 125


def test_sound_setting_keeps_alarms_shown_but_silences_what_it_excludes():
    house = HospitalHouse(clock=Clock())
    house.on_alarms("main", "icu", "bed01", alarms_msg(1, alarm(1, "hr_high", "medium")))
    snap = house.snapshot().alarms
    assert without_sound(snap, "all").sounding_priority is Priority.MEDIUM
    assert without_sound(snap, "high").sounding_priority is None
    assert (
        len(without_sound(snap, "none").alarms) == 1 and without_sound(snap, "none").sounding_priority is None
    )


def test_rapid_response_lists_high_alarms_then_news2_high_then_news2_medium_and_risk_older_first():
    clock = Clock()
    house = HospitalHouse(clock=clock)
    for bed in ("bed01", "bed02", "bed03", "bed04", "bed05", "bed06"):
        house.on_info("main", "icu", bed, info(bed, f"Bed {bed[-1]}"))
    house.on_alarms("main", "icu", "bed01", alarms_msg(1, alarm(1, at=T0 + 100)))
    house.on_alarms(
        "main", "icu", "bed02", alarms_msg(2, alarm(2, at=T0 + 50), alarm(3, "hr_high", "medium"))
    )
    house.on_news2("main", "icu", "bed03", News2(T0 + 10, 5, "medium", True))
    house.on_news2("main", "icu", "bed04", News2(T0 + 20, 8, "high", False))
    house.on_news2("main", "icu", "bed05", News2(T0 + 5, 4, "low", True))  # below 5: not listed
    house.on_risk("main", "icu", "bed06", Risk(T0 + 1, 0.42, 0.3, True, ("HR rising 88→112 over 6 h",)))
    # a later NEWS2 of the same class keeps its "since": it has waited longer than bed06's risk
    house.on_news2("main", "icu", "bed03", News2(T0 + 70, 6, "medium", True))
    items = rapid_response(house.snapshot())
    assert [(i.urgency, i.bed[-5:]) for i in items] == [
        (Urgency.HIGH_ALARM, "bed02"),
        (Urgency.HIGH_ALARM, "bed01"),
        (Urgency.NEWS2_HIGH, "bed04"),
        (Urgency.RISK, "bed06"),
        (Urgency.NEWS2_MEDIUM, "bed03"),
    ]
    words = items[0].sentence(T0 + 350)
    assert words.startswith("icu · Bed 2: *** spo2_low message, not acknowledged — since ")
    assert words.endswith("(5 min)")
    assert "could be higher" in items[2].sentence(T0) and "NEWS2 8+" in items[2].what
    assert items[3].what == "Deterioration risk 42 %" and "HR rising" in items[3].detail
    assert items[0].alarm_id == 2 and items[0].key == "spo2_low"


def test_a_time_no_clock_can_show_does_not_stop_the_page():
    # a status time in milliseconds that got past decoding (fed directly) must not make snapshot() raise
    clock = Clock()
    house = HospitalHouse(clock=clock)
    house.on_status("main", "icu", StationStatus("ICU", "online", 1.7e15, ("bed01",), "1"))
    clock.t += 60
    assert house.tick()
    snap = house.snapshot()
    assert snap.beds[0].station_lost
    assert "--:--" in snap.beds[0].alarms[0].message


def test_retained_messages_of_a_dead_station_are_shown_but_are_no_sign_of_life():
    clock = Clock()
    house = HospitalHouse(clock=clock)
    # a new viewer gets the broker's stored copies of a station that died without its will reaching it
    house.on_status("main", "icu", status(t=T0 - 3600), retained=True)
    house.on_info("main", "icu", "bed01", info(), retained=True)
    house.on_alarms("main", "icu", "bed01", alarms_msg(1, alarm(17)), retained=True)
    assert not house.tick()  # not lost at once: its live heartbeat has a few seconds to come
    assert house.snapshot().bed("main/icu/bed01").label == "Bed 1"  # type: ignore[union-attr]
    for _ in range(8):  # the once-a-second check, and retained copies keep arriving (re-subscriptions)
        clock.t += 1
        house.on_status("main", "icu", status(t=T0 - 3600), retained=True)
        house.on_info("main", "icu", "bed01", info(), retained=True)
        house.tick()
    snap = house.snapshot()
    assert snap.stations[0].lost and snap.stations[0].last_heard is None
    assert any(a.key == STATION_LOST_KEY for a in snap.alarms.for_bed("main/icu/bed01"))
    # a live message is a sign of life
    house.on_status("main", "icu", status(t=clock.t))
    assert not house.snapshot().stations[0].lost


def test_an_older_status_never_overrides_a_newer_one_but_the_last_will_always_counts():
    clock = Clock()
    house = HospitalHouse(clock=clock)
    house.on_status("main", "icu", status(t=T0 + 10))
    house.on_status("main", "icu", status("offline", t=T0 + 20))  # clean stop
    house.on_status("main", "icu", status("online", t=T0 + 10), retained=True)  # a stale copy, replayed
    house.on_status("main", "icu", status("online", t=T0 + 15))  # a late redelivery
    snap = house.snapshot()
    assert snap.stations[0].state == "offline" and snap.stations[0].lost
    # back online (a newer time), then dead: the broker sends the will, dated when the station connected
    clock.t += 30
    house.on_status("main", "icu", status(t=T0 + 40))
    assert not house.snapshot().stations[0].lost
    house.on_status("main", "icu", status("offline", t=T0 + 25))
    assert house.snapshot().stations[0].lost


def test_a_lost_bedside_link_reaches_the_hub_as_the_tiles_link_state():
    house = HospitalHouse(clock=Clock())
    house.on_info("main", "icu", "bed01", info())
    assert house.hub.streams("main/icu/bed01").status.state is LinkState.CONNECTED  # type: ignore[union-attr]
    house.on_technical("main", "icu", "bed01", Technical(T0, "lost", ()))
    assert house.hub.streams("main/icu/bed01").status.state is LinkState.DISCONNECTED  # type: ignore[union-attr]
    assert house.snapshot().bed("main/icu/bed01").link_state is LinkState.DISCONNECTED  # type: ignore[union-attr]
    house.on_info("main", "icu", "bed01", info())  # a later info does not hide the lost link
    assert house.hub.streams("main/icu/bed01").status.state is LinkState.DISCONNECTED  # type: ignore[union-attr]
    house.on_technical("main", "icu", "bed01", Technical(T0 + 1, "connected", ()))
    assert house.hub.streams("main/icu/bed01").status.state is LinkState.CONNECTED  # type: ignore[union-attr]
