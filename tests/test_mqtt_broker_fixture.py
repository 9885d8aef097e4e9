"""The test broker itself: messages pass through it, it comes back on the same port, and the recommended
ACLs keep a station inside its own ward and a viewer to requests."""

from __future__ import annotations

import queue
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager

import paho.mqtt.client as mqtt
from mqtt_broker import SECURE_STATIONS, SECURE_VIEWER, Broker
from paho.mqtt.enums import CallbackAPIVersion

Received = queue.Queue[tuple[str, bytes]]


@contextmanager
def client(
    broker: Broker, username: str | None = None, subscribe: str | None = None
) -> Iterator[tuple[mqtt.Client, Received]]:
    """A connected paho client (TLS when the broker has it) and the messages it receives."""
    received: Received = queue.Queue()
    subscribed = queue.Queue[list[int]]()
    c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    if username is not None:
        c.username_pw_set(username, broker.password(username))
    if broker.tls:
        assert broker.ca_file is not None
        c.tls_set(ca_certs=str(broker.ca_file), tls_version=ssl.PROTOCOL_TLS_CLIENT)
    c.on_message = lambda _c, _u, msg: received.put((msg.topic, msg.payload))
    c.on_subscribe = lambda _c, _u, _mid, codes, _p: subscribed.put([int(code.value) for code in codes])
    host, port = broker.url.rsplit("/", 1)[1].split(":")
    c.connect(host, int(port), keepalive=5)
    c.loop_start()
    try:
        deadline = time.monotonic() + 15
        while not c.is_connected():
            assert time.monotonic() < deadline, "no CONNACK from the test broker"
            time.sleep(0.02)
        if subscribe is not None:
            c.subscribe(subscribe, qos=1)
            codes = subscribed.get(timeout=15)
            assert all(code < 0x80 for code in codes), f"subscription refused: {codes}"
        yield c, received
    finally:
        c.disconnect()
        c.loop_stop()


def publish_acked(c: mqtt.Client, topic: str, payload: bytes, retain: bool = False) -> None:
    info = c.publish(topic, payload, qos=1, retain=retain)
    info.wait_for_publish(timeout=15)
    assert info.is_published()


def test_plain_broker_passes_a_message_from_publisher_to_subscriber(mqtt_broker: Broker) -> None:
    with (
        client(mqtt_broker, subscribe="wardwatch/#") as (_sub, received),
        client(mqtt_broker) as (pub, _),
    ):
        publish_acked(pub, "wardwatch/site/ward/bed01/numerics", b'{"v":1}')
        assert received.get(timeout=15) == ("wardwatch/site/ward/bed01/numerics", b'{"v":1}')


def test_restarted_broker_listens_on_the_same_port_and_keeps_retained_state(mqtt_broker: Broker) -> None:
    url = mqtt_broker.url
    with client(mqtt_broker) as (pub, _):
        publish_acked(pub, "wardwatch/site/ward/bed01/alarms", b"state", retain=True)
    mqtt_broker.restart()
    assert mqtt_broker.url == url
    with client(mqtt_broker, subscribe="wardwatch/#") as (_sub, received):
        assert received.get(timeout=15) == ("wardwatch/site/ward/bed01/alarms", b"state")


def test_killed_broker_comes_back_after_sigkill(mqtt_broker: Broker) -> None:
    mqtt_broker.kill()
    assert not mqtt_broker.running
    mqtt_broker.start()
    with client(mqtt_broker, subscribe="x") as (pub, received):
        publish_acked(pub, "x", b"1")
        assert received.get(timeout=15) == ("x", b"1")


def test_secure_broker_over_tls_lets_a_station_reach_a_viewer(mqtt_broker_secure: Broker) -> None:
    icu = SECURE_STATIONS[0]
    assert mqtt_broker_secure.url.startswith("mqtts://")
    with (
        client(mqtt_broker_secure, SECURE_VIEWER.username, subscribe="wardwatch/general/#") as (_v, received),
        client(mqtt_broker_secure, icu.username) as (station, _),
    ):
        publish_acked(station, "wardwatch/general/icu/bed01/alarms", b"a")
        assert received.get(timeout=15) == ("wardwatch/general/icu/bed01/alarms", b"a")


def test_secure_broker_refuses_a_wrong_password(mqtt_broker_secure: Broker) -> None:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    c.username_pw_set(SECURE_VIEWER.username, "not-the-password")
    assert mqtt_broker_secure.ca_file is not None
    c.tls_set(ca_certs=str(mqtt_broker_secure.ca_file))
    reasons: queue.Queue[str] = queue.Queue()
    c.on_connect = lambda _c, _u, _f, reason, _p: reasons.put(str(reason))
    c.connect("127.0.0.1", mqtt_broker_secure.tls_port, keepalive=5)
    c.loop_start()
    try:
        assert reasons.get(timeout=15) in ("Bad user name or password", "Not authorized")
    finally:
        c.disconnect()
        c.loop_stop()


def test_acl_refuses_a_station_writing_another_ward_or_a_viewer_request(mqtt_broker_secure: Broker) -> None:
    icu, cardio = SECURE_STATIONS
    with (
        client(mqtt_broker_secure, SECURE_VIEWER.username, subscribe="wardwatch/general/#") as (_v, received),
        client(mqtt_broker_secure, icu.username) as (station, _),
    ):
        # Mosquitto answers a refused QoS 1 publish with PUBACK "not authorized" and drops it.
        publish_acked(station, f"wardwatch/general/{cardio.ward}/bed01/alarms", b"forged")
        publish_acked(station, "wardwatch/general/icu/bed01/ack", b"forged ack")
        publish_acked(station, "wardwatch/general/icu/bed01/waves/want", b"forged lease")
        publish_acked(station, "wardwatch/general/icu/bed01/alarms", b"own")
        assert received.get(timeout=15) == ("wardwatch/general/icu/bed01/alarms", b"own")
        assert received.empty()


def test_acl_lets_a_viewer_ack_but_not_write_bed_state(mqtt_broker_secure: Broker) -> None:
    icu = SECURE_STATIONS[0]
    with (
        client(mqtt_broker_secure, icu.username, subscribe="wardwatch/general/icu/+/ack") as (_s, acks),
        client(mqtt_broker_secure, SECURE_VIEWER.username) as (viewer, _),
    ):
        publish_acked(viewer, "wardwatch/general/icu/bed01/alarms", b"forged state")
        publish_acked(viewer, "wardwatch/general/icu/bed01/ack", b"ack")
        assert acks.get(timeout=15) == ("wardwatch/general/icu/bed01/ack", b"ack")


def test_acl_keeps_another_wards_requests_from_a_station_that_subscribes_to_them(
    mqtt_broker_secure: Broker,
) -> None:
    # Mosquitto grants the subscription and filters each message against the read ACL on delivery.
    icu = SECURE_STATIONS[0]
    with (
        client(mqtt_broker_secure, icu.username, subscribe="wardwatch/general/+/+/ack") as (_s, acks),
        client(mqtt_broker_secure, SECURE_VIEWER.username) as (viewer, _),
    ):
        publish_acked(viewer, "wardwatch/general/cardio/bed01/ack", b"not for icu")
        publish_acked(viewer, "wardwatch/general/icu/bed01/ack", b"for icu")
        assert acks.get(timeout=15) == ("wardwatch/general/icu/bed01/ack", b"for icu")
        assert acks.empty()
