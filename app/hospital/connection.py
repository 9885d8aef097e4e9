"""One MQTT 5 connection to the hospital's broker (paho-mqtt 2.x), shared by the station's publisher and
the viewer: TLS with a CA file and optional client certificate, user and password, a last will,
keep-alive, automatic reconnection with back-off, subscriptions restored on every connection, incoming
messages dispatched to handlers, and the PUBACK of each QoS 1 message reported by its message id and
whether the broker refused it (a PUBACK with a failure reason code, e.g. "Not authorized" from an ACL).

Threads: paho's network loop runs on its own thread (`loop_start`); every callback given here is called
on that thread and must be quick (hand the work to a queue). `publish` may be called from any thread.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from wardwatch.app.hospital.settings import MqttSettings

log = logging.getLogger(__name__)

RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 8
MAX_INFLIGHT = 100
# paho's own queue of QoS > 0 messages not yet acknowledged (it resends them, in order, after a
# reconnection); the publisher's backlog bound is below it
MAX_QUEUED = 60_000


@dataclass(frozen=True, slots=True)
class Will:
    """The last will: what the broker publishes for us when we vanish without a clean stop."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


@dataclass(frozen=True, slots=True)
class Incoming:
    """A message from the broker."""

    topic: str
    payload: bytes
    qos: int
    retain: bool


Handler = Callable[[Incoming], None]


