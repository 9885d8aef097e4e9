"""The host's side of an IntelliVue data export session, as a pure state machine (no port, no clock).

An IntelliVue must be asked: the host associates, answers the monitor's MDS Create Event Report, then
polls. The caller hands in the bytes read and the time, and writes out what comes back:

* `start(now)` — the association request, framed;
* `feed(data, now)` — bytes from the monitor in, (values, errors, bytes to send) out;
* `tick(now)` — whatever is due: polls, a keep-alive, a new association after a refuse, abort or silence;
* `close()` — the release request.

Extended polls (numerics once a second, waves as sampled) are used when the monitor's poll profile
offers them, single polls otherwise. The association is kept alive by a small poll whenever the host has
been quiet for a few seconds (the monitor drops a silent host after its connection time-out), and is
started again when the monitor has sent nothing good for `reply_timeout_s`. ../shared/PROTOCOLS.md §5.3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from wardwatch.devices.decoded import Decoded, DecodeError
from wardwatch.devices.intellivue import build
from wardwatch.devices.intellivue.association import (
    EXT_ENUMERATIONS,
    EXT_NUMERICS_1S,
    EXT_WAVES,
    PollProfile,
    PollProfileExt,
    Spdu,
    UserInfo,
    association_request,
    release_request,
    release_result,
)
from wardwatch.devices.intellivue.framing import EOF, PROTOCOL, deframe, frame
from wardwatch.devices.intellivue.messages import Message, decode_message
from wardwatch.devices.intellivue.waves import TICKS_PER_S, WaveSpec


class Phase(StrEnum):
    IDLE = "idle"  # not associated (refused, aborted, released): waiting to try again, or closed
    ASSOCIATING = "associating"  # request sent, waiting for accept or refuse
    CONFIGURING = "configuring"  # accepted, waiting for the MDS Create Event Report
    POLLING = "polling"
    RELEASING = "releasing"


@dataclass(frozen=True, slots=True)
class SessionConfig:
    waves: bool = True
    ext_period_s: float = 10.0  # how long one extended poll runs before it is asked again
    single_poll_s: float = 1.0  # numerics, when the monitor offers no extended polls
    single_wave_poll_s: float = 0.25
    keepalive_s: float = 3.0  # a host quiet this long sends a small poll
    reply_timeout_s: float = 10.0  # nothing good from the monitor this long: associate again
    answer_timeout_s: float = 5.0  # for the accept and the MDS create event
    retry_s: float = 2.0  # after a refuse or an abort
    # bytes of an unfinished frame kept between reads: the request offers frames of up to 2500 bytes
    # (max_mtu_rx), twice that when every byte is stuffed
    max_pending: int = 16384


@dataclass(slots=True)
class _ExtPoll:
    invoke_id: int
    issued: float
    done: bool = False


@dataclass(slots=True)
class Session:
    config: SessionConfig = field(default_factory=SessionConfig)
    phase: Phase = Phase.IDLE
    problem: str | None = None  # why the session is not polling, in words for the link detail
    monitor: UserInfo | None = None  # what the monitor said of itself when it accepted
    specs: dict[int, WaveSpec] = field(default_factory=dict)  # wave specs by object handle
    units: int = 0  # poll replies decoded (the link's good packets)
    associations: int = 0  # accepted associations (the first, and each re-association)
    _pending: bytes = field(default=b"", init=False, repr=False)
    _since: float = field(default=0.0, init=False, repr=False)  # when the phase began
    _last_rx: float = field(default=-math.inf, init=False, repr=False)  # last good frame from the monitor
    _last_tx: float = field(default=-math.inf, init=False, repr=False)
    _next_attempt: float | None = field(default=None, init=False, repr=False)
    _invoke: int = field(default=0, init=False, repr=False)
    _poll_number: int = field(default=0, init=False, repr=False)
    _extended: bool = field(default=False, init=False, repr=False)
    _ext: dict[int, _ExtPoll] = field(default_factory=dict, init=False, repr=False)
    _next_single: dict[int, float] = field(default_factory=dict, init=False, repr=False)

    # what the host asks for

    def user_info(self) -> UserInfo:
        options = EXT_NUMERICS_1S | EXT_ENUMERATIONS | (EXT_WAVES if self.config.waves else 0)
        return UserInfo(PollProfile(ext=PollProfileExt(options)))

    def start(self, now: float) -> bytes:
        """Begin (or begin again): the association request."""
        self.phase, self._since = Phase.ASSOCIATING, now
        self._next_attempt = None
        self._ext.clear()
        self._next_single.clear()
        self.specs.clear()  # a new association sends every wave's spec again
        self._last_tx = now
        return frame(association_request(self.user_info()))

    def close(self) -> bytes:
        """The release request when associated (nothing otherwise); the session then stays idle."""
        was = self.phase
        self._next_attempt = None
        if was in (Phase.CONFIGURING, Phase.POLLING):
            self.phase = Phase.RELEASING
            return frame(release_request())
        self.phase = Phase.IDLE
        return b""

    # what the monitor sends

    def feed(self, data: bytes, now: float) -> tuple[list[Decoded], list[DecodeError], bytes]:
        """Bytes from the monitor: the values decoded, the errors met, the bytes to send back."""
        values: list[Decoded] = []
        errors: list[DecodeError] = []
        out = bytearray()
        pending = self._pending + data
        # every frame up to the last end flag is complete (or aborted); the rest waits for more bytes
        cut = pending.rfind(bytes([EOF])) + 1
        self._pending = pending[cut:]
        if len(self._pending) > self.config.max_pending:
            errors.append(
                DecodeError(PROTOCOL, f"{len(self._pending)} bytes without an end of frame dropped")
            )
            self._pending = b""
        frames, frame_errors = deframe(pending[:cut])
        errors += frame_errors
        for _at, user_data in frames:
            try:
                message = decode_message(user_data, self.specs)
            except DecodeError as exc:
                errors.append(exc)
                continue
            self._last_rx = now
            out += self._on_message(message, now, values, errors)
        return values, errors, bytes(out)

    def _on_message(self, m: Message, now: float, values: list[Decoded], errors: list[DecodeError]) -> bytes:
        if m.session is not None:
            return self._on_session(m.session.kind, m, now)
        if m.kind == "mds create event" and m.invoke_id is not None:
            if self.phase not in (Phase.CONFIGURING, Phase.POLLING):
                return b""
            reply = frame(build.mds_create_result(m.invoke_id))
            if self.phase is Phase.CONFIGURING:
                self.phase, self._since, self.problem = Phase.POLLING, now, None
                self.associations += 1
                ext = self.monitor.extended_options if self.monitor else 0
                self._extended = bool(ext & EXT_NUMERICS_1S)
                return reply + self._polls(now)
            return reply
        if m.kind == "poll result":
            if self.phase is not Phase.POLLING:
                return b""
            self.units += 1
            self.specs.update(m.specs)
            values += m.values
            errors += m.problems
            for poll in self._ext.values():
                if poll.invoke_id == m.invoke_id and (m.ro_type == 2 or m.linked_state == 3):
                    poll.done = True  # the monitor closed this extended poll: ask again at once
            return b""
        if m.kind.startswith("error") and m.invoke_id is not None:
            errors.append(DecodeError(PROTOCOL, f"the monitor answered request {m.invoke_id} with {m.kind}"))
            if any(p.invoke_id == m.invoke_id for p in self._ext.values()):
                # extended polls refused after all: single polls do the same, more slowly
                self._extended = False
                self._ext.clear()
        return b""

    def _on_session(self, kind: Spdu, m: Message, now: float) -> bytes:
        if kind is Spdu.ACCEPT and self.phase is Phase.ASSOCIATING:
            self.phase, self._since = Phase.CONFIGURING, now
            self.monitor = m.session.user_info if m.session else None
        elif kind is Spdu.REFUSE and self.phase is Phase.ASSOCIATING:
            self._idle(now, "association refused by the monitor")
        elif kind is Spdu.ABORT and self.phase is not Phase.IDLE:
            self._idle(now, "association aborted by the monitor")
        elif kind is Spdu.DISCONNECT and self.phase is Phase.RELEASING:
            self.phase, self.problem = Phase.IDLE, "association released"
        elif kind is Spdu.FINISH and self.phase in (Phase.CONFIGURING, Phase.POLLING):
            self._idle(now, "association released by the monitor")
            return frame(release_result())
        return b""

    def _idle(self, now: float, problem: str) -> None:
        self.phase, self._since, self.problem = Phase.IDLE, now, problem
        self._next_attempt = now + self.config.retry_s

    # what is due

    def tick(self, now: float) -> bytes:
        """The bytes due at `now`: polls, a keep-alive, or a new association request."""
        c = self.config
        if self.phase is Phase.IDLE:
            if self._next_attempt is not None and now >= self._next_attempt:
                return self.start(now)
            return b""
        if self.phase in (Phase.ASSOCIATING, Phase.CONFIGURING) and now - self._since > c.answer_timeout_s:
            what = "association request" if self.phase is Phase.ASSOCIATING else "association (no MDS event)"
            self.problem = f"no answer to the {what}"
            return self.start(now)
        if self.phase is Phase.RELEASING and now - self._since > c.answer_timeout_s:
            self.phase = Phase.IDLE
        if self.phase is not Phase.POLLING:
            return b""
        if now - max(self._last_rx, self._since) > c.reply_timeout_s:
            self.problem = f"no reply from the monitor for {c.reply_timeout_s:.0f} s"
            return self.start(now)
        return self._polls(now)

    def _request(self) -> tuple[int, int]:
        self._invoke = (self._invoke + 1) & 0xFFFF
        self._poll_number = (self._poll_number + 1) & 0xFFFF
        return self._invoke, self._poll_number

    def _polls(self, now: float) -> bytes:
        c = self.config
        out = bytearray()
        classes = [build.NUMERICS]
        ext_options = self.monitor.extended_options if self.monitor else 0
        if c.waves and (not self._extended or ext_options & EXT_WAVES):
            classes.append(build.WAVES)
        for object_class in classes:
            if self._extended:
                poll = self._ext.get(object_class)
                # a poll the monitor has not closed is asked again a little after its period, not before:
                # two running at once would send every value twice
                if poll is None or poll.done or now - poll.issued > c.ext_period_s + 1.0:
                    invoke, number = self._request()
                    period = round(c.ext_period_s * TICKS_PER_S)
                    out += frame(build.ext_poll_request(number, invoke, object_class, period))
                    self._ext[object_class] = _ExtPoll(invoke, now)
            else:
                every = c.single_poll_s if object_class == build.NUMERICS else c.single_wave_poll_s
                if now >= self._next_single.get(object_class, -math.inf):
                    invoke, number = self._request()
                    out += frame(build.poll_request(number, invoke, object_class))
                    self._next_single[object_class] = now + every
        if not out and now - self._last_tx >= c.keepalive_s:
            invoke, number = self._request()
            out += frame(build.poll_request(number, invoke, build.MDS))  # small, and no patient data
        if out:
            self._last_tx = now
        return bytes(out)
