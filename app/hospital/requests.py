"""What viewers ask of the station that owns a bed: acknowledge an alarm (`.../<bed>/ack`) and stream the
bed's waves for a while (`.../<bed>/waves/want`).

Runs on the publisher's thread, never on paho's. Nothing from the network is trusted: the size, JSON,
version and types are checked (payloads.py), the bed must be one of this station's, the requesting role
must hold `alarm.acknowledge_remote` in this station's permission matrix, a request id seen before is
answered again without acting twice. A bad request costs one log line (no patient data) and a count,
never a crash. An acknowledgement is made as "<user>@<viewer>" and written to the audit trail.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wardwatch.app.alarms.model import State
from wardwatch.app.hospital.payloads import AckRequest, AckResult, PayloadError, WavesWant, decode_as
from wardwatch.app.hospital.topics import Kind, Topic

if TYPE_CHECKING:
    from wardwatch.app.security.access import AccessControl
    from wardwatch.app.security.permissions import Permissions
    from wardwatch.app.station import Station

log = logging.getLogger(__name__)

REMOTE_ACK_PERMISSION = "alarm.acknowledge_remote"  # the matrix's action (resources/permissions.toml)
AUDIT_ACTION = "alarm.acknowledge"
LEASE_MAX_S = 30.0  # a lease never runs further ahead than this: a viewer that vanishes stops the stream
# an acknowledgement older than this is refused: paho resends unacknowledged requests after a reconnection,
# and one that arrives minutes late would silence an alarm the person no longer has in front of them
ACK_MAX_AGE_S = 30.0
ACK_MAX_AHEAD_S = 5.0  # clocks of viewer and station may differ a little; beyond, the request is refused
SEEN_REQUESTS = 4096  # request ids remembered for de-duplication
LOG_BURST = 20  # rejection lines per LOG_WINDOW_S; beyond, they are only counted (a flood must not fill logs)
LOG_WINDOW_S = 60.0


@dataclass(slots=True)
class RequestCounters:
    received: int = 0
    rejected: int = 0  # malformed, oversized, unknown version, unknown bed
    acks_done: int = 0
    acks_refused: int = 0  # not allowed, or the alarm is gone
    duplicates: int = 0
    leases: int = 0


class LogLimiter:
    """At most LOG_BURST lines per LOG_WINDOW_S from one thread; the rest are counted and summed up."""

    def __init__(self) -> None:
        self._start = 0.0
        self._lines = 0

    def allow(self) -> bool:
        now = time.monotonic()
        if now - self._start > LOG_WINDOW_S:
            if self._lines > LOG_BURST:
                log.warning("%d more rejected MQTT messages were not logged", self._lines - LOG_BURST)
            self._start, self._lines = now, 0
        self._lines += 1
        return self._lines <= LOG_BURST


def _printable(text: str) -> bool:
    return text.isprintable()


class RequestHandler:
    """Validates and carries out viewers' requests for one station."""

    def __init__(
        self,
        station: Station,
        permissions: Permissions,
        access: AccessControl | None = None,
        *,
        clock: Callable[[], float] | None = None,
        lease_max_s: float = LEASE_MAX_S,
    ) -> None:
        self._station = station
        self._permissions = permissions
        self._access = access  # None: the station keeps no audit trail (no record)
        self._clock = clock or station.clock.now
        self._lease_max_s = lease_max_s
        self._seen: OrderedDict[str, AckResult] = OrderedDict()
        self._leases: dict[str, float] = {}
        self._limiter = LogLimiter()
        self.counters = RequestCounters()

    # -- entry -------------------------------------------------------------------------------------------
    def handle(self, topic: Topic, payload: bytes) -> AckResult | None:
        """Carry out one request; the answer to publish on `ack/result`, or None (leases, rejections)."""
        self.counters.received += 1
        bed = topic.bed
        if bed is None or not any(b.bed_id == bed for b in self._station.beds):
            self.reject(topic.kind.value, "the bed is not one of this station's")
            return None
        try:
            if topic.kind is Kind.ACK:
                return self._ack(bed, decode_as(payload, AckRequest))
            if topic.kind is Kind.WAVES_WANT:
                self._lease(bed, decode_as(payload, WavesWant))
                return None
        except PayloadError as exc:
            self.reject(f"{topic.kind.value} on {bed}", str(exc))
            return None
        self.reject(topic.kind.value, "not a request this station answers")
        return None

    def reject(self, what: str, reason: str) -> None:
        """Count a rejected message and say why in one line (rate-limited; never the payload)."""
        self.counters.rejected += 1
        if self._limiter.allow():
            log.warning("rejected MQTT %s: %s", what, reason)

    # -- waves -------------------------------------------------------------------------------------------
    def _lease(self, bed: str, want: WavesWant) -> None:
        now = self._clock()
        until = min(want.until, now + self._lease_max_s)
        if until <= now:
            return
        self.counters.leases += 1
        self._leases[bed] = max(self._leases.get(bed, 0.0), until)

    def leases(self, now: float) -> dict[str, float]:
        """Beds whose waves a viewer wants now, and until when."""
        self._leases = {bed: until for bed, until in self._leases.items() if until > now}
        return dict(self._leases)

    # -- acknowledgements --------------------------------------------------------------------------------
    def _ack(self, bed: str, request: AckRequest) -> AckResult:
        if "@" in request.user or not all(map(_printable, (request.user, request.viewer, request.role))):
            raise PayloadError("user, viewer and role must be printable text (and the user without '@')")
        earlier = self._seen.get(request.id)
        if earlier is not None:  # QoS 1 redelivery, or a viewer retrying: answer again, act once
            self.counters.duplicates += 1
            return earlier
        result = self._too_old(request) or self._carry_out(bed, request)
        self._seen[request.id] = result
        while len(self._seen) > SEEN_REQUESTS:
            self._seen.popitem(last=False)
        return result

    def _too_old(self, request: AckRequest) -> AckResult | None:
        """A refusal when the request was not made within ACK_MAX_AGE_S by this station's clock."""
        age = self._clock() - request.t
        if -ACK_MAX_AHEAD_S <= age <= ACK_MAX_AGE_S:
            return None
        self.counters.acks_refused += 1
        if age > 0:
            detail = (
                f"too late: the request is {age:.0f} s old (over {ACK_MAX_AGE_S:.0f} s); nothing acknowledged"
            )
        else:
            detail = f"the request is dated {-age:.0f} s ahead of the station's clock; nothing acknowledged"
        log.info("remote acknowledgement refused: %s", detail)
        return AckResult(request.id, False, detail)

    def _carry_out(self, bed: str, request: AckRequest) -> AckResult:
        who = f"{request.user}@{request.viewer}"
        where = f"remote from {request.viewer}, role {request.role}"
        if not self._permissions.allows(request.role, REMOTE_ACK_PERMISSION):
            self.counters.acks_refused += 1
            self._audit(
                request, bed, outcome="denied", after="", detail=where + ": role may not acknowledge remotely"
            )
            log.info("remote acknowledgement on %s refused: role %s", bed, request.role)
            return AckResult(request.id, False, f"role {request.role!r} may not acknowledge alarms remotely")
        alarms = self._station.alarms
        snapshot = alarms.snapshot
        if request.all_alarms:
            # only alarms already raised when the person asked: one raised since (or while the request was
            # on its way) was never on their screen, and must keep sounding until someone sees it
            cutoff = min(request.t, self._clock())
            sounding = [
                a for a in snapshot.alarms if a.bed == bed and a.state in (State.ACTIVE, State.LATCHED)
            ]
            done = sum(alarms.acknowledge(a.alarm_id, user=who) for a in sounding if a.raised_at <= cutoff)
            newer = sum(1 for a in sounding if a.raised_at > cutoff)
            self.counters.acks_done += 1
            self._audit(request, bed, after=f"{done} alarm(s) of the bed", detail=where)
            untouched = f"; {newer} raised after the request left sounding" if newer else ""
            return AckResult(request.id, True, f"{done} alarm(s) acknowledged by {who}{untouched}")
        alarm = next(
            (
                a
                for a in (*snapshot.alarms, *snapshot.held_back)
                if a.alarm_id == request.alarm_id and a.bed == bed and a.state is not State.CLEARED
            ),
            None,
        )
        if alarm is None or alarm.key != request.key:
            self.counters.acks_refused += 1
            return AckResult(
                request.id, False, f"alarm {request.alarm_id} ({request.key}) is no longer active"
            )
        if not alarms.acknowledge(alarm.alarm_id, user=who):
            self.counters.acks_refused += 1
            return AckResult(
                request.id, False, f"alarm {request.alarm_id} ({request.key}) is no longer active"
            )
        self.counters.acks_done += 1
        self._audit(request, bed, after=f"alarm {alarm.alarm_id} {alarm.key}", detail=where)
        return AckResult(request.id, True, f"acknowledged by {who}")

    def _audit(self, request: AckRequest, bed: str, *, after: str, detail: str, outcome: str = "ok") -> None:
        if self._access is None:
            return
        self._access.record(AUDIT_ACTION, bed, user=request.user, outcome=outcome, after=after, detail=detail)
