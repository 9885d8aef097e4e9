"""A serial monitor as a live bed: one reader thread per port, decoding as bytes arrive.

The port is opened, read and, when it vanishes (cable pulled, USB adapter unplugged, device off),
reopened with a growing back-off, so a device that returns is picked up again without anyone acting.
While the port is away the link state says so, and the supervisor turns the silence into "device
disconnected" within 5 s. Bad bytes are counted and logged, never fatal.

A monitor that must be asked (its parser is a `Dialogue`) is written to by the same thread: its opening
bytes when the port opens, then after every read (or read time-out, a tenth of a second) whatever the
dialogue has due, and its closing bytes when the source stops. Its link state is the conversation's:
connected only while the monitor is answering, the reason in the detail when it is not.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading

import numpy as np
import serial
from wardwatch.app.clock import Clock
from wardwatch.app.codes import MdcCode
from wardwatch.app.domain import (
    LinkState,
    Observation,
    TechnicalEvent,
    TechnicalKind,
    Validity,
    WaveformBlock,
)
from wardwatch.devices.base import Sink, ThreadedSource
from wardwatch.devices.decoded import Decoded, State
from wardwatch.devices.link_health import LinkHealth
from wardwatch.devices.serial_port.parsers import PARSERS, Dialogue, Parser

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 0.1
RETRY_FIRST_S = 0.25
RETRY_MAX_S = 1.0  # trying to open a port that is not there costs nothing: come back fast
# A write that cannot go out within this (nobody reading the other end) is a lost port, not a hung thread.
WRITE_TIMEOUT_S = 1.0
_VALIDITY = {
    State.VALID: Validity.VALID,
    State.QUESTIONABLE: Validity.QUESTIONABLE,
    State.DEMO: Validity.DEMO,
    State.CALIBRATING: Validity.CALIBRATION,
}
_KNOWN = {int(c) for c in MdcCode}


class SerialSource(ThreadedSource):
    kind = "serial"

    def __init__(self, protocol: str, port: str, baud: int, bed: str, clock: Clock) -> None:
        super().__init__(f"serial:{protocol}:{port}", bed, clock)
        self.protocol = protocol
        self.port = port
        self.baud = baud
        self.decode_errors = 0
        self._sensor_off: bool | None = None
        self._wave_end: dict[MdcCode, float] = {}
        self._health = LinkHealth()
        self._shown_loss: float | None = None

    def run(self, sink: Sink, stop: threading.Event) -> None:
        retry = RETRY_FIRST_S
        while not stop.is_set():
            try:
                # exclusive: a second station or source on the same port is refused, not given half the bytes
                port = serial.Serial(
                    self.port,
                    self.baud,
                    timeout=READ_TIMEOUT_S,
                    write_timeout=WRITE_TIMEOUT_S,
                    exclusive=True,
                )
            except (serial.SerialException, OSError) as exc:
                self._link(LinkState.DISCONNECTED, f"{self.port} not available")
                log.info("serial port %s not available: %s", self.port, exc)
                stop.wait(retry)
                retry = min(RETRY_MAX_S, retry * 2)
                continue
            retry = RETRY_FIRST_S
            parser = PARSERS[self.protocol]()
            talk = parser if isinstance(parser, Dialogue) else None
            try:
                if talk is not None:
                    port.write(talk.opening())
                self._link(*self._state(parser))
                self._read(port, parser, sink, stop)
            except (serial.SerialException, OSError) as exc:
                log.warning("serial port %s lost: %s", self.port, exc)
                self._link(LinkState.DISCONNECTED, f"{self.port} lost")
            finally:
                if talk is not None and stop.is_set():
                    with contextlib.suppress(serial.SerialException, OSError):
                        port.write(talk.closing())
                        port.flush()
                port.close()

    def _state(self, parser: Parser) -> tuple[LinkState, str]:
        """The link state and its detail: the port's, or for a dialogue the conversation's."""
        detail = f"{self.protocol} on {self.port}"
        if not isinstance(parser, Dialogue):
            return LinkState.CONNECTED, detail
        state, note = parser.link()
        return state, f"{detail}: {note}" if note else detail

    def _link(self, state: LinkState, detail: str) -> None:
        now = self.clock.now()
        self._set_status(
            state, detail, decode_errors=self.decode_errors, loss_percent=self._health.loss_percent(now)
        )

    def _read(self, port: serial.Serial, parser: Parser, sink: Sink, stop: threading.Event) -> None:
        talk = parser if isinstance(parser, Dialogue) else None
        shown = self._state(parser)
        while not stop.is_set():
            data = port.read(max(1, port.in_waiting))
            changed = False
            if data:
                units = parser.units
                values, errors = parser.feed(data)
                now = self.clock.now()
                self._health.add(now, parser.units - units, len(errors))
                loss = self._health.loss_percent(now)
                if errors:
                    self.decode_errors += len(errors)
                    log.info("serial %s on %s: %s", self.protocol, self.port, errors[0])
                changed = bool(errors) or loss != self._shown_loss
                self._shown_loss = loss
                self._push(sink, values)
            if talk is not None:
                out = talk.pending()
                if out:
                    port.write(out)
            state = self._state(parser)
            if state != shown:
                log.info("serial %s: %s (%s)", self.port, state[1], state[0])
                shown, changed = state, True
            if changed:
                self._link(*state)

    def _push(self, sink: Sink, values: list[Decoded]) -> None:
        now = self.clock.now()
        for v in values:
            if v.code not in _KNOWN:
                continue
            code = MdcCode(v.code)
            if v.samples is not None and v.rate_hz:
                self._wave(sink, code, v, now)
                continue
            if code is MdcCode.PULS_OXIM_SAT_O2:
                self._sensor(sink, v.state is State.INVALID, now)
            validity = _VALIDITY.get(v.state)
            if v.value is None or validity is None or not math.isfinite(v.value):
                continue  # no value the device stands by: its technical state says why
            sink.push_observation(Observation(self.bed, code, v.value, v.unit, now, validity, self.source_id))

    def _wave(self, sink: Sink, code: MdcCode, v: Decoded, now: float) -> None:
        assert v.samples is not None and v.rate_hz is not None
        samples = np.asarray(v.samples, np.float32)
        span = len(samples) / v.rate_hz
        # back to back with the previous block unless that would put samples in the future or far in the past
        t0 = self._wave_end.get(code, -math.inf)
        if not now - span - 0.5 <= t0 <= now - span + 0.05:
            t0 = now - span
        self._wave_end[code] = t0 + span
        if v.state is State.INVALID:
            samples = np.full_like(samples, np.nan)  # a wave from no sensor is drawn as a gap
        sink.push_block(WaveformBlock(self.bed, code, samples, v.rate_hz, t0, v.unit, v.label))

    def _sensor(self, sink: Sink, off: bool, now: float) -> None:
        if off == self._sensor_off:
            return
        if off or self._sensor_off is not None:
            sink.push_event(
                TechnicalEvent(
                    self.bed,
                    TechnicalKind.SENSOR_OFF,
                    off,
                    now,
                    f"{self.protocol} sensor",
                    MdcCode.PULS_OXIM_SAT_O2,
                )
            )
        self._sensor_off = off
