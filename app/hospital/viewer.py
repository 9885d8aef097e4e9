"""The viewer's side of hospital-wide sharing: `HospitalViewer` subscribes to the viewed wards, feeds the
house model (house.py), renews wave leases for the beds open on screen and sends acknowledgements to
the stations that own the alarms.

Threads: paho's network thread decodes each message (payloads.py, waves_codec.py) and applies it to
the house; one small timer thread checks for silent stations every second and renews leases every
5 s. The GUI only calls the quick methods below (they publish through paho's queue, never block) and
paints from `house.snapshot()`.

Also a feature module (wardwatch.app.extensions): `start_services` makes the viewer beside a GUI
station that has a broker configured, as `station.services["hospital_viewer"]`; with `--view` it
connects at once (the viewer-only window), otherwise when the Hospital page is first opened.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from wardwatch.app.domain import TechnicalKind
from wardwatch.app.hospital.house import HospitalHouse, station_key
from wardwatch.app.hospital.payloads import (
    AckRequest,
    AckResult,
    BedAlarms,
    BedInfo,
    News2,
    Numerics,
    PayloadError,
    Risk,
    StationStatus,
    Technical,
    WavesWant,
    decode_as,
    encode,
)
from wardwatch.app.hospital.requests import LogLimiter
from wardwatch.app.hospital.settings import MqttSettings, SettingsError, ViewTarget, settings_from
from wardwatch.app.hospital.topics import ALL_WARDS, Kind, bed_topic, parse_topic, ward_filter
from wardwatch.app.hospital.waves_codec import decode_waves
from wardwatch.app.hub import StreamHub

if TYPE_CHECKING:
    from wardwatch.app.extensions import Service, ServiceContext
    from wardwatch.app.hospital.connection import Incoming

log = logging.getLogger(__name__)

# how long the broker keeps a viewer's subscriptions and queues its alarm events while it is away
# (a broker restart, a network blip): long enough to ride out an outage, short enough that a vanished
# viewer's queue does not linger
VIEWER_SESSION_S = 300

SERVICE_NAME = "hospital_viewer"
LEASE_RENEW_S = 5.0  # the contract: a viewer renews its lease every 5 s while the bed is open
LEASE_AHEAD_S = 15.0  # each lease runs this far ahead: three renewals may be lost before waves stop
TICK_S = 1.0  # how often silent stations are looked for (lost within SILENCE_S + TICK_S)
ACK_TIMEOUT_S = 15.0  # no answer by then: the person is told the station did not answer
RESULTS_KEPT = 256


@dataclass(frozen=True, slots=True)
class AckOutcome:
    """Where one acknowledgement request stands: `ok` None while waiting for the station."""

    request: str
    bed: str  # local key
    alarm_id: int
    user: str
    sent_at: float
    ok: bool | None = None
    detail: str = ""
    timed_out: bool = False  # given up on locally: the station's answer, if it still comes, replaces it

    @property
    def waiting(self) -> bool:
        return self.ok is None


@dataclass(slots=True)
class ViewerCounters:
    received: int = 0
    rejected: int = 0  # malformed, oversized, unknown version or topic
    acks_sent: int = 0
    leases_sent: int = 0


class HospitalViewer:
    """Watches wards of the hospital through the broker.

    Public API (any thread unless said):
    - `start()` / `close()`: connect in the background / disconnect and stop the timer thread.
    - `house`: the HospitalHouse model (`house.snapshot()` for painting); `hub` its StreamHub.
    - `open_bed(key)` / `close_bed(key)`: a bed shown with its waves (renews its `waves/want` lease).
    - `acknowledge(key, alarm_id, alarm_key, user, role) -> str | None`: send an `ack` request to the
      owning station (alarm_id 0 with key "*" = the bed's alarms raised by then: the station leaves
      sounding any raised after the request's time); the request id, or None if
      the bed is unknown. `ack_outcome(request_id)` / `ack_outcomes()`: the answers.
    - `connected`, `last_error`, `counters`, `targets`, `name`, `settings`.
    """

    def __init__(
        self,
        settings: MqttSettings,
        name: str,
        targets: Sequence[ViewTarget] | None = None,
        house: HospitalHouse | None = None,
        *,
        exclude: str | None = None,
        view_only: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.name = name
        self.targets = (
            tuple(targets) if targets else (settings.view or (ViewTarget(settings.site, ALL_WARDS),))
        )
        self.house = house if house is not None else HospitalHouse(clock=clock)
        self.exclude = exclude  # "<site>/<ward>" of this station itself: not shown as a remote ward
        self.view_only = view_only
        self.clock = clock
        self.counters = ViewerCounters()
        self._lock = threading.Lock()
        self._open: set[str] = set()
        self._outcomes: OrderedDict[str, AckOutcome] = OrderedDict()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._log_limiter = LogLimiter()  # a flood of garbage must not fill the log
        # paho is loaded only here: every `wardwatch` command imports this module as a feature hook
        from wardwatch.app.hospital.connection import MqttConnection

        self.connection = MqttConnection(
            settings,
            f"wardwatch-viewer-{uuid.uuid4().hex[:12]}",
            on_connected=self._wake.set,
            session_expiry_s=VIEWER_SESSION_S,
        )
        for target in self.targets:
            self.connection.subscribe(ward_filter(target.site, target.ward), 1, self._on_message)

    @property
    def hub(self) -> StreamHub:
        """Where the remote beds' numerics and waves are, for the tiles."""
        return self.house.hub

    @property
    def connected(self) -> bool:
        return self.connection.connected

    @property
    def last_error(self) -> str | None:
        return self.connection.last_error

    @property
    def started(self) -> bool:
        return self._thread is not None

    # -- lifecycle ------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Connect (in the background) and start checking stations and renewing leases. Idempotent."""
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="hospital-viewer", daemon=True)
        self.connection.start()
        self._thread.start()
        log.info("viewing %s through %s", ", ".join(map(str, self.targets)), self.settings.url)

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self.connection.stop()

    def _run(self) -> None:
        next_lease = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            try:
                self.house.tick()
                if now >= next_lease or self._wake.is_set():
                    self._wake.clear()
                    self._renew_leases()
                    next_lease = now + LEASE_RENEW_S
                self._expire_acks()
            except Exception:  # the check must go on: a dead thread would hide lost stations
                log.exception("hospital viewer tick failed")
            self._wake.wait(TICK_S)

    # -- beds on screen -------------------------------------------------------------------------------------
    def open_bed(self, key: str) -> None:
        """The bed is shown with its waves: ask its station to stream them (now and every 5 s)."""
        with self._lock:
            self._open.add(key)
        self._wake.set()

    def close_bed(self, key: str) -> None:
        with self._lock:
            self._open.discard(key)

    def open_beds(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._open)

    def _renew_leases(self) -> None:
        if not self.connection.connected:
            return
        until = self.clock() + LEASE_AHEAD_S
        for key in self.open_beds():
            parts = key.split("/")
            if len(parts) != 3:
                continue
            topic = bed_topic(parts[0], parts[1], parts[2], Kind.WAVES_WANT)
            if self.connection.publish(topic, encode(WavesWant(self.name, until)), qos=0) is not None:
                self.counters.leases_sent += 1

    # -- acknowledgements ------------------------------------------------------------------------------------
    def acknowledge(self, key: str, alarm_id: int, alarm_key: str, user: str, role: str) -> str | None:
        """Ask the bed's station to acknowledge an alarm as `user` (`role` is checked there too)."""
        parts = key.split("/")
        if len(parts) != 3:
            return None
        request = AckRequest(str(uuid.uuid4()), alarm_id, alarm_key, user, role, self.name, self.clock())
        outcome = AckOutcome(request.id, key, alarm_id, user, self.clock())
        with self._lock:
            self._outcomes[request.id] = outcome
            while len(self._outcomes) > RESULTS_KEPT:
                self._outcomes.popitem(last=False)
        topic = bed_topic(parts[0], parts[1], parts[2], Kind.ACK)
        # not queued while the link is down: an acknowledgement delivered minutes later would silence an
        # alarm the person no longer sees; they are told it was not sent and can try again
        mid = self.connection.publish(topic, encode(request), qos=1) if self.connection.connected else None
        if mid is None:
            self._answer(request.id, False, "not sent: no connection to the hospital network")
        else:
            self.counters.acks_sent += 1
        return request.id

    def ack_outcome(self, request: str) -> AckOutcome | None:
        with self._lock:
            return self._outcomes.get(request)

    def ack_outcomes(self) -> tuple[AckOutcome, ...]:
        with self._lock:
            return tuple(self._outcomes.values())

    def _answer(self, request: str, ok: bool, detail: str, *, timed_out: bool = False) -> None:
        with self._lock:
            outcome = self._outcomes.get(request)
            if outcome is None:
                return
            if outcome.timed_out and not timed_out:
                # the station did act (or refuse) after all: the person must see what happened
                detail = f"late answer from the station: {detail}"
            elif outcome.ok is not None:
                return
            self._outcomes[request] = replace(outcome, ok=ok, detail=detail, timed_out=timed_out)

    def _expire_acks(self) -> None:
        now = self.clock()
        with self._lock:
            late = [o for o in self._outcomes.values() if o.ok is None and now - o.sent_at > ACK_TIMEOUT_S]
        for outcome in late:
            self._answer(
                outcome.request, False, f"no answer from the station in {ACK_TIMEOUT_S:.0f} s", timed_out=True
            )

    # -- incoming (paho's network thread) --------------------------------------------------------------------
    def _reject(self, topic: str, reason: str) -> None:
        self.counters.rejected += 1
        self.house.counters.rejected += 1
        if self._log_limiter.allow():
            log.warning("rejected MQTT message on %s: %s", topic, reason)  # names a bed, no patient

    def _on_message(self, message: Incoming) -> None:
        self.counters.received += 1
        topic = parse_topic(message.topic)
        if topic is None:
            self._reject(message.topic, "not a WardWatch topic")
            return
        if self.exclude is not None and station_key(topic.site, topic.ward) == self.exclude:
            return
        if topic.kind in (Kind.ACK, Kind.WAVES_WANT) or not message.payload:
            return  # requests of viewers (ours or others'), or a retained message being cleared
        try:
            self._apply(topic.site, topic.ward, topic.bed, topic.kind, message.payload, message.retain)
        except (PayloadError, ValueError) as exc:  # PayloadError is the expected one; never let one through
            self._reject(message.topic, str(exc) or type(exc).__name__)

    def _apply(
        self, site: str, ward: str, bed: str | None, kind: Kind, payload: bytes, retained: bool
    ) -> None:
        # the broker's stored copy (retained) is state, but no sign that the station still lives
        house = self.house
        if kind is Kind.STATUS:
            house.on_status(site, ward, decode_as(payload, StationStatus), retained=retained)
            return
        if bed is None:
            return
        if kind is Kind.WAVES:
            house.on_waves(site, ward, bed, decode_waves(payload))
        elif kind is Kind.INFO:
            house.on_info(site, ward, bed, decode_as(payload, BedInfo), retained=retained)
        elif kind is Kind.NUMERICS:
            house.on_numerics(site, ward, bed, decode_as(payload, Numerics), retained=retained)
        elif kind is Kind.ALARMS:
            house.on_alarms(site, ward, bed, decode_as(payload, BedAlarms), retained=retained)
        elif kind is Kind.NEWS2:
            house.on_news2(site, ward, bed, decode_as(payload, News2), retained=retained)
        elif kind is Kind.RISK:
            house.on_risk(site, ward, bed, decode_as(payload, Risk), retained=retained)
        elif kind is Kind.TECHNICAL:
            house.on_technical(site, ward, bed, decode_as(payload, Technical), retained=retained)
        elif kind is Kind.ACK_RESULT:
            result = decode_as(payload, AckResult)
            self._answer(result.request, result.ok, result.detail)


