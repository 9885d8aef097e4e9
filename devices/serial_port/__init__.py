"""Bedside monitors on a serial port (RS-232, USB adapters): source spec `serial:PROTOCOL:PORT[@BAUD]`.

PROTOCOL is `nonin` or `masimo` (devices that send without being asked) or `intellivue` (a Philips
IntelliVue's MIB/RS232 port: the station associates and polls); PORT a device path such as `/dev/ttyUSB0`
(or a stable `/dev/serial/by-id/…` link). The default speed is 9600 bit/s, 115200 for `intellivue`.
"""

from __future__ import annotations

from wardwatch.app.sources import SourceContext
from wardwatch.devices.base import Source, SourceError
from wardwatch.devices.serial_port.parsers import PARSERS
from wardwatch.devices.serial_port.source import SerialSource

DEFAULT_BAUD = 9600
DEFAULT_BAUDS = {"intellivue": 115200}  # the MIB/RS232 port's fixed speed (PROTOCOLS.md §5.1)


def parse_spec(arg: str) -> tuple[str, str, int]:
    """`PROTOCOL:PORT[@BAUD]` → (protocol, port, baud)."""
    protocol, sep, rest = arg.partition(":")
    if not sep or not rest:
        raise SourceError(
            f"serial source {arg!r} is not of the form PROTOCOL:PORT[@BAUD] (e.g. nonin:/dev/ttyUSB0)"
        )
    if protocol not in PARSERS:
        raise SourceError(f"unknown serial protocol {protocol!r} (known: {', '.join(sorted(PARSERS))})")
    port, at, baud_text = rest.rpartition("@") if "@" in rest else (rest, "", "")
    try:
        baud = int(baud_text) if at else DEFAULT_BAUDS.get(protocol, DEFAULT_BAUD)
    except ValueError:
        raise SourceError(f"serial speed {baud_text!r} is not a number of bit/s") from None
    return protocol, port, baud


def make_source(arg: str, bed: str, ctx: SourceContext) -> Source:
    """Entry point of the `serial` source kind."""
    protocol, port, baud = parse_spec(arg)
    return SerialSource(protocol, port, baud, bed, ctx.clock)


__all__ = ["SerialSource", "make_source", "parse_spec"]
