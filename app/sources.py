"""Source registry: source kinds are found by entry point (group `wardwatch.sources`) and imported lazily.

A source spec is `kind:argument`, e.g. `sim:stable`, `sim:vt`, `replay:/data/mitdb/100`. Adding a device
kind means adding a module and an entry point, never editing a switch here.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

from wardwatch.app.clock import Clock
from wardwatch.devices.base import SharedResources, SharedRunner, Source, SourceError


@dataclass(frozen=True, slots=True)
class SourceContext:
    clock: Clock
    seed: int = 0
    bed_index: int = 0
    options: dict[str, object] = field(default_factory=dict)
    # One thread the station shares among its light sources (simulated beds); None = own threads.
    runner: SharedRunner | None = None
    # What the station's sources share (the one Bluetooth loop); None = a source makes its own.
    shared: SharedResources | None = None


SourceFactory = Callable[[str, str, SourceContext], Source]


@cache
def _entry_points() -> dict[str, EntryPoint]:
    # Reading the installed distributions' metadata costs ~5 ms: once per process, not once per bed.
    return {ep.name: ep for ep in entry_points(group="wardwatch.sources")}


def source_kinds() -> dict[str, str]:
    """Kind name → entry-point target, without importing anything."""
    return {name: ep.value for name, ep in _entry_points().items()}


def split_spec(spec: str) -> tuple[str, str]:
    kind, sep, arg = spec.partition(":")
    if not sep or not kind:
        raise SourceError(f"source spec {spec!r} is not of the form kind:argument (e.g. sim:stable)")
    return kind.strip(), arg.strip()


def make_source(spec: str, bed: str, ctx: SourceContext) -> Source:
    kind, arg = split_spec(spec)
    ep = _entry_points().get(kind)
    if ep is not None:
        factory: SourceFactory = ep.load()
        return factory(arg, bed, ctx)
    known = ", ".join(sorted(source_kinds())) or "none installed"
    raise SourceError(f"unknown source kind {kind!r} (known: {known})")


def simulator_scenarios() -> tuple[str, ...]:
    """Scenario names the simulator offers (for the source dialog); empty if it is not installed."""
    try:
        from wardwatch.devices.simulator import SCENARIOS
    except ImportError:
        return ()
    return tuple(SCENARIOS)


def serial_protocols() -> tuple[str, ...]:
    """Protocols of monitors the serial source reads (for the source dialog); empty if not installed."""
    try:
        from wardwatch.devices.serial_port.parsers import PARSERS
    except ImportError:
        return ()
    return tuple(sorted(PARSERS))


def serial_ports() -> list[tuple[str, str]]:
    """The machine's serial ports as (path, description), stable /dev/serial/by-id names first.

    Reads the OS's device list, so call it once when a dialog opens, not in the display loop."""
    try:
        from serial.tools import list_ports
    except ImportError:
        return []
    ports = []
    for port in list_ports.comports():
        description = port.description if port.description and port.description != "n/a" else ""
        ports.append((port.device, description))
    by_id = Path("/dev/serial/by-id")
    stable = []
    if by_id.is_dir():
        for link in sorted(by_id.iterdir()):
            target = str(link.resolve())
            label = next((d for p, d in ports if p == target), "")
            stable.append((str(link), label or link.name))
    return stable + ports


@dataclass(frozen=True, slots=True)
class NearbyDevice:
    """A Bluetooth device heard advertising, as the scan dialog lists it."""

    name: str
    address: str
    rssi: int | None
    services: tuple[str, ...]


def bluetooth_scan(shared: SharedResources, seconds: float) -> concurrent.futures.Future[list[NearbyDevice]]:
    """Listen for advertising patches on the station's Bluetooth loop; the future holds what was heard,
    or the reason scanning failed (no adapter, Bluetooth service not running). Never blocks."""
    try:
        from wardwatch.devices.bluetooth import runtime
        from wardwatch.devices.bluetooth.scan import scan
    except ImportError:
        failed: concurrent.futures.Future[list[NearbyDevice]] = concurrent.futures.Future()
        failed.set_exception(SourceError("Bluetooth support is not installed (the bleak package)"))
        return failed

    ble = runtime(shared)

    async def _scan() -> list[NearbyDevice]:
        found = await scan(seconds, ble.backends)
        return [NearbyDevice(d.name, d.address, d.rssi, d.services) for d in found]

    return ble.submit(_scan())