# -- feature hook (wardwatch.app.extensions) ----------------------------------------------------------------
def start_services(ctx: ServiceContext) -> Sequence[Service]:
    """A viewer beside a GUI station with a broker configured (`--view`: connected at once)."""
    if ctx.headless:
        return []
    view_only = bool(getattr(ctx.args, "view", None))
    try:
        settings = settings_from(ctx.config, ctx.args)
    except (SettingsError, ValueError) as exc:
        problem = f"the hospital page is off: {exc}"
        settings = None
    else:
        problem = "--view needs a broker: --mqtt URL or [mqtt] url in the config" if settings is None else ""
    if settings is None:
        if view_only:  # (a sharing station's broken settings are already its publisher's alarm)
            # a visible state, not only a log line: the station's own window opens with this alarm
            log.error("%s", problem)
            ctx.station.station_condition(TechnicalKind.BROKER_DOWN, True, problem)
        return []
    own = None if view_only else station_key(settings.site, settings.ward)
    name = getattr(ctx.config, "station_name", "") or "viewer"
    viewer = HospitalViewer(settings, name, exclude=own, view_only=view_only)
    ctx.station.services[SERVICE_NAME] = viewer
    if view_only:
        viewer.start()
    return [viewer]


def viewer_of(services: dict[str, object]) -> HospitalViewer | None:
    """The station's viewer service, if one was started."""
    viewer = services.get(SERVICE_NAME)
    return viewer if isinstance(viewer, HospitalViewer) else None
