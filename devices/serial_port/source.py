"""A serial monitor as a live bed: one reader thread per port, decoding as bytes arrive.

The port is opened, read and, when it vanishes (cable pulled, USB adapter unplugged, device off),
reopened with a growing back-off, so a device that returns is picked up again without anyone acting.
While the port is away the link state says so, and the supervisor turns the silence into "device
disconnected" within 5 s. Bad bytes are counted and logged, never fatal.
"""

from __future__ import annotations

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
from wardwatch.devices.serial_port.parsers import PARSERS

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 0.1
RETRY_FIRST_S = 0.25
RETRY_MAX_S = 1.0  # trying to open a port that is not there costs nothing: come back fast
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
                port = serial.Serial(self.port, self.baud, timeout=READ_TIMEOUT_S, exclusive=True)
            except (serial.SerialException, OSError) as exc:
                self._link(LinkState.DISCONNECTED, f"{self.port} not available")
                log.info("serial port %s not available: %s", self.port, exc)
                stop.wait(retry)
                retry = min(RETRY_MAX_S, retry * 2)
                continue
            retry = RETRY_FIRST_S
            self._link(LinkState.CONNECTED, f"{self.protocol} on {self.port}")
            try:
                self._read(port, sink, stop)
            except (serial.SerialException, OSError) as exc:
                log.warning("serial port %s lost: %s", self.port, exc)
                self._link(LinkState.DISCONNECTED, f"{self.port} lost")
            finally:
                port.close()

    def _link(self, state: LinkState, detail: str) -> None:
        now = self.clock.now()
        self._set_status(
            state, detail, decode_errors=self.decode_errors, loss_percent=self._health.loss_percent(now)
        )

    def _read(self, port: serial.Serial, sink: Sink, stop: threading.Event) -> None:
        parser = PARSERS[self.protocol]()
        while not stop.is_set():
            data = port.read(max(1, port.in_waiting))
            if not data:
                continue
            units = parser.units
            values, errors = parser.feed(data)
            now = self.clock.now()
            self._health.add(now, parser.units - units, len(errors))
            loss = self._health.loss_percent(now)
            if errors:
                self.decode_errors += len(errors)
                log.info("serial %s on %s: %s", self.protocol, self.port, errors[0])
            if errors or loss != self._shown_loss:
                self._shown_loss = loss
                self._link(LinkState.CONNECTED, f"{self.protocol} on {self.port}")
            self._push(sink, values)

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
