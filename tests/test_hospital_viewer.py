"""The viewer service against a real Mosquitto (tests/mqtt_broker.py): a plain paho client plays the
station with the station's own payload encoders; the viewer's house must show what it publishes."""

from __future__ import annotations

import queue
import ssl
import time
from argparse import Namespace
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

import numpy as np
import paho.mqtt.client as mqtt
from mqtt_broker import SECURE_SITE, SECURE_STATIONS, SECURE_VIEWER, Broker, poll_until
from paho.mqtt.enums import CallbackAPIVersion
from wardwatch.app.alarms.model import Priority
from wardwatch.app.clock import ScaledClock
from wardwatch.app.codes import MdcCode
from wardwatch.app.config import StationConfig
from wardwatch.app.domain import STATION_BED, TechnicalKind
from wardwatch.app.extensions import ServiceContext
from wardwatch.app.hospital.payloads import (
    AckRequest,
    AckResult,
    AlarmEventInfo,
    AlarmState,
    BedAlarms,
    BedInfo,
    Numerics,
    NumericValue,
    PatientInfo,
    Payload,
    StationStatus,
    WavesWant,
    decode_as,
    encode,
)
from wardwatch.app.hospital.settings import MqttSettings, ViewTarget, parse_url
from wardwatch.app.hospital.topics import Kind, bed_topic, status_topic
from wardwatch.app.hospital.viewer import SERVICE_NAME, HospitalViewer, start_services
from wardwatch.app.hospital.waves_codec import WaveBlock, encode_waves
from wardwatch.app.station import BedSetup, Station, StationSetup

WAIT_S = 20.0  # generous: a loaded CI machine


def wait_for(condition: Callable[[], object], timeout: float = WAIT_S) -> object:
    value = poll_until(condition, timeout)
    if value is None:
        raise AssertionError("timed out waiting")
    return value


@contextmanager
def plain_client(broker: Broker, username: str | None = None) -> Iterator[mqtt.Client]:
    """A paho client as a station would be one (the test's stand-in for the owning station)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    if username is not None:
        client.username_pw_set(username, broker.password(username))
    if broker.tls:
        client.tls_set(ca_certs=str(broker.ca_file), cert_reqs=ssl.CERT_REQUIRED)
        port = broker.tls_port
    else:
        port = broker.port
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        yield client
    finally:
        client.disconnect()
        client.loop_stop()


def publish(client: mqtt.Client, topic: str, payload: Payload | bytes, retain: bool = True) -> None:
    data = payload if isinstance(payload, bytes) else encode(payload)
    client.publish(topic, data, qos=1, retain=retain).wait_for_publish(WAIT_S)


def publish_station(client: mqtt.Client, site: str, ward: str, name: str) -> None:
    now = time.time()
    publish(client, status_topic(site, ward), StationStatus(name, "online", now, ("bed01", "bed02"), "1.0"))
    patient = PatientInfo("DOE, Jane", "MRN-1", 71, "F")
    publish(
        client,
        bed_topic(site, ward, "bed01", Kind.INFO),
        BedInfo(name, "bed01", "Bed 1", patient, "sim", now),
    )
    publish(
        client, bed_topic(site, ward, "bed02", Kind.INFO), BedInfo(name, "bed02", "Bed 2", None, None, now)
    )
    hr = NumericValue(int(MdcCode.ECG_HEART_RATE), "HR", 131.0, "bpm", now)
    publish(client, bed_topic(site, ward, "bed01", Kind.NUMERICS), Numerics(now, (hr,)))
    alarm = AlarmState(17, "hr_high", "physiological", "high", "active", "HR 131 > 130", now, now - 5)
    event = AlarmEventInfo("raised", 17, "hr_high", "high", "", "", now)
    publish(
        client,
        bed_topic(site, ward, "bed01", Kind.ALARMS),
        BedAlarms(f"{site}/{ward}:18c0a1b2c3d:1", now, event, (alarm,)),
    )


def make_viewer(broker: Broker, site: str, ward: str, username: str | None = None) -> HospitalViewer:
    settings = MqttSettings(
        parse_url(broker.url),
        site,
        "rrt-desk",
        ca_file=broker.ca_file if broker.tls else None,
        username=username,
        password=broker.password(username) if username else None,
        view=(ViewTarget(site, ward),),
    )
    viewer = HospitalViewer(settings, "RRT desk", view_only=True)
    viewer.start()
    return viewer


def test_a_viewer_sees_the_retained_beds_and_alarm_state_of_a_station_at_once(mqtt_broker):
    with plain_client(mqtt_broker) as station:
        publish_station(station, "main", "icu", "ICU North")
        viewer = make_viewer(mqtt_broker, "main", "*")
        try:
            snap = wait_for(lambda: (s := viewer.house.snapshot()).alarms.alarms and len(s.beds) == 2 and s)
            assert [b.key for b in snap.beds] == ["main/icu/bed01", "main/icu/bed02"]  # type: ignore[union-attr]
            bed = snap.bed("main/icu/bed01")  # type: ignore[union-attr]
            assert bed.station == "ICU North" and bed.patient.text == "DOE, Jane · 71 F"
            assert snap.alarms.sounding_priority is Priority.HIGH  # type: ignore[union-attr]
            hr = viewer.hub.latest("main/icu/bed01", MdcCode.ECG_HEART_RATE)
            assert hr is not None and hr.value == 131.0
            # garbage on a bed topic: refused and counted, the viewer goes on
            station.publish(bed_topic("main", "icu", "bed02", Kind.NUMERICS), b"\xff{not json", qos=1)
            station.publish(bed_topic("main", "icu", "bed02", Kind.ALARMS), b"x" * 70_000, qos=1)
            wait_for(lambda: viewer.counters.rejected >= 2)
            publish(
                station,
                status_topic("main", "icu"),
                StationStatus("ICU North", "offline", time.time(), (), "1"),
            )
            wait_for(lambda: viewer.house.snapshot().stations[0].lost)
        finally:
            viewer.close()


def test_a_station_known_only_from_retained_messages_is_never_heard_alive_and_is_lost(mqtt_broker):
    with plain_client(mqtt_broker) as station:
        publish_station(station, "main", "icu", "ICU North")
    # the station is gone (a clean disconnect: no will), its retained state stays on the broker
    viewer = make_viewer(mqtt_broker, "main", "icu")
    try:
        wait_for(lambda: len(viewer.house.snapshot().beds) == 2)
        lost = wait_for(lambda: (s := viewer.house.snapshot().stations) and s[0].lost and s[0])
        assert lost.last_heard is None  # type: ignore[union-attr]
    finally:
        viewer.close()


@contextmanager
def a_remote_acknowledgement(
    broker: Broker,
) -> Iterator[tuple[mqtt.Client, HospitalViewer, str, str, AckRequest]]:
    """dr.smith acknowledges bed01's HR alarm at the viewer; yields the stand-in owning station, the
    viewer, the request's id, and the topic and request the station received."""
    requests: queue.Queue[tuple[str, bytes]] = queue.Queue()
    with plain_client(broker) as station:
        station.on_message = lambda _c, _u, m: requests.put((m.topic, bytes(m.payload)))
        station.subscribe("wardwatch/main/icu/+/ack", 1)
        publish_station(station, "main", "icu", "ICU North")
        viewer = make_viewer(broker, "main", "icu")
        try:
            wait_for(lambda: viewer.connected and viewer.house.snapshot().alarms.alarms)
            request_id = viewer.acknowledge("main/icu/bed01", 17, "hr_high", "dr.smith", "clinician")
            assert request_id is not None
            topic, payload = next(r for r in iter_queue(requests) if r[0].endswith("/ack"))
            yield station, viewer, request_id, topic, decode_as(payload, AckRequest)
        finally:
            viewer.close()


