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
import threading

import serial
from wardwatch.app.clock import Clock
from wardwatch.app.domain import (
    LinkState,
)
from wardwatch.devices.base import Sink, ThreadedSource
from wardwatch.devices.decoded import Decoded
from wardwatch.devices.delivery import Delivery
from wardwatch.devices.link_health import LinkHealth
from wardwatch.devices.serial_port.parsers import PARSERS, Dialogue, Parser

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 0.1
RETRY_FIRST_S = 0.25
RETRY_MAX_S = 1.0  # trying to open a port that is not there costs nothing: come back fast
# A write that cannot go out within this (nobody reading the other end) is a lost port, not a hung thread.
WRITE_TIMEOUT_S = 1.0


class SerialSource(ThreadedSource):
    kind = "serial"

    def __init__(self, protocol: str, port: str, baud: int, bed: str, clock: Clock) -> None:
        super().__init__(f"serial:{protocol}:{port}", bed, clock)
        self.protocol = protocol
        self.port = port
        self.baud = baud
        self.decode_errors = 0
        self._delivery = Delivery(bed, self.source_id, f"{protocol} sensor")
        self._health = LinkHealth()
        self._shown_loss: float | None = None

    def run(self, sink: Sink, stop: threading.Event) -> None:
        retry = RETRY_FIRST_S
        missing = ""
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
                # tried every second, possibly for hours: log when the reason changes, not every time
                if str(exc) != missing:
                    log.info("serial port %s not available: %s", self.port, exc)
                    missing = str(exc)
                stop.wait(retry)
                retry = min(RETRY_MAX_S, retry * 2)
                continue
            retry, missing = RETRY_FIRST_S, ""
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
        self._delivery.push(sink, values, self.clock.now())