class MqttConnection:
    """A reconnecting MQTT 5 client. Create, `subscribe`, `start`; `publish` any time; `stop` at the end.

    `on_connected()` / `on_disconnected(reason)` report each change of the link; `on_published(mid,
    refused)` each PUBACK (QoS 1) or each sent QoS 0 message, `refused` the broker's reason in words when
    it did not take the message (None when it did). All run on paho's network thread."""

    def __init__(
        self,
        settings: MqttSettings,
        client_id: str,
        *,
        will: Will | None = None,
        on_connected: Callable[[], None] | None = None,
        on_disconnected: Callable[[str], None] | None = None,
        on_published: Callable[[int, str | None], None] | None = None,
        session_expiry_s: int = 0,
    ) -> None:
        self.settings = settings
        self.client_id = client_id
        # > 0: the broker keeps our subscriptions and queues QoS 1 messages for us while we are away
        # (a broker restart included, with persistence on), so a viewer that reconnects after a station
        # has resent its backlog still gets the outage's alarm events
        self.session_expiry_s = session_expiry_s
        self._on_connected = on_connected
        self._on_disconnected = on_disconnected
        self._on_published = on_published
        self._lock = threading.Lock()
        self._subscriptions: dict[str, tuple[int, Handler]] = {}
        self._connected = False
        self._stopping = False
        self._started = False
        self.last_error: str | None = None  # the latest connection problem, in words (for status)
        self.connected_since: float | None = None
        self.down_since: float | None = time.time()  # not connected (yet) counts as down
        self.received = 0
        self.handler_errors = 0
        self.connects = 0
        self._client = self._make_client(will)

    def _make_client(self, will: Will | None) -> mqtt.Client:
        s = self.settings
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv5,
            reconnect_on_failure=True,
        )
        if s.tls:
            client.tls_set(
                ca_certs=str(s.ca_file) if s.ca_file else None,
                certfile=str(s.cert_file) if s.cert_file else None,
                keyfile=str(s.key_file) if s.key_file else None,
                cert_reqs=ssl.CERT_REQUIRED,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        if s.username:
            client.username_pw_set(s.username, s.password)
        if will is not None:
            client.will_set(will.topic, will.payload, qos=will.qos, retain=will.retain)
        client.reconnect_delay_set(min_delay=RECONNECT_MIN_S, max_delay=RECONNECT_MAX_S)
        client.max_inflight_messages_set(MAX_INFLIGHT)
        client.max_queued_messages_set(MAX_QUEUED)
        client.on_connect = self._handle_connect
        client.on_connect_fail = self._handle_connect_fail
        client.on_disconnect = self._handle_disconnect
        client.on_publish = self._handle_publish
        client.on_message = self._handle_message
        return client

    # -- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> None:
        """Connect in the background (a broker that is down is retried with back-off, forever)."""
        with self._lock:
            if self._started:
                return
            self._started = True
            if not self._connected:
                self.down_since = time.time()  # the outage alarm's grace counts from the first attempt
        s = self.settings
        properties: Properties | None = None
        if self.session_expiry_s > 0:
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = self.session_expiry_s
        # Mosquitto restores a session after its own restart only if the first connect already asked
        # for it: clean_start=False from the start, not only on reconnections
        self._client.connect_async(
            s.url.host,
            s.url.port,
            keepalive=max(1, round(s.keepalive_s)),
            clean_start=self.session_expiry_s <= 0,
            properties=properties,
        )
        self._client.loop_start()
        log.info("MQTT connecting to %s", s.describe())

    def stop(self, final: tuple[str, bytes, int, bool] | None = None, timeout: float = 3.0) -> None:
        """Publish `final` (topic, payload, qos, retain) if connected and wait up to `timeout` for it to
        be acknowledged, then disconnect cleanly (the broker does not send the will) and end the loop."""
        self._stopping = True
        if final is not None and self._connected:
            try:
                info = self._client.publish(final[0], final[1], qos=final[2], retain=final[3])
                info.wait_for_publish(timeout)
            except (RuntimeError, ValueError) as exc:
                log.warning("MQTT final message not sent: %s", exc)
        try:
            if self.session_expiry_s > 0:
                # leaving on purpose: the broker may forget our session now instead of queuing for it
                ending = Properties(PacketTypes.DISCONNECT)
                ending.SessionExpiryInterval = 0
                self._client.disconnect(properties=ending)
            else:
                self._client.disconnect()
        finally:
            self._client.loop_stop()
        with self._lock:
            self._connected = False

    # -- state -------------------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        """Whether the broker has accepted the connection and it has not been lost since."""
        return self._connected

    # -- subscribing and publishing ----------------------------------------------------------------------
    def subscribe(self, topic_filter: str, qos: int, handler: Handler) -> None:
        """Deliver messages matching `topic_filter` to `handler` (on the network thread); kept across
        reconnections. A handler that raises is logged and counted, the connection goes on."""
        with self._lock:
            self._subscriptions[topic_filter] = (qos, handler)
            connected = self._connected
        if connected:
            self._client.subscribe(topic_filter, qos=qos)

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> int | None:
        """Hand a message to paho; its message id, or None when it was not taken (QoS 0 while not
        connected, or paho's queue full). A QoS 1 message taken while the link is down stays in paho's
        queue and goes out, in order, after reconnection; `on_published(mid, refused)` reports its PUBACK."""
        try:
            info = self._client.publish(topic, payload, qos=qos, retain=retain)
        except (ValueError, RuntimeError) as exc:
            log.warning("MQTT publish refused: %s", exc)
            return None
        if info.rc == mqtt.MQTT_ERR_SUCCESS or (info.rc == mqtt.MQTT_ERR_NO_CONN and qos > 0):
            return int(info.mid)
        return None

    # -- paho callbacks (network thread) ---------------------------------------------------------------
    def _handle_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: Any,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            self.last_error = f"broker refused the connection: {reason}"
            log.warning("MQTT %s refused the connection: %s", self.settings.url, reason)
            return
        with self._lock:
            self._connected = True
            self.connects += 1
            self.connected_since = time.time()
            self.down_since = None
            subscriptions = [(f, q) for f, (q, _) in self._subscriptions.items()]
        if subscriptions:
            client.subscribe(subscriptions)
        log.info("MQTT connected to %s", self.settings.url)
        self._call(self._on_connected)

    def _handle_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        self.last_error = f"cannot reach the broker at {self.settings.url}"
        self._went_down(self.last_error)

    def _handle_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: Any,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if not self._stopping:
            self.last_error = f"connection to {self.settings.url} lost ({reason})"
        self._went_down(self.last_error or "stopped")

    def _went_down(self, reason: str) -> None:
        with self._lock:
            was = self._connected
            self._connected = False
            if self.down_since is None:
                self.down_since = time.time()
        if was and not self._stopping:
            log.warning("MQTT %s", reason)
        self._call(self._on_disconnected, reason)

    def _handle_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason: ReasonCode, properties: Properties | None
    ) -> None:
        # paho reports a PUBACK with a failure code (an ACL's "Not authorized") as published all the same
        refused = str(reason) if reason is not None and reason.is_failure else None
        self._call(self._on_published, mid, refused)

    def _handle_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.received += 1
        with self._lock:
            handlers = [
                h for f, (_, h) in self._subscriptions.items() if mqtt.topic_matches_sub(f, message.topic)
            ]
        incoming = Incoming(message.topic, bytes(message.payload), int(message.qos), bool(message.retain))
        for handler in handlers:
            try:
                handler(incoming)
            except Exception:
                self.handler_errors += 1
                log.exception("MQTT handler failed on a message")  # the topic may name a bed, never a patient

    def _call(self, callback: Callable[..., None] | None, *args: Any) -> None:
        if callback is None:
            return
        try:
            callback(*args)
        except Exception:
            log.exception("MQTT connection callback failed")
