"""A station sharing its beds through a real Mosquitto broker (tests/mqtt_broker.py): retained state for a
late viewer, no alarm event lost across a broker restart, a remote acknowledgement reaching the alarm
engine and the audit trail, garbage on the request topics rejected and counted, waves on demand, and
`wardwatch mqtt status` reading the station's status file."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mqtt_broker import MOSQUITTO, SECURE_STATIONS, SECURE_VIEWER, Broker, acl_text, poll_until
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from wardwatch.app.alarms.model import State
from wardwatch.app.cli import main
from wardwatch.app.clock import FixedClock
from wardwatch.app.codes import MdcCode
from wardwatch.app.config import StationConfig
from wardwatch.app.domain import STATION_BED, Observation, Patient, TechnicalKind, WaveformBlock
from wardwatch.app.hospital.payloads import (
    AckRequest,
    AckResult,
    BedAlarms,
    BedInfo,
    Numerics,
    StationStatus,
    WavesWant,
    decode,
    encode,
)
from wardwatch.app.hospital.publisher import STATUS_FILE, HospitalPublisher
from wardwatch.app.hospital.requests import RequestHandler
from wardwatch.app.hospital.settings import PASSWORD_ENV, MqttSettings, parse_url, settings_from
from wardwatch.app.hospital.topics import Kind, Topic
from wardwatch.app.hospital.waves_codec import decode_waves
from wardwatch.app.security.access import AccessControl, AuditEntry
from wardwatch.app.security.permissions import load_permissions
from wardwatch.app.station import BedSetup, Station, StationSetup

T0 = 1_780_000_000.0
SITE, WARD = "general", "icu"
PREFIX = f"wardwatch/{SITE}/{WARD}"


def _wait(condition: Callable[[], object], timeout: float = 30.0) -> bool:
    return poll_until(condition, timeout) is not None


class Viewer:
    """A plain paho client standing in for a viewer: collects what it receives, publishes requests.
    `persistent`: a session the broker keeps (with its queued QoS 1 messages) across a restart."""

    def __init__(
        self, broker: Broker, topic_filter: str, *, persistent: bool = False, user: str | None = None
    ) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"viewer-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        self.client.on_message = self._on_message
        if user is not None:
            self.client.username_pw_set(user, broker.password(user))
        port = broker.port
        if broker.tls:
            self.client.tls_set(ca_certs=str(broker.ca_file), tls_version=ssl.PROTOCOL_TLS_CLIENT)
            port = broker.tls_port
        self.client.on_connect = lambda c, _u, _f, _r, _p: c.subscribe(topic_filter, qos=1)
        props = Properties(PacketTypes.CONNECT)
        if persistent:
            props.SessionExpiryInterval = 3600
        self.client.reconnect_delay_set(1, 2)
        self.client.connect("127.0.0.1", port, keepalive=5, clean_start=not persistent, properties=props)
        self.client.loop_start()
        assert _wait(self.client.is_connected, 15)

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

    def payloads(self, suffix: str) -> list[object]:
        with self._lock:
            got = [p for t, p, _r in self.messages if t.endswith(suffix)]
        return [decode(p) for p in got] if not suffix.endswith("/waves") else list(got)

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(15)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def station() -> Iterator[Station]:
    clock = FixedClock(T0)
    beds = [BedSetup("Bed 1", "sim:stable"), BedSetup("Bed 2", "sim:stable"), BedSetup("Bed 3", None)]
    s = Station(StationSetup("ICU north", beds), clock)  # not started: the test feeds the hub itself
    yield s
    s.stop()


def _settings(broker: Broker, keepalive_s: float = 2.0) -> MqttSettings:
    return MqttSettings(parse_url(broker.plain_url), SITE, WARD, keepalive_s=keepalive_s)


@pytest.fixture
def audit() -> list[AuditEntry]:
    return []


def _publisher(
    station: Station, broker: Broker, audit: list[AuditEntry], tmp_path: Path
) -> HospitalPublisher:
    access = AccessControl(load_permissions(), audit.append)
    publisher = HospitalPublisher(
        station, _settings(broker), access=access, status_path=tmp_path / STATUS_FILE
    )
    publisher.start()
    assert _wait(lambda: publisher.connection.connected, 20), publisher.connection.last_error
    return publisher


def _low_spo2(station: Station, bed: str) -> None:
    """SpO2 86 held past its alarm delay: the engine raises an alarm on `bed`."""
    clock = station.clock
    assert isinstance(clock, FixedClock)
    station.hub.push_observation(Observation(bed, MdcCode.PULS_OXIM_SAT_O2, 84.0, "%", clock.t))
    station.alarms.tick()
    clock.t += 20.0
    station.hub.push_observation(Observation(bed, MdcCode.PULS_OXIM_SAT_O2, 84.0, "%", clock.t))
    station.alarms.tick()


def _alarm_events(viewer: Viewer, bed: str) -> list[BedAlarms]:
    return [p for p in viewer.payloads(f"/{bed}/alarms") if isinstance(p, BedAlarms) and p.event is not None]


def test_a_late_viewer_sees_each_beds_info_numerics_alarms_and_the_station_online(
    station, mqtt_broker, audit, tmp_path
):
    station.admit("bed01", Patient("MRN1", "Roe", "Rita"))
    station.hub.push_observation(Observation("bed01", MdcCode.ECG_HEART_RATE, 70.0, "/min", T0))
    publisher = _publisher(station, mqtt_broker, audit, tmp_path)
    try:
        _low_spo2(station, "bed01")
        now = station.clock.now()
        station.hub.push_observation(Observation("bed01", MdcCode.ECG_HEART_RATE, 72.0, "/min", now))
        station.hub.push_observation(Observation("bed02", MdcCode.ECG_HEART_RATE, 90.0, "/min", now - 11))
        assert _wait(lambda: publisher.counters.events_acked >= 1)
        time.sleep(1.5)  # at least one numerics round after the SpO2 value
        late = Viewer(mqtt_broker, f"{PREFIX}/#")
        try:
            assert _wait(lambda: late.payloads("/bed03/info") and late.payloads("/_station/status"))
            assert _wait(lambda: late.payloads("/bed01/numerics") and late.payloads("/bed01/alarms"))
            info = late.payloads("/bed01/info")[-1]
            assert isinstance(info, BedInfo) and info.label == "Bed 1" and info.device == "sim"
            assert info.patient is not None and info.patient.mrn == "MRN1"
            empty = late.payloads("/bed03/info")[-1]
            assert isinstance(empty, BedInfo) and empty.patient is None and empty.device is None
            numerics = late.payloads("/bed01/numerics")[-1]
            assert isinstance(numerics, Numerics)
            assert {v.label: v.value for v in numerics.values} == {"HR": 72.0, "SpO₂": 84.0}
            stale = late.payloads("/bed02/numerics")[-1]  # an HR 11 s old is not fresh: not sent
            assert isinstance(stale, Numerics) and stale.values == ()
            alarms = late.payloads("/bed01/alarms")[-1]
            assert isinstance(alarms, BedAlarms)
            assert [a.key for a in alarms.active] == ["spo2_very_low"] or any(
                a.key.startswith("spo2") for a in alarms.active
            )
            status = late.payloads("/_station/status")[-1]
            assert isinstance(status, StationStatus)
            assert status.state == "online" and status.beds == ("bed01", "bed02", "bed03")
            assert all(retained for topic, _p, retained in late.messages if topic.endswith("/info"))
        finally:
            late.close()
    finally:
        publisher.close()
    after = Viewer(mqtt_broker, f"{PREFIX}/_station/status")
    try:
        assert _wait(lambda: after.payloads("/_station/status"))
        final = after.payloads("/_station/status")[-1]
        assert isinstance(final, StationStatus) and final.state == "offline"
    finally:
        after.close()


def test_a_broker_restart_loses_no_alarm_event_and_the_outage_is_a_station_alarm(
    station, mqtt_broker, audit, tmp_path
):
    viewer = Viewer(mqtt_broker, f"{PREFIX}/+/alarms", persistent=True)
    publisher = _publisher(station, mqtt_broker, audit, tmp_path)
    try:
        _low_spo2(station, "bed01")
        assert _wait(lambda: _alarm_events(viewer, "bed01"))
        mqtt_broker.stop()
        assert _wait(lambda: not publisher.connection.connected)
        assert _wait(
            lambda: TechnicalKind.BROKER_DOWN in {c.kind for c in station.hub.conditions(STATION_BED)}
        )
        # while the broker is away: the alarm is acknowledged, another bed alarms, a value moves
        assert station.alarms.acknowledge_bed("bed01", user="nurse.a") == 1
        _low_spo2(station, "bed02")
        assert _wait(lambda: publisher.backlog >= 2)
        mqtt_broker.start()
        expected = {
            (e.bed, e.action.value, e.alarm_id)
            for e in station.alarms.journal()
            if e.bed in ("bed01", "bed02") and e.alarm_id is not None
        }
        assert len(expected) >= 3

        def received() -> set[tuple[str, str, int | None]]:
            return {
                (bed, p.event.action, p.event.alarm_id)
                for bed in ("bed01", "bed02")
                for p in _alarm_events(viewer, bed)
                if p.event is not None
            }

        assert _wait(lambda: expected <= received(), 40), (expected, received())
        assert _wait(
            lambda: TechnicalKind.BROKER_DOWN not in {c.kind for c in station.hub.conditions(STATION_BED)}
        )
        assert _wait(lambda: publisher.backlog == 0)
        assert publisher.counters.events_dropped == 0
        # the last alarms message of each bed is the bed's alarm state now (the retained one a viewer gets)
        for bed in ("bed01", "bed02"):
            now_state = [(a.alarm_id, a.state.value) for a in station.alarms.snapshot.for_bed(bed)]

            def last_is_current(bed: str = bed, now_state: object = now_state) -> bool:
                last = viewer.payloads(f"/{bed}/alarms")[-1]
                return (
                    isinstance(last, BedAlarms) and [(a.alarm_id, a.state) for a in last.active] == now_state
                )

            assert _wait(last_is_current)
    finally:
        publisher.close()
        viewer.close()


def test_a_remote_acknowledgement_reaches_the_alarm_engine_and_the_audit_and_is_answered(
    station, mqtt_broker, audit, tmp_path
):
    viewer = Viewer(mqtt_broker, f"{PREFIX}/+/ack/result")
    publisher = _publisher(station, mqtt_broker, audit, tmp_path)
    try:
        _low_spo2(station, "bed01")
        alarm = station.alarms.snapshot.for_bed("bed01")[0]

        def ask(role: str, request_id: str | None = None) -> str:
            rid = request_id or str(uuid.uuid4())
            request = AckRequest(rid, alarm.alarm_id, alarm.key, "dr.smith", role, "RRT", T0)
            viewer.publish(f"{PREFIX}/bed01/ack", encode(request))
            return rid

        def answer(rid: str) -> AckResult | None:
            found = [
                p
                for p in viewer.payloads("/bed01/ack/result")
                if isinstance(p, AckResult) and p.request == rid
            ]
            return found[-1] if found else None

        refused = ask("nurse")  # a bedside nurse acknowledges at her own station only
        assert _wait(lambda: answer(refused) is not None)
        assert answer(refused).ok is False  # type: ignore[union-attr]
        assert station.alarms.snapshot.for_bed("bed01")[0].state is State.ACTIVE

        done = ask("clinician")
        assert _wait(lambda: answer(done) is not None)
        result = answer(done)
        assert result is not None and result.ok and "dr.smith@RRT" in result.detail
        acked = station.alarms.snapshot.for_bed("bed01")[0]
        assert acked.state is State.ACKNOWLEDGED and acked.acknowledged_by == "dr.smith@RRT"

        again = ask("clinician", done)  # QoS 1 redelivery: answered again, acted on once
        assert _wait(
            lambda: len([p for p in viewer.payloads("/bed01/ack/result") if p.request == again]) >= 2
        )  # type: ignore[union-attr]
        journal = [e for e in station.alarms.journal() if e.action.value == "acknowledged"]
        assert [e.user for e in journal] == ["dr.smith@RRT"]

        rows = [(e.user, e.action, e.target, e.outcome, e.detail) for e in audit]
        assert ("dr.smith", "alarm.acknowledge", "bed01", "ok", "remote from RRT, role clinician") in rows
        assert any(r[3] == "denied" and r[0] == "dr.smith" for r in rows)
        assert len([r for r in rows if r[3] == "ok"]) == 1
    finally:
        publisher.close()
        viewer.close()


def test_garbage_on_the_request_topics_is_rejected_with_a_log_line_and_the_station_goes_on(
    station, mqtt_broker, audit, tmp_path, caplog
):
    caplog.set_level(logging.WARNING, logger="wardwatch.app.hospital")
    viewer = Viewer(mqtt_broker, f"{PREFIX}/bed01/waves")
    publisher = _publisher(station, mqtt_broker, audit, tmp_path)
    try:
        bad = [
            ("bed01/ack", b"\xff\xfe not json"),
            ("bed01/ack", b"[1, 2, 3]"),
            ("bed01/ack", b'{"v": 2, "kind": "ack"}'),
            ("bed01/ack", b'{"v": 1, "kind": "ack", "id": 5}'),
            (
                "bed01/ack",
                b'{"v": 1, "kind": "ack", "id": "x", "alarm_id": 1, "key": "k", "user": "u",'
                b' "role": "clinician", "viewer": "v", "t": NaN}',
            ),
            ("bed01/ack", b"{" * 70_000),  # oversized: refused before parsing
            ("bed99/ack", encode(AckRequest("a", 1, "k", "u", "clinician", "v", T0))),  # not our bed
            ("bed01/waves/want", b'{"v": 1, "kind": "waves_want", "viewer": "v", "until": "soon"}'),
            ("bed01/waves/want", encode(AckRequest("b", 1, "k", "u", "clinician", "v", T0))),  # wrong kind
        ]
        for suffix, payload in bad:
            viewer.publish(f"{PREFIX}/{suffix}", payload)
        assert _wait(lambda: publisher.status().rejected >= len(bad))
        assert publisher.counters.inbox_dropped == 1  # the oversized one, dropped unread
        assert publisher.requests.counters.acks_done == 0
        assert "MRN" not in caplog.text
        assert len([r for r in caplog.records if "rejected MQTT" in r.getMessage()]) >= len(bad)

        # still alive: a valid lease streams the bed's waves, which decode to what the hub holds
        samples = np.sin(np.arange(250, dtype=np.float32) / 10.0).astype(np.float32)
        station.hub.push_block(
            WaveformBlock("bed01", MdcCode.ECG_ELEC_POTL_II, samples, 250.0, T0, "mV", "II")
        )
        viewer.publish(f"{PREFIX}/bed01/waves/want", encode(WavesWant("RRT", T0 + 20)))
        station.hub.push_block(
            WaveformBlock("bed01", MdcCode.ECG_ELEC_POTL_II, samples, 250.0, T0 + 1.0, "mV", "II")
        )
        assert _wait(lambda: viewer.payloads("/bed01/waves"))
        waves = decode_waves(viewer.payloads("/bed01/waves")[0])  # type: ignore[arg-type]
        block = waves.blocks[0]
        assert block.code == MdcCode.ECG_ELEC_POTL_II and block.fs == 250.0 and block.label == "II"
        assert np.max(np.abs(block.samples - samples[-len(block.samples) :])) <= 0.0026
        assert publisher._thread is not None and publisher._thread.is_alive()
    finally:
        publisher.close()
        viewer.close()


def test_mqtt_status_reads_the_running_stations_status_file(station, mqtt_broker, audit, tmp_path, capsys):
    publisher = _publisher(station, mqtt_broker, audit, tmp_path)
    try:
        assert _wait(lambda: (tmp_path / STATUS_FILE).exists())
        assert main(["mqtt", "status", "--data-dir", str(tmp_path), "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["running"] is True and data["state"] == "connected"
        assert data["site"] == SITE and data["ward"] == WARD and data["backlog"] == 0
        assert main(["mqtt", "status", "--data-dir", str(tmp_path)]) == 0
        assert "connected" in capsys.readouterr().out
    finally:
        publisher.close()
    assert main(["mqtt", "status", "--data-dir", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["running"] is False


def test_over_tls_with_a_password_and_the_recommended_acls_a_viewer_sees_the_ward_and_acknowledges(
    station, mqtt_broker_secure, audit, tmp_path
):
    broker = mqtt_broker_secure
    account = SECURE_STATIONS[0]
    config = StationConfig(
        mqtt_url=broker.url,
        mqtt_ca_file=broker.ca_file,
        mqtt_username=account.username,
        mqtt_site=account.site,
        mqtt_ward=account.ward,
    )
    settings = settings_from(config, None, env={PASSWORD_ENV: account.password})
    assert settings is not None and settings.tls
    publisher = HospitalPublisher(station, settings, access=AccessControl(load_permissions(), audit.append))
    viewer = Viewer(broker, f"wardwatch/{account.site}/#", user=SECURE_VIEWER.username)
    publisher.start()
    try:
        assert _wait(lambda: publisher.connection.connected, 20), publisher.connection.last_error
        prefix = f"wardwatch/{account.site}/{account.ward}"
        assert _wait(lambda: viewer.payloads("/bed01/info") and viewer.payloads("/_station/status"))
        _low_spo2(station, "bed02")
        assert _wait(lambda: _alarm_events(viewer, "bed02"))
        alarm = station.alarms.snapshot.for_bed("bed02")[0]
        request = AckRequest("tls-1", alarm.alarm_id, alarm.key, "dr.jones", "charge_nurse", "RRT", T0)
        viewer.publish(f"{prefix}/bed02/ack", encode(request))
        assert _wait(lambda: [p for p in viewer.payloads("/bed02/ack/result") if getattr(p, "ok", False)])
        assert station.alarms.snapshot.for_bed("bed02")[0].acknowledged_by == "dr.jones@RRT"
        assert publisher.requests.counters.rejected == 0
    finally:
        publisher.close()
        viewer.close()


def test_alarm_events_the_broker_refuses_are_counted_not_sent_and_raise_the_broker_alarm_once_logged(
    station, mqtt_broker_secure, audit, tmp_path, caplog
):
    broker = mqtt_broker_secure
    account = SECURE_STATIONS[0]  # its ACL grants its own ward only: this station claims another one
    config = StationConfig(
        mqtt_url=broker.url,
        mqtt_ca_file=broker.ca_file,
        mqtt_username=account.username,
        mqtt_site=account.site,
        mqtt_ward="oncology",
    )
    settings = settings_from(config, None, env={PASSWORD_ENV: account.password})
    assert settings is not None
    publisher = HospitalPublisher(
        station, settings, access=AccessControl(load_permissions(), audit.append), status_path=tmp_path / "s"
    )
    caplog.set_level(logging.INFO, logger="wardwatch.app.hospital.publisher")
    publisher.start()

    def broker_condition() -> str | None:
        found = [c for c in station.hub.conditions(STATION_BED) if c.kind is TechnicalKind.BROKER_DOWN]
        return found[0].detail if found else None

    try:
        assert _wait(lambda: publisher.connection.connected, 20), publisher.connection.last_error
        _low_spo2(station, "bed01")
        _low_spo2(station, "bed02")
        assert _wait(lambda: publisher.counters.events_refused >= 2)
        assert publisher.counters.events_acked == 0
        assert _wait(lambda: publisher.backlog == 0)  # refused is answered: nothing waits for a PUBACK
        assert _wait(lambda: broker_condition() is not None)
        assert broker_condition() == "the broker refuses our alarm events (not authorized: check the ACL)"
        assert _wait(lambda: publisher.status().refused >= 2)
        status = publisher.status()
        assert status.sent == 0 and status.state == "connected"
        refusals = [r for r in caplog.records if "refused an alarm event" in r.getMessage()]
        assert len(refusals) == 1 and "Not authorized" in refusals[0].getMessage()
        # IT fixes the ACL: once the broker takes the ward's alarm state, the alarm ends
        fixed = (dataclasses.replace(account, ward="oncology"), *SECURE_STATIONS[1:])
        (broker.folder / "acl").write_text(acl_text(fixed, (SECURE_VIEWER,)))
        broker.restart()
        assert _wait(lambda: publisher.connection.connected and broker_condition() is None, 40)
        assert publisher.counters.events_refused == status.refused
    finally:
        publisher.close()
    assert broker_condition() is None


def test_start_services_shares_only_with_a_broker_and_not_as_a_viewer_and_says_why_when_it_cannot(
    station, tmp_path
):
    from wardwatch.app.extensions import ServiceContext
    from wardwatch.app.hospital.cli import start_services

    def ctx(config: StationConfig, **flags: object) -> ServiceContext:
        names = ("mqtt", "view", "mqtt_ca", "mqtt_cert", "mqtt_key", "mqtt_user")
        args = argparse.Namespace(**{n: flags.get(n) for n in names})
        return ServiceContext(station, config, args, None, headless=True)

    assert start_services(ctx(StationConfig())) == []
    assert start_services(ctx(StationConfig(), mqtt="mqtt://127.0.0.1:1", view="general/*")) == []
    assert "hospital" not in station.services
    missing = tmp_path / "no-ca.pem"
    assert start_services(ctx(StationConfig(), mqtt="mqtts://127.0.0.1:1", mqtt_ca=missing)) == []
    down = [c for c in station.hub.conditions(STATION_BED) if c.kind is TechnicalKind.BROKER_DOWN]
    assert down and "no-ca.pem" in down[0].detail and "sharing is off" in down[0].detail


def test_a_broker_that_requires_client_certificates_takes_the_stations_and_refuses_none(station, tmp_path):
    if not MOSQUITTO.exists():
        pytest.skip("Debian's mosquitto is not installed")
    broker = Broker(tmp_path / "mosquitto", tls=True)
    with broker.config_file.open("a") as config:
        config.write("require_certificate true\n")  # applies to the TLS listener, the last one written
    broker.start()
    certs = tmp_path / "mosquitto" / "certs"
    url = parse_url(broker.url)
    with_cert = MqttSettings(
        url, SITE, WARD, ca_file=broker.ca_file, cert_file=certs / "server.pem", key_file=certs / "server.key"
    )
    publisher = HospitalPublisher(station, with_cert)
    without = HospitalPublisher(station, MqttSettings(url, SITE, "other", ca_file=broker.ca_file))
    try:
        publisher.start()
        without.start()
        assert _wait(lambda: publisher.connection.connected, 20), publisher.connection.last_error
        assert _wait(lambda: without.connection.last_error is not None, 20)
        assert not without.connection.connected
    finally:
        without.close()
        publisher.close()
        broker.close()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from([Kind.ACK, Kind.WAVES_WANT, Kind.INFO]),
    st.sampled_from(["bed01", "bed99"]),
    st.one_of(
        st.binary(max_size=512),
        st.dictionaries(
            st.sampled_from(["v", "kind", "id", "alarm_id", "key", "user", "role", "viewer", "t", "until"]),
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
        ).map(lambda d: json.dumps(d).encode()),
    ),
)
def test_any_request_payload_is_answered_or_rejected_never_raised(station, kind, bed, payload):
    handler = RequestHandler(station, load_permissions())
    result = handler.handle(Topic(SITE, WARD, bed, kind), payload)
    assert result is None or isinstance(result, AckResult)
    assert handler.counters.received == 1
    assert result is None or handler.counters.acks_done + handler.counters.acks_refused == 1


def _ack(alarm_id: int, key: str, t: float, role: str = "clinician") -> bytes:
    return encode(AckRequest(str(uuid.uuid4()), alarm_id, key, "dr.smith", role, "RRT", t))


def test_a_remote_acknowledgement_older_than_30_s_or_dated_ahead_is_refused_and_says_why(station):
    _low_spo2(station, "bed01")
    alarm = station.alarms.snapshot.for_bed("bed01")[0]
    handler = RequestHandler(station, load_permissions())
    topic = Topic(SITE, WARD, "bed01", Kind.ACK)
    now = station.clock.now()
    stale = handler.handle(topic, _ack(alarm.alarm_id, alarm.key, now - 31.0))
    assert stale is not None and not stale.ok and "too late" in stale.detail and "31 s old" in stale.detail
    ahead = handler.handle(topic, _ack(alarm.alarm_id, alarm.key, now + 60.0))
    assert ahead is not None and not ahead.ok and "ahead of the station's clock" in ahead.detail
    assert station.alarms.snapshot.for_bed("bed01")[0].state is State.ACTIVE
    skewed = handler.handle(topic, _ack(alarm.alarm_id, alarm.key, now + 2.0))  # a little skew is fine
    assert skewed is not None and skewed.ok
    assert station.alarms.snapshot.for_bed("bed01")[0].state is State.ACKNOWLEDGED
    assert handler.counters.acks_refused == 2


def test_acknowledge_all_of_a_bed_leaves_alarms_raised_after_the_request_sounding(station):
    _low_spo2(station, "bed01")
    alarm = station.alarms.snapshot.for_bed("bed01")[0]
    handler = RequestHandler(station, load_permissions())
    topic = Topic(SITE, WARD, "bed01", Kind.ACK)
    before = handler.handle(topic, _ack(0, "*", alarm.raised_at - 1.0))  # asked before the alarm came
    assert before is not None and before.ok and before.detail.startswith("0 alarm(s)")
    assert "1 raised after the request left sounding" in before.detail
    assert station.alarms.snapshot.for_bed("bed01")[0].state is State.ACTIVE
    after = handler.handle(topic, _ack(0, "*", alarm.raised_at))
    assert after is not None and after.ok and after.detail == "1 alarm(s) acknowledged by dr.smith@RRT"
    assert station.alarms.snapshot.for_bed("bed01")[0].state is State.ACKNOWLEDGED


def test_a_viewer_only_instance_starts_no_hl7_interfaces_even_when_configured(station, tmp_path):
    from wardwatch.app.extensions import ServiceContext
    from wardwatch.app.interop.cli import start_services as start_interop

    args = argparse.Namespace(view="general/*", hl7_out="127.0.0.1:1", hl7_in=None, fhir_out=None)
    ctx = ServiceContext(station, StationConfig(), args, None, headless=False)
    assert start_interop(ctx) == []
    assert "interop" not in station.services
    assert not [c for c in station.hub.conditions(STATION_BED) if c.kind is TechnicalKind.INTERFACE_DOWN]
