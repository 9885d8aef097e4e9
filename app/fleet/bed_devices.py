"""The further devices at each bed (infusion pumps, glucose sensors) beside its monitor.

A bed's monitor feeds the hub directly and owns the bed's link badge and technical conditions. A further
device goes through its own `DeviceSink`: its numerics (glucose) reach the bed's numerics, while its
link state, its technical events and its pump reports stay with the device, so that a pump's low
battery never clears the monitor's, and a sensor reading once a minute never makes a silent monitor
look alive. The device's own alarms come from these states (see app/fleet/rules.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from wardwatch.app.clock import Clock
from wardwatch.app.domain import (
    Bed,
    DeviceStatus,
    LinkState,
    Observation,
    TechnicalEvent,
    TechnicalKind,
    WaveformBlock,
)
from wardwatch.app.fleet.model import PumpReport
from wardwatch.app.hub import StreamHub
from wardwatch.app.sources import SourceContext
from wardwatch.devices.base import Source, SourceError

log = logging.getLogger(__name__)

SourceMaker = Callable[[str, str, SourceContext], Source]


@dataclass(slots=True)
class LiveDevice:
    """One further device as the station knows it now. Written by the device's thread only."""

    spec: str
    bed: str
    source: Source | None = None
    status: DeviceStatus | None = None
    pump: PumpReport | None = None
    conditions: dict[TechnicalKind, tuple[float, str]] = field(default_factory=dict)
    last_data: float | None = None
    codes: frozenset[int] = frozenset()  # what it has measured (tells a CGM from a patch)
    failure: str = ""  # why it could not be started

    @property
    def source_id(self) -> str:
        return self.source.source_id if self.source is not None else self.spec


class DeviceSink:
    """The sink one further device pushes into (any thread)."""

    def __init__(self, hub: StreamHub, device: LiveDevice) -> None:
        self._hub = hub
        self._device = device

    def push_block(self, block: WaveformBlock) -> None:
        self._device.last_data = block.t_end
        self._hub.push_block(block)

    def push_observation(self, obs: Observation) -> None:
        d = self._device
        d.last_data = obs.time
        if int(obs.code) not in d.codes:
            d.codes = d.codes | {int(obs.code)}
        self._hub.push_observation(obs, from_monitor=False)

    def push_event(self, event: TechnicalEvent) -> None:
        conditions = dict(self._device.conditions)
        if event.active:
            conditions[event.kind] = (event.time, event.detail)
        else:
            conditions.pop(event.kind, None)
        self._device.conditions = conditions  # replaced whole: readers iterate a stable dict

    def set_status(self, bed: str, status: DeviceStatus) -> None:
        self._device.status = status

    def report_pump(self, report: PumpReport) -> None:
        self._device.pump = report
        self._device.last_data = report.time


class BedDevices:
    """Starts, holds and stops the further devices of every bed."""

    def __init__(self, hub: StreamHub, clock: Clock, make: SourceMaker) -> None:
        self._hub = hub
        self._clock = clock
        self._make = make
        self._lock = threading.Lock()
        self._devices: tuple[LiveDevice, ...] = ()
        self._by_bed: dict[str, tuple[LiveDevice, ...]] = {}  # the alarm engine asks 10 times a second

    def start(self, beds: Sequence[Bed], context: Callable[[Bed], SourceContext]) -> None:
        for bed in beds:
            for spec in bed.devices:
                self._start(bed, spec, context(bed))

    def _start(self, bed: Bed, spec: str, ctx: SourceContext) -> None:
        device = LiveDevice(spec, bed.bed_id)
        try:
            source = self._make(spec, bed.bed_id, ctx)
            device.source = source
            source.start(DeviceSink(self._hub, device))
        except SourceError as exc:
            device.failure = str(exc)
        except Exception as exc:  # a broken device plug-in must not take the ward down
            log.exception("device %s on %s could not start", spec.partition(":")[0], bed.bed_id)
            device.failure = type(exc).__name__
        if device.failure:
            log.warning("device on %s failed: %s", bed.bed_id, device.failure)
            kind = spec.partition(":")[0]
            device.status = DeviceStatus(spec, kind, LinkState.FAILED, device.failure)
            device.conditions = {TechnicalKind.SOURCE_FAILED: (self._clock.now(), device.failure)}
        with self._lock:
            self._devices = (*self._devices, device)
            self._by_bed = {**self._by_bed, bed.bed_id: (*self._by_bed.get(bed.bed_id, ()), device)}

    def stop(self) -> None:
        with self._lock:
            devices, self._devices = self._devices, ()
            self._by_bed = {}
        for device in devices:
            if device.source is not None:
                try:
                    device.source.stop()
                except Exception:
                    log.exception("stopping a device on %s failed", device.bed)

    def devices(self) -> tuple[LiveDevice, ...]:
        return self._devices

    def on_bed(self, bed_id: str) -> tuple[LiveDevice, ...]:
        return self._by_bed.get(bed_id, ())

    def beds(self) -> set[str]:
        return {d.bed for d in self._devices}