def test_an_acknowledgement_reaches_the_owning_station_and_its_answer_comes_back(mqtt_broker):
    with a_remote_acknowledgement(mqtt_broker) as (station, viewer, request_id, topic, request):
        assert topic == "wardwatch/main/icu/bed01/ack"
        assert (request.id, request.alarm_id, request.key) == (request_id, 17, "hr_high")
        assert (request.user, request.role, request.viewer) == ("dr.smith", "clinician", "RRT desk")
        answer = AckResult(request.id, True, "acknowledged by dr.smith@RRT desk")
        publish(station, bed_topic("main", "icu", "bed01", Kind.ACK_RESULT), answer, retain=False)
        outcome = wait_for(lambda: (o := viewer.ack_outcome(request_id)) and not o.waiting and o)
        assert outcome.ok and outcome.detail == "acknowledged by dr.smith@RRT desk"  # type: ignore[union-attr]


def test_a_station_answer_after_the_viewer_gave_up_is_shown_as_a_late_answer(mqtt_broker, monkeypatch):
    import wardwatch.app.hospital.viewer as viewer_module

    monkeypatch.setattr(viewer_module, "ACK_TIMEOUT_S", 0.2)
    with a_remote_acknowledgement(mqtt_broker) as (station, viewer, request_id, _topic, request):
        gave_up = wait_for(lambda: (o := viewer.ack_outcome(request_id)) and not o.waiting and o)
        assert gave_up.ok is False and "no answer" in gave_up.detail  # type: ignore[union-attr]
        answer = AckResult(request.id, True, "acknowledged by dr.smith@RRT desk")
        publish(station, bed_topic("main", "icu", "bed01", Kind.ACK_RESULT), answer, retain=False)
        late = wait_for(lambda: (o := viewer.ack_outcome(request_id)) and o.ok and o)
        assert late.detail == "late answer from the station: acknowledged by dr.smith@RRT desk"  # type: ignore[union-attr]


