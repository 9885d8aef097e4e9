"""The station's side of hospital-wide sharing: every bed published to the MQTT broker (docs/hospital.md).

One background thread (plus paho's network loop) reads what the station already has in memory — the
hub's numerics, conditions and wave rings, the alarm engine's events and snapshot, NEWS2, the
deterioration risk — and publishes it; it never blocks monitoring (the alarm engine only puts events on
a queue) and never runs on the GUI thread.

No alarm event is lost to a broker outage: each one waits in a bounded backlog until its PUBACK; events
raised while the broker is away wait in order and go out after reconnection, behind paho's resend of
those it had already handed over, followed by every bed's current state (retained), so the broker's
retained message of a bed is its state after the outage. Numerics are not backlogged: only the latest
counts. The broker being unreachable is the station's own technical alarm (BROKER_DOWN) until it is back;
so is a broker that takes the connection but refuses our alarm events (an ACL without this ward), until
one of them is taken: those refused are counted, never as sent.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wardwatch.app.alarms.early_warning import Band
from wardwatch.app.alarms.model import Alarm, AlarmEvent, State
from wardwatch.app.codes import channel_table
from wardwatch.app.domain import TechnicalKind, Validity
from wardwatch.app.hospital.connection import Incoming, MqttConnection, Will
from wardwatch.app.hospital.payloads import (
    ALARM_ACTIONS,
    EVENT_MAX_BYTES,
    AlarmEventInfo,
    AlarmState,
    BedAlarms,
    BedInfo,
    Condition,
    News2,
    Numerics,
    NumericValue,
    PatientInfo,
    Payload,
    PayloadError,
    Risk,
    StationStatus,
    Technical,
    encode,
)
from wardwatch.app.hospital.requests import LogLimiter, RequestHandler
from wardwatch.app.hospital.settings import MqttSettings
from wardwatch.app.hospital.topics import Kind, bed_topic, parse_topic, request_filters, status_topic
from wardwatch.app.hospital.waves_codec import WavesError, encode_waves, split_runs
from wardwatch.app.status_files import write_status_file

if TYPE_CHECKING:
    from wardwatch.app.security.access import AccessControl
    from wardwatch.app.security.permissions import Permissions
    from wardwatch.app.station import Station, WardChange

log = logging.getLogger(__name__)

SERVICE_NAME = "hospital"
STATUS_FILE = "mqtt-status.json"
BACKLOG_MAX = 50_000  # alarm events waiting for the broker (a long outage of a busy ward fits)
TICK_S = 0.05
NUMERICS_EVERY_S = 1.0
STATE_EVERY_S = 1.0  # info, news2, risk, technical: compared with what was sent, published on change
NEWS2_EVERY_S = 60.0
HEARTBEAT_S = 2.0
WAVES_EVERY_S = 0.5
ALARM_SYNC_S = 0.25
STATUS_FILE_EVERY_S = 2.0
REFUSED_DETAIL = "the broker refuses our alarm events (not authorized: check the ACL)"
RESYNC_WAIT_S = 10.0  # after a reconnection, how long the handed-over events may take to be acknowledged
INBOX_MAX = 1000  # requests waiting for the publisher's thread; beyond, a flood is dropped (and counted)
NUMERIC_MAX_AGE_S = 3600.0  # a channel without its own freshness limit (risk, glucose)
WAVE_START_S = 0.5
ALARMS_SUFFIX = "/" + Kind.ALARMS.value  # a new lease starts with this much of the recent wave


def _package_version() -> str:
    try:
        return version("wardwatch")
    except PackageNotFoundError:
        return "0"


@dataclass(frozen=True, slots=True)
class _Outgoing:
    topic: str
    payload: bytes
    event: bool  # an alarm event: counted in the backlog


@dataclass(slots=True)
class PublisherCounters:
    published: int = 0  # messages handed to the broker connection
    events: int = 0  # alarm events taken from the engine
    events_acked: int = 0  # alarm events the broker acknowledged
    events_dropped: int = 0  # alarm events dropped because the backlog was full
    events_refused: int = 0  # alarm events the broker answered with a failure (an ACL's "Not authorized")
    not_encoded: int = 0  # payloads that could not be encoded (over the size limit)
    inbox_dropped: int = 0  # requests dropped unread, oversized or a flood (paho's thread counts them)


@dataclass(frozen=True, slots=True)
class PublisherStatus:
    """What `wardwatch mqtt status` shows (also written to the data dir's mqtt-status.json every 2 s)."""

    state: str  # "connected", "connecting", "down", "stopped"
    broker: str
    site: str
    ward: str
    backlog: int  # alarm events not yet acknowledged by the broker
    sent: int  # alarm events acknowledged
    published: int
    rejected: int  # malformed or refused requests from viewers
    dropped: int  # alarm events lost to a full backlog (should stay 0)
    acks_done: int
    acks_refused: int
    streaming: tuple[str, ...]  # beds whose waves a viewer watches now
    connected_since: float | None
    down_since: float | None
    last_error: str | None
    updated: float
    refused: int = 0  # alarm events the broker refused (should stay 0: its ACL lacks this ward otherwise)
    pid: int = field(default_factory=os.getpid)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["streaming"] = list(self.streaming)
        return data


def _access_of(station: Station) -> AccessControl | None:
    service = station.services.get("security")
    access = getattr(service, "access", None)
    return access if access is not None and hasattr(access, "record") else None


def _permissions_of(access: AccessControl | None) -> Permissions:
    if access is not None:
        return access.permissions
    from wardwatch.app.security.permissions import load_permissions

    return load_permissions()


class HospitalPublisher:
    """Publishes one station's beds and answers viewers' requests. `start()`, then `close()` at the end
    (publishes "offline" and disconnects cleanly). Published as `station.services["hospital"]`."""

    def __init__(
        self,
        station: Station,
        settings: MqttSettings,
        *,
        access: AccessControl | None = None,
        permissions: Permissions | None = None,
        status_path: Path | None = None,
        backlog_max: int = BACKLOG_MAX,
    ) -> None:
        self.station = station
        self.settings = settings
        self._access = access if access is not None else _access_of(station)
        self.requests = RequestHandler(
            station, permissions if permissions is not None else _permissions_of(self._access), self._access
        )
        self._status_path = status_path
        self._backlog_max = backlog_max
        self._version = _package_version()
        self._run_id = format(int(time.time() * 1000), "x")
        self._seq = 0
        self.counters = PublisherCounters()
        site, ward = settings.site, settings.ward
        self._status_topic = status_topic(site, ward)
        self.connection = MqttConnection(
            settings,
            f"wardwatch-{site}-{ward}-{uuid.uuid4().hex[:8]}",
            will=Will(self._status_topic, self._status_payload("offline")),
            on_published=self._acks_put,
        )
        for topic_filter in request_filters(site, ward):
            self.connection.subscribe(topic_filter, 1, self._inbox_put)
        self._events: queue.SimpleQueue[AlarmEvent] = queue.SimpleQueue()  # the engine's, from start()
        self._acks: queue.SimpleQueue[tuple[int, str | None]] = queue.SimpleQueue()
        self._inbox: queue.SimpleQueue[Incoming] = queue.SimpleQueue()
        self._inbox_limiter = LogLimiter()  # paho's thread's own
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # the publisher thread's own state (no lock: only that thread touches it)
        self._waiting: deque[_Outgoing] = deque()
        self._inflight: dict[int, _Outgoing] = {}
        self._seen_connects = 0
        self._resync_since: float | None = None
        self._down_alarm = False
        self._refusing: str | None = None  # why the broker refused an alarms message, until it takes one
        self._refusal_shown = False
        self._due: dict[str, float] = {}
        self._sent_state: dict[tuple[str, Kind], Any] = {}
        self._news2_at: dict[str, float] = {}
        self._wave_cursors: dict[tuple[str, int], tuple[int, int]] = {}  # (bed, code) → (generation, cursor)
        self._ward_changed = threading.Event()
        self._wave_scales = {code: 0.005 for code, row in channel_table().items() if row.ucum == "mV"}
        self._last_status: PublisherStatus | None = None
        station.ward_listeners.append(self._on_ward_change)

    # -- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> None:
        """Connect (in the background) and start publishing."""
        self._events = self.station.alarms.subscribe()
        self.connection.start()
        self._thread = threading.Thread(target=self._run, name="mqtt-publisher", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop: status "offline" (retained) to the broker, a clean disconnect, the condition cleared."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10.0)
        with contextlib.suppress(ValueError):
            self.station.ward_listeners.remove(self._on_ward_change)
        self.station.alarms.unsubscribe(self._events)
        final = (self._status_topic, self._status_payload("offline"), 1, True)
        self.connection.stop(final)
        if self._down_alarm or self._refusal_shown:
            self.station.station_condition(TechnicalKind.BROKER_DOWN, False)
            self._down_alarm = self._refusal_shown = False
        self._write_status(stopped=True)

    # -- what others read (any thread) -------------------------------------------------------------------
    def status(self) -> PublisherStatus:
        """The latest status (refreshed by the publisher's thread every tick)."""
        status = self._last_status
        return status if status is not None else self._make_status()

    @property
    def backlog(self) -> int:
        """Alarm events not yet acknowledged by the broker."""
        return len(self._waiting) + sum(1 for o in list(self._inflight.values()) if o.event)

    # -- from other threads: only queues and flags -------------------------------------------------------
    def _acks_put(self, mid: int, refused: str | None) -> None:
        self._acks.put((mid, refused))

    def _inbox_put(self, incoming: Incoming) -> None:
        # paho's network thread: keep it quick, and keep a flood from growing memory without bound
        size = len(incoming.payload)
        if size > EVENT_MAX_BYTES or self._inbox.qsize() >= INBOX_MAX:
            self.counters.inbox_dropped += 1
            if self._inbox_limiter.allow():
                why = (
                    f"{size} bytes, over {EVENT_MAX_BYTES}" if size > EVENT_MAX_BYTES else "too many waiting"
                )
                log.warning("rejected MQTT request unread: %s", why)
            return
        self._inbox.put(incoming)

    def _on_ward_change(self, change: WardChange) -> None:
        self._ward_changed.set()

    # -- the thread --------------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                event: AlarmEvent | None = self._events.get(timeout=TICK_S)
            except queue.Empty:
                event = None
            try:
                if event is not None:
                    self._alarm_event(event)
                while True:
                    try:
                        self._alarm_event(self._events.get_nowait())
                    except queue.Empty:
                        break
                self._step(time.monotonic())
            except Exception:  # the publisher must outlive any bug in one message; the station goes on
                log.exception("MQTT publisher step failed")
                self._stop.wait(1.0)

    def _step(self, mono: float) -> None:
        self._drain_acks()
        self._drain_inbox()
        connection = self.connection
        if connection.connects != self._seen_connects:
            self._seen_connects = connection.connects
            self._resync_since = mono
        connected = connection.connected
        self._broker_condition(connected)
        if connected and self._resync_since is not None:
            if not self._inflight or mono - self._resync_since > RESYNC_WAIT_S:
                self._resync(mono)
        elif connected:
            self._flush_waiting()
            if not self._waiting:
                self._periodic(mono)
        if self._every("status-file", STATUS_FILE_EVERY_S, mono):
            self._write_status()
        if self._every("status", 0.25, mono):
            self._last_status = self._make_status()

    def _every(self, name: str, interval: float, mono: float) -> bool:
        due = self._due.get(name, 0.0)
        if mono < due:
            return False
        self._due[name] = max(due + interval, mono) if due else mono + interval
        return True

    # -- sending -----------------------------------------------------------------------------------------
    def _publish(self, topic: str, payload: bytes, qos: int, retain: bool, *, event: bool = False) -> bool:
        mid = self.connection.publish(topic, payload, qos, retain)
        if mid is None:
            return False
        self.counters.published += 1
        if qos > 0:
            self._inflight[mid] = _Outgoing(topic, payload, event)
        return True

    def _encode(self, payload: Payload) -> bytes | None:
        try:
            return encode(payload)
        except PayloadError as exc:
            self.counters.not_encoded += 1
            log.error("MQTT %s not published: %s", payload.KIND, exc)
            return None

    def _send_state(self, bed: str, kind: Kind, payload: Payload, qos: int = 1) -> bool:
        data = self._encode(payload)
        return data is not None and self._publish(
            bed_topic(self.settings.site, self.settings.ward, bed, kind), data, qos, True
        )

    def _drain_acks(self) -> None:
        while True:
            try:
                mid, refused = self._acks.get_nowait()
            except queue.Empty:
                return
            sent = self._inflight.pop(mid, None)
            if sent is None:
                continue
            if refused is None:
                self.counters.events_acked += int(sent.event)
                if self._refusing is not None and sent.topic.endswith(ALARMS_SUFFIX):
                    self._refusing = None
                    log.info("MQTT broker takes our alarm events again")
                continue
            if sent.event:
                # resending would be refused again: counted and alarmed on the station, never as sent
                self.counters.events_refused += 1
            if sent.topic.endswith(ALARMS_SUFFIX) and self._refusing is None:
                self._refusing = refused
                log.error("MQTT broker refused an alarm event (%s): check its ACL for this ward", refused)

    def _flush_waiting(self) -> None:
        while self._waiting:
            item = self._waiting[0]
            if not self._publish(item.topic, item.payload, 1, True, event=True):
                return  # paho's queue is full: the rest waits for the next tick, in order
            self._waiting.popleft()

    # -- alarms ------------------------------------------------------------------------------------------
    def _next_id(self) -> str:
        self._seq += 1
        return f"{self.settings.site}/{self.settings.ward}:{self._run_id}:{self._seq}"

    def _bed_ids(self) -> list[str]:
        return [b.bed_id for b in self.station.beds]

    def _active(self, bed: str) -> tuple[AlarmState, ...]:
        snapshot = self.station.alarms.snapshot
        shown = [a for a in snapshot.alarms if a.bed == bed]
        held = [a for a in snapshot.held_back if a.bed == bed and a.state is State.HELD_BACK]
        return tuple(_alarm_state(a) for a in (*shown, *held))

    def _alarm_event(self, event: AlarmEvent) -> None:
        if not event.bed or event.action.value not in ALARM_ACTIONS or event.bed not in self._bed_ids():
            return
        self.counters.events += 1
        active = self._active(event.bed)
        info = AlarmEventInfo(
            event.action.value,
            event.alarm_id,
            event.key,
            event.priority.word if event.priority is not None else None,
            event.user,
            event.detail,
            event.time,
        )
        data = self._encode(BedAlarms(self._next_id(), self.station.clock.now(), info, active))
        if data is None:
            return
        self._sent_state[(event.bed, Kind.ALARMS)] = active
        topic = bed_topic(self.settings.site, self.settings.ward, event.bed, Kind.ALARMS)
        ready = self.connection.connected and self._resync_since is None and not self._waiting
        if ready and self._publish(topic, data, 1, True, event=True):
            return
        if len(self._waiting) >= self._backlog_max:
            self._waiting.popleft()
            self.counters.events_dropped += 1
            if self.counters.events_dropped == 1 or self.counters.events_dropped % 1000 == 0:
                log.error(
                    "MQTT alarm backlog full (%d): %d oldest events dropped",
                    self._backlog_max,
                    self.counters.events_dropped,
                )
        self._waiting.append(_Outgoing(topic, data, True))

    def _sync_alarms(self, beds: Iterable[str], *, force: bool = False) -> None:
        """Publish the alarm list of beds whose list changed without an event of their own (a message's
        value moved) or that the last event caught before the engine's snapshot had it."""
        now = self.station.clock.now()
        for bed in beds:
            active = self._active(bed)
            if not force and self._sent_state.get((bed, Kind.ALARMS)) == active:
                continue
            if self._send_state(bed, Kind.ALARMS, BedAlarms(self._next_id(), now, None, active)):
                self._sent_state[(bed, Kind.ALARMS)] = active

    # -- resync and periodic state -----------------------------------------------------------------------
    def _resync(self, mono: float) -> None:
        """After (re)connection: the backlog in order, then every bed's state, then "online"."""
        self._flush_waiting()
        if self._waiting:
            return  # paho's queue is full; try again next tick
        beds = self._bed_ids()
        self._sent_state = {k: v for k, v in self._sent_state.items() if k[1] is Kind.ALARMS}
        self._sync_alarms(beds, force=True)
        self._publish_states(beds, force=True)
        self._publish_numerics(beds)
        self._heartbeat()
        self._resync_since = None
        self._due = {k: v for k, v in self._due.items() if k.startswith("status")}
        log.info("MQTT publishing %d beds as %s/%s", len(beds), self.settings.site, self.settings.ward)

    def _periodic(self, mono: float) -> None:
        beds = self._bed_ids()
        if self._every("alarm-sync", ALARM_SYNC_S, mono):
            self._sync_alarms(beds)
        if self._ward_changed.is_set() or self._every("state", STATE_EVERY_S, mono):
            self._ward_changed.clear()
            self._publish_states(beds, force=False)
        if self._every("numerics", NUMERICS_EVERY_S, mono):
            self._publish_numerics(beds)
        if self._every("heartbeat", HEARTBEAT_S, mono):
            self._heartbeat()
        if self._every("waves", WAVES_EVERY_S, mono):
            self._publish_waves()

    def _publish_states(self, beds: Iterable[str], *, force: bool) -> None:
        now = self.station.clock.now()
        mono = time.monotonic()
        for bed in beds:
            for kind, make in (
                (Kind.INFO, self._info),
                (Kind.NEWS2, self._news2),
                (Kind.RISK, self._risk),
                (Kind.TECHNICAL, self._technical),
            ):
                payload, same_as = make(bed, now)
                key = (bed, kind)
                again = kind is Kind.NEWS2 and mono - self._news2_at.get(bed, 0.0) >= NEWS2_EVERY_S
                if not force and not again and self._sent_state.get(key) == same_as:
                    continue
                if self._send_state(bed, kind, payload):
                    self._sent_state[key] = same_as
                    if kind is Kind.NEWS2:
                        self._news2_at[bed] = mono

    def _info(self, bed_id: str, now: float) -> tuple[Payload, Any]:
        bed = self.station.bed(bed_id)
        patient = None
        if bed.patient is not None:
            age = bed.patient.age_years(dt.datetime.fromtimestamp(now, dt.UTC).date())
            patient = PatientInfo(bed.patient.display_name, bed.patient.mrn, age, None)
        device = bed.source_spec.partition(":")[0] if bed.source_spec else None
        payload = BedInfo(self.station.name, bed.bed_id, bed.label, patient, device, now)
        return payload, (bed.label, patient, device)

    def _news2(self, bed: str, now: float) -> tuple[Payload, Any]:
        latest = self.station.news2.latest(bed)
        if latest is None:
            return News2(now, None, None, False, ""), None
        score = latest.score
        band = "low-medium" if score.band is Band.LOW_MEDIUM else score.band.value
        parts = [f"{k} {v}" for k, v in score.parameter_scores.items() if v]
        if score.missing:
            parts.append(f"{', '.join(score.missing)} not entered")
        detail = "; ".join(parts)
        return News2(latest.time, score.total, band, score.complete, detail), (
            score.total,
            band,
            score.complete,
            detail,
        )

    def _risk(self, bed: str, now: float) -> tuple[Payload, Any]:
        service = self.station.services.get("deterioration")
        latest = getattr(service, "latest", lambda _bed: None)(bed) if service is not None else None
        threshold = getattr(service, "threshold", None)
        threshold = float(threshold) if isinstance(threshold, int | float) and threshold < 1e9 else None
        if latest is None:
            return Risk(now, None, threshold, False, ()), (None, threshold)
        risk = round(float(latest.risk), 5)
        payload = Risk(latest.time, risk, threshold, bool(latest.alert), tuple(latest.factors))
        return payload, (risk, threshold, payload.above, payload.factors)

    def _technical(self, bed: str, now: float) -> tuple[Payload, Any]:
        streams = self.station.hub.streams(bed)
        link = streams.status.state.value if streams is not None and streams.status is not None else None
        conditions = tuple(
            Condition(c.kind.value, c.detail, c.since) for c in self.station.hub.conditions(bed)
        )
        return Technical(now, link, conditions), (link, conditions)

    def _publish_numerics(self, beds: Iterable[str]) -> None:
        now = self.station.clock.now()
        table = channel_table()
        for bed_id in beds:
            bed = self.station.bed(bed_id)
            streams = self.station.hub.streams(bed_id)
            if streams is None or not (bed.source_spec or bed.devices):
                continue
            values = []
            for code, obs in list(streams.numerics.items()):
                row = table.get(code)
                max_age = (
                    row.max_age_s if row is not None and row.max_age_s is not None else NUMERIC_MAX_AGE_S
                )
                if obs.validity is not Validity.VALID or now - obs.time > max_age:
                    continue
                label = row.label if row is not None else str(int(code))
                values.append(NumericValue(int(code), label, float(obs.value), obs.unit, obs.time))
            data = self._encode(Numerics(now, tuple(values)))
            if data is not None:
                self._publish(
                    bed_topic(self.settings.site, self.settings.ward, bed_id, Kind.NUMERICS), data, 0, True
                )

    # -- waves -------------------------------------------------------------------------------------------
    def _publish_waves(self) -> None:
        now = self.station.clock.now()
        leases = self.requests.leases(now)
        for key in [k for k in self._wave_cursors if k[0] not in leases]:
            del self._wave_cursors[key]
        for bed in leases:
            streams = self.station.hub.streams(bed)
            if streams is None:
                continue
            blocks = []
            for code, channel in list(streams.waves.items()):
                ring = channel.ring
                generation, cursor = self._wave_cursors.get((bed, int(code)), (-1, -1))
                if generation != streams.generation or cursor < 0:
                    cursor = max(0, ring.count - int(channel.rate * WAVE_START_S))
                chunk = ring.read_since(cursor)
                self._wave_cursors[(bed, int(code))] = (streams.generation, chunk.cursor)
                blocks += split_runs(
                    int(code), channel.rate, chunk.times, chunk.values, channel.unit, channel.label
                )
            if not blocks:
                continue
            try:
                data = encode_waves(now, blocks, self._wave_scales)
            except WavesError as exc:
                self.counters.not_encoded += 1
                log.error("MQTT waves of %s not published: %s", bed, exc)
                continue
            self._publish(bed_topic(self.settings.site, self.settings.ward, bed, Kind.WAVES), data, 0, False)

    # -- requests ----------------------------------------------------------------------------------------
    def _drain_inbox(self) -> None:
        while True:
            try:
                incoming = self._inbox.get_nowait()
            except queue.Empty:
                return
            topic = parse_topic(incoming.topic)
            if (
                topic is None
                or topic.bed is None
                or (topic.site, topic.ward) != (self.settings.site, self.settings.ward)
                or topic.kind not in (Kind.ACK, Kind.WAVES_WANT)
            ):
                self.requests.reject("message", "not a request topic of this station")
                continue
            if incoming.retain:  # a request is never retained: an old one must not act again on restart
                self.requests.reject(f"{topic.kind.value} on {topic.bed}", "retained requests are ignored")
                continue
            result = self.requests.handle(topic, incoming.payload)
            if result is not None:
                data = self._encode(result)
                if data is not None:
                    topic_out = bed_topic(self.settings.site, self.settings.ward, topic.bed, Kind.ACK_RESULT)
                    self._publish(topic_out, data, 1, False)

    # -- station status, the broker condition, the status file -------------------------------------------
    def _status_payload(self, state: str) -> bytes:
        return encode(
            StationStatus(
                self.station.name, state, self.station.clock.now(), tuple(self._bed_ids()), self._version
            )
        )

    def _heartbeat(self) -> None:
        self._publish(self._status_topic, self._status_payload("online"), 1, True)

    def _broker_condition(self, connected: bool) -> None:
        connection = self.connection
        if connected:
            if self._down_alarm:
                self._down_alarm = False
                self._refusal_shown = False
                self.station.station_condition(TechnicalKind.BROKER_DOWN, False)
                log.info("MQTT broker reachable again")
            self._refusal_condition()
            return
        down_since = connection.down_since
        grace = max(3.0, self.settings.keepalive_s)
        if self._down_alarm or down_since is None or time.time() - down_since < grace:
            return
        self._down_alarm = True
        self._refusal_shown = False  # the outage's detail replaces it; shown again if still refused after
        since = time.strftime("%H:%M", time.localtime(down_since))
        detail = f"MQTT broker unreachable since {since} ({self.settings.url}); alarm events wait for it"
        self.station.station_condition(TechnicalKind.BROKER_DOWN, True, detail)

    def _refusal_condition(self) -> None:
        refusing = self._refusing is not None
        if refusing == self._refusal_shown:
            return
        self._refusal_shown = refusing
        detail = REFUSED_DETAIL if refusing else ""
        self.station.station_condition(TechnicalKind.BROKER_DOWN, refusing, detail)

    def _make_status(self, stopped: bool = False) -> PublisherStatus:
        connection = self.connection
        if stopped:
            state = "stopped"
        elif connection.connected:
            state = "connected"
        else:
            state = "down" if self._down_alarm or connection.connects else "connecting"
        counters = self.requests.counters
        return PublisherStatus(
            state=state,
            broker=str(self.settings.url),
            site=self.settings.site,
            ward=self.settings.ward,
            backlog=self.backlog,
            sent=self.counters.events_acked,
            published=self.counters.published,
            rejected=counters.rejected + self.counters.inbox_dropped,
            dropped=self.counters.events_dropped,
            acks_done=counters.acks_done,
            acks_refused=counters.acks_refused,
            streaming=tuple(sorted(self.requests.leases(self.station.clock.now()))),
            connected_since=connection.connected_since if connection.connected else None,
            down_since=connection.down_since,
            last_error=connection.last_error,
            updated=time.time(),
            refused=self.counters.events_refused,
        )

    def _write_status(self, stopped: bool = False) -> None:
        if self._status_path is not None:
            write_status_file(self._status_path, self._make_status(stopped).to_json(), "MQTT")


def _alarm_state(alarm: Alarm) -> AlarmState:
    return AlarmState(
        alarm_id=alarm.alarm_id,
        key=alarm.key,
        category=alarm.category.value,
        priority=alarm.priority.word,
        state=alarm.state.value,
        message=alarm.message,
        raised_at=alarm.raised_at,
        condition_since=alarm.condition_since,
        escalated_at=alarm.escalated_at,
        acknowledged_by=alarm.acknowledged_by,
        acknowledged_at=alarm.acknowledged_at,
        reason=alarm.reason,
        audible=alarm.audible,
    )


def start_publisher(
    station: Station, settings: MqttSettings, status_path: Path | None = None
) -> HospitalPublisher:
    """A started publisher for `station`, published as `station.services["hospital"]`."""
    publisher = HospitalPublisher(station, settings, status_path=status_path)
    station.services[SERVICE_NAME] = publisher
    publisher.start()
    return publisher
