"""Where every device of the station is now: one `Sighting` per monitor and per further device,
read from memory (the hub's statuses and conditions, the bed devices), never from a device itself."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from wardwatch.app.domain import DeviceStatus, LinkState, TechnicalKind
from wardwatch.app.fleet.assets import Sighting, device_type_from_codes
from wardwatch.app.fleet.model import DeviceIdentity, DeviceType

if TYPE_CHECKING:
    from wardwatch.app.station import Station

SENSOR_OFF_KINDS = frozenset({TechnicalKind.SENSOR_OFF, TechnicalKind.LEAD_OFF})
# serial protocols of pulse oximeters; the others are bedside monitors
_OXIMETER_PROTOCOLS = ("nonin", "masimo")


def _software_version() -> str:
    try:
        return version("wardwatch")
    except PackageNotFoundError:
        return ""


def link_quality(status: DeviceStatus) -> float | None:
    """Percent of the last minute's units that came in intact; none when the link is down."""
    if status.state is not LinkState.CONNECTED:
        return 0.0 if status.state in (LinkState.DISCONNECTED, LinkState.FAILED) else None
    return 100.0 if status.loss_percent is None else round(100.0 - status.loss_percent, 1)


def monitor_identity(status: DeviceStatus, bed: str, codes: set[int]) -> tuple[str, DeviceIdentity]:
    """The id and identity of a bed's own device, from what its source says about itself."""
    kind, sid = status.kind, status.source_id
    if kind == "sim":
        ident = DeviceIdentity(
            DeviceType.BEDSIDE_MONITOR, "WardWatch (simulated)", "SimMonitor", f"SM-{bed}",
            _software_version(), f"sim://{bed}",
        )  # fmt: skip
        return f"sim-monitor@{bed}", ident
    if kind == "replay":
        return f"replay@{bed}", DeviceIdentity(DeviceType.BEDSIDE_MONITOR, "WFDB replay", address=sid)
    if kind == "serial":
        _, protocol, port = ([*sid.split(":", 2), "", ""])[:3]
        oximeter = protocol in _OXIMETER_PROTOCOLS
        device_type = DeviceType.PULSE_OXIMETER if oximeter else DeviceType.BEDSIDE_MONITOR
        return sid, DeviceIdentity(device_type, protocol.capitalize(), address=port)
    if kind == "ble":
        address = sid.partition(":")[2]
        name = status.detail if status.state is LinkState.CONNECTED and status.detail != address else ""
        return sid, DeviceIdentity(device_type_from_codes(codes), model=name, address=address)
    return sid, DeviceIdentity(device_type_from_codes(codes), address=sid)


def survey(station: Station, now: float) -> list[Sighting]:
    out: list[Sighting] = []
    for bed in station.beds:
        streams = station.hub.streams(bed.bed_id)
        status = streams.status if streams is not None else None
        if status is None or not bed.source_spec:
            continue
        codes = {int(c) for c in streams.numerics} | {int(c) for c in streams.waves} if streams else set()
        source = station.sources.get(bed.bed_id)
        device_id, ident = monitor_identity(status, bed.bed_id, codes)
        ident = getattr(source, "identity", None) or ident
        conditions = set(streams.conditions) if streams is not None else set()
        out.append(
            Sighting(
                device_id, ident, bed.bed_id, station.name, status.state, status.battery_percent,
                link_quality(status), status.decode_errors, bool(conditions & SENSOR_OFF_KINDS),
            )
        )
    for device in station.bed_devices.devices():
        status = device.status
        if status is None:
            continue
        ident = getattr(device.source, "identity", None)
        if not isinstance(ident, DeviceIdentity):
            _, ident = monitor_identity(status, device.bed, set(device.codes))
        battery = status.battery_percent
        if device.pump is not None and device.pump.battery_percent is not None:
            battery = device.pump.battery_percent
        out.append(
            Sighting(
                device.source_id, ident, device.bed, station.name, status.state, battery,
                link_quality(status), status.decode_errors, bool(set(device.conditions) & SENSOR_OFF_KINDS),
            )
        )
    return out