def test_an_open_bed_renews_its_wave_lease_and_its_waves_reach_the_local_hub(mqtt_broker):
    wants: queue.Queue[tuple[str, bytes]] = queue.Queue()
    with plain_client(mqtt_broker) as station:
        station.on_message = lambda _c, _u, m: wants.put((m.topic, bytes(m.payload)))
        station.subscribe("wardwatch/main/icu/+/waves/want", 0)
        publish_station(station, "main", "icu", "ICU North")
        viewer = make_viewer(mqtt_broker, "main", "icu")
        try:
            wait_for(lambda: viewer.connected)
            viewer.open_bed("main/icu/bed01")
            topic, payload = next(iter_queue(wants))
            assert topic == "wardwatch/main/icu/bed01/waves/want"
            want = decode_as(payload, WavesWant)
            assert want.viewer == "RRT desk" and want.until > time.time()
            now = time.time()
            samples = np.sin(np.linspace(0, 12, 250)).astype(np.float32)
            block = WaveBlock(int(MdcCode.ECG_ELEC_POTL_II), 250.0, now, samples, "mV", "II")
            publish(
                station,
                bed_topic("main", "icu", "bed01", Kind.WAVES),
                encode_waves(now, [block]),
                retain=False,
            )
            streams = wait_for(lambda: viewer.hub.streams("main/icu/bed01"))
            wait_for(lambda: MdcCode.ECG_ELEC_POTL_II in streams.waves)  # type: ignore[union-attr]
            viewer.close_bed("main/icu/bed01")
        finally:
            viewer.close()


def test_a_viewer_over_tls_with_a_password_reads_its_site_under_the_recommended_acls(mqtt_broker_secure):
    account = SECURE_STATIONS[0]
    requests: queue.Queue[tuple[str, bytes]] = queue.Queue()
    with plain_client(mqtt_broker_secure, account.username) as station:
        station.on_message = lambda _c, _u, m: requests.put((m.topic, bytes(m.payload)))
        station.subscribe(f"wardwatch/{SECURE_SITE}/{account.ward}/+/ack", 1)
        publish_station(station, SECURE_SITE, account.ward, "ICU")
        viewer = make_viewer(mqtt_broker_secure, SECURE_SITE, "*", SECURE_VIEWER.username)
        try:
            wait_for(lambda: len(viewer.house.snapshot().beds) == 2)
            key = f"{SECURE_SITE}/{account.ward}/bed01"
            assert viewer.acknowledge(key, 17, "hr_high", "charge.nurse", "charge_nurse") is not None
            topic, _payload = next(iter_queue(requests))
            assert topic == f"wardwatch/{key}/ack"
        finally:
            viewer.close()


def iter_queue(q: queue.Queue[tuple[str, bytes]], timeout: float = WAIT_S) -> Iterator[tuple[str, bytes]]:
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError("nothing arrived")
        try:
            yield q.get(timeout=remaining)
        except queue.Empty:
            raise AssertionError("nothing arrived") from None


def test_the_feature_hook_starts_a_connected_viewer_for_view_and_an_idle_one_beside_a_gui_station(
    mqtt_broker,
):
    station = Station(StationSetup("RRT desk", [BedSetup("Bed 1", None)]), ScaledClock(1.0))
    config = replace(StationConfig(), mqtt_site="main", mqtt_ward="rrt", station_name="RRT desk")
    try:
        plain = Namespace(mqtt=mqtt_broker.url)
        assert start_services(ServiceContext(station, config, plain, None, headless=True)) == []
        # --view without any broker: said as the station's technical condition, not only in the log
        assert start_services(ServiceContext(station, config, Namespace(view="main/icu"), None, False)) == []
        (down,) = station.hub.conditions(STATION_BED)
        assert down.kind is TechnicalKind.BROKER_DOWN and "--view needs a broker" in down.detail
        args = Namespace(mqtt=mqtt_broker.url, view="main/icu")
        (viewer,) = start_services(ServiceContext(station, config, args, None, headless=False))
        assert station.services[SERVICE_NAME] is viewer and viewer.view_only and viewer.started
        with plain_client(mqtt_broker) as client:
            publish_station(client, "main", "icu", "ICU North")
            publish_station(client, "main", "er", "Emergency")  # not viewed
            wait_for(lambda: len(viewer.house.snapshot().beds) == 2)
            time.sleep(0.5)
            assert {s.key for s in viewer.house.snapshot().stations} == {"main/icu"}
        viewer.close()
        # beside a station's own window: every ward of its site but its own, connected on first use
        (idle,) = start_services(ServiceContext(station, config, plain, None, headless=False))
        assert not idle.view_only and not idle.started and idle.exclude == "main/rrt"
        assert [str(t) for t in idle.targets] == ["main/*"]
        idle.close()
    finally:
        station.stop()
