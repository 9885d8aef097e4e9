"""An emulated IntelliVue on the far end of a serial line, for the tests and the link bench.

`EmulatedIntelliVue` is the protocol logic alone (bytes and the time in, bytes out): it accepts (or, if
told, refuses) an association, sends its MDS Create Event Report, answers single and extended polls with
numerics (HR, SpO2, RR, NIBP as a compound, temperature) and waves (ECG II at 500 Hz, pleth at 125 Hz,
their sample spec, scale and period in the first reply of each association), answers a release, and
can be made to fall silent. `EmulatorThread` serves it on the master side of a pseudo-terminal.

Built from ../shared/PROTOCOLS.md §5 and the field layouts of the guide, not from a device capture; the
refuse's content in particular is a guess (the host only needs to tell it is a refuse).
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import select
import struct
import threading
import time
from dataclasses import dataclass, field

from wardwatch.devices.decoded import DecodeError, Fields
from wardwatch.devices.intellivue import build
from wardwatch.devices.intellivue.association import (
    EXT_ENUMERATIONS,
    EXT_NUMERICS_1S,
    EXT_WAVES,
    SYST_SERVER,
    PollProfile,
    PollProfileExt,
    Spdu,
    UserInfo,
    association_accept,
    association_refuse,
    decode_session,
    release_result,
)
from wardwatch.devices.intellivue.framing import EOF, PROTOCOL, deframe, frame
from wardwatch.devices.intellivue.waves import (
    ATTR_SA_SPECN,
    ATTR_SA_VAL_OBS,
    ATTR_SCALE_SPECN_I16,
    ATTR_TIME_PD_SAMP,
    ATTR_UNIT_CODE,
    TICKS_PER_S,
)

ATTR_NU_VAL_OBS, ATTR_NU_CMPD_VAL_OBS = 0x0950, 0x094B
ATTR_SYS_TYPE = 0x0986
NUMERICS_EVERY_S = 1.0
WAVES_EVERY_S = 0.256  # a real monitor's wave cadence
MAX_WAVE_S = 2.0  # after a pause, at most this much of a wave is sent at once; older samples are skipped


@dataclass(slots=True)
class Vitals:
    hr: int = 72
    spo2: float = 97.0
    rr: int = 16
    nibp: tuple[int, int, int] = (120, 80, 93)
    temp: float = 36.8


@dataclass(frozen=True, slots=True)
class _Wave:
    handle: int
    physio_id: int
    rate_hz: int
    unit: int
    significant_bits: int
    scale: bytes


ECG_II = _Wave(
    0x0201,
    0x0102,
    500,
    0x10B2,  # mV
    14,
    # 0..16383 is -40.96..40.955 mV: 5 µV a step, 8192 the baseline
    build.scale_spec(build.float_raw(-4096, -2), build.float_raw(40955, -3), 0, 16383),
)
PLETH = _Wave(
    0x0202,
    0x4BB4,
    125,
    0x0200,  # dimensionless
    12,
    build.scale_spec(build.float_raw(0), build.float_raw(4095, -3), 0, 4095),
)


def _ecg_sample(t: float, hr: int) -> int:
    beat = 60.0 / max(hr, 1)
    phase = (t % beat) / beat
    mv = 1.2 * math.exp(-(((phase - 0.3) / 0.012) ** 2)) - 0.2 * math.exp(-(((phase - 0.33) / 0.015) ** 2))
    mv += 0.25 * math.exp(-(((phase - 0.6) / 0.05) ** 2))  # T wave
    raw = 8192 + round(mv / 0.005)
    return raw | (0x4000 if phase < 0.01 else 0)  # a flag bit above the signal, as real arrays carry


def _pleth_sample(t: float, hr: int) -> int:
    phase = (t % (60.0 / max(hr, 1))) / (60.0 / max(hr, 1))
    return round(2000 + 1500 * math.sin(2 * math.pi * phase) * math.exp(-phase))


@dataclass(slots=True)
class _ExtPoll:
    invoke_id: int
    poll_number: int
    object_class: int
    until: float
    next_at: float
    count: int = 0


@dataclass(slots=True)
class Request:
    kind: str  # "poll", "ext poll", "mds create result", or a session PDU's label
    object_class: int = 0
    invoke_id: int = 0
    poll_number: int = 0
    period: int = 0


def decode_request(data: bytes) -> Request:
    """What the host asks (the emulator's side of the protocol); DecodeError for anything else."""
    if data and data[0] in (Spdu.CONNECT, Spdu.FINISH, Spdu.ABORT):
        return Request(decode_session(data).label)
    c = Fields(PROTOCOL, data, "big")
    if c.u16("session id") != 0xE100:
        raise DecodeError(PROTOCOL, "not a data message", 0)
    c.u16("presentation context")
    ro_type = c.u16("remote operation type")
    ro = c.sub(c.u16("remote operation length"), "remote operation")
    invoke_id, command = ro.u16("invoke id"), ro.u16("command type")
    body = ro.sub(ro.u16("command length"), "command")
    if ro_type == 2 and command == 1:
        return Request("mds create result", invoke_id=invoke_id)
    if ro_type != 1 or command != 7:
        raise DecodeError(PROTOCOL, f"request of type {ro_type}, command {command} not understood", 4)
    body.take(6, "managed object")
    body.u32("scope")
    action = body.u16("action type")
    args = body.sub(body.u16("action length"), "action arguments")
    poll_number = args.u16("poll number")
    args.u16("partition")
    object_class = args.u16("object class")
    args.u16("attribute group")
    if action == build.ACT_POLL:
        return Request("poll", object_class, invoke_id, poll_number)
    if action != build.ACT_POLL_EXT:
        raise DecodeError(PROTOCOL, f"action {action:#06x} not understood", 4)
    period = 0
    count = args.u16("attribute count")
    attrs = args.sub(args.u16("attribute list length"), "attribute list")
    for _ in range(count):
        attr_id = attrs.u16("attribute id")
        value = attrs.sub(attrs.u16("attribute length"), "attribute")
        if attr_id == build.ATTR_TIME_PD_POLL:
            period = value.u32("poll period")
    return Request("ext poll", object_class, invoke_id, poll_number, period)


@dataclass
class EmulatedIntelliVue:
    refuse: bool = False
    silent: bool = False  # reads everything, answers nothing (a hung monitor, a broken return line)
    extended: bool = True  # offers extended polls
    vitals: Vitals = field(default_factory=Vitals)
    associated: bool = False
    configured: bool = False  # the host answered the MDS create event
    received: list[str] = field(default_factory=list)  # kinds of request, in order (for the tests)
    associations: int = 0  # accepts sent
    _pending: bytes = field(default=b"", init=False, repr=False)
    _epoch: float | None = field(default=None, init=False, repr=False)
    _invoke: int = field(default=0, init=False, repr=False)
    _ext: dict[int, _ExtPoll] = field(default_factory=dict, init=False, repr=False)
    _cursor: dict[int, int] = field(
        default_factory=dict, init=False, repr=False
    )  # wave handle → next sample index
    _spec_sent: set[int] = field(default_factory=set, init=False, repr=False)
    _sequence: int = field(default=0, init=False, repr=False)

    def user_info(self) -> UserInfo:
        options = EXT_NUMERICS_1S | EXT_WAVES | EXT_ENUMERATIONS if self.extended else 0
        return UserInfo(
            PollProfile(ext=PollProfileExt(options) if options else None), system_type=SYST_SERVER
        )

    def _relative(self, now: float) -> int:
        return round((now - (self._epoch or now)) * TICKS_PER_S) & 0xFFFFFFFF

    def feed(self, data: bytes, now: float) -> bytes:
        if self._epoch is None:
            self._epoch = now
        pending = self._pending + data
        cut = pending.rfind(bytes([EOF])) + 1
        self._pending = pending[cut:][-8192:]
        frames, _errors = deframe(pending[:cut])
        out = bytearray()
        for _at, user_data in frames:
            try:
                request = decode_request(user_data)
            except DecodeError:
                continue  # a monitor ignores what it does not understand
            self.received.append(request.kind)
            if not self.silent:
                out += self._answer(request, now)
        return bytes(out)

    def _answer(self, r: Request, now: float) -> bytes:
        if r.kind == "association request":
            if self.refuse:
                return frame(association_refuse())
            # a new association starts afresh, whatever the old one was doing
            self.associated, self.configured = True, False
            self._ext.clear()
            self._spec_sent.clear()
            self._cursor.clear()
            self.associations += 1
            self._invoke = (self._invoke + 1) & 0xFFFF
            attrs = [build.attribute(ATTR_SYS_TYPE, struct.pack(">HH", 1, 0x1000))]
            create = build.mds_create_event(self._invoke, self._relative(now), attrs)
            return frame(association_accept(self.user_info())) + frame(create)
        if r.kind == "release request":
            self.associated = self.configured = False
            self._ext.clear()
            return frame(release_result())
        if r.kind == "abort":
            self.associated = self.configured = False
            self._ext.clear()
            return b""
        if not self.associated:
            return b""
        if r.kind == "mds create result":
            self.configured = True
            return b""
        if not self.configured:
            return b""  # the guide's dialog: no polls before the create event is answered
        if r.kind == "poll":
            return frame(self._reply(r.object_class, r.poll_number, r.invoke_id, now, 2))
        if r.kind == "ext poll" and self.extended:
            until = now + r.period / TICKS_PER_S
            self._ext[r.object_class] = _ExtPoll(r.invoke_id, r.poll_number, r.object_class, until, now)
            return self.tick(now)
        return b""

    def tick(self, now: float) -> bytes:
        """The extended poll replies due at `now`."""
        if self.silent or not self.configured:
            return b""
        out = bytearray()
        for key, poll in list(self._ext.items()):
            every = WAVES_EVERY_S if poll.object_class == build.WAVES else NUMERICS_EVERY_S
            if now >= poll.until:
                # the period is over: a final result closes the series
                out += frame(self._reply(poll.object_class, poll.poll_number, poll.invoke_id, now, 2, True))
                del self._ext[key]
            elif now >= poll.next_at:
                poll.count += 1
                linked = bytes([1 if poll.count == 1 else 2, poll.count & 0xFF])
                reply = self._reply(poll.object_class, poll.poll_number, poll.invoke_id, now, 5, True, linked)
                out += frame(reply)
                poll.next_at = max(poll.next_at + every, now - every)
        return bytes(out)

    def _reply(
        self,
        object_class: int,
        poll_number: int,
        invoke_id: int,
        now: float,
        ro_type: int,
        extended: bool = False,
        linked: bytes = b"",
    ) -> bytes:
        if object_class == build.NUMERICS:
            objects = self._numerics()
        elif object_class == build.WAVES:
            objects = [self._wave(w, now) for w in (ECG_II, PLETH)]
        else:
            objects = []
        self._sequence = (self._sequence + 1) & 0xFFFF
        return build.poll_result(
            objects,
            poll_number,
            invoke_id,
            self._relative(now),
            ro_type,
            linked,
            extended,
            object_class,
            self._sequence,
        )

    def _numerics(self) -> list[bytes]:
        v = self.vitals
        nibp = b"".join(
            build.nu_value(physio, build.float_raw(x), 0x0F20)
            for physio, x in zip((0x4A05, 0x4A06, 0x4A07), v.nibp, strict=True)  # sys, dia, mean
        )
        return [
            build.observation(0x0101, build.attribute(ATTR_NU_VAL_OBS, build.nu_value(0x4182, v.hr, 0x0AA0))),
            build.observation(
                0x0102,
                build.attribute(
                    ATTR_NU_VAL_OBS, build.nu_value(0x4BB8, build.float_raw(round(v.spo2 * 10), -1), 0x0220)
                ),
            ),
            build.observation(0x0103, build.attribute(ATTR_NU_VAL_OBS, build.nu_value(0x500A, v.rr, 0x0AE0))),
            build.observation(
                0x0104, build.attribute(ATTR_NU_CMPD_VAL_OBS, struct.pack(">HH", 3, len(nibp)) + nibp)
            ),
            build.observation(
                0x0105,
                build.attribute(
                    ATTR_NU_VAL_OBS, build.nu_value(0x4B48, build.float_raw(round(v.temp * 10), -1), 0x17A0)
                ),
            ),
        ]

    def _wave(self, w: _Wave, now: float) -> bytes:
        epoch = self._epoch if self._epoch is not None else now
        end = int((now - epoch) * w.rate_hz)
        per_reply = round(w.rate_hz * WAVES_EVERY_S)
        start = max(self._cursor.get(w.handle, end - per_reply), end - int(MAX_WAVE_S * w.rate_hz))
        self._cursor[w.handle] = end
        make = _ecg_sample if w is ECG_II else _pleth_sample
        samples = [make(n / w.rate_hz, self.vitals.hr) for n in range(start, end)]
        attrs = [build.attribute(ATTR_SA_VAL_OBS, build.sa_value(w.physio_id, samples))]
        if w.handle not in self._spec_sent:
            self._spec_sent.add(w.handle)
            attrs = [
                build.attribute(ATTR_SA_SPECN, build.sa_spec(per_reply, w.significant_bits)),
                build.attribute(ATTR_SCALE_SPECN_I16, w.scale),
                build.attribute(ATTR_TIME_PD_SAMP, struct.pack(">I", TICKS_PER_S // w.rate_hz)),
                build.attribute(ATTR_UNIT_CODE, struct.pack(">H", w.unit)),
                *attrs,
            ]
        return build.observation(w.handle, *attrs)


class EmulatorThread:
    """Serves an emulated monitor on the master side of a pseudo-terminal until stopped.

    The master is made non-blocking: when nobody reads the other end, what does not fit is lost, as on
    a serial line with no one listening."""

    def __init__(self, emulator: EmulatedIntelliVue, master_fd: int) -> None:
        self.emulator = emulator
        self.fd = master_fd
        self.dropped = 0  # bytes that did not fit
        self._extra: list[bytes] = []  # written between two of the emulator's frames (line noise)
        self.lock = threading.Lock()  # held while the emulator is fed or ticked
        self._stop = threading.Event()
        os.set_blocking(master_fd, False)
        self._thread = threading.Thread(target=self._run, name="intellivue-emulator", daemon=True)

    def start(self) -> EmulatorThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)

    def send(self, data: bytes) -> None:
        """Put `data` on the line between two frames (noise, a hand-made frame)."""
        with self.lock:
            self._extra.append(data)

    def _write(self, data: bytes) -> None:
        try:
            written = os.write(self.fd, data)
        except BlockingIOError:
            written = 0
        self.dropped += len(data) - written

    def _run(self) -> None:
        while not self._stop.is_set():
            data = b""
            try:
                readable, _, _ = select.select([self.fd], [], [], 0.02)
                if readable:
                    data = os.read(self.fd, 4096)
            except OSError as exc:
                if exc.errno == errno.EBADF:
                    return
                # EIO: no one has the other end open (the station is between two opens)
                self._stop.wait(0.02)
            now = time.monotonic()
            with self.lock:
                out = (self.emulator.feed(data, now) if data else b"") + self.emulator.tick(now)
                out += b"".join(self._extra)
                self._extra.clear()
            if out:
                with contextlib.suppress(OSError):
                    self._write(out)
