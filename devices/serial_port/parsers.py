"""Incremental parsers: bytes as they come off a port in, decoded values out, partial frames kept.

Most serial monitors send without being asked. One that must be asked (IntelliVue) has a parser that is
also a `Dialogue`: the source writes what it returns to the port when the port opens, after each read
and on every pass of its loop, and when it stops.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from wardwatch.app.domain import LinkState
from wardwatch.devices import masimo, nonin
from wardwatch.devices.decoded import Decoded, DecodeError
from wardwatch.devices.intellivue.session import Phase, Session, SessionConfig

# A port that only ever sends noise must not grow the buffer without bound.
MAX_PENDING = 4096


class Parser(Protocol):
    """`feed` returns the values decoded and the errors met; `units` counts the packets or lines that
    decoded, so that the link's loss can be told from the errors."""

    units: int

    def feed(self, data: bytes) -> tuple[list[Decoded], list[DecodeError]]: ...


class NoninParser:
    def __init__(self) -> None:
        self._pending = b""
        self.units = 0

    def feed(self, data: bytes) -> tuple[list[Decoded], list[DecodeError]]:
        self._pending += data
        values, errors, settled = nonin.decode_packets(self._pending, final=False)
        self.units += sum(1 for v in values if v.samples is not None)  # one pleth block per packet
        self._pending = self._pending[settled:][-MAX_PENDING:]
        return values, errors


class MasimoParser:
    def __init__(self) -> None:
        self._pending = b""
        self._lines = 0
        self.units = 0

    def feed(self, data: bytes) -> tuple[list[Decoded], list[DecodeError]]:
        *lines, self._pending = (self._pending + data).split(b"\n")
        errors: list[DecodeError] = []
        if len(self._pending) > MAX_PENDING:
            errors.append(
                DecodeError(masimo.PROTOCOL, f"{len(self._pending)} bytes without an end of line dropped")
            )
            self._pending = b""
        values: list[Decoded] = []
        for raw in lines:
            self._lines += 1
            text = raw.decode("ascii", errors="replace").strip()
            if not text:
                continue
            try:
                values += masimo.decode_line(text, self._lines)
                self.units += 1
            except DecodeError as exc:
                errors.append(exc)
        return values, errors


@runtime_checkable
class Dialogue(Protocol):
    """A parser of a monitor that must be asked. Its clock is its own (the link's time-outs are wall
    time, whatever the station clock's speed)."""

    units: int

    def feed(self, data: bytes) -> tuple[list[Decoded], list[DecodeError]]: ...

    def opening(self) -> bytes:
        """What to send as soon as the port is open."""
        ...

    def pending(self) -> bytes:
        """What to send now: answers to what was fed, and whatever has fallen due."""
        ...

    def closing(self) -> bytes:
        """What to send before the port is closed for good."""
        ...

    def link(self) -> tuple[LinkState, str]:
        """The state of the conversation, and a few words on it ("" when all is well)."""
        ...


class IntelliVueParser:
    """The IntelliVue session (devices/intellivue/session.py) as a serial dialogue."""

    def __init__(
        self, config: SessionConfig | None = None, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.session = Session(config or SessionConfig())
        self.units = 0
        self._now = now
        self._out = bytearray()

    def feed(self, data: bytes) -> tuple[list[Decoded], list[DecodeError]]:
        values, errors, replies = self.session.feed(data, self._now())
        self._out += replies
        self.units = self.session.units
        return values, errors

    def opening(self) -> bytes:
        return self.session.start(self._now())

    def pending(self) -> bytes:
        out = bytes(self._out) + self.session.tick(self._now())
        self._out.clear()
        return out

    def closing(self) -> bytes:
        return self.session.close()

    def link(self) -> tuple[LinkState, str]:
        s = self.session
        if s.phase is Phase.POLLING:
            return LinkState.CONNECTED, ""
        if s.problem is not None:
            return LinkState.DISCONNECTED, s.problem
        if s.phase in (Phase.ASSOCIATING, Phase.CONFIGURING):
            return LinkState.STARTING, "associating"
        return LinkState.DISCONNECTED, str(s.phase)


PARSERS: dict[str, Callable[[], Parser]] = {
    "nonin": NoninParser,
    "masimo": MasimoParser,
    "intellivue": IntelliVueParser,
}
