"""The asset list: every device the station has seen, with its counters (pure apart from the ledger's
own state).

A `Sighting` is one device as the station sees it at one instant (its link, battery, link quality,
error count); the `Ledger` turns sightings over time into `Asset`s: first and last seen, hours in use,
disconnections, decode errors and sensor-off episodes counted across restarts of the source.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from wardwatch.app.domain import LinkState
from wardwatch.app.fleet.model import DeviceIdentity, DeviceType

DISCONNECTED_STATES = frozenset({LinkState.DISCONNECTED, LinkState.FAILED})


@dataclass(frozen=True, slots=True)
class Sighting:
    device_id: str
    identity: DeviceIdentity
    bed: str
    station: str
    state: LinkState
    battery: float | None
    link_quality: float | None  # percent of the last minute's units that arrived intact
    decode_errors: int  # as the running source counts them (restarts at 0 with the source)
    sensor_off: bool  # the device says its sensor or leads are off

    @property
    def connected(self) -> bool:
        return self.state is LinkState.CONNECTED


@dataclass(frozen=True, slots=True)
class Asset:
    """One row of the asset list (and one object of `wardwatch devices --json`)."""

    id: str
    type: str
    maker: str
    model: str
    serial: str
    firmware: str
    address: str
    bed: str
    station: str
    first_seen: float
    last_seen: float
    battery: float | None
    link_quality: float | None
    hours_in_use: float
    decode_errors: int
    disconnects: int
    sensor_off: int
    state: str
    last_service: float | None = None
    missing: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Asset:
        names = cls.__dataclass_fields__
        return cls(**{k: row[k] for k in names if k in row})


def flag_missing(assets: Iterable[Asset], now: float, missing_after_s: float) -> list[Asset]:
    """The assets with `missing` set on those not seen for longer than `missing_after_s`."""
    return [replace(a, missing=now - a.last_seen > missing_after_s) for a in assets]


@dataclass(slots=True)
class _Track:
    asset: Asset
    connected: bool = False
    raw_errors: int = 0  # the source's own count when last seen
    error_base: int = 0  # errors of the source's earlier runs
    sensor_off: bool = False
    updated: float = 0.0


@dataclass(slots=True)
class Ledger:
    """Per device, what the sightings add up to. One thread updates it (the fleet survey)."""

    tracks: dict[str, _Track] = field(default_factory=dict)

    def seed(self, assets: Iterable[Asset]) -> None:
        """Counters carried over from the record (an earlier run of the station)."""
        for a in assets:
            self.tracks[a.id] = _Track(a, error_base=a.decode_errors, updated=a.last_seen)

    def update(self, sightings: Iterable[Sighting], now: float) -> None:
        for s in sightings:
            track = self.tracks.get(s.device_id)
            if track is None:
                track = self.tracks[s.device_id] = _Track(_new_asset(s, now), updated=now)
            self._apply(track, s, now)

    def _apply(self, track: _Track, s: Sighting, now: float) -> None:
        a = track.asset
        hours = a.hours_in_use + (max(0.0, now - track.updated) / 3600.0 if track.connected else 0.0)
        disconnects = a.disconnects + (1 if track.connected and s.state in DISCONNECTED_STATES else 0)
        if s.decode_errors < track.raw_errors:  # the source started again and counts from 0
            track.error_base += track.raw_errors
        track.raw_errors = s.decode_errors
        sensor_off = a.sensor_off + (1 if s.sensor_off and not track.sensor_off else 0)
        ident = s.identity
        track.asset = replace(
            a,
            type=str(ident.device_type),
            maker=ident.maker or a.maker,
            model=ident.model or a.model,
            serial=ident.serial or a.serial,
            firmware=ident.firmware or a.firmware,
            address=ident.address or a.address,
            bed=s.bed,
            station=s.station,
            last_seen=now if s.connected else a.last_seen,
            battery=s.battery if s.battery is not None else a.battery,
            link_quality=s.link_quality,
            hours_in_use=hours,
            decode_errors=track.error_base + s.decode_errors,
            disconnects=disconnects,
            sensor_off=sensor_off,
            state=str(s.state),
        )
        track.connected = s.connected
        track.sensor_off = s.sensor_off
        track.updated = now

    def assets(self) -> list[Asset]:
        return [t.asset for t in self.tracks.values()]


def _new_asset(s: Sighting, now: float) -> Asset:
    i = s.identity
    return Asset(
        id=s.device_id,
        type=str(i.device_type),
        maker=i.maker,
        model=i.model,
        serial=i.serial,
        firmware=i.firmware,
        address=i.address,
        bed=s.bed,
        station=s.station,
        first_seen=now,
        last_seen=now,
        battery=s.battery,
        link_quality=s.link_quality,
        hours_in_use=0.0,
        decode_errors=0,
        disconnects=0,
        sensor_off=0,
        state=str(s.state),
    )


def device_type_from_codes(codes: Iterable[int]) -> DeviceType:
    """What a device is, told from what it measures (a Bluetooth device does not say)."""
    found = set(codes)
    if found & {131328, 131329, 131330, 131389, 147842}:  # ECG leads, ECG heart rate
        return DeviceType.ECG_PATCH
    if 160212 in found:
        return DeviceType.CGM
    if 150456 in found:
        return DeviceType.PULSE_OXIMETER
    if found & {150021, 150022, 150023}:
        return DeviceType.BLOOD_PRESSURE
    if found & {150344, 150364}:
        return DeviceType.THERMOMETER
    return DeviceType.OTHER
