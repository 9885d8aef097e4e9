"""Bluetooth LE patches and pulse oximeters: source spec `ble:ADDRESS` (e.g. `ble:A0:9E:1A:12:34:56`).

All patches of a station share one Bluetooth loop (`BleRuntime`), made when the first patch starts and
closed with the station.
"""

from __future__ import annotations

import re

from wardwatch.app.sources import SourceContext
from wardwatch.devices.base import SharedResources, Source, SourceError
from wardwatch.devices.bluetooth.runtime import Backends, BleRuntime
from wardwatch.devices.bluetooth.source import BleSource

RUNTIME = "bluetooth"
_ADDRESS = re.compile(r"^[0-9A-F]{2}(:[0-9A-F]{2}){5}$")


def parse_address(arg: str) -> str:
    address = arg.strip().upper()
    if not _ADDRESS.match(address):
        raise SourceError(f"Bluetooth address {arg!r} is not of the form AA:BB:CC:DD:EE:FF")
    return address


def runtime(shared: SharedResources | None) -> BleRuntime:
    """The station's Bluetooth loop (a source without a station gets a loop of its own)."""
    if shared is None:
        return BleRuntime(Backends())
    return shared.get(RUNTIME, lambda: BleRuntime(Backends()), BleRuntime.close)


def make_source(arg: str, bed: str, ctx: SourceContext) -> Source:
    """Entry point of the `ble` source kind."""
    return BleSource(parse_address(arg), bed, ctx.clock, runtime(ctx.shared))


__all__ = ["Backends", "BleRuntime", "BleSource", "make_source", "parse_address", "runtime"]
