"""Incremental parsers: bytes as they come off a port in, decoded values out, partial frames kept."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from wardwatch.devices import masimo, nonin
from wardwatch.devices.decoded import Decoded, DecodeError

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


PARSERS: dict[str, Callable[[], Parser]] = {"nonin": NoninParser, "masimo": MasimoParser}
